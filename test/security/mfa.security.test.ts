/**
 * Attacks on the second factor and on sensitive actions: a stolen or stale session used for an
 * account takeover (step-up), and the token of a sign-in's second step replayed, kept past its
 * expiry, presented as a session, or paired with another user's factor.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STEP_UP_ROUTES } from '../../src/http/step-up-guard.js';
import { hashToken } from '../../src/crypto/tokens.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, signInRequest, type Browser } from '../fixtures/accounts.js';
import { ageAuthentication, awayFromStepBoundary, enrolTotp, passwordStep, secondStep, totpCode } from '../fixtures/mfa.js';
import { createWorkspaceAs, inviteAndJoin, problemCode } from '../fixtures/workspaces.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

interface StepUpFixture {
  workspaceId: string;
  workspaceName: string;
  memberId: string;
}

/** A schema-valid request for every route of the step-up table: the refusal must come from the step-up check. */
const RECIPES: Record<string, (f: StepUpFixture) => { url?: string; payload?: unknown }> = {
  'POST /api/me/password': () => ({ payload: { currentPassword: 'not-checked-before-step-up', newPassword: 'Another-long-passphrase-1' } }),
  'POST /api/me/mfa/totp': () => ({}),
  'POST /api/me/mfa/totp/confirm': () => ({ payload: { code: '123456' } }),
  'DELETE /api/me/mfa/totp': () => ({}),
  'POST /api/me/mfa/recovery-codes': () => ({}),
  'POST /api/me/passkeys/registration-options': () => ({}),
  'POST /api/me/passkeys': () => ({
    payload: {
      name: 'Stolen laptop',
      response: { id: 'AAAAAAAAAAAAAAAAAAAAAA', rawId: 'AAAAAAAAAAAAAAAAAAAAAA', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'oA' } },
    },
  }),
  'PATCH /api/me/passkeys/:id': () => ({ url: `/api/me/passkeys/${randomUUID()}`, payload: { name: 'Renamed' } }),
  'DELETE /api/me/passkeys/:id': () => ({ url: `/api/me/passkeys/${randomUUID()}` }),
  'POST /api/workspaces/:ws/transfer-ownership': (f) => ({ url: `/api/workspaces/${f.workspaceId}/transfer-ownership`, payload: { userId: f.memberId } }),
  'DELETE /api/workspaces/:ws': (f) => ({ url: `/api/workspaces/${f.workspaceId}`, payload: { confirmName: f.workspaceName } }),
  'PUT /api/workspaces/:ws/mfa-policy': (f) => ({ url: `/api/workspaces/${f.workspaceId}/mfa-policy`, payload: { required: false } }),
  'POST /api/workspaces/:ws/api-keys': (f) => ({ url: `/api/workspaces/${f.workspaceId}/api-keys`, payload: { name: 'Step-up', scopes: ['workspace:read'] } }),
};

async function recordCount(): Promise<number> {
  const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
    tx.query<{ count: number }>(
      `SELECT (SELECT count(*) FROM rampart.account_audit_events) + (SELECT count(*) FROM rampart.audit_events)
            + (SELECT count(*) FROM rampart.totp_credentials) + (SELECT count(*) FROM rampart.webauthn_challenges)
            + (SELECT count(*) FROM rampart.workspaces WHERE deleted_at IS NOT NULL) + (SELECT count(*) FROM rampart.api_keys) AS count`,
    ),
  );
  return Number(rows[0]!.count);
}

