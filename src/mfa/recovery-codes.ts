import { createHmac, randomInt } from 'node:crypto';

/** How many codes a set holds. */
export const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32: no I, L, O or U, so a code read off paper is typed back without confusion. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 16 characters of 5 bits: 80 random bits per code, shown as four groups of four. */
const CODE_LENGTH = 16;

/** A fresh set of recovery codes, as the user sees them once (`xxxx-xxxx-xxxx-xxxx`). */
export function generateRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const characters = Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]!).join('');
    return characters.match(/.{4}/g)!.join('-');
  });
}

/**
 * A typed code in canonical form, or undefined when it cannot be one: case, spaces and dashes are
 * ignored, and the letters Crockford's base32 reads as digits are (i and l as 1, o as 0; u is refused).
 */
export function normaliseRecoveryCode(typed: string): string | undefined {
  const compact = typed.toLowerCase().replace(/[\s-]/g, '').replace(/[io]/g, (c) => (c === 'o' ? '0' : '1')).replace(/l/g, '1');
  if (compact.length !== CODE_LENGTH || [...compact].some((c) => !ALPHABET.includes(c))) return undefined;
  return compact;
}

/**
 * What is stored in place of a code: an HMAC under a key derived from the master key, bound to the
 * user. 80 bits are far beyond online guessing; the key (never in the database) makes a stolen copy
 * of the table useless for guessing offline as well.
 */
export function recoveryCodeHash(key: Buffer, userId: string, canonicalCode: string): string {
  return createHmac('sha256', key).update(`${userId}\n${canonicalCode}`, 'utf8').digest('hex');
}
