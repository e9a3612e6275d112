import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { browserFrom, createVerifiedUser, forgotPasswordRequest, signInRequest, strongPassword, tokenFromOutbox, waitFor } from '../fixtures/accounts.js';
import { accountAuditActions, ageAuthentication, awayFromStepBoundary, enrolTotp, passwordStep, secondStep, totpCode } from '../fixtures/mfa.js';
import { createWorkspaceAs, inviteAndJoin, problemCode } from '../fixtures/workspaces.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());
beforeEach(awayFromStepBoundary, 35_000);

function emailsTo(email: string): string[] {
  return t.outbox.messages().filter((message) => message.to === email).map((message) => message.subject);
}

describe('TOTP enrolment', () => {
  it('gives a 160-bit secret and an otpauth URI, activates only with a valid code, and returns ten recovery codes once', async () => {
    const user = await createVerifiedUser(t);
    const start = await t.app.inject({ method: 'POST', url: '/api/me/mfa/totp', headers: user.browser.headers() });
    expect(start.statusCode).toBe(200);
    const { secret, uri } = start.json<{ secret: string; uri: string }>();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(new URL(uri).searchParams.get('secret')).toBe(secret);

    const wrong = await t.app.inject({ method: 'POST', url: '/api/me/mfa/totp/confirm', headers: user.browser.headers(), payload: { code: '000000' } });
    expect(problemCode(wrong)).toBe('INVALID_SECOND_FACTOR');
    // Not active before it is confirmed: sign-in still needs the password only.
    expect((await signInRequest(t.app, user.email, user.password)).json()).toHaveProperty('user');

    const { recoveryCodes } = await enrolTotp(t, user.browser);
    expect(recoveryCodes).toHaveLength(10);
    const status = await t.app.inject({ method: 'GET', url: '/api/me/mfa', headers: user.browser.headers() });
    expect(status.json()).toEqual({ totp: true, passkeys: 0, recoveryCodesRemaining: 10, methods: ['totp', 'recovery_code'] });
    const again = await t.app.inject({ method: 'POST', url: '/api/me/mfa/totp', headers: user.browser.headers() });
    expect(problemCode(again)).toBe('TOTP_ALREADY_ENABLED');
    expect(await accountAuditActions(t, user.userId)).toEqual(expect.arrayContaining(['account.totp_enabled', 'account.recovery_codes_generated']));
    await waitFor(() => expect(emailsTo(user.email)).toContain('A sign-in method of your Rampart account changed'));
  });
});

