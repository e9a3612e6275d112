import { z } from 'zod';
import type { PasswordRejection } from '../auth/password-policy.js';
import type { SessionUser } from '../sessions/sessions.js';
import { AppError, type ErrorCode } from '../server/errors.js';

/**
 * Shapes shared by the account routes. Request objects are strict: an unknown field is a 400, so
 * nothing can be slipped in beside the fields a route expects.
 */

/** ASCII addresses only (Zod's default pattern), where JavaScript's and Postgres' lower-casing agree. */
export const emailSchema = z.email({ error: 'must be an email address' }).max(254);

/**
 * Passwords are checked for length by the password policy (with its own error codes), so the schema
 * only bounds the work a request can cause: past 1,024 characters nothing is hashed.
 */
export const passwordSchema = z.string().min(1).max(1024);

export const tokenSchema = z.string().min(1).max(200);

/** A TOTP code as typed: digits, maybe with a space in the middle; the check itself wants exactly six. */
export const totpCodeSchema = z.string().max(16).transform((value) => value.replace(/\s/g, ''));

/** Whether Postgres can store or compare the text: no NUL, no lone surrogate. */
const isStorable = (value: string) => value.isWellFormed() && !value.includes('\0');
const STORABLE = { error: 'must be text without NUL or lone surrogates' };

/** Text of `minLength` to `maxLength` characters, taken as given, that Postgres can store or compare. */
export const exactStorableText = (minLength: number, maxLength: number) => z.string().min(minLength).max(maxLength).refine(isStorable, STORABLE);

/** Trimmed text of at most `maxLength` characters that Postgres can store (no NUL, no lone surrogate). */
export const storableText = (maxLength: number) => z.string().trim().max(maxLength).refine(isStorable, STORABLE);

/** A display name: 1 to 200 characters of storable text. */
export const nameSchema = storableText(200).min(1);

export const userSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  emailVerified: z.boolean(),
  createdAt: z.iso.datetime(),
});

export function toUserBody(user: SessionUser): z.infer<typeof userSchema> {
  return { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerified, createdAt: user.createdAt.toISOString() };
}

const PASSWORD_PROBLEMS: Record<PasswordRejection, { code: ErrorCode; detail: string }> = {
  invalid: { code: 'VALIDATION_FAILED', detail: 'The password contains characters that cannot be stored.' },
  too_short: { code: 'PASSWORD_TOO_SHORT', detail: 'Use at least 12 characters.' },
  too_long: { code: 'PASSWORD_TOO_LONG', detail: 'Use at most 128 characters.' },
  common: { code: 'PASSWORD_TOO_COMMON', detail: 'This password is among the most common ones. Choose another.' },
  context: { code: 'PASSWORD_TOO_COMMON', detail: 'The password must not be your email address or name.' },
  breached: {
    code: 'PASSWORD_BREACHED',
    detail: 'This password has appeared in a data breach, so attackers try it first. Choose another.',
  },
};

/** The problem answer for a password the policy refused. */
export function passwordProblem(reason: PasswordRejection): AppError {
  const problem = PASSWORD_PROBLEMS[reason];
  return new AppError(problem.code, { publicMessage: problem.detail });
}

export function tooManyAttempts(retryAfterSeconds: number): AppError {
  return new AppError('TOO_MANY_ATTEMPTS', { headers: { 'retry-after': String(retryAfterSeconds) } });
}
