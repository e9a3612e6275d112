import { randomUUID } from 'node:crypto';
import { continueAsUser } from '../db/database.js';
import { hashPassword } from '../crypto/password-hash.js';
import { hashToken, isTokenShaped } from '../crypto/tokens.js';
import { signUpAttemptMessage, verifyEmailMessage } from '../mail/index.js';
import {
  emailLookupKey,
  publicLink,
  recordAccountEvent,
  type AccountServices,
  type RequestOrigin,
} from './account-services.js';
import { consumeAccountToken, replaceAccountToken } from './account-tokens.js';
import { checkPassword, checkPasswordRules, type PasswordVerdict } from './password-policy.js';

/** Verification links work for 24 hours. */
export const EMAIL_VERIFICATION_TTL_SECONDS = 24 * 60 * 60;

/**
 * The offline password rules `signUp` applies (length, common passwords, the address or name itself),
 * with the same context, without the breach lookup. The sign-up route runs them before deciding to
 * drop a submission that looks automated, so a dropped sign-up is refused for a weak password exactly
 * as a real one is, and a bot cannot tell from the answer that it was caught.
 *
 * @example
 * const verdict = checkSignUpPasswordRules({ email, password, name });
 * if (!verdict.ok) throw passwordProblem(verdict.reason);
 */
export function checkSignUpPasswordRules(input: { email: string; password: string; name: string }): PasswordVerdict {
  return checkPasswordRules(input.password, { email: input.email.trim(), name: input.name.trim() });
}

/**
 * Creates an account and emails a verification link — or, when the address already has an account,
 * records the attempt in that account's log and emails its owner instead. Both paths do the same
 * kind of work before answering (one insert attempt, one token-or-lookup, one audit event) and send
 * their email after the response, so neither the answer nor its timing tells whether an address is
 * registered.
 *
 * @example
 * const verdict = await signUp(services, { email, password, name }, origin);
 * if (!verdict.ok) throw passwordProblem(verdict.reason);
 */
export async function signUp(
  services: AccountServices,
  input: { email: string; password: string; name: string },
  origin: RequestOrigin,
): Promise<PasswordVerdict> {
  const email = input.email.trim();
  const name = input.name.trim();
  const verdict = await checkPassword(input.password, { email, name }, services.isBreached);
  if (!verdict.ok) return verdict;
  // Hashed in both cases, so an existing address does not answer faster.
  const passwordHash = await services.passwordWork.run(() => hashPassword(input.password));
  const newUserId = randomUUID();
  const lookupKey = emailLookupKey(email);

  const outcome = await services.database.withTenant({ userId: newUserId, lookupKey }, async (tx) => {
    const { rowCount } = await tx.query(
      `INSERT INTO rampart.users (id, email, name) VALUES ($1, $2, $3) ON CONFLICT ((lower(email))) DO NOTHING`,
      [newUserId, email, name],
    );
    if (rowCount === 1) {
      await tx.query('INSERT INTO rampart.password_credentials (user_id, password_hash) VALUES ($1, $2)', [newUserId, passwordHash]);
      const token = await replaceAccountToken(tx, {
        userId: newUserId,
        purpose: 'verify_email',
        ttlSeconds: EMAIL_VERIFICATION_TTL_SECONDS,
      });
      await recordAccountEvent(services, tx, { userId: newUserId, action: 'account.signed_up', origin });
      return { kind: 'created' as const, token };
    }
    const { rows } = await tx.query<{ id: string; email: string; name: string }>(
      'SELECT id, email, name FROM rampart.users WHERE lower(email) = $1',
      [lookupKey],
    );
    const owner = rows[0]!;
    await continueAsUser(tx, owner.id);
    await recordAccountEvent(services, tx, { userId: owner.id, action: 'account.sign_up_repeated', origin });
    return { kind: 'existing' as const, owner };
  });

  if (outcome.kind === 'created') {
    const message = verifyEmailMessage({ name, link: publicLink(services, '/verify-email', outcome.token) });
    services.background.run('send the verification email', () => services.mailer.send({ to: email, ...message }));
  } else {
    const message = signUpAttemptMessage({
      name: outcome.owner.name,
      signInLink: publicLink(services, '/sign-in'),
      resetLink: publicLink(services, '/forgot-password'),
    });
    services.background.run('tell an account owner about a repeated sign-up', () =>
      services.mailer.send({ to: outcome.owner.email, ...message }),
    );
  }
  return verdict;
}

/**
 * Emails a new verification link to a signed-in user whose address is not verified yet (the earlier
 * link stops working). Returns false when the address is already verified.
 */
export async function resendVerificationEmail(
  services: AccountServices,
  user: { id: string; email: string; name: string },
): Promise<boolean> {
  const token = await services.database.withTenant({ userId: user.id }, async (tx) => {
    const { rows } = await tx.query<{ is_verified: boolean }>(
      'SELECT email_verified_at IS NOT NULL AS is_verified FROM rampart.users WHERE id = $1',
      [user.id],
    );
    if (rows[0]?.is_verified !== false) return undefined;
    return replaceAccountToken(tx, { userId: user.id, purpose: 'verify_email', ttlSeconds: EMAIL_VERIFICATION_TTL_SECONDS });
  });
  if (token === undefined) return false;
  const message = verifyEmailMessage({ name: user.name, link: publicLink(services, '/verify-email', token) });
  services.background.run('send the verification email', () => services.mailer.send({ to: user.email, ...message }));
  return true;
}

/**
 * Marks the address of the link's account as verified.
 *
 * @returns false when the token is unknown, used or expired.
 */
export async function verifyEmail(services: AccountServices, token: string, origin: RequestOrigin): Promise<boolean> {
  if (!isTokenShaped(token)) return false;
  const tokenHash = hashToken(token);
  return services.database.withTenant({ lookupKey: tokenHash }, async (tx) => {
    const userId = await consumeAccountToken(tx, { tokenHash, purpose: 'verify_email' });
    if (userId === undefined) return false;
    await continueAsUser(tx, userId);
    const { rowCount } = await tx.query(
      `UPDATE rampart.users SET email_verified_at = now(), updated_at = now()
        WHERE id = $1 AND email_verified_at IS NULL`,
      [userId],
    );
    if (rowCount === 1) await recordAccountEvent(services, tx, { userId, action: 'account.email_verified', origin });
    return true;
  });
}