describe('two-step sign-in', () => {
  it('answers a right password with a second step (no cookies), and signs in with the next code', async () => {
    const user = await createVerifiedUser(t);
    const { secret } = await enrolTotp(t, user.browser);
    const first = await passwordStep(t, user.email, user.password);
    expect(first.methods).toEqual(['totp', 'recovery_code']);
    expect(first.response.headers['set-cookie']).toBeUndefined();

    const done = await secondStep(t, { mfaToken: first.mfaToken, code: totpCode(secret) });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json<{ user: { id: string } }>().user.id).toBe(user.userId);
    const session = browserFrom(done);
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: session.headers() })).statusCode).toBe(200);
    const actions = await accountAuditActions(t, user.userId);
    expect(actions.at(-1)).toBe('account.signed_in');
  });

  it('refuses a replayed code (attack: a code seen over a shoulder or phished, used again) and records it', async () => {
    const user = await createVerifiedUser(t);
    const { secret } = await enrolTotp(t, user.browser);
    const code = totpCode(secret);
    const first = await passwordStep(t, user.email, user.password);
    expect((await secondStep(t, { mfaToken: first.mfaToken, code })).statusCode).toBe(200);
    const second = await passwordStep(t, user.email, user.password);
    const replay = await secondStep(t, { mfaToken: second.mfaToken, code });
    expect(problemCode(replay)).toBe('INVALID_SECOND_FACTOR');
    expect(await accountAuditActions(t, user.userId)).toContain('account.totp_code_replayed');
    // The code of the enrolment step is older than the last one used: refused as well.
    expect(problemCode(await secondStep(t, { mfaToken: second.mfaToken, code: totpCode(secret, -1) }))).toBe('INVALID_SECOND_FACTOR');
    expect((await secondStep(t, { mfaToken: second.mfaToken, code: totpCode(secret, 1) })).statusCode).toBe(200);
  });

  it('refuses the codes of two steps before and two steps after now', async () => {
    const user = await createVerifiedUser(t);
    const { secret } = await enrolTotp(t, user.browser);
    const { mfaToken } = await passwordStep(t, user.email, user.password);
    for (const offset of [-2, 2, 3]) {
      expect(problemCode(await secondStep(t, { mfaToken, code: totpCode(secret, offset) }))).toBe('INVALID_SECOND_FACTOR');
    }
    expect((await secondStep(t, { mfaToken, code: totpCode(secret) })).statusCode).toBe(200);
  });

  it('emails the user once per sign-in when the password was right and the second factor wrong', async () => {
    const user = await createVerifiedUser(t);
    await enrolTotp(t, user.browser);
    const { mfaToken } = await passwordStep(t, user.email, user.password);
    await secondStep(t, { mfaToken, code: '111111' });
    await secondStep(t, { mfaToken, code: '222222' });
    const subject = 'Someone entered your Rampart password but not your second factor';
    await waitFor(() => expect(emailsTo(user.email)).toContain(subject));
    expect(emailsTo(user.email).filter((s) => s === subject)).toHaveLength(1);
    expect((await accountAuditActions(t, user.userId)).filter((a) => a === 'account.second_factor_failed')).toHaveLength(2);
  });

  it('limits wrong second factors like passwords (attack: guessing 6-digit codes with a known password)', async () => {
    const user = await createVerifiedUser(t);
    const { secret } = await enrolTotp(t, user.browser);
    const first = await passwordStep(t, user.email, user.password);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect(problemCode(await secondStep(t, { mfaToken: first.mfaToken, code: String(100000 + attempt) }))).toBe('INVALID_SECOND_FACTOR');
    }
    // Five failures used the token up; a new password step gets a new one, but this address is paused.
    expect(problemCode(await secondStep(t, { mfaToken: first.mfaToken, code: totpCode(secret) }))).toBe('INVALID_MFA_TOKEN');
    const second = await passwordStep(t, user.email, user.password);
    const paused = await secondStep(t, { mfaToken: second.mfaToken, code: totpCode(secret) });
    expect(problemCode(paused)).toBe('TOO_MANY_ATTEMPTS');
    expect(Number(paused.headers['retry-after'])).toBeGreaterThan(0);
    // Another address has its own allowance (the account ceiling is 20 an hour).
    expect((await secondStep(t, { mfaToken: second.mfaToken, code: totpCode(secret) }, '203.0.113.9')).statusCode).toBe(200);
  });

  it('does not let a password reset skip the second factor', async () => {
    const user = await createVerifiedUser(t);
    const { secret } = await enrolTotp(t, user.browser);
    const pending = await passwordStep(t, user.email, user.password);
    await forgotPasswordRequest(t.app, user.email);
    const resetToken = await waitFor(() => tokenFromOutbox(t, user.email, '/reset-password'));
    const password = strongPassword();
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { token: resetToken, password } })).statusCode).toBe(204);
    // A second step begun with the old password is over.
    expect(problemCode(await secondStep(t, { mfaToken: pending.mfaToken, code: totpCode(secret) }))).toBe('INVALID_MFA_TOKEN');
    const after = await passwordStep(t, user.email, password);
    expect(after.methods).toContain('totp');
    expect((await secondStep(t, { mfaToken: after.mfaToken, code: totpCode(secret) })).statusCode).toBe(200);
  });
});

describe('recovery codes', () => {
  it('work once each, are audited and emailed, and a new set voids the old one', async () => {
    const user = await createVerifiedUser(t);
    const { recoveryCodes } = await enrolTotp(t, user.browser);
    const [firstCode, secondCode] = recoveryCodes;
    const first = await passwordStep(t, user.email, user.password);
    const used = await secondStep(t, { mfaToken: first.mfaToken, recoveryCode: firstCode!.toUpperCase() });
    expect(used.statusCode, used.body).toBe(200);
    await waitFor(() => expect(emailsTo(user.email)).toContain('A recovery code of your Rampart account was used'));
    expect(await accountAuditActions(t, user.userId)).toContain('account.recovery_code_used');

    const second = await passwordStep(t, user.email, user.password);
    expect(problemCode(await secondStep(t, { mfaToken: second.mfaToken, recoveryCode: firstCode! }))).toBe('INVALID_SECOND_FACTOR');

    const session = browserFrom(used);
    const fresh = await t.app.inject({ method: 'POST', url: '/api/me/mfa/recovery-codes', headers: session.headers() });
    expect(fresh.statusCode).toBe(200);
    const newCodes = fresh.json<{ recoveryCodes: string[] }>().recoveryCodes;
    expect(newCodes).toHaveLength(10);
    expect(problemCode(await secondStep(t, { mfaToken: second.mfaToken, recoveryCode: secondCode! }))).toBe('INVALID_SECOND_FACTOR');
    expect((await secondStep(t, { mfaToken: second.mfaToken, recoveryCode: newCodes[0]! })).statusCode).toBe(200);
  });

  it('cannot be created by a user without a second factor', async () => {
    const user = await createVerifiedUser(t);
    const response = await t.app.inject({ method: 'POST', url: '/api/me/mfa/recovery-codes', headers: user.browser.headers() });
    expect(problemCode(response)).toBe('MFA_NOT_ENABLED');
  });
});

