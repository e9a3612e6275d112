import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/crypto/tokens.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { browserFrom, createVerifiedUser, setCookies, signInRequest, signUpRequest, strongPassword, type Browser, SAME_ORIGIN } from '../fixtures/accounts.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const me = (headers: Record<string, string>) => t.app.inject({ method: 'GET', url: '/api/me', headers });
const signOut = (headers: Record<string, string>) => t.app.inject({ method: 'POST', url: '/api/auth/sign-out', headers });

/** Moves a session's clocks into the past, as the owner: the way to test time-based rules without waiting. */
async function ageSession(token: string, assignments: string): Promise<void> {
  await t.testDatabase.database.transactionAsOwner((tx) =>
    tx.query(`UPDATE rampart.sessions SET ${assignments} WHERE token_hash = $1 OR previous_token_hash = $1`, [hashToken(token)]),
  );
}

async function accountEvents(userId: string): Promise<string[]> {
  const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
    tx.query<{ action: string }>('SELECT action FROM rampart.account_audit_events WHERE user_id = $1 ORDER BY seq', [userId]),
  );
  return rows.map((row) => row.action);
}

function expectProblem(response: Awaited<ReturnType<typeof me>>, status: number, code: string) {
  expect(response.statusCode).toBe(status);
  expect(response.json()).toMatchObject({ status, code });
}

describe('session cookies', () => {
  it('returns the signed-in user from GET /api/me, and 401 UNAUTHENTICATED without a valid cookie', async () => {
    const user = await createVerifiedUser(t);
    const response = await me(user.browser.headers());
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: user.userId, email: user.email, emailVerified: true });
    expect(response.headers['cache-control']).toBe('no-store');
    expectProblem(await me({}), 401, 'UNAUTHENTICATED');
    expectProblem(await me({ cookie: `rampart_session=${'B'.repeat(43)}` }), 401, 'UNAUTHENTICATED');
    expectProblem(await me({ cookie: 'rampart_session=short' }), 401, 'UNAUTHENTICATED');
  });

  it('stores only the SHA-256 of the session token', async () => {
    const user = await createVerifiedUser(t);
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ token_hash: string }>('SELECT token_hash FROM rampart.sessions WHERE user_id = $1', [user.userId]),
    );
    expect(rows).toEqual([{ token_hash: hashToken(user.browser.sessionToken) }]);
  });

  it('uses __Host- cookies with Secure when the public URL is https', async () => {
    const secure = await createTestApp({ env: { PUBLIC_URL: 'https://app.example' } });
    try {
      const email = `secure.${Date.now()}@example.com`;
      const password = strongPassword();
      await signUpRequest(secure.app, { email, password, name: 'Secure' });
      const cookies = setCookies(await signInRequest(secure.app, email, password));
      expect(cookies.get('__Host-rampart_session')?.attributes).toEqual(
        expect.arrayContaining(['Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']),
      );
      expect(cookies.get('__Host-rampart_csrf')?.attributes).toEqual(expect.arrayContaining(['Path=/', 'Secure']));
      expect([...cookies.keys()].some((name) => !name.startsWith('__Host-'))).toBe(false);
    } finally {
      await secure.close();
    }
  });
});

describe('CSRF token on cookie-authenticated unsafe requests', () => {
  it('refuses a sign-out without the X-CSRF-Token header, with a wrong one, or with the token of another session (cross-site request forgery)', async () => {
    const user = await createVerifiedUser(t);
    const other = await createVerifiedUser(t);
    // From the console's own origin (the origin check passes): only the token is missing or wrong.
    const cookie = { ...SAME_ORIGIN, cookie: user.browser.headers().cookie! };
    expectProblem(await signOut(cookie), 403, 'CSRF_TOKEN_INVALID');
    expectProblem(await signOut({ ...cookie, 'x-csrf-token': 'forged' }), 403, 'CSRF_TOKEN_INVALID');
    expectProblem(await signOut({ ...cookie, 'x-csrf-token': other.browser.csrfToken }), 403, 'CSRF_TOKEN_INVALID');
    // None of them ended the session.
    expect((await me(user.browser.headers())).statusCode).toBe(200);
    expect((await signOut(user.browser.headers())).statusCode).toBe(204);
  });
});

describe('sign-out', () => {
  it('deletes the session server-side: the same cookie afterwards gets 401', async () => {
    const user = await createVerifiedUser(t);
    const response = await signOut(user.browser.headers());
    expect(response.statusCode).toBe(204);
    expect(setCookies(response).get('rampart_session')?.attributes).toContain('Max-Age=0');
    expectProblem(await me(user.browser.headers()), 401, 'UNAUTHENTICATED');
    expect(await accountEvents(user.userId)).toContain('account.signed_out');
  });
});

