import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * The API key format, after GitHub's: `rk_<env>_` + 32 base62 characters of randomness (190 bits) +
 * a 6-character base62 CRC32 of everything before it.
 *
 * - The fixed prefix makes a leaked key recognisable to secret scanners, and says which kind of
 *   deployment it belongs to (`live` in production, `test` elsewhere).
 * - The checksum lets a mistyped or truncated key be refused without a database lookup, and lets
 *   scanners tell a real key from random text. It is not a secret and proves nothing about validity.
 * - The display prefix (`rk_live_` + the first 4 random characters) is stored in clear so that people
 *   can tell their keys apart; the 28 random characters after it still carry 166 bits.
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const DISPLAY_RANDOM_LENGTH = 4;
export const API_KEY_ENVIRONMENTS = ['live', 'test'] as const;
export type ApiKeyEnvironment = (typeof API_KEY_ENVIRONMENTS)[number];

const PREFIX_LENGTH = 'rk_live_'.length;
const KEY_LENGTH = PREFIX_LENGTH + RANDOM_LENGTH + CHECKSUM_LENGTH;
const KEY_PATTERN = new RegExp(`^rk_(?:live|test)_[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

/** `count` characters drawn uniformly from the base62 alphabet (rejection sampling: no modulo bias). */
function randomBase62(count: number): string {
  let out = '';
  while (out.length < count) {
    for (const byte of randomBytes(count * 2)) {
      // 248 = 4 × 62: bytes at or above it would favour the first 8 characters.
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === count) break;
    }
  }
  return out;
}

/** A 32-bit value as exactly six base62 digits (62^6 > 2^32), most significant first. */
function base62Checksum(value: number): string {
  let rest = value;
  let out = '';
  for (let index = 0; index < CHECKSUM_LENGTH; index += 1) {
    out = BASE62[rest % 62]! + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** The value of six base62 digits (the pattern has checked they are base62). */
function base62Value(digits: string): number {
  let value = 0;
  for (let index = 0; index < digits.length; index += 1) {
    const code = digits.charCodeAt(index);
    value = value * 62 + (code <= 57 ? code - 48 : code <= 90 ? code - 55 : code - 61);
  }
  return value;
}

const checksumOf = (body: string) => base62Checksum(crc32(body));

export interface GeneratedApiKey {
  /** The whole key: shown once, never stored. */
  key: string;
  /** What is stored in clear and shown in lists. */
  displayPrefix: string;
}

export function generateApiKey(environment: ApiKeyEnvironment): GeneratedApiKey {
  const random = randomBase62(RANDOM_LENGTH);
  const body = `rk_${environment}_${random}`;
  return { key: `${body}${checksumOf(body)}`, displayPrefix: `rk_${environment}_${random.slice(0, DISPLAY_RANDOM_LENGTH)}` };
}

/**
 * Whether `value` is shaped like a key and its checksum matches: the only check made before the
 * database is asked. A key that passes may still be unknown, revoked or expired.
 */
export function isWellFormedApiKey(value: string): boolean {
  // The length first: a header of any size is refused before the pattern runs.
  if (value.length !== KEY_LENGTH || !KEY_PATTERN.test(value)) return false;
  // Compared as numbers: decoding six digits is cheaper than encoding the CRC as text.
  return crc32(value.slice(0, KEY_LENGTH - CHECKSUM_LENGTH)) === base62Value(value.slice(KEY_LENGTH - CHECKSUM_LENGTH));
}

/**
 * The API key an `Authorization: Bearer <key>` header presents, if it is well formed (see
 * `isWellFormedApiKey`); undefined for any other header or none.
 */
export function wellFormedApiKeyIn(authorization: string | undefined): string | undefined {
  const key = /^Bearer +(\S+)$/.exec(authorization ?? '')?.[1];
  return key !== undefined && isWellFormedApiKey(key) ? key : undefined;
}

export function apiKeyEnvironmentFor(nodeEnv: string): ApiKeyEnvironment {
  return nodeEnv === 'production' ? 'live' : 'test';
}
