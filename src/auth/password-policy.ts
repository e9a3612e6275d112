import { readFileSync } from 'node:fs';
import { normalizePassword } from '../crypto/password-hash.js';
import type { BreachedPasswordCheck } from './breached-passwords.js';

/**
 * The shortest password accepted, in Unicode code points after NFKC normalisation: the minimum of
 * OWASP ASVS 2.1.1, above the floor of 8 that NIST SP 800-63B sets.
 *
 * @example
 * [...normalizePassword(password)].length >= MIN_PASSWORD_LENGTH;
 */
export const MIN_PASSWORD_LENGTH = 12;

/**
 * The longest password accepted, in Unicode code points after NFKC normalisation: long enough for any
 * passphrase or manager-generated secret, short enough to bound the work done per sign-in. A longer
 * password is refused, never silently cut.
 *
 * @example
 * [...normalizePassword(password)].length <= MAX_PASSWORD_LENGTH;
 */
export const MAX_PASSWORD_LENGTH = 128;

/** Why a password was refused; the client is told which rule failed so the user can fix it. */
export type PasswordRejection = 'invalid' | 'too_short' | 'too_long' | 'common' | 'breached' | 'context';

/**
 * The outcome of the password policy: accepted, or refused for one named reason.
 *
 * @example
 * const verdict: PasswordVerdict = { ok: false, reason: 'too_short' };
 */
export type PasswordVerdict = { ok: true } | { ok: false; reason: PasswordRejection };

/**
 * What the policy knows about the account, so a password cannot simply be its own identifier.
 *
 * @example
 * const context: PasswordContext = { email: 'ada@example.com', name: 'Ada Lovelace' };
 */
export interface PasswordContext {
  // A nullable database column can be passed as it is: null means unknown, like undefined.
  email?: string | null | undefined;
  name?: string | null | undefined;
}

const ACCEPTED: PasswordVerdict = Object.freeze({ ok: true });

const refuse = (reason: PasswordRejection): PasswordVerdict => ({ ok: false, reason });

// NFKC composes at most four code points into one, so past this many UTF-16 units no input can come
// back within the limit, and a huge body is refused before any normalisation work is spent on it.
const NORMALISATION_BOUND = MAX_PASSWORD_LENGTH * 4 * 2;

/**
 * The offline part of the password policy, in the order the user would want to hear about it:
 * malformed text, length (counted in code points, so an emoji is one character), the bundled list of
 * common passwords, a short unit repeated, and the account's own email or name. Any script, spaces
 * and symbols are welcome and there are no composition rules (NIST SP 800-63B 5.1.1.2).
 *
 * @example
 * checkPasswordRules('aaaaaaaaaaaa', {}); // { ok: false, reason: 'common' }
 * checkPasswordRules('violet tractor umbrella', { email: 'ada@example.com' }); // { ok: true }
 */
export function checkPasswordRules(password: string, context: PasswordContext): PasswordVerdict {
  if (typeof password !== 'string') throw new TypeError('password must be a string');
  if (typeof context !== 'object' || context === null) throw new TypeError('context must be an object');
  for (const field of ['email', 'name'] as const) {
    if (context[field] != null && typeof context[field] !== 'string') {
      throw new TypeError(`context.${field} must be a string when given`);
    }
  }

  if (!password.isWellFormed() || password.includes('\0')) return refuse('invalid');
  if (password.length > NORMALISATION_BOUND) return refuse('too_long');

  const normalised = normalizePassword(password);
  const codePoints = [...normalised];
  if (codePoints.length < MIN_PASSWORD_LENGTH) return refuse('too_short');
  if (codePoints.length > MAX_PASSWORD_LENGTH) return refuse('too_long');

  const folded = normalised.toLowerCase();
  if (commonPasswords().has(folded)) return refuse('common');
  if (isShortUnitRepeated([...folded])) return refuse('common');
  if (matchesContext(folded, context)) return refuse('context');
  return ACCEPTED;
}

/**
 * The whole password policy: the offline rules first, then, only for a password that passed them,
 * the breach corpus. A breach service that cannot be reached does not block the user: the bundled
 * list has already run, and the check reports the outage to whoever logs it.
 *
 * @example
 * const isBreached = createBreachedPasswordCheck({ apiUrl: config.hibpApiUrl, onUnavailable: warn });
 * const verdict = await checkPassword(body.password, { email: body.email }, isBreached);
 */
export async function checkPassword(
  password: string,
  context: PasswordContext,
  isBreached: BreachedPasswordCheck,
): Promise<PasswordVerdict> {
  if (typeof isBreached !== 'function') throw new TypeError('isBreached must be a function');
  const verdict = checkPasswordRules(password, context);
  if (!verdict.ok) return verdict;
  return (await isBreached(password)) === 'breached' ? refuse('breached') : ACCEPTED;
}

/** Keyboard mashing such as `aaaaaaaaaaaa` or `abcabcabcabc`: longer than the limit, no stronger than its unit. */
function isShortUnitRepeated(codePoints: string[]): boolean {
  for (let unit = 1; unit <= 4; unit += 1) {
    if (codePoints.every((codePoint, index) => codePoint === codePoints[index % unit])) return true;
  }
  return false;
}

function matchesContext(folded: string, context: PasswordContext): boolean {
  const email = foldContext(context.email);
  if (email !== '') {
    if (folded === email) return true;
    const localPart = email.slice(0, email.lastIndexOf('@') === -1 ? email.length : email.lastIndexOf('@'));
    if (localPart !== '' && folded.length % localPart.length === 0 && folded === localPart.repeat(folded.length / localPart.length)) {
      return true;
    }
  }
  const name = foldContext(context.name);
  if (name !== '' && (folded === name || folded === name.replace(/\s+/gu, ''))) return true;
  return false;
}

function foldContext(value: string | null | undefined): string {
  if (value == null || !value.isWellFormed()) return '';
  return normalizePassword(value.trim()).toLowerCase();
}

let commonPasswordSet: Set<string> | undefined;

/**
 * Read on first use rather than at import, so that code which never checks a password never pays for
 * the file. The path is relative to this module, which finds `data/` from both `src/auth/` and the
 * compiled `dist/auth/`.
 */
function commonPasswords(): Set<string> {
  if (commonPasswordSet === undefined) {
    const text = readFileSync(new URL('../../data/common-passwords.txt', import.meta.url), 'utf8');
    const entries = new Set<string>();
    for (const line of text.split(/\r?\n/u)) {
      if (line === '' || line.startsWith('#')) continue;
      entries.add(normalizePassword(line).toLowerCase());
    }
    commonPasswordSet = entries;
  }
  return commonPasswordSet;
}