describe('timeouts', () => {
  it('ends a session idle for longer than 8 hours with 401 SESSION_EXPIRED', async () => {
    const user = await createVerifiedUser(t);
    await ageSession(user.browser.sessionToken, `last_seen_at = now() - interval '8 hours 1 minute'`);
    expectProblem(await me(user.browser.headers()), 401, 'SESSION_EXPIRED');
    // Deleted, not only refused: fresh activity cannot revive it.
    await ageSession(user.browser.sessionToken, 'last_seen_at = now()');
    expectProblem(await me(user.browser.headers()), 401, 'UNAUTHENTICATED');
  });

  it('keeps a session used within the idle timeout, and ends it at its absolute lifetime however active', async () => {
    const user = await createVerifiedUser(t);
    await ageSession(user.browser.sessionToken, `last_seen_at = now() - interval '7 hours 59 minutes'`);
    expect((await me(user.browser.headers())).statusCode).toBe(200);
    await ageSession(user.browser.sessionToken, `expires_at = now() - interval '1 second', last_seen_at = now()`);
    expectProblem(await me(user.browser.headers()), 401, 'SESSION_EXPIRED');
  });

  it('does not list a session that has been idle past the timeout as active', async () => {
    const user = await createVerifiedUser(t);
    const idle = browserFrom(await signInRequest(t.app, user.email, user.password, '192.0.2.99'));
    await ageSession(idle.sessionToken, `last_seen_at = now() - interval '9 hours'`);
    const listing = await t.app.inject({ method: 'GET', url: '/api/me/sessions', headers: user.browser.headers() });
    expect(listing.json<{ sessions: { ip: string }[] }>().sessions.map((session) => session.ip)).not.toContain('192.0.2.99');
  });

  it('honours RAMPART_SESSION_IDLE_MINUTES', async () => {
    const short = await createTestApp({ env: { RAMPART_SESSION_IDLE_MINUTES: '30' } });
    try {
      const user = await createVerifiedUser(short);
      await short.testDatabase.database.transactionAsOwner((tx) =>
        tx.query(`UPDATE rampart.sessions SET last_seen_at = now() - interval '31 minutes'`),
      );
      const response = await short.app.inject({ method: 'GET', url: '/api/me', headers: user.browser.headers() });
      expect(response.json()).toMatchObject({ code: 'SESSION_EXPIRED' });
    } finally {
      await short.close();
    }
  });
});

describe('token rotation', () => {
  async function rotate(browser: Browser): Promise<Browser> {
    await ageSession(browser.sessionToken, `rotated_at = now() - interval '61 minutes'`);
    const response = await me(browser.headers());
    expect(response.statusCode).toBe(200);
    return browserFrom(response);
  }

  it('re-issues the token after an hour and keeps the previous one valid for the grace window only', async () => {
    const user = await createVerifiedUser(t);
    // Within the hour: no new token.
    expect((await me(user.browser.headers())).headers['set-cookie']).toBeUndefined();
    const rotated = await rotate(user.browser);
    expect(rotated.sessionToken).not.toBe(user.browser.sessionToken);
    expect(rotated.csrfToken).toBe(user.browser.csrfToken); // bound to the session, which is the same one
    expect((await me(rotated.headers())).statusCode).toBe(200);
    // A request that was in flight with the old token still succeeds within the grace window.
    expect((await me(user.browser.headers())).statusCode).toBe(200);
  });

  it('ends the whole session when a rotated-out token is presented after the grace window (token theft)', async () => {
    const user = await createVerifiedUser(t);
    const rotated = await rotate(user.browser);
    await ageSession(rotated.sessionToken, `rotated_at = now() - interval '2 minutes'`);
    expectProblem(await me(user.browser.headers()), 401, 'UNAUTHENTICATED');
    // The thief's copy and the owner's current token are both dead now.
    expectProblem(await me(rotated.headers()), 401, 'UNAUTHENTICATED');
    expect(await accountEvents(user.userId)).toContain('account.session_token_reused');
  });
});