describe('removing the authenticator app', () => {
  it('needs a recent authentication, drops the recovery codes and the second step, and is emailed', async () => {
    const user = await createVerifiedUser(t);
    const { secret } = await enrolTotp(t, user.browser);
    await ageAuthentication(t, user.browser.sessionToken);
    const stale = await t.app.inject({ method: 'DELETE', url: '/api/me/mfa/totp', headers: user.browser.headers() });
    expect(problemCode(stale)).toBe('STEP_UP_REQUIRED');
    const stepUp = await t.app.inject({ method: 'POST', url: '/api/auth/step-up', headers: user.browser.headers(), payload: { code: totpCode(secret) } });
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    const removed = await t.app.inject({ method: 'DELETE', url: '/api/me/mfa/totp', headers: user.browser.headers() });
    expect(removed.statusCode, removed.body).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/me/mfa', headers: user.browser.headers() })).json()).toEqual({
      totp: false,
      passkeys: 0,
      recoveryCodesRemaining: 0,
      methods: [],
    });
    expect((await signInRequest(t.app, user.email, user.password)).json()).toHaveProperty('user');
    await waitFor(() => expect(t.outbox.messages().some((m) => m.to === user.email && m.text.includes('authenticator app was removed'))).toBe(true));
    expect(await accountAuditActions(t, user.userId)).toContain('account.totp_disabled');
  });
});

describe('step-up', () => {
  it('asks a user with a second factor for it, not for the password', async () => {
    const user = await createVerifiedUser(t);
    const { secret } = await enrolTotp(t, user.browser);
    const withPassword = await t.app.inject({ method: 'POST', url: '/api/auth/step-up', headers: user.browser.headers(), payload: { password: user.password } });
    expect(problemCode(withPassword)).toBe('SECOND_FACTOR_REQUIRED');
    const withCode = await t.app.inject({ method: 'POST', url: '/api/auth/step-up', headers: user.browser.headers(), payload: { code: totpCode(secret) } });
    expect(withCode.statusCode, withCode.body).toBe(200);
    expect(withCode.json()).toEqual({ authLevel: 'multi_factor' });
    expect(await accountAuditActions(t, user.userId)).toContain('account.stepped_up');
  });

  it('does not count a password-only session as recent once the user has a second factor (attack: a session stolen before enrolment)', async () => {
    const user = await createVerifiedUser(t);
    const older = browserFrom(await signInRequest(t.app, user.email, user.password));
    await enrolTotp(t, user.browser);
    const attempt = await t.app.inject({ method: 'POST', url: '/api/me/mfa/recovery-codes', headers: older.headers() });
    expect(problemCode(attempt)).toBe('STEP_UP_REQUIRED');
    // The session that confirmed the factor proved it, and counts.
    expect((await t.app.inject({ method: 'POST', url: '/api/me/mfa/recovery-codes', headers: user.browser.headers() })).statusCode).toBe(200);
  });
});

describe('workspace MFA policy', () => {
  it('cannot be switched on by an owner without MFA, then keeps members without it out until they enrol', async () => {
    const owner = await createVerifiedUser(t);
    const member = await createVerifiedUser(t);
    const outsider = await createVerifiedUser(t);
    const workspaceId = await createWorkspaceAs(t, owner.browser);
    await inviteAndJoin(t, { inviter: owner.browser, workspaceId, member, role: 'member' });
    const policy = (browser: typeof owner.browser, required: boolean) =>
      t.app.inject({ method: 'PUT', url: `/api/workspaces/${workspaceId}/mfa-policy`, headers: browser.headers(), payload: { required } });

    expect(problemCode(await policy(owner.browser, true))).toBe('MFA_REQUIRED');
    await enrolTotp(t, owner.browser);
    const on = await policy(owner.browser, true);
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json<{ mfaRequired: boolean }>().mfaRequired).toBe(true);

    const read = (browser: typeof owner.browser) => t.app.inject({ method: 'GET', url: `/api/workspaces/${workspaceId}`, headers: browser.headers() });
    expect(problemCode(await read(member.browser))).toBe('MFA_REQUIRED');
    // A non-member learns nothing, not even that the workspace has a policy.
    expect(problemCode(await read(outsider.browser))).toBe('NOT_FOUND');
    const listed = await t.app.inject({ method: 'GET', url: '/api/workspaces', headers: member.browser.headers() });
    expect(listed.json<{ workspaces: { id: string; mfaRequired: boolean }[] }>().workspaces).toEqual([
      expect.objectContaining({ id: workspaceId, mfaRequired: true }),
    ]);
    await enrolTotp(t, member.browser);
    expect((await read(member.browser)).statusCode).toBe(200);
    expect((await read(owner.browser)).statusCode).toBe(200);
  });
});
