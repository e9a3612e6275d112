/**
 * The console calls the API only through types generated from the API's own OpenAPI document
 * (console/src/api/schema.d.ts). This test regenerates them from the document the server serves now
 * and fails when the committed file differs, so a route change that would break the console — a
 * renamed field, a removed route — fails here and then in the console's type check, never in a
 * browser. After changing a route on purpose: `npx vitest run test/docs/console-api-types.test.ts -u`.
 */
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

it('console/src/api/schema.d.ts is generated from the current OpenAPI document', async () => {
  const response = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
  expect(response.statusCode).toBe(200);
  const types = COMMENT_HEADER + astToString(await openapiTS(response.json<Record<string, unknown>>() as never));
  await expect(types).toMatchFileSnapshot('../../console/src/api/schema.d.ts');
});