describe('step-up (attack: a stolen or unattended session used to take the account over)', () => {
  it('has a request for every route of the table', () => {
    expect(Object.keys(RECIPES).sort()).toEqual(STEP_UP_ROUTES.map((route) => `${route.method} ${route.url}`).sort());
  });

  it.each(STEP_UP_ROUTES.map((route) => [`${route.method} ${route.url}`, route] as const))(
    '%s: 403 STEP_UP_REQUIRED without a recent authentication, changing nothing; allowed after a step-up',
    async (_label, route) => {
      const owner = await createVerifiedUser(t);
      const member = await createVerifiedUser(t);
      const workspaceName = `Step-up ${randomUUID().slice(0, 8)}`;
      const workspaceId = await createWorkspaceAs(t, owner.browser, workspaceName);
      await inviteAndJoin(t, { inviter: owner.browser, workspaceId, member, role: 'admin' });
      const recipe = RECIPES[`${route.method} ${route.url}`]!({ workspaceId, workspaceName, memberId: member.userId });
      const send = (browser: Browser) =>
        t.app.inject({ method: route.method, url: recipe.url ?? route.url, headers: browser.headers(), ...(recipe.payload === undefined ? {} : { payload: recipe.payload as object }) });

      await ageAuthentication(t, owner.browser.sessionToken);
      const before = await recordCount();
      const refused = await send(owner.browser);
      expect(problemCode(refused), refused.body).toBe('STEP_UP_REQUIRED');
      expect(refused.statusCode).toBe(403);
      expect(await recordCount()).toBe(before);

      const stepUp = await t.app.inject({ method: 'POST', url: '/api/auth/step-up', headers: owner.browser.headers(), payload: { password: owner.password } });
      expect(stepUp.statusCode, stepUp.body).toBe(200);
      const allowed = await send(owner.browser);
      expect(problemCode(allowed), allowed.body).not.toBe('STEP_UP_REQUIRED');
      expect(allowed.statusCode).toBeLessThan(500);
    },
  );

  it('refuses a wrong password at step-up and counts it like a failed sign-in (attack: a stolen session as a password oracle)', async () => {
    const user = await createVerifiedUser(t);
    await ageAuthentication(t, user.browser.sessionToken);
    const stepUp = (password: string) =>
      t.app.inject({ method: 'POST', url: '/api/auth/step-up', headers: user.browser.headers(), payload: { password } });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect(problemCode(await stepUp(`not-the-password-${attempt}`))).toBe('INVALID_CURRENT_PASSWORD');
    }
    const still = await t.app.inject({ method: 'POST', url: '/api/me/mfa/totp', headers: user.browser.headers() });
    expect(problemCode(still)).toBe('STEP_UP_REQUIRED');
    // The sixth guess is not checked, even the right password: the same limit as sign-in.
    expect(problemCode(await stepUp(user.password))).toBe('TOO_MANY_ATTEMPTS');
    expect(problemCode(await signInRequest(t.app, user.email, user.password))).toBe('TOO_MANY_ATTEMPTS');
  });
});

describe('the token of the second step (attack: completing the sign-in of someone else)', () => {
  beforeEach(awayFromStepBoundary, 35_000);

  it('is single use', async () => {
    const user = await createVerifiedUser(t);
    const { secret } = await enrolTotp(t, user.browser);
    const { mfaToken } = await passwordStep(t, user.email, user.password);
    expect((await secondStep(t, { mfaToken, code: totpCode(secret) })).statusCode).toBe(200);
    expect(problemCode(await secondStep(t, { mfaToken, code: totpCode(secret, 1) }))).toBe('INVALID_MFA_TOKEN');
  });

  it('expires', async () => {
    const user = await createVerifiedUser(t);
    const { secret } = await enrolTotp(t, user.browser);
    const { mfaToken } = await passwordStep(t, user.email, user.password);
    await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query(`UPDATE rampart.mfa_challenges SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, [hashToken(mfaToken)]),
    );
    expect(problemCode(await secondStep(t, { mfaToken, code: totpCode(secret) }))).toBe('INVALID_MFA_TOKEN');
  });

  it('cannot be used as a session', async () => {
    const user = await createVerifiedUser(t);
    await enrolTotp(t, user.browser);
    const { mfaToken } = await passwordStep(t, user.email, user.password);
    const asSession = await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: `rampart_session=${mfaToken}` } });
    expect(problemCode(asSession)).toBe('UNAUTHENTICATED');
  });

  it('cannot be completed with the code or recovery code of another user', async () => {
    const victim = await createVerifiedUser(t);
    const attacker = await createVerifiedUser(t);
    const victimTotp = await enrolTotp(t, victim.browser);
    const attackerTotp = await enrolTotp(t, attacker.browser);
    const { mfaToken } = await passwordStep(t, victim.email, victim.password);
    expect(problemCode(await secondStep(t, { mfaToken, code: totpCode(attackerTotp.secret) }))).toBe('INVALID_SECOND_FACTOR');
    expect(problemCode(await secondStep(t, { mfaToken, recoveryCode: attackerTotp.recoveryCodes[0]! }))).toBe('INVALID_SECOND_FACTOR');
    // The attacker's own code and recovery code stay unused: they were never checked against their account.
    const own = await passwordStep(t, attacker.email, attacker.password);
    expect((await secondStep(t, { mfaToken: own.mfaToken, recoveryCode: attackerTotp.recoveryCodes[0]! })).statusCode).toBe(200);
    const completed = await secondStep(t, { mfaToken, code: totpCode(victimTotp.secret) });
    expect(completed.json<{ user: { id: string } }>().user.id).toBe(victim.userId);
  });

  it('is refused unhashed when it is not token-shaped, and a session cookie is no second step', async () => {
    const user = await createVerifiedUser(t);
    await enrolTotp(t, user.browser);
    for (const mfaToken of ['x', 'a'.repeat(43), user.browser.sessionToken]) {
      expect(problemCode(await secondStep(t, { mfaToken, code: '123456' }))).toBe('INVALID_MFA_TOKEN');
    }
  });
});
