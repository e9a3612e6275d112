import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, forgotPasswordRequest, signInRequest, strongPassword, tokenFromOutbox, uniqueEmail, waitFor } from '../fixtures/accounts.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { PUBLIC_URL: 'https://accounts.example' } });
});
afterAll(() => t.close());

const forgot = (email: string, headers: Record<string, string> = {}) => forgotPasswordRequest(t.app, email, headers);
const reset = (token: string, password: string) =>
  t.app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { token, password } });

/** Asks for a link and returns its token once the email has arrived. */
async function requestLink(email: string): Promise<string> {
  const before = t.outbox.messages().length;
  expect((await forgot(email)).statusCode).toBe(202);
  return waitFor(() => {
    if (t.outbox.messages().length === before) throw new Error('no email yet');
    return tokenFromOutbox(t, email, '/reset-password');
  });
}

describe('password reset', () => {
  it('answers an unknown email exactly as a known one, and sends nothing for it (account enumeration)', async () => {
    const user = await createVerifiedUser(t, { email: uniqueEmail('known') });
    const known = await forgot(user.email);
    const unknownEmail = uniqueEmail('unknown');
    const unknown = await forgot(unknownEmail);
    expect(unknown.statusCode).toBe(202);
    expect(unknown.json()).toEqual(known.json());
    await waitFor(() => tokenFromOutbox(t, user.email, '/reset-password'));
    expect(t.outbox.messages().filter((message) => message.to === unknownEmail)).toHaveLength(0);
  });

  it('mails a link built from PUBLIC_URL, whatever Host header the request carried (reset poisoning)', async () => {
    const user = await createVerifiedUser(t);
    await forgot(user.email, { host: 'attacker.example', 'x-forwarded-host': 'attacker.example' });
    const message = await waitFor(() => {
      tokenFromOutbox(t, user.email, '/reset-password');
      return t.outbox.messages().findLast((candidate) => candidate.to === user.email)!;
    });
    expect(message.text).toContain('https://accounts.example/reset-password?token=');
    expect(message.text + message.html).not.toContain('attacker.example');
  });

  it('sets the new password, ends every session, does not sign in, and works only once', async () => {
    const user = await createVerifiedUser(t);
    const token = await requestLink(user.email);
    const newPassword = strongPassword();
    const response = await reset(token, newPassword);
    expect(response.statusCode).toBe(204);
    expect(response.headers['set-cookie']).toBeUndefined();
    const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: user.browser.headers() });
    expect(me.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    // The same token a second time: refused, and the password stays the one just set.
    const replay = await reset(token, strongPassword());
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toMatchObject({ code: 'INVALID_TOKEN' });
    expect((await signInRequest(t.app, user.email, user.password)).statusCode).toBe(401);
    expect((await signInRequest(t.app, user.email, newPassword)).statusCode).toBe(200);
  });

  it('invalidates a link when a newer one is requested or the password changes', async () => {
    const user = await createVerifiedUser(t);
    const older = await requestLink(user.email);
    const newer = await requestLink(user.email);
    expect((await reset(older, strongPassword())).json()).toMatchObject({ code: 'INVALID_TOKEN' });

    const change = await t.app.inject({
      method: 'POST',
      url: '/api/me/password',
      headers: user.browser.headers(),
      payload: { currentPassword: user.password, newPassword: strongPassword() },
    });
    expect(change.statusCode).toBe(204);
    expect((await reset(newer, strongPassword())).json()).toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('expires a link after 30 minutes', async () => {
    const user = await createVerifiedUser(t);
    const token = await requestLink(user.email);
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ lifetime: string }>(
        `SELECT (expires_at - created_at)::text AS lifetime FROM rampart.account_tokens
          WHERE user_id = $1 AND purpose = 'reset_password'`,
        [user.userId],
      ),
    );
    expect(rows).toEqual([{ lifetime: '00:30:00' }]);
    // 31 minutes later:
    await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query(
        `UPDATE rampart.account_tokens SET created_at = created_at - interval '31 minutes', expires_at = expires_at - interval '31 minutes'
          WHERE user_id = $1`,
        [user.userId],
      ),
    );
    expect((await reset(token, strongPassword())).json()).toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('applies the password rules to the new password and keeps the link usable after a refusal', async () => {
    const user = await createVerifiedUser(t);
    const token = await requestLink(user.email);
    expect((await reset(token, 'too-short')).json()).toMatchObject({ code: 'PASSWORD_TOO_SHORT' });
    expect((await reset(token, user.email)).json()).toMatchObject({ code: 'PASSWORD_TOO_COMMON' });
    expect((await reset(token, strongPassword())).statusCode).toBe(204);
  });

  it('records the request and the reset in the account log', async () => {
    const user = await createVerifiedUser(t);
    await reset(await requestLink(user.email), strongPassword());
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ action: string }>('SELECT action FROM rampart.account_audit_events WHERE user_id = $1 ORDER BY seq', [user.userId]),
    );
    expect(rows.map((row) => row.action).slice(-2)).toEqual(['account.password_reset_requested', 'account.password_reset']);
  });
});
