import { hash as bcryptHash } from '@node-rs/bcrypt';
import { hash as argon2Hash } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BREACHED_PASSWORD, createTestApp, type TestApp } from '../fixtures/app.js';
import {
  browserFrom,
  createVerifiedUser,
  SAME_ORIGIN,
  setCookies,
  signInRequest,
  signUpRequest,
  strongPassword,
  tokenFromOutbox,
  uniqueEmail,
  waitFor,
} from '../fixtures/accounts.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { PUBLIC_URL: 'http://console.example:8080' } });
});
afterAll(() => t.close());

const signUp = (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  signUpRequest(t.app, payload, headers);

async function accountEvents(userId: string): Promise<string[]> {
  const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
    tx.query<{ action: string }>('SELECT action FROM rampart.account_audit_events WHERE user_id = $1 ORDER BY seq', [userId]),
  );
  return rows.map((row) => row.action);
}

describe('sign-up and email verification', () => {
  it('answers a new and an already registered email identically, and mails the existing owner instead', async () => {
    const email = uniqueEmail('taken');
    const first = await signUp({ email, password: strongPassword(), name: 'First' });
    await waitFor(() => tokenFromOutbox(t, email, '/verify-email'));
    const second = await signUp({ email: email.toUpperCase(), password: strongPassword(), name: 'Impostor' });
    expect(second.statusCode).toBe(202);
    expect(second.statusCode).toBe(first.statusCode);
    expect(second.json()).toEqual(first.json());
    const notice = await waitFor(() => {
      const found = t.outbox.messages().find((message) => message.to === email && message.text.includes('already'));
      if (!found) throw new Error('not yet');
      return found;
    });
    // The notice carries no token: it only points at the sign-in and forgot-password pages.
    expect(notice.text).not.toMatch(/token=/);
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ name: string }>('SELECT name FROM rampart.users WHERE lower(email) = lower($1)', [email]),
    );
    expect(rows).toEqual([{ name: 'First' }]);
  });

  it('builds the link from PUBLIC_URL, never from a Host header the client chose (link poisoning)', async () => {
    const email = uniqueEmail('host');
    await signUp({ email, password: strongPassword(), name: 'Host' }, { host: 'evil.example', 'x-forwarded-host': 'evil.example' });
    const message = await waitFor(() => {
      tokenFromOutbox(t, email, '/verify-email');
      return t.outbox.messages().findLast((candidate) => candidate.to === email)!;
    });
    expect(message.text).toContain('http://console.example:8080/verify-email?token=');
    expect(message.text + message.html).not.toContain('evil.example');
  });

  it('verifies the address once: the same link a second time, a made-up or an expired token is INVALID_TOKEN', async () => {
    const email = uniqueEmail('verify');
    await signUp({ email, password: strongPassword(), name: 'Verify' });
    const token = await waitFor(() => tokenFromOutbox(t, email, '/verify-email'));
    const verify = (value: string) => t.app.inject({ method: 'POST', url: '/api/auth/verify-email', payload: { token: value } });
    expect((await verify(token)).json()).toEqual({ status: 'verified' });
    for (const response of [await verify(token), await verify('x'.repeat(43)), await verify('not a token')]) {
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_TOKEN' });
    }

    const late = uniqueEmail('late');
    await signUp({ email: late, password: strongPassword(), name: 'Late' });
    const lateToken = await waitFor(() => tokenFromOutbox(t, late, '/verify-email'));
    await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query(`UPDATE rampart.account_tokens SET expires_at = now() - interval '1 second'
                 WHERE user_id = (SELECT id FROM rampart.users WHERE email = $1)`, [late]),
    );
    expect((await verify(lateToken)).json()).toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('lets an unverified account sign in, and says it is unverified', async () => {
    const email = uniqueEmail('unverified');
    const password = strongPassword();
    await signUp({ email, password, name: 'Unverified' });
    const response = await signInRequest(t.app, email, password);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ user: { email, emailVerified: false } });
    const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: browserFrom(response).headers() });
    expect(me.json()).toMatchObject({ email, emailVerified: false });
  });

  it('sends a new link to a signed-in unverified user on request, which replaces the old one', async () => {
    const email = uniqueEmail('resend');
    const password = strongPassword();
    await signUp({ email, password, name: 'Resend' });
    const first = await waitFor(() => tokenFromOutbox(t, email, '/verify-email'));
    const browser = browserFrom(await signInRequest(t.app, email, password));
    const resend = () => t.app.inject({ method: 'POST', url: '/api/me/email-verification', headers: browser.headers() });
    expect((await resend()).statusCode).toBe(202);
    const second = await waitFor(() => {
      const token = tokenFromOutbox(t, email, '/verify-email');
      if (token === first) throw new Error('no new link yet');
      return token;
    });
    const verify = (token: string) => t.app.inject({ method: 'POST', url: '/api/auth/verify-email', payload: { token } });
    expect((await verify(first)).json()).toMatchObject({ code: 'INVALID_TOKEN' });
    expect((await verify(second)).statusCode).toBe(200);
    const again = await resend();
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'EMAIL_ALREADY_VERIFIED' });
  });

  it('records sign-up and verification in the account log', async () => {
    const user = await createVerifiedUser(t);
    expect(await accountEvents(user.userId)).toEqual(['account.signed_up', 'account.email_verified', 'account.signed_in']);
  });

  it('refuses unknown fields and a malformed email with 400 VALIDATION_FAILED and creates nothing', async () => {
    const email = uniqueEmail('mass');
    for (const payload of [
      { email, password: strongPassword(), name: 'Mass', emailVerified: true },
      { email: 'not-an-email', password: strongPassword(), name: 'Mass' },
      { email, password: strongPassword(), name: '' },
      { email, password: strongPassword(), name: 'Nul\u0000Byte' },
      { email: 'nul\u0000@example.com', password: strongPassword(), name: 'Nul' },
    ]) {
      const response = await signUp(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query('SELECT 1 FROM rampart.users WHERE email = $1', [email]),
    );
    expect(rows).toHaveLength(0);
  });
});

