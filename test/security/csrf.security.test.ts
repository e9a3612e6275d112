/**
 * Cross-site request forgery: a page of another site making the user's browser send a
 * state-changing request with the session cookie, or sign the browser into an account of the
 * attacker's choosing (login CSRF). Two independent checks must both pass for a cookie request:
 * the request comes from Rampart's own origin (Fetch Metadata, else Origin; neither → refused) and
 * it carries the session's CSRF token. Sign-up and sign-in have no session yet: the origin check
 * alone guards them. API-key requests carry no ambient credential and are not concerned.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, fetchFormToken, forgotPasswordRequest, SAME_ORIGIN, setCookies, strongPassword, uniqueEmail } from '../fixtures/accounts.js';

let t: TestApp;
let consoleOrigin: string;
beforeAll(async () => {
  t = await createTestApp({ env: { PUBLIC_URL: 'https://console.example' } });
  consoleOrigin = new URL(t.config.publicUrl).origin;
});
afterAll(() => t.close());

type User = Awaited<ReturnType<typeof createVerifiedUser>>;

/** The user's cookie and CSRF token, as a page would send them, without any origin information. */
function credentials(user: User): Record<string, string> {
  const { cookie, 'x-csrf-token': token } = user.browser.headers();
  return { cookie: cookie!, 'x-csrf-token': token! };
}

const signOut = (headers: Record<string, string>) => t.app.inject({ method: 'POST', url: '/api/auth/sign-out', headers });
const stillSignedIn = async (user: User) => (await t.app.inject({ method: 'GET', url: '/api/me', headers: credentials(user) })).statusCode === 200;

function expectRefused(response: LightMyRequestResponse, code = 'CROSS_SITE_REQUEST') {
  expect(response.statusCode, response.body).toBe(403);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ status: 403, code });
}

describe('a state-changing request with the session cookie', () => {
  it.each([
    ['marked cross-site by Fetch Metadata, even with the right token (a cross-site fetch with credentials)', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
    ['marked cross-site by Fetch Metadata while claiming the console as its Origin', { 'sec-fetch-site': 'cross-site', origin: 'https://console.example' }],
    ['from another origin, without Fetch Metadata (an older browser)', { origin: 'https://evil.example' }],
    ['from a sibling subdomain (Fetch Metadata same-site) of another origin', { 'sec-fetch-site': 'same-site', origin: 'https://evil.console.example' }],
    ['from a sibling subdomain (Fetch Metadata same-site) claiming the console as its Origin', { 'sec-fetch-site': 'same-site', origin: 'https://console.example' }],
    ['with an Origin of "null" (a sandboxed frame or a redirect)', { origin: 'null' }],
    ['with neither Fetch Metadata nor Origin (fail closed)', {}],
  ])('is refused when %s, and changes nothing', async (_label, origin) => {
    const user = await createVerifiedUser(t);
    expectRefused(await signOut({ ...credentials(user), ...origin }));
    expect(await stillSignedIn(user)).toBe(true);
  });

  it('is refused with a wrong token even from the console (the token is checked as well as the origin)', async () => {
    const user = await createVerifiedUser(t);
    expectRefused(await signOut({ ...credentials(user), ...SAME_ORIGIN, 'x-csrf-token': 'forged' }), 'CSRF_TOKEN_INVALID');
    expect(await stillSignedIn(user)).toBe(true);
  });

  it("is accepted from the console's origin: Fetch Metadata same-origin, or its Origin where Fetch Metadata is missing", async () => {
    const first = await createVerifiedUser(t);
    expect((await signOut({ ...credentials(first), 'sec-fetch-site': 'same-origin' })).statusCode).toBe(204);
    const second = await createVerifiedUser(t);
    expect((await signOut({ ...credentials(second), origin: consoleOrigin })).statusCode).toBe(204);
  });

  it('refuses a cross-site HTML form post (urlencoded body) before reading it', async () => {
    const user = await createVerifiedUser(t);
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/me/sessions/revoke-others',
      headers: { ...credentials(user), 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'confirm=yes',
    });
    expectRefused(response);
  });

  it('refuses a text/plain body holding JSON, even from the console (a "simple" cross-site request needs no preflight)', async () => {
    const user = await createVerifiedUser(t);
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/workspaces',
      headers: { ...credentials(user), ...SAME_ORIGIN, 'content-type': 'text/plain' },
      payload: JSON.stringify({ name: 'Planted' }),
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });
});

describe('starting a session', () => {
  it('refuses a cross-site sign-in (login CSRF: signing the victim into the attacker account) and sets no cookie', async () => {
    const attacker = await createVerifiedUser(t);
    for (const origin of [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example' }, {}]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/auth/sign-in',
        headers: origin,
        payload: { email: attacker.email, password: attacker.password },
      });
      expectRefused(response);
      expect(setCookies(response).size).toBe(0);
    }
  });

  it.each([
    ['the second step of a sign-in', '/api/auth/sign-in/mfa', { mfaToken: 'A'.repeat(43), code: '123456' }],
    ['a passwordless passkey sign-in', '/api/auth/passkey/sign-in', { response: {} }],
  ])('refuses a cross-site %s before reading it', async (_label, url, payload) => {
    expectRefused(await t.app.inject({ method: 'POST', url, headers: { 'sec-fetch-site': 'cross-site' }, payload }));
  });

  it('refuses a cross-site sign-in that carries an Authorization header (credentials a browser may attach by itself)', async () => {
    const attacker = await createVerifiedUser(t);
    for (const authorization of ['Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'Bearer rk_test_000000000000000000000000000000000000000000']) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/auth/sign-in',
        headers: { 'sec-fetch-site': 'cross-site', authorization },
        payload: { email: attacker.email, password: attacker.password },
      });
      expectRefused(response);
      expect(setCookies(response).size).toBe(0);
    }
  });

  it('refuses a cross-site sign-up and sends no email', async () => {
    const email = uniqueEmail('csrf');
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/auth/sign-up',
      headers: { 'sec-fetch-site': 'cross-site' },
      // A valid form token: the origin check alone refuses it.
      payload: { email, password: strongPassword(), name: 'Planted', formToken: await fetchFormToken(t.app, 'sign-up') },
    });
    expectRefused(response);
    expect(t.outbox.messages().some((message) => message.to === email)).toBe(false);
  });

  it("accepts a sign-in from the console's origin", async () => {
    const user = await createVerifiedUser(t);
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/auth/sign-in',
      headers: { origin: consoleOrigin },
      payload: { email: user.email, password: user.password },
    });
    expect(response.statusCode, response.body).toBe(200);
  });
});

describe('requests that carry no ambient credential', () => {
  it('leaves a public request without a session alone (a password-reset request needs no origin)', async () => {
    const response = await forgotPasswordRequest(t.app, uniqueEmail('forgot'));
    expect(response.statusCode, response.body).toBe(202);
  });
});
