import { randomUUID } from 'node:crypto';
import { continueAsUser } from '../db/database.js';
import type { SqlExecutor } from '../db/driver.js';
import { hashPassword } from '../crypto/password-hash.js';
import { generateToken, hashToken, isTokenShaped } from '../crypto/tokens.js';
import { signUpAttemptMessage, verifyEmailMessage } from '../mail/index.js';
import {
  emailLookupKey,
  publicLink,
  recordAccountEvent,
  type AccountServices,
  type RequestOrigin,
} from './account-services.js';
import { checkPassword, type PasswordVerdict } from './password-policy.js';

/** Verification links work for 24 hours. */
export const EMAIL_VERIFICATION_TTL_SECONDS = 24 * 60 * 60;

/**
 * Stores a new one-time link token for the user (context: that user) and returns the token, which
 * exists in plain form only in the email about to be sent.
 */
export async function issueAccountToken(
  tx: SqlExecutor,
  options: { userId: string; purpose: 'verify_email' | 'reset_password'; ttlSeconds: number },
): Promise<string> {
  const token = generateToken();
  await tx.query(
    `INSERT INTO rampart.account_tokens (token_hash, user_id, purpose, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [hashToken(token), options.userId, options.purpose, options.ttlSeconds],
  );
  return token;
}

/**
 * Creates an account and emails a verification link — or, when the address already has an account,
 * emails its owner instead. The caller answers both the same way, and both emails go out after the
 * response, so neither the answer nor its timing tells whether an address is registered.
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

  const created = await services.database.withTenant({ userId: newUserId, lookupKey }, async (tx) => {
    const { rowCount } = await tx.query(
      `INSERT INTO rampart.users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT ((lower(email))) DO NOTHING`,
      [newUserId, email, name, passwordHash],
    );
    if (rowCount === 0) return undefined;
    const token = await issueAccountToken(tx, {
      userId: newUserId,
      purpose: 'verify_email',
      ttlSeconds: EMAIL_VERIFICATION_TTL_SECONDS,
    });
    await recordAccountEvent(services, tx, { userId: newUserId, action: 'account.signed_up', origin });
    return { token };
  });

  if (created !== undefined) {
    const message = verifyEmailMessage({ name, link: publicLink(services, '/verify-email', created.token) });
    services.background.run('send the verification email', () => services.mailer.send({ to: email, ...message }));
  } else {
    services.background.run('tell an account owner about a repeated sign-up', () =>
      notifyExistingAccount(services, lookupKey, origin),
    );
  }
  return verdict;
}

async function notifyExistingAccount(services: AccountServices, lookupKey: string, origin: RequestOrigin): Promise<void> {
  const owner = await services.database.withTenant({ lookupKey }, async (tx) => {
    const { rows } = await tx.query<{ id: string; email: string; name: string }>(
      'SELECT id, email, name FROM rampart.users WHERE lower(email) = $1',
      [lookupKey],
    );
    const user = rows[0];
    if (user === undefined) return undefined;
    await continueAsUser(tx, user.id);
    await recordAccountEvent(services, tx, { userId: user.id, action: 'account.sign_up_repeated', origin });
    return user;
  });
  if (owner === undefined) return;
  const message = signUpAttemptMessage({
    name: owner.name,
    signInLink: publicLink(services, '/sign-in'),
    resetLink: publicLink(services, '/forgot-password'),
  });
  await services.mailer.send({ to: owner.email, ...message });
}

/**
 * Marks the address of the link's account as verified. The token is deleted whatever happens next:
 * a link works once, and an expired one is cleaned up by the attempt.
 *
 * @returns false when the token is unknown, used or expired.
 */
export async function verifyEmail(services: AccountServices, token: string, origin: RequestOrigin): Promise<boolean> {
  if (!isTokenShaped(token)) return false;
  const tokenHash = hashToken(token);
  return services.database.withTenant({ lookupKey: tokenHash }, async (tx) => {
    const { rows } = await tx.query<{ user_id: string; is_live: boolean }>(
      `DELETE FROM rampart.account_tokens WHERE token_hash = $1 AND purpose = 'verify_email'
       RETURNING user_id, expires_at > now() AS is_live`,
      [tokenHash],
    );
    const row = rows[0];
    if (row === undefined || !row.is_live) return false;
    await continueAsUser(tx, row.user_id);
    const { rowCount } = await tx.query(
      `UPDATE rampart.users SET email_verified_at = now(), updated_at = now()
        WHERE id = $1 AND email_verified_at IS NULL`,
      [row.user_id],
    );
    if (rowCount === 1) await recordAccountEvent(services, tx, { userId: row.user_id, action: 'account.email_verified', origin });
    return true;
  });
}
