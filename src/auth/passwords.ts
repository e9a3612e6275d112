import { continueAsUser } from '../db/database.js';
import type { SqlExecutor } from '../db/driver.js';
import { hashPassword, verifyPassword } from '../crypto/password-hash.js';
import { hashToken, isTokenShaped } from '../crypto/tokens.js';
import { passwordChangedMessage, passwordResetMessage } from '../mail/index.js';
import { createSession, revokeAllSessions, type AuthLevel, type Session } from '../sessions/sessions.js';
import {
  emailLookupKey,
  publicLink,
  recordAccountEvent,
  type AccountServices,
  type RequestOrigin,
} from './account-services.js';
import { checkPassword, type PasswordRejection } from './password-policy.js';
import { consumeAccountToken, deleteAccountTokens, replaceAccountToken } from './account-tokens.js';
import { lockPasswordHashIfUnchanged, recordFailedSignInAndWarnOwner } from './sign-in.js';
import { reserveSignInAttempt, settleSuccessfulSignIn } from './sign-in-throttle.js';

/** Reset links work for 30 minutes. */
export const PASSWORD_RESET_TTL_SECONDS = 30 * 60;

/**
 * Emails a reset link when the address has an account; otherwise does nothing. All of it runs after
 * the response, so the answer and its timing are the same either way. A new link replaces any
 * earlier one.
 *
 * @example
 * requestPasswordReset(services, body.email, origin); // then answer 202
 */
export function requestPasswordReset(services: AccountServices, email: string, origin: RequestOrigin): void {
  const lookupKey = emailLookupKey(email);
  services.background.run('send a password reset link', async () => {
    const issued = await services.database.withTenant({ lookupKey }, async (tx) => {
      const { rows } = await tx.query<{ id: string; email: string; name: string }>(
        'SELECT id, email, name FROM rampart.users WHERE lower(email) = $1',
        [lookupKey],
      );
      const user = rows[0];
      if (user === undefined) return undefined;
      await continueAsUser(tx, user.id);
      const token = await replaceAccountToken(tx, { userId: user.id, purpose: 'reset_password', ttlSeconds: PASSWORD_RESET_TTL_SECONDS });
      await recordAccountEvent(services, tx, { userId: user.id, action: 'account.password_reset_requested', origin });
      return { user, token };
    });
    if (issued === undefined) return;
    const message = passwordResetMessage({ name: issued.user.name, link: publicLink(services, '/reset-password', issued.token) });
    await services.mailer.send({ to: issued.user.email, ...message });
  });
}

/** Sets a new password hash; every session and every outstanding reset link of the user ends. */
async function replacePassword(tx: SqlExecutor, userId: string, passwordHash: string): Promise<void> {
  await tx.query('UPDATE rampart.password_credentials SET password_hash = $2, updated_at = now() WHERE user_id = $1', [
    userId,
    passwordHash,
  ]);
  await revokeAllSessions(tx, userId);
  await deleteAccountTokens(tx, { userId, purpose: 'reset_password' });
}

export type PasswordResetResult = { status: 'reset' } | { status: 'invalid_token' } | { status: 'rejected'; reason: PasswordRejection };

/**
 * Sets a new password through a reset link. The link is used up, every session of the account ends
 * (on every instance), and the user is not signed in: they sign in with the new password, which also
 * means a second factor, once they have one, is still asked for.
 */
export async function resetPassword(
  services: AccountServices,
  input: { token: string; password: string },
  origin: RequestOrigin,
): Promise<PasswordResetResult> {
  if (!isTokenShaped(input.token)) return { status: 'invalid_token' };
  const tokenHash = hashToken(input.token);
  const account = await services.database.withTenant({ lookupKey: tokenHash }, async (tx) => {
    const { rows } = await tx.query<{ user_id: string }>(
      `SELECT user_id FROM rampart.account_tokens
        WHERE token_hash = $1 AND purpose = 'reset_password' AND expires_at > now()`,
      [tokenHash],
    );
    if (rows[0] === undefined) return undefined;
    await continueAsUser(tx, rows[0].user_id);
    const { rows: users } = await tx.query<{ id: string; email: string; name: string }>(
      'SELECT id, email, name FROM rampart.users WHERE id = $1',
      [rows[0].user_id],
    );
    return users[0];
  });
  if (account === undefined) return { status: 'invalid_token' };

  const verdict = await checkPassword(input.password, { email: account.email, name: account.name }, services.isBreached);
  if (!verdict.ok) return { status: 'rejected', reason: verdict.reason };
  const passwordHash = await services.passwordWork.run(() => hashPassword(input.password));

  const isReset = await services.database.withTenant({ lookupKey: tokenHash }, async (tx) => {
    // Consuming the token is the claim: of two requests racing with one link, one gets it.
    const userId = await consumeAccountToken(tx, { tokenHash, purpose: 'reset_password' });
    if (userId !== account.id) return false;
    await continueAsUser(tx, account.id);
    await replacePassword(tx, account.id, passwordHash);
    await recordAccountEvent(services, tx, { userId: account.id, action: 'account.password_reset', origin });
    return true;
  });
  if (!isReset) return { status: 'invalid_token' };
  notifyPasswordChanged(services, account);
  return { status: 'reset' };
}

