import { randomBytes } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import type { Algorithm, Version } from '@node-rs/argon2';
import { verify as bcryptVerify } from '@node-rs/bcrypt';

/**
 * The argon2id parameters every new hash is made with: the OWASP Password Storage Cheat Sheet's
 * first configuration (19 MiB, two passes, one lane) with a 32-byte output. A stored hash weaker than
 * this on any axis is reported by `verifyPassword` as needing a rehash, so raising a value here
 * upgrades accounts one sign-in at a time.
 *
 * @example
 * CURRENT_ARGON2_PARAMETERS.memoryCost === 19456; // KiB
 */
export const CURRENT_ARGON2_PARAMETERS = Object.freeze({
  algorithm: 'argon2id',
  version: 19,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} as const);

// The package declares its enums as ambient const enums, which isolated modules cannot read, and the
// runtime objects are empty: the numeric values are the contract.
const ARGON2ID = 2 as Algorithm;
const VERSION_0X13 = 1 as Version;

const HASH_OPTIONS = {
  algorithm: ARGON2ID,
  version: VERSION_0X13,
  memoryCost: CURRENT_ARGON2_PARAMETERS.memoryCost,
  timeCost: CURRENT_ARGON2_PARAMETERS.timeCost,
  parallelism: CURRENT_ARGON2_PARAMETERS.parallelism,
  outputLen: CURRENT_ARGON2_PARAMETERS.outputLen,
};

/**
 * The verdict of `verifyPassword`. `needsRehash` is only ever true together with `ok`.
 *
 * @example
 * const verdict: PasswordVerification = { ok: true, needsRehash: false };
 */
export interface PasswordVerification {
  ok: boolean;
  needsRehash: boolean;
}

const REJECTED: PasswordVerification = Object.freeze({ ok: false, needsRehash: false });

/**
 * The form a password is hashed, compared and counted in: Unicode NFKC, as NIST SP 800-63B 5.1.1.2
 * asks, so that the same password typed on two keyboards (a precomposed "é" on one, "e" plus a
 * combining accent on the other, or a full-width digit) is the same password. Nothing else is
 * changed: no trimming, no case folding, no truncation.
 *
 * @example
 * normalizePassword('cafe\u0301') === 'caf\u00e9'; // true
 */
export function normalizePassword(password: string): string {
  if (typeof password !== 'string') throw new TypeError('password must be a string');
  return password.normalize('NFKC');
}

/**
 * Hashes a new password with argon2id at `CURRENT_ARGON2_PARAMETERS` and a fresh random salt, and
 * returns the PHC string to store. The work runs on the libuv thread pool, so the event loop keeps
 * serving other requests meanwhile. A password that is not well-formed Unicode is refused, because
 * its lone surrogates would be silently replaced on the way to UTF-8 and collide with other passwords.
 *
 * @example
 * const stored = await hashPassword('correct horse battery staple');
 * stored.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'); // true
 */
export async function hashPassword(password: string): Promise<string> {
  if (typeof password !== 'string') throw new TypeError('password must be a string');
  if (!password.isWellFormed()) throw new TypeError('password must be well-formed Unicode');
  return argon2Hash(normalizePassword(password), HASH_OPTIONS);
}

/**
 * Checks a password typed at sign-in against a stored hash. Argon2 hashes are compared with the
 * NFKC form of the password and flagged for rehashing when weaker than the current parameters;
 * bcrypt hashes imported from another system are compared with the password exactly as typed, as
 * that system hashed it, and always flagged for rehashing. A stored value in no known format gives
 * `{ ok: false, needsRehash: false }` rather than an exception, after the same work as a real check.
 *
 * @example
 * const { ok, needsRehash } = await verifyPassword(user.passwordHash, body.password);
 * if (ok && needsRehash) await savePasswordHash(user.id, await hashPassword(body.password));
 */
