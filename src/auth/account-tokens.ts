import type { SqlExecutor } from '../db/driver.js';
import { generateToken, hashToken } from '../crypto/tokens.js';

export type AccountTokenPurpose = 'verify_email' | 'reset_password';

/**
 * Stores a new one-time link token for the user (the transaction's context is that user) in place of
 * any earlier one for the same purpose, and returns it: in plain form it exists only in the email
 * about to be sent.
 *
 * @example
 * const token = await replaceAccountToken(tx, { userId, purpose: 'reset_password', ttlSeconds: 1800 });
 */
export async function replaceAccountToken(
  tx: SqlExecutor,
  options: { userId: string; purpose: AccountTokenPurpose; ttlSeconds: number },
): Promise<string> {
  await deleteAccountTokens(tx, options);
  const token = generateToken();
  await tx.query(
    `INSERT INTO rampart.account_tokens (token_hash, user_id, purpose, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [hashToken(token), options.userId, options.purpose, options.ttlSeconds],
  );
  return token;
}

/** Invalidates every outstanding link of one purpose for the user. */
export async function deleteAccountTokens(tx: SqlExecutor, options: { userId: string; purpose: AccountTokenPurpose }): Promise<void> {
  await tx.query('DELETE FROM rampart.account_tokens WHERE user_id = $1 AND purpose = $2', [options.userId, options.purpose]);
}

/**
 * Uses up a presented token (the transaction's lookup key is its hash): the row is deleted whether
 * or not it is still live, so a link works once and an expired one is cleaned up by the attempt.
 * Of two requests racing with one link, only one gets the user id back.
 *
 * @returns the user the link was for, or undefined when it is unknown, used or expired.
 */
export async function consumeAccountToken(
  tx: SqlExecutor,
  options: { tokenHash: string; purpose: AccountTokenPurpose },
): Promise<string | undefined> {
  const { rows } = await tx.query<{ user_id: string; is_live: boolean }>(
    `DELETE FROM rampart.account_tokens WHERE token_hash = $1 AND purpose = $2
     RETURNING user_id, expires_at > now() AS is_live`,
    [options.tokenHash, options.purpose],
  );
  const row = rows[0];
  return row?.is_live === true ? row.user_id : undefined;
}
