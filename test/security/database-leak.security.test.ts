/**
 * Attack: a stolen copy of the database (a leaked backup, a read-only SQL injection elsewhere, a
 * curious operator). After a full sign-up → verify → sign-in → reset → sign-in → change-password
 * cycle, and a workspace invitation accepted and another pending, no column of any table may hold
 * a password, a session token, a CSRF token, or a verification, reset or invitation token in usable
 * form — only hashes that cannot be turned back into them. With multi-factor authentication set up
 * as well: no TOTP secret (base32, hex or base64), recovery code, second-step token or WebAuthn
 * challenge either (the TOTP secret is AES-256-GCM ciphertext, the others are hashes); and no
 * workspace API key, used or revoked, whole or without its display prefix (keys are HMACs under a
 * pepper held outside the database). The same secrets must not appear in any log line either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { totpSecretBase32 } from '../../src/mfa/totp.js';
import { browserFrom, forgotPasswordRequest, signInRequest, signUpRequest, strongPassword, tokenFromOutbox, uniqueEmail, waitFor } from '../fixtures/accounts.js';
import { awayFromStepBoundary, enrolTotp, passwordStep, secondStep } from '../fixtures/mfa.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** Forms in which a stored secret would still be usable: as is, or its bytes re-encoded. */
function usableForms(secret: string): string[] {
  const forms = [secret];
  if (/^[A-Za-z0-9_-]{43}$/.test(secret)) {
    const bytes = Buffer.from(secret, 'base64url');
    forms.push(bytes.toString('hex'), bytes.toString('base64'));
  }
  return forms;
}

