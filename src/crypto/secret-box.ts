import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The first byte of every sealed value: the format, so a later one (another cipher, a new key) can sit beside it. */
const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals a secret with AES-256-GCM: `version ‖ 96-bit IV ‖ ciphertext ‖ 128-bit tag`. The IV is random
 * for every seal (2^32 seals under one key keep the collision chance below 2^-32, NIST SP 800-38D).
 * `associatedData` is authenticated but not stored: sealed for one row and purpose, the value opens
 * for that row and purpose only, so a copy moved to another user's row is refused.
 *
 * @example
 * const sealed = seal(key, Buffer.from(secret), Buffer.from(`totp\n${userId}`));
 */
export function seal(key: Buffer, plaintext: Buffer, associatedData: Buffer, iv: Buffer = randomBytes(IV_BYTES)): Buffer {
  if (key.length !== 32) throw new RangeError('AES-256-GCM takes a 32-byte key');
  if (iv.length !== IV_BYTES) throw new RangeError('AES-256-GCM takes a 12-byte IV here');
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(FORMAT_VERSION), iv, ciphertext, cipher.getAuthTag()]);
}

/** Opens a value sealed by `seal`, or returns undefined when any byte, the key or the associated data differs. */
export function open(key: Buffer, sealed: Buffer, associatedData: Buffer): Buffer | undefined {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT_VERSION) return undefined;
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const ciphertext = sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    return undefined;
  }
}
