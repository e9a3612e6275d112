import { randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { decodeClientDataJSON } from '@simplewebauthn/server/helpers';
import type { SqlExecutor } from '../db/driver.js';
import { hashToken } from '../crypto/tokens.js';
import type { MfaSettings } from './settings.js';

/** A ceremony must finish within five minutes of its options; the browser is told the same. */
export const WEBAUTHN_CHALLENGE_TTL_SECONDS = 5 * 60;

export type ChallengePurpose = 'registration' | 'step_up' | 'sign_in';

export interface PasskeySummary {
  id: string;
  name: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

interface PasskeyRow {
  id: string;
  name: string;
  device_type: 'singleDevice' | 'multiDevice';
  is_backed_up: boolean;
  created_at: Date;
  last_used_at: Date | null;
}

const SUMMARY_COLUMNS = 'id, name, device_type, is_backed_up, created_at, last_used_at';

function toSummary(row: PasskeyRow): PasskeySummary {
  return {
    id: row.id,
    name: row.name,
    deviceType: row.device_type,
    backedUp: row.is_backed_up,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

/**
 * A fresh challenge: 256 random bits, handed to the browser in base64url, stored only as its SHA-256
 * (a challenge read from a copy of the database cannot be answered in time, or at all once used).
 */
export function newChallenge(): { bytes: Buffer; challenge: string; challengeHash: string } {
  const bytes = randomBytes(32);
  const challenge = bytes.toString('base64url');
  return { bytes, challenge, challengeHash: hashToken(challenge) };
}

/** Stores a challenge for `purpose`; `userId` is null for a passwordless sign-in (no user yet). */
export async function storeChallenge(
  tx: SqlExecutor,
  options: { challengeHash: string; purpose: ChallengePurpose; userId: string | null },
): Promise<void> {
  await tx.query(
    `INSERT INTO rampart.webauthn_challenges (challenge_hash, purpose, user_id, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [options.challengeHash, options.purpose, options.userId, WEBAUTHN_CHALLENGE_TTL_SECONDS],
  );
}

/**
 * Uses up a stored challenge: deleted whether or not it is still live, so it answers one ceremony at
 * most. True when it existed for this purpose and user and had not expired.
 */
export async function consumeChallenge(
  tx: SqlExecutor,
  options: { challengeHash: string; purpose: ChallengePurpose; userId: string | null },
): Promise<boolean> {
  const { rows } = await tx.query<{ is_live: boolean }>(
    `DELETE FROM rampart.webauthn_challenges
      WHERE challenge_hash = $1 AND purpose = $2 AND user_id IS NOT DISTINCT FROM $3::uuid
      RETURNING expires_at > now() AS is_live`,
    [options.challengeHash, options.purpose, options.userId],
  );
  return rows[0]?.is_live === true;
}

/**
 * The challenge a ceremony's response claims to answer, read from its client data (before anything
 * is verified: it only says which stored challenge to check against), or undefined when unreadable.
 */
export function challengeOf(response: { response: { clientDataJSON: string } }): string | undefined {
  try {
    const { challenge } = decodeClientDataJSON(response.response.clientDataJSON);
    return typeof challenge === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(challenge) ? challenge : undefined;
  } catch {
    return undefined;
  }
}

/** The lookup key that lets a passwordless sign-in read the one passkey it names, and nothing else. */
export function passkeyLookupKey(credentialId: string): string {
  return `passkey:${credentialId}`;
}

/** A user's handle in WebAuthn: the 16 bytes of the account id, never the email (it is stored on the authenticator). */
function userHandleOf(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId.replaceAll('-', ''), 'hex'));
}

/**
 * Options for registering a new passkey (a discoverable credential with user verification, so it
 * can also sign in without a password), with the challenge stored for the user. The user's current
 * passkeys are excluded: an authenticator is registered once.
 */
export async function startPasskeyRegistration(
  settings: MfaSettings,
  tx: SqlExecutor,
  user: { id: string; email: string; name: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { rows: existing } = await tx.query<{ credential_id: string; transports: string[] }>(
    'SELECT credential_id, transports FROM rampart.passkeys WHERE user_id = $1',
    [user.id],
  );
  const { bytes, challenge, challengeHash } = newChallenge();
  const options = await generateRegistrationOptions({
    rpName: settings.issuer,
    rpID: settings.webauthn.rpId,
    userName: user.email,
    userDisplayName: user.name,
    userID: userHandleOf(user.id),
    challenge: new Uint8Array(bytes),
    timeout: WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000,
    attestationType: 'none',
    excludeCredentials: existing.map((row) => ({ id: row.credential_id, transports: row.transports as AuthenticatorTransport[] })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  if (options.challenge !== challenge) throw new Error('the WebAuthn options do not carry the stored challenge');
  await storeChallenge(tx, { challengeHash, purpose: 'registration', userId: user.id });
  return options;
}

/** A credential id as the `passkeys` table holds it: 16 to 1366 base64url characters (the WebAuthn bounds). */
export const CREDENTIAL_ID_PATTERN = /^[A-Za-z0-9_-]{16,1366}$/;

/** The bounds the `passkeys` table holds a credential to (the id as above, a key of 16–2048 bytes). */
function isStorableCredential(credential: { id: string; publicKey: Uint8Array }): boolean {
  return CREDENTIAL_ID_PATTERN.test(credential.id) && credential.publicKey.length >= 16 && credential.publicKey.length <= 2048;
}

export type PasskeyRegistration = { status: 'registered'; passkey: PasskeySummary } | { status: 'rejected' };

/**
 * Verifies a registration response against a challenge issued to this user (used up here), its
 * origin and RP id from the configuration, and user verification; then stores the public key.
 */
export async function finishPasskeyRegistration(
  settings: MfaSettings,
  tx: SqlExecutor,
  options: { userId: string; name: string; response: RegistrationResponseJSON },
): Promise<PasskeyRegistration> {
  const challenge = challengeOf(options.response);
  if (challenge === undefined) return { status: 'rejected' };
  const isLive = await consumeChallenge(tx, { challengeHash: hashToken(challenge), purpose: 'registration', userId: options.userId });
  if (!isLive) return { status: 'rejected' };
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response: options.response,
      expectedChallenge: challenge,
      expectedOrigin: settings.webauthn.origins,
      expectedRPID: settings.webauthn.rpId,
      requireUserVerification: true,
    });
  } catch {
    return { status: 'rejected' };
  }
  if (!verification.verified) return { status: 'rejected' };
  const { credential, credentialDeviceType, credentialBackedUp } = verification.registrationInfo;
  // The library takes any size; a self-made authenticator (attestation "none") could send a key or
  // id the table refuses. Refused here, as a failed registration, not as a failed statement.
  if (!isStorableCredential(credential)) return { status: 'rejected' };
  const { rows } = await tx.query<PasskeyRow>(
    `INSERT INTO rampart.passkeys (user_id, credential_id, public_key, sign_count, transports, name, device_type, is_backed_up)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (credential_id) DO NOTHING
     RETURNING ${SUMMARY_COLUMNS}`,
    [
      options.userId,
      credential.id,
      Buffer.from(credential.publicKey),
      credential.counter,
      credential.transports ?? [],
      options.name,
      credentialDeviceType,
      credentialBackedUp,
    ],
  );
  // A credential id already registered (to this user or another) is refused, never moved.
  return rows[0] === undefined ? { status: 'rejected' } : { status: 'registered', passkey: toSummary(rows[0]) };
}

/**
 * Options for proving possession of a passkey, with a new challenge (the caller stores its hash).
 * `allowCredentials` names the user's passkeys for a second factor or a step-up; left empty for a
 * passwordless sign-in, where the browser offers the discoverable passkeys it holds for this site.
 */
export async function passkeyAssertionOptions(
  settings: MfaSettings,
  allowCredentials: readonly { credentialId: string; transports: string[] }[],
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; challengeHash: string }> {
  const { bytes, challenge, challengeHash } = newChallenge();
  const options = await generateAuthenticationOptions({
    rpID: settings.webauthn.rpId,
    challenge: new Uint8Array(bytes),
    timeout: WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000,
    userVerification: 'required',
    allowCredentials: allowCredentials.map((row) => ({ id: row.credentialId, transports: row.transports as AuthenticatorTransport[] })),
  });
  if (options.challenge !== challenge) throw new Error('the WebAuthn options do not carry the stored challenge');
  return { options, challengeHash };
}

/** The user's passkeys as `allowCredentials` of an assertion. */
export async function userCredentials(tx: SqlExecutor, userId: string): Promise<{ credentialId: string; transports: string[] }[]> {
  const { rows } = await tx.query<{ credential_id: string; transports: string[] }>(
    'SELECT credential_id, transports FROM rampart.passkeys WHERE user_id = $1 ORDER BY created_at',
    [userId],
  );
  return rows.map((row) => ({ credentialId: row.credential_id, transports: row.transports }));
}

export type PasskeyAssertion =
  | { status: 'verified'; passkeyId: string }
  | { status: 'rejected' }
  /** The signature was valid but the counter did not advance: two authenticators hold this key. */
  | { status: 'clone_suspected'; passkeyId: string };

/**
 * Verifies an assertion by one of `userId`'s passkeys against a challenge the caller has already
 * used up (`challengeHash`): signature, origin, RP id, user verification, and the signature counter.
 * Authenticators that count (most hardware keys) must report more than last time; one reporting the
 * same or less is a copy of a key that has been used elsewhere since. Synced passkeys report 0 always.
 */
export async function verifyPasskeyAssertion(
  settings: MfaSettings,
  tx: SqlExecutor,
  options: { userId: string; response: AuthenticationResponseJSON; challengeHash: string },
): Promise<PasskeyAssertion> {
  const { rows } = await tx.query<{ id: string; credential_id: string; public_key: Buffer; sign_count: string; transports: string[] }>(
    `SELECT id, credential_id, public_key, sign_count, transports FROM rampart.passkeys
      WHERE credential_id = $1 AND user_id = $2 FOR UPDATE`,
    [options.response.id, options.userId],
  );
  const row = rows[0];
  if (row === undefined) return { status: 'rejected' };
  let verification;
  try {
    verification = await verifyAuthenticationResponse({
      response: options.response,
      expectedChallenge: (challenge) => hashToken(challenge) === options.challengeHash,
      expectedOrigin: settings.webauthn.origins,
      expectedRPID: settings.webauthn.rpId,
      requireUserVerification: true,
      // The counter is compared below, where a regression can be told apart from a bad signature.
      credential: { id: row.credential_id, publicKey: new Uint8Array(row.public_key), counter: 0, transports: row.transports },
    });
  } catch {
    return { status: 'rejected' };
  }
  if (!verification.verified) return { status: 'rejected' };
  const storedCount = Number(row.sign_count);
  const { newCounter, credentialBackedUp } = verification.authenticationInfo;
  if ((newCounter > 0 || storedCount > 0) && newCounter <= storedCount) return { status: 'clone_suspected', passkeyId: row.id };
  await tx.query('UPDATE rampart.passkeys SET sign_count = $2, is_backed_up = $3, last_used_at = now() WHERE id = $1', [
    row.id,
    newCounter,
    credentialBackedUp,
  ]);
  return { status: 'verified', passkeyId: row.id };
}

/** The owner of the passkey a passwordless response names (the transaction's lookup key is `passkeyLookupKey`). */
export async function passkeyOwner(tx: SqlExecutor, credentialId: string): Promise<string | undefined> {
  const { rows } = await tx.query<{ user_id: string }>('SELECT user_id FROM rampart.passkeys WHERE credential_id = $1', [credentialId]);
  return rows[0]?.user_id;
}

export async function listPasskeys(tx: SqlExecutor, userId: string): Promise<PasskeySummary[]> {
  const { rows } = await tx.query<PasskeyRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM rampart.passkeys WHERE user_id = $1 ORDER BY created_at, id`,
    [userId],
  );
  return rows.map(toSummary);
}

export async function renamePasskey(tx: SqlExecutor, options: { userId: string; passkeyId: string; name: string }): Promise<PasskeySummary | undefined> {
  const { rows } = await tx.query<PasskeyRow>(
    `UPDATE rampart.passkeys SET name = $3 WHERE id = $2 AND user_id = $1 RETURNING ${SUMMARY_COLUMNS}`,
    [options.userId, options.passkeyId, options.name],
  );
  return rows[0] === undefined ? undefined : toSummary(rows[0]);
}

export async function removePasskey(tx: SqlExecutor, options: { userId: string; passkeyId: string }): Promise<PasskeySummary | undefined> {
  const { rows } = await tx.query<PasskeyRow>(
    `DELETE FROM rampart.passkeys WHERE id = $2 AND user_id = $1 RETURNING ${SUMMARY_COLUMNS}`,
    [options.userId, options.passkeyId],
  );
  return rows[0] === undefined ? undefined : toSummary(rows[0]);
}
