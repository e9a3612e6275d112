/**
 * Passkeys end to end, in the real Chromium with its virtual authenticator (Chrome DevTools
 * Protocol): registration, passwordless sign-in, passkey as the second factor of a password
 * sign-in, step-up — and the attacks WebAuthn must stop: a replayed assertion, a cloned
 * authenticator (its signature counter falls behind), and an assertion for another user.
 *
 * Rampart listens on a real port at http://localhost:<port> (its PUBLIC_URL, so its RP id is
 * `localhost` and its origin that URL); the page the browser runs the ceremonies on is one of its
 * own URLs. The HTTP calls are made from the test (the same requests a console would make).
 */
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Browser as Chromium, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { browserFrom, createVerifiedUser, signInRequest, type Browser, SAME_ORIGIN } from '../fixtures/accounts.js';
import { addPasskeyDevice, assertPasskey, createPasskey, launchChromium, type PasskeyDevice } from '../fixtures/browser.js';
import { accountAuditActions } from '../fixtures/mfa.js';
import { freePort } from '../fixtures/ports.js';
import { createWorkspaceAs, problemCode } from '../fixtures/workspaces.js';

let t: TestApp;
let origin: string;
let chromium: Chromium;

beforeAll(async () => {
  const port = await freePort();
  origin = `http://localhost:${port}`;
  t = await createTestApp({ env: { PUBLIC_URL: origin } });
  await t.app.listen({ port, host: '127.0.0.1' });
  chromium = await launchChromium();
}, 60_000);
afterAll(async () => {
  await chromium?.close();
  await t?.close();
});