describe('password rules (NIST SP 800-63B 5.1.1.2)', () => {
  const attempt = (password: string) => signUp({ email: uniqueEmail('rules'), password, name: 'Rules' });

  it('rejects 11 characters and accepts 12 and 128; 129 is refused, never truncated', async () => {
    expect((await attempt('k9#Vw2!pLq7z')).statusCode).toBe(202); // 12
    expect((await attempt('k9#Vw2!pLq7')).json()).toMatchObject({ status: 400, code: 'PASSWORD_TOO_SHORT' }); // 11
    const long = Array.from({ length: 128 }, (_, index) => 'Zq7!xW3#mP9&'[index % 12]! + String(index % 10)).join('').slice(0, 128);
    expect([...long]).toHaveLength(128);
    expect((await attempt(long)).statusCode).toBe(202);
    expect((await attempt(`${long}x`)).json()).toMatchObject({ code: 'PASSWORD_TOO_LONG' });
  });

  it('accepts any Unicode and counts characters, not bytes', async () => {
    const email = uniqueEmail('unicode');
    const password = 'пароль 密码 🔐 contraseña';
    expect((await signUp({ email, password, name: 'Ünïcödé' })).statusCode).toBe(202);
    expect((await signInRequest(t.app, email, password)).statusCode).toBe(200);
    expect((await attempt('🔐'.repeat(6) + '密码密码密')).json()).toMatchObject({ code: 'PASSWORD_TOO_SHORT' }); // 11 characters
  });

  it('compares every character of a long password: one changed at position 100 fails', async () => {
    const email = uniqueEmail('long');
    const password = `${'correct-staple-'.repeat(7)}final!`; // 111 characters
    await signUp({ email, password, name: 'Long' });
    const changed = `${password.slice(0, 100)}X${password.slice(101)}`;
    expect((await signInRequest(t.app, email, changed)).statusCode).toBe(401);
    expect((await signInRequest(t.app, email, password)).statusCode).toBe(200);
  });

  it('rejects a common password from the bundled list', async () => {
    expect((await attempt('qwertyuiopasdf')).json()).toMatchObject({ code: 'PASSWORD_TOO_COMMON' });
    expect((await attempt('PasswordPassword')).json()).toMatchObject({ code: 'PASSWORD_TOO_COMMON' });
  });

  it('rejects a breached password through the Pwned Passwords range protocol, sending only 5 hex characters', async () => {
    const before = t.hibp.requests.length;
    expect((await attempt(BREACHED_PASSWORD)).json()).toMatchObject({ status: 400, code: 'PASSWORD_BREACHED' });
    const sent = t.hibp.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^\/range\/[0-9A-F]{5}$/);
  });

  it('falls back to the bundled list and still accepts a good password when the breach service is down', async () => {
    t.hibp.setFailing(true);
    try {
      expect((await attempt(strongPassword())).statusCode).toBe(202);
      expect((await attempt('qwertyuiopasdf')).json()).toMatchObject({ code: 'PASSWORD_TOO_COMMON' });
    } finally {
      t.hibp.setFailing(false);
    }
    expect(t.logs.some((line) => String(line.msg).includes('breached-password service is unreachable'))).toBe(true);
  });
});

