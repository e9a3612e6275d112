import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits: far beyond guessing, and the same size as the SHA-256 that is stored in its place. */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * A new bearer secret (session token, email link token): 256 random bits as 43 base64url characters,
 * safe in a cookie, a URL and a header without escaping.
 *
 * @example
 * const token = generateToken(); // 'Xq3…' — send it once, store only hashToken(token)
 */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Whether a value has the shape of a token from generateToken: anything else is refused unhashed. */
export function isTokenShaped(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/**
 * What is stored and looked up instead of a token: its SHA-256 in hex. A plain hash is enough for a
 * 256-bit random secret (nothing to brute-force), and unlike a slow password hash it can be indexed.
 *
 * @example
 * await tx.query('SELECT … FROM rampart.sessions WHERE token_hash = $1', [hashToken(token)]);
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * A purpose-bound key derived from the master key, so the master key itself never signs anything and
 * one purpose's key reveals nothing of another's.
 *
 * @example
 * const csrfKey = deriveKey(masterKey, 'rampart csrf v1');
 */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), purpose, 32));
}

/** HMAC-SHA256 of a text, base64url. */
export function hmacBase64Url(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('base64url');
}

/**
 * Compares two secrets in time that does not depend on where they differ. Different lengths return
 * false at once: lengths here are fixed by the format, so they reveal nothing.
 */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
