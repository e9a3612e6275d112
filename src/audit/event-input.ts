import { isUuid } from '../db/uuid.js';
import type { JsonValue } from './canonical.js';

/**
 * Checks on what goes into an audit event. The hash is taken over the values as given and checked
 * against the values as Postgres returns them, so anything Postgres would store differently (an
 * upper-case UUID, ill-formed Unicode, a NUL, a Date in the details) is refused — or, for a UUID,
 * spelled the way Postgres spells it — before anything is hashed.
 */

/** Detail keys that name a secret, compared with case, `_` and `-` ignored. */
const SECRET_KEY_WORDS = ['password', 'secret', 'token', 'apikey', 'privatekey', 'recoverycode'];
const SECRET_KEY_NAMES = new Set(['key', 'code', 'pin', 'otp']);

/**
 * A UUID as Postgres returns it (lower case): the hash is taken over what the caller passed and
 * checked against what the database gives back, so both must be spelled the same.
 */
export function canonicalUuid(value: string, name: string): string {
  if (!isUuid(value)) throw new TypeError(`${name} must be a UUID`);
  return value.toLowerCase();
}

/** Text Postgres stores exactly as given: well-formed Unicode, no NUL, within the column's limit. */
export function storableText(value: string | undefined, name: string, maxLength: number): string | null {
  if (value === undefined) return null;
  if (!value.isWellFormed() || value.includes('\0')) throw new TypeError(`${name} must be well-formed text without NUL`);
  if ([...value].length > maxLength) throw new TypeError(`${name} must be at most ${maxLength} characters`);
  return value;
}

/** Checks that details are plain JSON that jsonb keeps as it is, and hold nothing secret. */
export function assertStorableDetails(value: unknown, path: string): asserts value is JsonValue {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`audit details must be JSON (${path} is not a finite number)`);
    return;
  }
  if (typeof value === 'string') {
    storableText(value, path, 1_000);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertStorableDetails(item, `${path}[${index}]`));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, inner] of Object.entries(value)) {
      const word = key.toLowerCase().replace(/[-_]/g, '');
      if (SECRET_KEY_NAMES.has(word) || SECRET_KEY_WORDS.some((secret) => word.includes(secret))) {
        throw new TypeError(`audit details must not hold secrets (${path}.${key})`);
      }
      storableText(key, `${path} key`, 100);
      assertStorableDetails(inner, `${path}.${key}`);
    }
    return;
  }
  throw new TypeError(`audit details must be JSON (${path} is a ${typeof value})`);
}