/** A browser context on one of Rampart's pages, with a virtual platform authenticator. */
async function deviceOnRampartPage(): Promise<{ context: BrowserContext; page: Page; device: PasskeyDevice }> {
  const context = await chromium.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}/api/health/live`);
  return { context, page, device: await addPasskeyDevice(page) };
}

async function registerPasskey(page: Page, session: Browser, name = 'Laptop'): Promise<{ recoveryCodes: string[] | null; passkeyId: string }> {
  const options = await t.app.inject({ method: 'POST', url: '/api/me/passkeys/registration-options', headers: session.headers() });
  expect(options.statusCode, options.body).toBe(200);
  const response = await createPasskey(page, options.json<{ options: PublicKeyCredentialCreationOptionsJSON }>().options);
  const registered = await t.app.inject({ method: 'POST', url: '/api/me/passkeys', headers: session.headers(), payload: { name, response } });
  expect(registered.statusCode, registered.body).toBe(201);
  const body = registered.json<{ recoveryCodes: string[] | null; passkey: { id: string } }>();
  return { recoveryCodes: body.recoveryCodes, passkeyId: body.passkey.id };
}

async function passwordlessOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const response = await t.app.inject({ method: 'POST', url: '/api/auth/passkey/options' });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ options: PublicKeyCredentialRequestOptionsJSON }>().options;
}

function passkeySignIn(response: unknown) {
  return t.app.inject({ method: 'POST', url: '/api/auth/passkey/sign-in', headers: SAME_ORIGIN, payload: { response } });
}

describe('passkeys in Chromium with a virtual authenticator', () => {
  it('registers a passkey, signs in with it alone (multi-factor), and refuses the same assertion twice (attack: replay)', async () => {
    const user = await createVerifiedUser(t);
    const { page, context } = await deviceOnRampartPage();
    const { recoveryCodes } = await registerPasskey(page, user.browser);
    expect(recoveryCodes).toHaveLength(10);
    const listed = await t.app.inject({ method: 'GET', url: '/api/me/passkeys', headers: user.browser.headers() });
    expect(listed.json<{ passkeys: { name: string }[] }>().passkeys.map((p) => p.name)).toEqual(['Laptop']);

    const assertion = await assertPasskey(page, await passwordlessOptions());
    const signedIn = await passkeySignIn(assertion);
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    expect(signedIn.json<{ user: { id: string } }>().user.id).toBe(user.userId);
    // A passkey with user verification is two factors: the session may switch on a workspace MFA policy.
    const session = browserFrom(signedIn);
    const workspaceId = await createWorkspaceAs(t, session);
    const policy = await t.app.inject({ method: 'PUT', url: `/api/workspaces/${workspaceId}/mfa-policy`, headers: session.headers(), payload: { required: true } });
    expect(policy.statusCode, policy.body).toBe(200);

    expect(problemCode(await passkeySignIn(assertion))).toBe('INVALID_CREDENTIALS');
    const actions = await accountAuditActions(t, user.userId);
    expect(actions).toEqual(expect.arrayContaining(['account.passkey_added', 'account.signed_in']));
    // Refused because its challenge was used up, before the signature counter was even looked at.
    expect(actions).not.toContain('account.passkey_clone_suspected');
    await context.close();
  });

  it('refuses an assertion whose challenge has expired', async () => {
    const user = await createVerifiedUser(t);
    const { page, context } = await deviceOnRampartPage();
    await registerPasskey(page, user.browser);
    const assertion = await assertPasskey(page, await passwordlessOptions());
    await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query(`UPDATE rampart.webauthn_challenges SET expires_at = now() - interval '1 second' WHERE purpose = 'sign_in'`),
    );
    expect(problemCode(await passkeySignIn(assertion))).toBe('INVALID_CREDENTIALS');
    expect(await accountAuditActions(t, user.userId)).not.toContain('account.sign_in_failed');
    await context.close();
  });

  it('refuses a registration made on another origin than the configured one (attack: a look-alike site relaying the ceremony)', async () => {
    // A second Rampart whose configured origin is another port of localhost: same RP id, other origin.
    const other = await createTestApp({ env: { PUBLIC_URL: `http://localhost:${await freePort()}` } });
    try {
      const user = await createVerifiedUser(other);
      const options = await other.app.inject({ method: 'POST', url: '/api/me/passkeys/registration-options', headers: user.browser.headers() });
      const { page, context } = await deviceOnRampartPage();
      const response = await createPasskey(page, options.json<{ options: PublicKeyCredentialCreationOptionsJSON }>().options);
      const refused = await other.app.inject({ method: 'POST', url: '/api/me/passkeys', headers: user.browser.headers(), payload: { name: 'Relayed', response } });
      expect(problemCode(refused)).toBe('PASSKEY_REJECTED');
      const listed = await other.app.inject({ method: 'GET', url: '/api/me/passkeys', headers: user.browser.headers() });
      expect(listed.json<{ passkeys: unknown[] }>().passkeys).toEqual([]);
      await context.close();
    } finally {
      await other.close();
    }
  });

  it('asks for the passkey after a right password, and completes the sign-in with it', async () => {
    const user = await createVerifiedUser(t);
    const { page, context } = await deviceOnRampartPage();
    await registerPasskey(page, user.browser);
    const first = await signInRequest(t.app, user.email, user.password);
    const challenge = first.json<{ mfaRequired: boolean; mfaToken: string; methods: string[]; passkeyOptions: PublicKeyCredentialRequestOptionsJSON }>();
    expect(challenge.mfaRequired).toBe(true);
    expect(challenge.methods).toEqual(['passkey', 'recovery_code']);
    const passkey = await assertPasskey(page, challenge.passkeyOptions);
    const done = await t.app.inject({ method: 'POST', url: '/api/auth/sign-in/mfa', headers: SAME_ORIGIN, payload: { mfaToken: challenge.mfaToken, passkey } });
    expect(done.statusCode, done.body).toBe(200);
    await context.close();
  });

  it('steps up with a passkey', async () => {
    const user = await createVerifiedUser(t);
    const { page, context } = await deviceOnRampartPage();
    await registerPasskey(page, user.browser);
    const options = await t.app.inject({ method: 'POST', url: '/api/auth/step-up/passkey-options', headers: user.browser.headers() });
    expect(options.statusCode, options.body).toBe(200);
    const passkey = await assertPasskey(page, options.json<{ options: PublicKeyCredentialRequestOptionsJSON }>().options);
    const stepped = await t.app.inject({ method: 'POST', url: '/api/auth/step-up', headers: user.browser.headers(), payload: { passkey } });
    expect(stepped.statusCode, stepped.body).toBe(200);
    expect(stepped.json()).toEqual({ authLevel: 'multi_factor' });
    // The challenge was used: the same assertion does not step up again.
    const again = await t.app.inject({ method: 'POST', url: '/api/auth/step-up', headers: user.browser.headers(), payload: { passkey } });
    expect(problemCode(again)).toBe('INVALID_SECOND_FACTOR');
    await context.close();
  });

  it('refuses a cloned authenticator whose signature counter fell behind (attack: a copied private key), and records it', async () => {
    const user = await createVerifiedUser(t);
    const original = await deviceOnRampartPage();
    await registerPasskey(original.page, user.browser);
    const [credential] = await original.device.credentials();
    const clone = await deviceOnRampartPage();
    await clone.device.addCredential(credential!);

    expect((await passkeySignIn(await assertPasskey(original.page, await passwordlessOptions()))).statusCode).toBe(200);
    const fromClone = await passkeySignIn(await assertPasskey(clone.page, await passwordlessOptions()));
    expect(problemCode(fromClone)).toBe('INVALID_CREDENTIALS');
    expect(await accountAuditActions(t, user.userId)).toContain('account.passkey_clone_suspected');
    await original.context.close();
    await clone.context.close();
  });

  it('refuses the passkey of another user as the second factor of a sign-in', async () => {
    const victim = await createVerifiedUser(t);
    const attacker = await createVerifiedUser(t);
    const victimDevice = await deviceOnRampartPage();
    const attackerDevice = await deviceOnRampartPage();
    await registerPasskey(victimDevice.page, victim.browser);
    await registerPasskey(attackerDevice.page, attacker.browser);
    const first = await signInRequest(t.app, victim.email, victim.password);
    const { mfaToken, passkeyOptions } = first.json<{ mfaToken: string; passkeyOptions: PublicKeyCredentialRequestOptionsJSON }>();
    // The attacker answers the challenge of the victim's sign-in with their own passkey.
    const attackerAssertion = await assertPasskey(attackerDevice.page, { ...passkeyOptions, allowCredentials: [] });
    const refused = await t.app.inject({ method: 'POST', url: '/api/auth/sign-in/mfa', headers: SAME_ORIGIN, payload: { mfaToken, passkey: attackerAssertion } });
    expect(problemCode(refused)).toBe('INVALID_SECOND_FACTOR');
    await victimDevice.context.close();
    await attackerDevice.context.close();
  });

  it('renames and removes passkeys; without any factor left the password alone signs in again', async () => {
    const user = await createVerifiedUser(t);
    const { page, context } = await deviceOnRampartPage();
    const { passkeyId } = await registerPasskey(page, user.browser);
    const renamed = await t.app.inject({ method: 'PATCH', url: `/api/me/passkeys/${passkeyId}`, headers: user.browser.headers(), payload: { name: 'Phone' } });
    expect(renamed.json<{ name: string }>().name).toBe('Phone');
    const removed = await t.app.inject({ method: 'DELETE', url: `/api/me/passkeys/${passkeyId}`, headers: user.browser.headers() });
    expect(removed.statusCode).toBe(204);
    expect((await signInRequest(t.app, user.email, user.password)).json()).toHaveProperty('user');
    expect(problemCode(await passkeySignIn(await assertPasskey(page, await passwordlessOptions())))).toBe('INVALID_CREDENTIALS');
    await context.close();
  });
});
