/**
 * CORS misconfiguration: a server that reflects any `Origin` (or `null`, which sandboxed frames and
 * `file:` pages send) with `Access-Control-Allow-Credentials: true` lets every site read its users'
 * data with their cookies, and call the API as them. Rampart sends no CORS header at all unless
 * RAMPART_CORS_ORIGINS lists origins; then exactly those get them, and nothing else is reflected.
 * A cookie request from a listed origin passes the CSRF origin check (and still needs the CSRF
 * token); from any other origin it stays refused.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SECURITY_HEADERS } from '../../src/server/security-headers.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser } from '../fixtures/accounts.js';

const CONSOLE = 'https://console.example';
const PARTNER = 'https://app.example';
const ADMIN = 'https://admin.example:8443';

let off: TestApp;
let on: TestApp;
beforeAll(async () => {
  [off, on] = await Promise.all([
    createTestApp({ env: { PUBLIC_URL: CONSOLE } }),
    createTestApp({ env: { PUBLIC_URL: CONSOLE, RAMPART_CORS_ORIGINS: `${PARTNER}, ${ADMIN}/` } }),
  ]);
});
afterAll(() => Promise.all([off?.close(), on?.close()]));

const corsHeaders = (response: LightMyRequestResponse) => Object.keys(response.headers).filter((name) => name.startsWith('access-control-'));
const preflight = (t: TestApp, origin: string, url = '/api/workspaces') =>
  t.app.inject({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-csrf-token' },
  });

/** Origins that must never be granted: foreign, `null`, and look-alikes of a listed one. */
const NOT_LISTED = [
  'https://evil.example',
  'null',
  'http://app.example',
  'https://app.example:444',
  'https://app.example.evil.example',
  'https://evilapp.example',
  'https://sub.app.example',
  'https://app.example/',
  `${PARTNER}, https://evil.example`,
];

describe('CORS off (no RAMPART_CORS_ORIGINS, the default)', () => {
  it.each([['https://evil.example'], ['null'], [PARTNER]])('answers a request from %s with no CORS header', async (origin) => {
    const response = await off.app.inject({ method: 'GET', url: '/api/health/live', headers: { origin } });
    expect(response.statusCode).toBe(200);
    expect(corsHeaders(response)).toEqual([]);
  });

  it('grants no preflight: an OPTIONS gets the ordinary 405 problem and no CORS header', async () => {
    const response = await preflight(off, PARTNER);
    expect(response.statusCode).toBe(405);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(corsHeaders(response)).toEqual([]);
  });
});

describe('CORS with RAMPART_CORS_ORIGINS', () => {
  it.each(NOT_LISTED.map((origin) => [origin]))('reflects nothing to %j: no Access-Control-Allow-Origin, no credentials', async (origin) => {
    const response = await on.app.inject({ method: 'GET', url: '/api/health/live', headers: { origin } });
    expect(response.statusCode).toBe(200);
    expect(corsHeaders(response)).toEqual([]);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('never answers Origin: null with null (the sandboxed-frame trick)', async () => {
    for (const method of ['GET', 'OPTIONS'] as const) {
      const response = await on.app.inject({ method, url: '/api/me', headers: { origin: 'null', 'access-control-request-method': 'GET' } });
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(JSON.stringify(response.headers)).not.toMatch(/"null"/);
    }
  });

  it.each([[PARTNER], [ADMIN]])('gives %s exactly its own origin, credentials and Vary: Origin, on errors too', async (origin) => {
    for (const url of ['/api/health/live', '/api/me']) {
      const response = await on.app.inject({ method: 'GET', url, headers: { origin } });
      expect(response.headers['access-control-allow-origin']).toBe(origin);
      expect(response.headers['access-control-allow-credentials']).toBe('true');
      expect(String(response.headers.vary)).toMatch(/\bOrigin\b/);
    }
  });

  it('answers the preflight of a listed origin with the API methods and the three client headers only, and the security headers', async () => {
    const response = await preflight(on, PARTNER);
    expect(response.statusCode).toBe(204);
    expect(response.headers).toMatchObject({
      'access-control-allow-origin': PARTNER,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
      'access-control-allow-headers': 'content-type, x-csrf-token, authorization',
      'access-control-max-age': '600',
    });
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) expect(response.headers[name], name).toBe(value);
    const greedy = await on.app.inject({
      method: 'OPTIONS',
      url: '/api/workspaces',
      headers: { origin: PARTNER, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-forwarded-for, cookie' },
    });
    expect(greedy.headers['access-control-allow-headers']).toBe('content-type, x-csrf-token, authorization');
  });

  it.each(NOT_LISTED.map((origin) => [origin]))('grants no preflight to %j: the ordinary 4xx problem, no CORS header', async (origin) => {
    const response = await preflight(on, origin);
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(corsHeaders(response)).toEqual([]);
  });

  it('keeps 404 for unknown paths and 405 for known ones (the preflight route answers no other method)', async () => {
    expect((await on.app.inject({ method: 'GET', url: '/api/no-such-route' })).statusCode).toBe(404);
    expect((await on.app.inject({ method: 'DELETE', url: '/api/health' })).headers.allow).toBe('GET, HEAD');
  });
});

describe('a cookie-authenticated state-changing request with CORS on', () => {
  type User = Awaited<ReturnType<typeof createVerifiedUser>>;
  const cookieAndToken = (user: User) => {
    const { cookie, 'x-csrf-token': token } = user.browser.headers();
    return { cookie: cookie!, 'x-csrf-token': token! };
  };
  const signOut = (headers: Record<string, string>) => on.app.inject({ method: 'POST', url: '/api/auth/sign-out', headers });

  it.each([['cross-site'], ['same-site']])('succeeds from a listed origin (Sec-Fetch-Site: %s) with the CSRF token', async (site) => {
    const user = await createVerifiedUser(on);
    const response = await signOut({ ...cookieAndToken(user), origin: PARTNER, 'sec-fetch-site': site });
    expect(response.statusCode, response.body).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(PARTNER);
  });

  it('still needs the CSRF token from a listed origin', async () => {
    const user = await createVerifiedUser(on);
    const { cookie } = cookieAndToken(user);
    const response = await signOut({ cookie, origin: PARTNER, 'sec-fetch-site': 'cross-site' });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
  });

  it.each([
    ['another origin', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
    ['a look-alike of a listed origin', { origin: 'https://app.example.evil.example', 'sec-fetch-site': 'cross-site' }],
    ['Origin null', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
    ["Rampart's own origin claimed by a request the browser marks cross-site", { origin: CONSOLE, 'sec-fetch-site': 'cross-site' }],
    ['no Origin at all', { 'sec-fetch-site': 'cross-site' }],
  ])('is refused as CROSS_SITE_REQUEST from %s, even with the CSRF token', async (_label, origin) => {
    const user = await createVerifiedUser(on);
    const response = await signOut({ ...cookieAndToken(user), ...origin });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'CROSS_SITE_REQUEST' });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect((await on.app.inject({ method: 'GET', url: '/api/me', headers: cookieAndToken(user) })).statusCode).toBe(200);
  });
});
