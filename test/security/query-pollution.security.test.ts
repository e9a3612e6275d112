/**
 * HTTP parameter pollution: `?limit=5&limit=5000` or `?action=a&action=b` is read differently by each
 * layer — a proxy, WAF or log filter may take the first value, a framework the last, a coercing
 * schema both joined (`"5,5000"`). An attacker uses the gap to get a value past a check that looked
 * at the other one. Rampart's rule is one reading for every layer: a query parameter the route
 * declares as a single value, given more than once, is refused with 400 VALIDATION_FAILED. The
 * parameters are read from the OpenAPI document, so a route added later is covered without a change.
 */
import { randomUUID } from 'node:crypto';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createVerifiedUser, type Browser } from '../fixtures/accounts.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createWorkspaceAs } from '../fixtures/workspaces.js';
import { openApiOperations, type OpenApiOperation, type QueryParameter } from '../fixtures/openapi.js';

let t: TestApp;
let operations: OpenApiOperation[];
/** The owner of `workspaceId`: signed in, so that every route gets as far as reading its query. */
let owner: Browser;
let workspaceId: string;
beforeAll(async () => {
  t = await createTestApp({
    beforeReady(app) {
      // A route of an embedding app: one list-valued parameter, and one whose coercion would join a repeat into "1,2".
      app.withTypeProvider<ZodTypeProvider>().get(
        '/api/test/search',
        {
          schema: {
            hide: true,
            querystring: z.strictObject({ tag: z.union([z.string(), z.array(z.string())]).optional(), page: z.coerce.string().optional() }),
          },
        },
        (request) => request.query,
      );
    },
  });
  owner = (await createVerifiedUser(t)).browser;
  workspaceId = await createWorkspaceAs(t, owner);
  operations = (await openApiOperations(t)).filter((operation) => operation.method === 'GET' && operation.queryParameters.length > 0);
});
afterAll(() => t.close());

/** A value the parameter's schema accepts. */
function validValue({ schema }: QueryParameter): string {
  if (schema.enum !== undefined) return String(schema.enum[0]);
  if (schema.type === 'integer' || schema.type === 'number') return String(schema.minimum ?? 1);
  const candidates = ['1', 'x', randomUUID(), '2026-01-01T00:00:00Z'];
  const fits = (value: string) =>
    (schema.pattern === undefined || new RegExp(schema.pattern).test(value)) &&
    value.length >= (schema.minLength ?? 0) &&
    value.length <= (schema.maxLength ?? Infinity);
  const value = candidates.find(fits);
  if (value === undefined) throw new Error(`no valid test value for query parameter ${JSON.stringify(schema)}`);
  return value;
}

/** The operation's URL in the owner's workspace, `given` in order, and any other required parameter once. */
function urlOf(operation: OpenApiOperation, given: [string, string][]): string {
  const query = new URLSearchParams(
    operation.queryParameters
      .filter((parameter) => parameter.required && !given.some(([name]) => name === parameter.name))
      .map((parameter): [string, string] => [parameter.name, validValue(parameter)]),
  );
  for (const [name, value] of given) query.append(name, value);
  const path = operation.path.replace(/\{([^}]+)\}/g, (_match, name: string) => (name === 'ws' ? workspaceId : randomUUID()));
  return `${path}?${query.toString()}`;
}

const cases = () =>
  operations.flatMap((operation) => operation.queryParameters.map((parameter) => ({ operation, parameter, label: `${operation.path} ?${parameter.name}` })));

describe('a query parameter given twice', () => {
  it('is checked on every GET operation with a query string (the audit log, its export, the security log)', () => {
    const paths = operations.map((operation) => operation.path);
    expect(paths).toEqual(expect.arrayContaining(['/api/workspaces/{ws}/audit-log', '/api/workspaces/{ws}/audit-log/export', '/api/me/security-log']));
    expect(cases().length).toBeGreaterThan(10);
  });

  it('is refused with 400 VALIDATION_FAILED naming it, on every route of the OpenAPI document, while the same value once is accepted', async () => {
    for (const { operation, parameter, label } of cases()) {
      const value = validValue(parameter);
      const once = await t.app.inject({ method: 'GET', url: urlOf(operation, [[parameter.name, value]]), headers: owner.headers() });
      expect(once.statusCode, `${label} once: ${once.body}`).toBe(200);
      for (const second of [value, `${value}0`]) {
        const url = urlOf(operation, [
          [parameter.name, value],
          [parameter.name, second],
        ]);
        const twice = await t.app.inject({ method: 'GET', url, headers: owner.headers() });
        expect(twice.statusCode, `${label} twice: ${twice.body}`).toBe(400);
        expect(twice.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(twice.json()).toMatchObject({
          code: 'VALIDATION_FAILED',
          errors: [{ in: 'querystring', path: `/${parameter.name}`, message: 'must be given once, not repeated' }],
        });
      }
    }
  });

  it("is refused even where the schema's coercion would join the repeat into one value", async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/test/search?page=1&page=2' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ in: 'querystring', path: '/page' }] });
    expect((await t.app.inject({ method: 'GET', url: '/api/test/search?page=1' })).json()).toEqual({ page: '1' });
  });

  it('is kept, every value in order, where the schema declares a list', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/test/search?tag=b&tag=a' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ tag: ['b', 'a'] });
  });
});
