/**
 * The security headers on every response of every route, as the OpenAPI document lists them (so a
 * route added later is covered without touching this file), answered both to an anonymous caller and
 * to a signed-in owner, and on 404s and errors. Attacks they stop: clickjacking (frame-ancestors,
 * X-Frame-Options), MIME sniffing, a shared cache keeping a user's answer, referrer leaks,
 * cross-origin window access, an https site downgraded to http (HSTS), and fingerprinting by banner.
 */
import type { LightMyRequestResponse } from 'fastify';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SECURITY_HEADERS } from '../../src/server/security-headers.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, type Browser } from '../fixtures/accounts.js';
import { openApiOperations, type OpenApiOperation } from '../fixtures/openapi.js';
import { createWorkspaceAs } from '../fixtures/workspaces.js';

const HSTS = 'max-age=63072000; includeSubDomains; preload';
/** Operations that would end the owner's session for the operations after them: sent last. */
const SENT_LAST = new Set(['POST /api/auth/sign-out']);

let t: TestApp;
let owner: Browser;
let workspaceId: string;
let operations: OpenApiOperation[];

beforeAll(async () => {
  t = await createTestApp({ limitRouteRates: true, env: { PUBLIC_URL: 'https://auth.example.com' } });
  owner = (await createVerifiedUser(t)).browser;
  workspaceId = await createWorkspaceAs(t, owner);
  operations = (await openApiOperations(t)).sort((a, b) => Number(SENT_LAST.has(`${a.method} ${a.path}`)) - Number(SENT_LAST.has(`${b.method} ${b.path}`)));
});
afterAll(() => t.close());

function expectSecurityHeaders(response: LightMyRequestResponse, label: string) {
  for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) expect(response.headers[name], `${label}: ${name}`).toBe(value);
  expect(response.headers['strict-transport-security'], `${label}: HSTS`).toBe(HSTS);
  expect(response.headers['x-request-id'], `${label}: request id`).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.headers['x-powered-by'], `${label}: banner`).toBeUndefined();
  expect(response.headers.server, `${label}: banner`).toBeUndefined();
}

/** Every route counts its requests: a route added later without a limit fails here. */
function expectRateLimited(response: LightMyRequestResponse, label: string) {
  expect(response.headers['ratelimit-limit'] ?? '', `${label}: RateLimit-Limit`).toMatch(/^\d+$/);
  expect(response.headers['ratelimit-policy'] ?? '', `${label}: RateLimit-Policy`).toMatch(/^\d+;w=\d+$/);
}

/** The OpenAPI path with its parameters filled in: the owner's workspace for `{ws}`, a fresh id for the rest. */
function concretePath(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_match, name: string) => (name === 'ws' ? workspaceId : randomUUID()));
}

describe('every route of the OpenAPI document', () => {
  it('lists the routes it is about to walk', () => {
    expect(operations.length).toBeGreaterThan(40);
    expect(operations).toContainEqual(expect.objectContaining({ method: 'GET', path: '/api/me' }));
  });

  it('answers an anonymous caller with the full header set and never a 5xx', async () => {
    for (const { method, path, hasBody } of operations) {
      const response = await t.app.inject({ method: method as 'GET', url: concretePath(path), ...(hasBody ? { payload: {} } : {}) });
      expect(response.statusCode, `${method} ${path}`).toBeLessThan(500);
      expectSecurityHeaders(response, `${method} ${path} → ${response.statusCode}`);
      // A cross-site request is refused before anything else, and is not counted: it costs nothing.
      if (response.json<{ code?: string }>().code !== 'CROSS_SITE_REQUEST') expectRateLimited(response, `${method} ${path} → ${response.statusCode}`);
    }
  });

  it('answers the signed-in owner with the full header set and never a 5xx', async () => {
    const statuses = new Set<number>();
    for (const { method, path, hasBody } of operations) {
      const response = await t.app.inject({ method: method as 'GET', url: concretePath(path), headers: owner.headers(), ...(hasBody ? { payload: {} } : {}) });
      statuses.add(response.statusCode);
      expect(response.statusCode, `${method} ${path}`).toBeLessThan(500);
      expectSecurityHeaders(response, `${method} ${path} → ${response.statusCode}`);
      // A member is counted per route too, valid body or not (a signed-in flood is still a flood).
      expectRateLimited(response, `${method} ${path} → ${response.statusCode}`);
    }
    // The walk met successes and refusals alike, not one kind of answer.
    expect([...statuses].some((status) => status < 300)).toBe(true);
    expect([...statuses].some((status) => status >= 400)).toBe(true);
  });
});

describe('answers no route gives', () => {
  it.each([
    ['an unknown path (404)', 'GET', '/api/no-such-route'],
    ['a known path with another method (405)', 'PUT', '/api/health/live'],
    ['an undecodable URL (400)', 'GET', '/api/workspaces/%E0%A4%A'],
    ['a path outside the API (404)', 'GET', '/index.php'],
  ])('carry the full header set: %s', async (label, method, url) => {
    const response = await t.app.inject({ method: method as 'GET', url });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expectSecurityHeaders(response, label);
  });
});
