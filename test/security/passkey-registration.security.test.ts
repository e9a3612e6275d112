/**
 * Attack: a self-made authenticator. With attestation "none" anyone can build a registration
 * response by hand (no browser, no hardware), and `@simplewebauthn/server` takes any credential id
 * and key size. One the `passkeys` table cannot hold must be a refused registration — 400
 * `PASSKEY_REJECTED`, nothing stored — never a failed statement and a 500.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser } from '../fixtures/accounts.js';
import { problemCode } from '../fixtures/workspaces.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** A P-256 public key as a COSE key (EC2, ES256). */
function coseKey(): Uint8Array {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
      [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
    ]),
  );
}

/** A "none"-attestation registration response for `challenge`, with the credential id given. */
function handMadeRegistration(options: { challenge: string; rpId: string; origin: string; credentialId: Buffer }) {
  const flags = 0x01 | 0x04 | 0x40; // user present, user verified, attested credential data
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(options.credentialId.length);
  const authData = Buffer.concat([
    createHash('sha256').update(options.rpId).digest(),
    Buffer.of(flags),
    Buffer.alloc(4), // signature counter 0
    Buffer.alloc(16), // AAGUID
    idLength,
    options.credentialId,
    Buffer.from(coseKey()),
  ]);
  const attestationObject = isoCBOR.encode(
    new Map<string, string | Map<string, never> | Uint8Array>([
      ['fmt', 'none'],
      ['attStmt', new Map<string, never>()],
      ['authData', new Uint8Array(authData)],
    ]),
  );
  const clientData = { type: 'webauthn.create', challenge: options.challenge, origin: options.origin, crossOrigin: false };
  const id = options.credentialId.toString('base64url');
  return {
    id: id.padEnd(16, 'A'), // the request schema wants 16+ characters; the credential inside is what counts
    rawId: id.padEnd(16, 'A'),
    type: 'public-key',
    response: {
      clientDataJSON: Buffer.from(JSON.stringify(clientData)).toString('base64url'),
      attestationObject: Buffer.from(attestationObject).toString('base64url'),
    },
  };
}

describe('passkey registration from a self-made authenticator', () => {
  it('refuses a credential id too short to store with 400 PASSKEY_REJECTED and stores nothing', async () => {
    const user = await createVerifiedUser(t);
    const options = await t.app.inject({ method: 'POST', url: '/api/me/passkeys/registration-options', headers: user.browser.headers() });
    const { challenge, rp } = options.json<{ options: { challenge: string; rp: { id: string } } }>().options;
    const response = handMadeRegistration({ challenge, rpId: rp.id, origin: t.config.publicUrl, credentialId: Buffer.from([1, 2, 3, 4]) });
    const registered = await t.app.inject({ method: 'POST', url: '/api/me/passkeys', headers: user.browser.headers(), payload: { name: 'Forged', response } });
    expect(problemCode(registered), registered.body).toBe('PASSKEY_REJECTED');
    const listed = await t.app.inject({ method: 'GET', url: '/api/me/passkeys', headers: user.browser.headers() });
    expect(listed.json<{ passkeys: unknown[] }>().passkeys).toEqual([]);
  });

  it('accepts the same hand-made response with a credential id of a storable size (the refusal above is about the size)', async () => {
    const user = await createVerifiedUser(t);
    const options = await t.app.inject({ method: 'POST', url: '/api/me/passkeys/registration-options', headers: user.browser.headers() });
    const { challenge, rp } = options.json<{ options: { challenge: string; rp: { id: string } } }>().options;
    const credentialId = Buffer.alloc(16, 7);
    const response = handMadeRegistration({ challenge, rpId: rp.id, origin: t.config.publicUrl, credentialId });
    const registered = await t.app.inject({ method: 'POST', url: '/api/me/passkeys', headers: user.browser.headers(), payload: { name: 'Hand-made', response } });
    expect(registered.statusCode, registered.body).toBe(201);
  });
});