function notifyPasswordChanged(services: AccountServices, account: { email: string; name: string }): void {
  const message = passwordChangedMessage({ name: account.name, resetLink: publicLink(services, '/forgot-password') });
  services.background.run('tell an account owner their password changed', () =>
    services.mailer.send({ to: account.email, ...message }),
  );
}

export type PasswordChangeResult =
  | { status: 'changed'; session: Session; token: string }
  | { status: 'wrong_current_password' }
  | { status: 'throttled'; retryAfterSeconds: number }
  | { status: 'rejected'; reason: PasswordRejection };

export type CurrentPasswordCheck =
  | { status: 'correct'; account: { id: string; email: string; name: string }; passwordHash: string }
  | { status: 'wrong_current_password' }
  | { status: 'throttled'; retryAfterSeconds: number };

/**
 * Checks the password a signed-in user re-enters (to change it, or to step up). Guesses count against
 * the same limits as sign-in, before the hash is checked (a stolen session must not become a password
 * oracle); a right password gives the reserved attempt back. A wrong one is recorded before the
 * answer: the caller is signed in, so there is no account whose existence the timing could reveal.
 */
export async function checkCurrentPassword(
  services: AccountServices,
  input: { userId: string; password: string },
  origin: RequestOrigin,
): Promise<CurrentPasswordCheck> {
  const { userId } = input;
  const attempt = await services.database.withTenant({ userId }, async (tx) => {
    const { rows } = await tx.query<{ id: string; email: string; name: string; password_hash: string | null }>(
      `SELECT u.id, u.email, u.name, c.password_hash
         FROM rampart.users u LEFT JOIN rampart.password_credentials c ON c.user_id = u.id
        WHERE u.id = $1`,
      [userId],
    );
    const row = rows[0]!;
    const reservation = await reserveSignInAttempt(tx, { email: emailLookupKey(row.email), ip: origin.ip });
    return { row, reservation };
  });
  const { row, reservation } = attempt;
  if (!reservation.allowed) return { status: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };
  const account = { id: row.id, email: row.email, name: row.name };
  const storedHash = row.password_hash;
  const verification = storedHash === null ? { ok: false } : await services.passwordWork.run(() => verifyPassword(storedHash, input.password));
  if (!verification.ok || storedHash === null) {
    await recordFailedSignInAndWarnOwner(services, account, reservation, origin);
    return { status: 'wrong_current_password' };
  }
  await services.database.withTenant({ userId }, (tx) => settleSuccessfulSignIn(tx, { email: emailLookupKey(account.email), ip: origin.ip }));
  return { status: 'correct', account, passwordHash: storedHash };
}

/**
 * Changes the password of a signed-in user who re-enters the current one (`checkCurrentPassword`).
 * Every session ends, and the caller's is replaced by a new one with a new token.
 */
export async function changePassword(
  services: AccountServices,
  input: { userId: string; currentPassword: string; newPassword: string; authLevel: AuthLevel },
  origin: RequestOrigin,
): Promise<PasswordChangeResult> {
  const { userId } = input;
  const current = await checkCurrentPassword(services, { userId, password: input.currentPassword }, origin);
  if (current.status !== 'correct') return current;
  const { account, passwordHash: storedHash } = current;

  const verdict = await checkPassword(input.newPassword, { email: account.email, name: account.name }, services.isBreached);
  if (!verdict.ok) return { status: 'rejected', reason: verdict.reason };
  const passwordHash = await services.passwordWork.run(() => hashPassword(input.newPassword));

  const replacement = await services.database.withTenant({ userId }, async (tx) => {
    // Changed by a reset meanwhile: the current password given is no longer the account's.
    if (!(await lockPasswordHashIfUnchanged(tx, userId, storedHash))) return undefined;
    await replacePassword(tx, userId, passwordHash);
    // The replacement session keeps the level the caller's had: a new password is no second factor lost.
    const created = await createSession(tx, { userId, policy: services.sessionPolicy, origin, authLevel: input.authLevel });
    await recordAccountEvent(services, tx, { userId, action: 'account.password_changed', origin });
    return created;
  });
  if (replacement === undefined) return { status: 'wrong_current_password' };
  notifyPasswordChanged(services, account);
  return { status: 'changed', ...replacement };
}
