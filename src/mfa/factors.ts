import type { SqlExecutor } from '../db/driver.js';
import { open, seal } from '../crypto/secret-box.js';
import { downgradeSessionsToSingleFactor } from '../sessions/sessions.js';
import type { MfaSettings } from './settings.js';
import { generateRecoveryCodes, normaliseRecoveryCode, recoveryCodeHash } from './recovery-codes.js';
import { matchTotpStep } from './totp.js';

/** The second factors a user can complete a sign-in or a step-up with. */
export type SecondFactorMethod = 'totp' | 'passkey' | 'recovery_code';

export interface FactorSummary {
  /** A confirmed authenticator app. */
  totp: boolean;
  passkeys: number;
  recoveryCodesRemaining: number;
}

/**
 * Holds the user's account row until the transaction ends, so that changes to their factors happen
 * one after another: two removals at once would each still see the other's factor, and neither would
 * notice that none is left (`settleAfterFactorRemoved`).
 */
export async function lockFactorChanges(tx: SqlExecutor, userId: string): Promise<void> {
  await tx.query('SELECT 1 FROM rampart.users WHERE id = $1 FOR UPDATE', [userId]);
}

/** What the user has enrolled (the transaction's context is that user). */
export async function loadFactorSummary(tx: SqlExecutor, userId: string): Promise<FactorSummary> {
  const { rows } = await tx.query<{ totp: boolean; passkeys: number; recovery_codes: number }>(
    `SELECT EXISTS (SELECT 1 FROM rampart.totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL) AS totp,
            (SELECT count(*)::int FROM rampart.passkeys WHERE user_id = $1) AS passkeys,
            (SELECT count(*)::int FROM rampart.recovery_codes WHERE user_id = $1) AS recovery_codes`,
    [userId],
  );
  const row = rows[0]!;
  return { totp: row.totp, passkeys: row.passkeys, recoveryCodesRemaining: row.recovery_codes };
}

/** Recovery codes stand in for a second factor; on their own they are not one. */
export function hasSecondFactor(summary: FactorSummary): boolean {
  return summary.totp || summary.passkeys > 0;
}

/** The methods a second step may use, in the order a client should offer them. */
export function secondFactorMethods(summary: FactorSummary): SecondFactorMethod[] {
  const methods: SecondFactorMethod[] = [];
  if (summary.passkeys > 0) methods.push('passkey');
  if (summary.totp) methods.push('totp');
  if (summary.recoveryCodesRemaining > 0) methods.push('recovery_code');
  return methods;
}

/** The associated data a TOTP secret is sealed with: it opens for this user's row only. */
function totpAssociatedData(userId: string): Buffer {
  return Buffer.from(`rampart totp secret v1\n${userId}`, 'utf8');
}

export function sealTotpSecret(settings: MfaSettings, userId: string, secret: Buffer): Buffer {
  return seal(settings.totpSecretKey, secret, totpAssociatedData(userId));
}

export type TotpCheck = 'accepted' | 'wrong' | 'replayed';

/**
 * Checks a code against the user's authenticator app — the confirmed one, or with `pending` the one
 * waiting for its first code. The row is locked until the transaction ends, and the step of an
 * accepted code is stored: the same code (or an older one) presented again, even at once from a
 * second request, is a replay.
 */
export async function checkTotpCode(
  settings: MfaSettings,
  tx: SqlExecutor,
  options: { userId: string; code: string; pending?: boolean },
): Promise<TotpCheck> {
  const { rows } = await tx.query<{ secret_ciphertext: Buffer; last_used_step: string | null }>(
    `SELECT secret_ciphertext, last_used_step FROM rampart.totp_credentials
      WHERE user_id = $1 AND (confirmed_at IS NULL) = $2 FOR UPDATE`,
    [options.userId, options.pending === true],
  );
  const row = rows[0];
  if (row === undefined) return 'wrong';
  const secret = open(settings.totpSecretKey, Buffer.from(row.secret_ciphertext), totpAssociatedData(options.userId));
  // A secret that does not open was sealed under another master key or moved from another row.
  if (secret === undefined) return 'wrong';
  const step = matchTotpStep(secret, options.code, Date.now());
  if (step === undefined) return 'wrong';
  if (row.last_used_step !== null && step <= Number(row.last_used_step)) return 'replayed';
  await tx.query('UPDATE rampart.totp_credentials SET last_used_step = $2 WHERE user_id = $1', [options.userId, step]);
  return 'accepted';
}

/** Replaces the user's recovery codes with a new set, returned in plain form this once. */
export async function replaceRecoveryCodes(settings: MfaSettings, tx: SqlExecutor, userId: string): Promise<string[]> {
  const codes = generateRecoveryCodes();
  await tx.query('DELETE FROM rampart.recovery_codes WHERE user_id = $1', [userId]);
  await tx.query(
    `INSERT INTO rampart.recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])`,
    [userId, codes.map((code) => recoveryCodeHash(settings.recoveryCodeKey, userId, normaliseRecoveryCode(code)!))],
  );
  return codes;
}

/**
 * Uses up one recovery code: deleted in the same statement that finds it, so of two requests racing
 * with one code, one wins. Returns how many codes remain, or undefined when the code is not one of
 * the user's unused codes.
 */
export async function consumeRecoveryCode(
  settings: MfaSettings,
  tx: SqlExecutor,
  options: { userId: string; code: string },
): Promise<number | undefined> {
  const canonical = normaliseRecoveryCode(options.code);
  if (canonical === undefined) return undefined;
  const { rowCount } = await tx.query('DELETE FROM rampart.recovery_codes WHERE user_id = $1 AND code_hash = $2', [
    options.userId,
    recoveryCodeHash(settings.recoveryCodeKey, options.userId, canonical),
  ]);
  if (rowCount !== 1) return undefined;
  const { rows } = await tx.query<{ remaining: number }>(
    'SELECT count(*)::int AS remaining FROM rampart.recovery_codes WHERE user_id = $1',
    [options.userId],
  );
  return rows[0]!.remaining;
}

/**
 * After a factor is removed: when none is left, the recovery codes go (they would be a second factor
 * for an account that has no second step) and no session of the user still claims a second factor.
 */
export async function settleAfterFactorRemoved(tx: SqlExecutor, userId: string): Promise<FactorSummary> {
  const summary = await loadFactorSummary(tx, userId);
  if (hasSecondFactor(summary)) return summary;
  await tx.query('DELETE FROM rampart.recovery_codes WHERE user_id = $1', [userId]);
  await downgradeSessionsToSingleFactor(tx, userId);
  return { ...summary, recoveryCodesRemaining: 0 };
}