describe('session management', () => {
  it('lists the sessions of the user with the current one marked, and ends one or all others', async () => {
    const user = await createVerifiedUser(t);
    const second = browserFrom(await signInRequest(t.app, user.email, user.password, '192.0.2.7'));
    const third = browserFrom(await signInRequest(t.app, user.email, user.password, '192.0.2.8'));
    const intruder = await createVerifiedUser(t);

    const listing = await t.app.inject({ method: 'GET', url: '/api/me/sessions', headers: user.browser.headers() });
    const sessions = listing.json<{ sessions: { id: string; current: boolean; ip: string }[] }>().sessions;
    expect(sessions).toHaveLength(3);
    expect(sessions.filter((session) => session.current)).toHaveLength(1);
    expect(sessions.map((session) => session.ip)).toEqual(expect.arrayContaining(['192.0.2.7', '192.0.2.8']));

    const secondId = sessions.find((session) => session.ip === '192.0.2.7')!.id;
    // Another user cannot end it: 404, as if it did not exist.
    const foreign = await t.app.inject({ method: 'DELETE', url: `/api/me/sessions/${secondId}`, headers: intruder.browser.headers() });
    expectProblem(foreign, 404, 'NOT_FOUND');
    expect((await me(second.headers())).statusCode).toBe(200);

    const revoked = await t.app.inject({ method: 'DELETE', url: `/api/me/sessions/${secondId}`, headers: user.browser.headers() });
    expect(revoked.statusCode).toBe(204);
    expectProblem(await me(second.headers()), 401, 'UNAUTHENTICATED');
    const again = await t.app.inject({ method: 'DELETE', url: `/api/me/sessions/${secondId}`, headers: user.browser.headers() });
    expectProblem(again, 404, 'NOT_FOUND');
    const malformed = await t.app.inject({ method: 'DELETE', url: '/api/me/sessions/not-a-uuid', headers: user.browser.headers() });
    expectProblem(malformed, 400, 'VALIDATION_FAILED');

    const others = await t.app.inject({ method: 'POST', url: '/api/me/sessions/revoke-others', headers: user.browser.headers() });
    expect(others.json()).toEqual({ revoked: 1 });
    expectProblem(await me(third.headers()), 401, 'UNAUTHENTICATED');
    expect((await me(user.browser.headers())).statusCode).toBe(200);
    expect(await accountEvents(user.userId)).toEqual(expect.arrayContaining(['account.session_revoked', 'account.other_sessions_revoked']));
  });

  it('shows the user their own security log, newest first, page by page', async () => {
    const user = await createVerifiedUser(t);
    const first = await t.app.inject({ method: 'GET', url: '/api/me/security-log?limit=2', headers: user.browser.headers() });
    const page = first.json<{ events: { action: string; seq: number }[]; nextBefore: number | null }>();
    expect(page.events.map((event) => event.action)).toEqual(['account.signed_in', 'account.email_verified']);
    const next = await t.app.inject({
      method: 'GET',
      url: `/api/me/security-log?limit=2&before=${page.nextBefore}`,
      headers: user.browser.headers(),
    });
    expect(next.json()).toMatchObject({ events: [{ action: 'account.signed_up' }], nextBefore: null });
    const bad = await t.app.inject({ method: 'GET', url: '/api/me/security-log?limit=1000', headers: user.browser.headers() });
    expectProblem(bad, 400, 'VALIDATION_FAILED');
  });
});

describe('password change', () => {
  it('needs the current password, ends every other session, and replaces the token of the caller', async () => {
    const user = await createVerifiedUser(t);
    const other = browserFrom(await signInRequest(t.app, user.email, user.password, '198.51.100.3'));
    const change = (body: Record<string, unknown>) =>
      t.app.inject({ method: 'POST', url: '/api/me/password', headers: user.browser.headers(), payload: body });

    const newPassword = strongPassword();
    expectProblem(await change({ currentPassword: strongPassword(), newPassword }), 400, 'INVALID_CURRENT_PASSWORD');
    expectProblem(await change({ currentPassword: user.password, newPassword: 'short' }), 400, 'PASSWORD_TOO_SHORT');
    const changed = await change({ currentPassword: user.password, newPassword });
    expect(changed.statusCode).toBe(204);
    const renewed = browserFrom(changed);
    expect(renewed.sessionToken).not.toBe(user.browser.sessionToken);

    expectProblem(await me(user.browser.headers()), 401, 'UNAUTHENTICATED');
    expectProblem(await me(other.headers()), 401, 'UNAUTHENTICATED');
    expect((await me(renewed.headers())).statusCode).toBe(200);
    expect((await signInRequest(t.app, user.email, user.password)).statusCode).toBe(401);
    expect((await signInRequest(t.app, user.email, newPassword)).statusCode).toBe(200);
    expect(await accountEvents(user.userId)).toContain('account.password_changed');
  });

  it('does not count a refused new password as a failed guess of the current one', async () => {
    const user = await createVerifiedUser(t);
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/me/password',
        headers: user.browser.headers(),
        payload: { currentPassword: user.password, newPassword: 'short' },
      });
      expectProblem(response, 400, 'PASSWORD_TOO_SHORT');
    }
    expect((await signInRequest(t.app, user.email, user.password)).statusCode).toBe(200);
  });
});