export async function verifyPassword(storedHash: string, password: string): Promise<PasswordVerification> {
  if (typeof storedHash !== 'string') throw new TypeError('storedHash must be a string');
  if (typeof password !== 'string') throw new TypeError('password must be a string');
  // A lone surrogate becomes U+FFFD on the way to the native code, so it could match a password that
  // really contains U+FFFD. The dummy work keeps the answer time that of an ordinary wrong password.
  if (!password.isWellFormed()) {
    await verifyAgainstDummyHash(password);
    return REJECTED;
  }

  const argon2 = parseArgon2Hash(storedHash);
  if (argon2 !== undefined) {
    if (!(await argon2Matches(storedHash, password))) return REJECTED;
    return { ok: true, needsRehash: isWeakerThanCurrent(argon2) };
  }

  if (BCRYPT_HASH.test(storedHash)) {
    // bcrypt reads only the first 72 bytes of the password, so two long passwords sharing a prefix
    // are the same to it. It is accepted only to let imported accounts sign in once; the caller then
    // replaces the hash with argon2id, which reads every byte.
    let ok: boolean;
    try {
      ok = await bcryptVerify(password, storedHash);
    } catch {
      return REJECTED;
    }
    return ok ? { ok: true, needsRehash: true } : REJECTED;
  }

  // Accounts whose stored value is unusable (never set, corrupted) should not answer faster than the
  // others, or the response time would tell them apart.
  await verifyAgainstDummyHash(password);
  return REJECTED;
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same argon2id verification work as checking a real account, against a hash of a random
 * secret made once at the current parameters, and discards the result. Sign-in calls it when no
 * account has the given email, so the response time does not reveal which emails are registered.
 * The very first call also computes that hash.
 *
 * @example
 * const user = await findUserByEmail(email);
 * if (user === undefined) { await verifyAgainstDummyHash(password); return invalidCredentials(); }
 */
export async function verifyAgainstDummyHash(password: string): Promise<void> {
  if (typeof password !== 'string') throw new TypeError('password must be a string');
  dummyHash ??= argon2Hash(randomBytes(32).toString('base64url'), HASH_OPTIONS).catch((error: unknown) => {
    // A failed computation is not cached, so the next sign-in tries again.
    dummyHash = undefined;
    throw error;
  });
  await argon2Matches(await dummyHash, password);
}

async function argon2Matches(storedHash: string, password: string): Promise<boolean> {
  try {
    return await argon2Verify(storedHash, normalizePassword(password));
  } catch {
    return false;
  }
}

interface Argon2HashParameters {
  algorithm: 'argon2id' | 'argon2i' | 'argon2d';
  version: number;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  /** Length of the unpadded base64 digest, which gives the output length in bytes. */
  digestChars: number;
}

// PHC strings from before argon2 1.3 omit the version field; they are read as version 16.
const ARGON2_HASH =
  /^\$(argon2id|argon2i|argon2d)\$(?:v=(\d{1,3})\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$[A-Za-z0-9+/]+\$([A-Za-z0-9+/]+)$/;

const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

function parseArgon2Hash(storedHash: string): Argon2HashParameters | undefined {
  const match = ARGON2_HASH.exec(storedHash);
  if (match === null) return undefined;
  const [, algorithm, version, memoryCost, timeCost, parallelism, digest] = match;
  return {
    algorithm: algorithm as Argon2HashParameters['algorithm'],
    version: version === undefined ? 16 : Number(version),
    memoryCost: Number(memoryCost),
    timeCost: Number(timeCost),
    parallelism: Number(parallelism),
    digestChars: digest!.length,
  };
}

function isWeakerThanCurrent(stored: Argon2HashParameters): boolean {
  const current = CURRENT_ARGON2_PARAMETERS;
  return (
    stored.algorithm !== current.algorithm ||
    stored.version < current.version ||
    stored.memoryCost < current.memoryCost ||
    stored.timeCost < current.timeCost ||
    stored.parallelism < current.parallelism ||
    Math.floor((stored.digestChars * 3) / 4) < current.outputLen
  );
}
