import { hmacBase64Url, safeEqual } from './tokens.js';

/** The HKDF label of the key form tokens are signed with (derived from the master key). */
export const FORM_TOKEN_KEY_PURPOSE = 'rampart form token v1';

const PAYLOAD_PATTERN = /^([a-z][a-z-]{0,39}):(\d{1,15})$/;
const TOKEN_PATTERN = /^([A-Za-z0-9_-]{1,80})\.([A-Za-z0-9_-]{43})$/;

/**
 * A form token: which form it was handed out for and when, signed so that neither can be changed.
 * The server keeps nothing: the token itself proves when the form was loaded, which a timestamp the
 * client sends could not (a bot would simply send an old one).
 *
 * Format: `base64url("<form>:<issued at, ms since the epoch>") "." base64url(HMAC-SHA256(key, first part))`.
 * The MAC covers the encoded text, not the decoded one, so no second spelling of a payload verifies.
 *
 * @example
 * const token = issueFormToken(key, 'sign-up', Date.now());
 * readFormToken(key, token, 'sign-up'); // → the issue time in ms, or null
 */
export function issueFormToken(key: Buffer, form: string, issuedAtMs: number): string {
  if (!PAYLOAD_PATTERN.test(`${form}:${issuedAtMs}`)) throw new TypeError('a form token needs a lower-case form name and a whole ms time');
  const payload = Buffer.from(`${form}:${issuedAtMs}`, 'utf8').toString('base64url');
  return `${payload}.${hmacBase64Url(key, payload)}`;
}

/**
 * The issue time (ms since the epoch) of a genuine token for `form`; null for anything else: malformed,
 * signed under another key, altered, or handed out for another form. Expiry is the caller's rule.
 */
export function readFormToken(key: Buffer, token: string, form: string): number | null {
  const parts = TOKEN_PATTERN.exec(token);
  if (parts === null) return null;
  const [, payload = '', mac = ''] = parts;
  if (!safeEqual(mac, hmacBase64Url(key, payload))) return null;
  const fields = PAYLOAD_PATTERN.exec(Buffer.from(payload, 'base64url').toString('utf8'));
  if (fields === null || fields[1] !== form) return null;
  return Number(fields[2]);
}