describe('sign-in', () => {
  it('refuses a malformed email with 400 instead of passing it to the database', async () => {
    for (const email of ['a\u0000b@example.com', 'not-an-email', 'x'.repeat(300)]) {
      const response = await signInRequest(t.app, email, strongPassword());
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });

  it('answers a wrong password and an unknown email with the same 401 INVALID_CREDENTIALS (account enumeration)', async () => {
    const user = await createVerifiedUser(t);
    const wrongPassword = await signInRequest(t.app, user.email, strongPassword(), '10.0.0.1');
    const unknownEmail = await signInRequest(t.app, uniqueEmail('nobody'), strongPassword(), '10.0.0.1');
    for (const response of [wrongPassword, unknownEmail]) {
      expect(response.statusCode).toBe(401);
      expect(response.headers['set-cookie']).toBeUndefined();
    }
    const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    expect(strip(wrongPassword.json())).toEqual(strip(unknownEmail.json()));
    expect(wrongPassword.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('sets HttpOnly SameSite=Lax cookies, and a new token at every sign-in (session fixation)', async () => {
    const user = await createVerifiedUser(t);
    const planted = 'A'.repeat(43);
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/auth/sign-in',
      payload: { email: user.email, password: user.password },
      headers: { ...SAME_ORIGIN, cookie: `rampart_session=${planted}` },
    });
    const cookies = setCookies(response);
    const session = cookies.get('rampart_session')!;
    expect(session.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.value).not.toBe(planted);
    expect(session.value).not.toBe(user.browser.sessionToken);
    expect(session.attributes).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Lax']));
    const csrf = cookies.get('rampart_csrf')!;
    expect(csrf.attributes).not.toContain('HttpOnly');
    expect(csrf.attributes).toContain('SameSite=Lax');
  });

  it('re-hashes an imported bcrypt hash and weaker argon2 parameters with argon2id at the next sign-in', async () => {
    for (const makeHash of [
      (password: string) => bcryptHash(password, 4),
      (password: string) => argon2Hash(password, { memoryCost: 4096, timeCost: 1, parallelism: 1 }),
    ]) {
      const email = uniqueEmail('imported');
      const password = strongPassword();
      const imported = await makeHash(password);
      await t.testDatabase.database.transactionAsOwner((tx) =>
        tx.query(
          `WITH imported AS (INSERT INTO rampart.users (email, name) VALUES ($1, 'Imported') RETURNING id)
           INSERT INTO rampart.password_credentials (user_id, password_hash) SELECT id, $2 FROM imported`,
          [email, imported],
        ),
      );
      expect((await signInRequest(t.app, email, strongPassword())).statusCode).toBe(401);
      expect((await signInRequest(t.app, email, password)).statusCode).toBe(200);
      const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
        tx.query<{ password_hash: string }>(
          `SELECT c.password_hash FROM rampart.password_credentials c JOIN rampart.users u ON u.id = c.user_id WHERE u.email = $1`,
          [email],
        ),
      );
      expect(rows[0]!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect((await signInRequest(t.app, email, password)).statusCode).toBe(200);
    }
  });
});