describe('a full account cycle leaves no usable secret in the database', () => {
  it('stores only hashes of passwords and tokens', async () => {
    const secrets: string[] = [];
    const email = uniqueEmail('leak');
    const firstPassword = strongPassword();
    secrets.push(firstPassword);

    await signUpRequest(t.app, { email, password: firstPassword, name: 'Leak' });
    const verificationToken = await waitFor(() => tokenFromOutbox(t, email, '/verify-email'));
    secrets.push(verificationToken);
    await t.app.inject({ method: 'POST', url: '/api/auth/verify-email', payload: { token: verificationToken } });

    const first = browserFrom(await signInRequest(t.app, email, firstPassword));
    secrets.push(first.sessionToken, first.csrfToken);

    await forgotPasswordRequest(t.app, email);
    const resetToken = await waitFor(() => tokenFromOutbox(t, email, '/reset-password'));
    secrets.push(resetToken);
    const resetPassword = strongPassword();
    secrets.push(resetPassword);
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { token: resetToken, password: resetPassword } })).statusCode).toBe(204);

    const second = browserFrom(await signInRequest(t.app, email, resetPassword));
    secrets.push(second.sessionToken, second.csrfToken);
    const finalPassword = strongPassword();
    secrets.push(finalPassword);
    const changed = await t.app.inject({
      method: 'POST',
      url: '/api/me/password',
      headers: second.headers(),
      payload: { currentPassword: resetPassword, newPassword: finalPassword },
    });
    expect(changed.statusCode).toBe(204);
    const third = browserFrom(changed);
    secrets.push(third.sessionToken, third.csrfToken);
    // A sign-out and a fresh session, so live and deleted sessions are both covered.
    await t.app.inject({ method: 'POST', url: '/api/auth/sign-out', headers: third.headers() });
    const fourth = browserFrom(await signInRequest(t.app, email, finalPassword));
    secrets.push(fourth.sessionToken, fourth.csrfToken);

    // A workspace with one invitation accepted and one still pending: neither link may be in the dump.
    const workspace = await t.app.inject({ method: 'POST', url: '/api/workspaces', headers: fourth.headers(), payload: { name: 'Leak' } });
    const workspaceId = workspace.json<{ id: string }>().id;
    const inviteeEmail = uniqueEmail('leak-invitee');
    const inviteePassword = strongPassword();
    secrets.push(inviteePassword);
    await signUpRequest(t.app, { email: inviteeEmail, password: inviteePassword, name: 'Invitee' });
    const inviteeVerification = await waitFor(() => tokenFromOutbox(t, inviteeEmail, '/verify-email'));
    secrets.push(inviteeVerification);
    await t.app.inject({ method: 'POST', url: '/api/auth/verify-email', payload: { token: inviteeVerification } });
    const invitee = browserFrom(await signInRequest(t.app, inviteeEmail, inviteePassword));
    secrets.push(invitee.sessionToken, invitee.csrfToken);
    for (const invited of [inviteeEmail, uniqueEmail('leak-pending')]) {
      const invite = await t.app.inject({
        method: 'POST',
        url: `/api/workspaces/${workspaceId}/invitations`,
        headers: fourth.headers(),
        payload: { email: invited, role: 'member' },
      });
      expect(invite.statusCode).toBe(201);
      secrets.push(await waitFor(() => tokenFromOutbox(t, invited, '/invitations/accept')));
    }
    const accepted = await t.app.inject({ method: 'POST', url: '/api/invitations/accept', headers: invitee.headers(), payload: { token: secrets.at(-2)! } });
    expect(accepted.statusCode).toBe(200);

    // Multi-factor: an authenticator app and its recovery codes (one used), a second step left
    // pending, and WebAuthn challenges for registering a passkey and for a passwordless sign-in.
    await awayFromStepBoundary();
    const { secret, recoveryCodes } = await enrolTotp(t, fourth);
    secrets.push(totpSecretBase32(secret), secret.toString('hex'), secret.toString('base64'));
    secrets.push(...recoveryCodes, ...recoveryCodes.map((code) => code.replaceAll('-', '')));
    const completed = await passwordStep(t, email, finalPassword);
    secrets.push(completed.mfaToken);
    const fifth = await secondStep(t, { mfaToken: completed.mfaToken, recoveryCode: recoveryCodes[0]! });
    expect(fifth.statusCode).toBe(200);
    const fifthBrowser = browserFrom(fifth);
    secrets.push(fifthBrowser.sessionToken, fifthBrowser.csrfToken);
    secrets.push((await passwordStep(t, email, finalPassword)).mfaToken);
    const registration = await t.app.inject({ method: 'POST', url: '/api/me/passkeys/registration-options', headers: fifthBrowser.headers() });
    secrets.push(registration.json<{ options: { challenge: string } }>().options.challenge);
    const passwordless = await t.app.inject({ method: 'POST', url: '/api/auth/passkey/options' });
    secrets.push(passwordless.json<{ options: { challenge: string } }>().options.challenge);

    // API keys: one used (so "last used", the request window and the audit log hold rows), one revoked.
    const keys: string[] = [];
    for (const name of ['Leak used', 'Leak revoked']) {
      const created = await t.app.inject({
        method: 'POST',
        url: `/api/workspaces/${workspaceId}/api-keys`,
        headers: fifthBrowser.headers(),
        payload: { name, scopes: ['workspace:read', 'members:read'] },
      });
      expect(created.statusCode, created.body).toBe(201);
      const { id, key } = created.json<{ id: string; key: string }>();
      keys.push(key);
      const used = await t.app.inject({ method: 'GET', url: `/api/workspaces/${workspaceId}/members`, headers: { authorization: `Bearer ${key}` } });
      expect(used.statusCode).toBe(200);
      expect(used.body).not.toContain(key);
      if (name === 'Leak revoked') {
        await t.app.inject({ method: 'DELETE', url: `/api/workspaces/${workspaceId}/api-keys/${id}`, headers: fifthBrowser.headers() });
        expect((await t.app.inject({ method: 'GET', url: `/api/workspaces/${workspaceId}`, headers: { authorization: `Bearer ${key}` } })).statusCode).toBe(401);
      }
    }
    const keyList = await t.app.inject({ method: 'GET', url: `/api/workspaces/${workspaceId}/api-keys`, headers: fifthBrowser.headers() });
    const auditLog = await t.app.inject({ method: 'GET', url: `/api/workspaces/${workspaceId}/audit-log/export?format=jsonl`, headers: fifthBrowser.headers() });
    for (const key of keys) {
      expect(keyList.body).not.toContain(key);
      expect(auditLog.body).not.toContain(key);
      // The part after the display prefix is the secret: not even that may be stored.
      secrets.push(key, key.slice(12));
    }

    const dump = await t.testDatabase.database.transactionAsOwner(async (tx) => {
      const { rows: tables } = await tx.query<{ name: string }>(
        `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
          WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
      );
      expect(tables.map((table) => table.name)).toEqual(
        expect.arrayContaining([
          'rampart.users',
          'rampart.sessions',
          'rampart.account_tokens',
          'rampart.invitations',
          'rampart.totp_credentials',
          'rampart.recovery_codes',
          'rampart.mfa_challenges',
          'rampart.webauthn_challenges',
          'rampart.api_keys',
          'rampart.api_key_request_windows',
        ]),
      );
      const texts: string[] = [];
      for (const table of tables) {
        const { rows } = await tx.query<{ row: string }>(`SELECT t::text AS row FROM ${table.name} t`);
        texts.push(...rows.map((row) => `${table.name}: ${row.row}`));
      }
      return texts.join('\n');
    });
    expect(dump).toContain('$argon2id$');
    // The rows exist, so the absence of the secrets below means something.
    expect(dump).toMatch(/rampart\.totp_credentials: /);
    expect(dump).toMatch(/rampart\.recovery_codes: /);
    expect(dump).toMatch(/rampart\.mfa_challenges: /);
    expect(dump).toMatch(/rampart\.webauthn_challenges: /);
    expect(dump).toMatch(/rampart\.api_keys: /);
    expect(dump).toMatch(/rampart\.api_key_request_windows: /);
    for (const secret of secrets) {
      for (const form of usableForms(secret)) expect(dump).not.toContain(form);
    }
    const logText = JSON.stringify(t.logs);
    for (const secret of secrets) expect(logText).not.toContain(secret);
  }, 60_000);
});
