import { sha256Hex } from '../audit/canonical.js';
import type { SqlExecutor } from '../db/driver.js';

/**
 * Failed sign-in limits. Attempts are counted *before* the password is checked and refunded when it
 * was right, so a burst of parallel requests cannot slip past the counter while hashes are computed:
 * the row lock of one atomic upsert per counter decides, in Postgres, for every Rampart instance.
 */
export const SIGN_IN_LIMITS = {
  /** One person mistyping, or one attacker guessing from one address. */
  perEmailAndIp: { maxFailures: 5, windowSeconds: 15 * 60 },
  /** Guessing spread over many addresses: a ceiling for the account, well under 100 an hour. */
  perAccount: { maxFailures: 20, windowSeconds: 60 * 60 },
} as const;

interface Limit {
  maxFailures: number;
  windowSeconds: number;
}

export type SignInReservation =
  | {
      allowed: true;
      /** True when this attempt used the account's last allowed failure: if it fails, the account is paused. */
      isLastBeforeAccountCeiling: boolean;
      accountWindowEndsAt: Date;
    }
  | { allowed: false; retryAfterSeconds: number };


/** Counter keys hold hashes, never the typed email or the address in plain form. */
function counterKeys(email: string, ip: string): CounterKeys {
  return { account: `account:${sha256Hex(email)}`, emailAndIp: `email_ip:${sha256Hex(`${email}\n${ip}`)}` };
}

interface CounterState {
  failures: number;
  window_ends_at: Date;
  retry_after_seconds: number;
}

/**
 * Counts one attempt against a limit, atomically. A window starts at the first failure and lasts
 * `windowSeconds`; the count stops one above the maximum, which marks "refused".
 */
async function countAttempt(tx: SqlExecutor, key: string, limit: Limit): Promise<CounterState> {
  const { rows } = await tx.query<CounterState>(
    `INSERT INTO rampart.sign_in_failures AS f (key, window_start, failures) VALUES ($1, now(), 1)
     ON CONFLICT (key) DO UPDATE SET
       window_start = CASE WHEN f.window_start <= now() - make_interval(secs => $2) THEN now() ELSE f.window_start END,
       failures = CASE WHEN f.window_start <= now() - make_interval(secs => $2) THEN 1
                       ELSE least(f.failures + 1, $3 + 1) END
     RETURNING failures,
               window_start + make_interval(secs => $2) AS window_ends_at,
               greatest(1, ceil(extract(epoch FROM window_start + make_interval(secs => $2) - now())))::int AS retry_after_seconds`,
    [key, limit.windowSeconds, limit.maxFailures],
  );
  return rows[0]!;
}

async function refund(tx: SqlExecutor, key: string): Promise<void> {
  await tx.query('UPDATE rampart.sign_in_failures SET failures = greatest(failures - 1, 0) WHERE key = $1', [key]);
}

/** The two counters an attempt is held against: the account's, and the account's from one address. */
interface CounterKeys {
  account: string;
  emailAndIp: string;
}

/**
 * Reserves one sign-in attempt for (email, IP) within the caller's transaction, or refuses it with
 * the seconds until the relevant window ends. Refused attempts are not counted, so they never extend
 * a pause.
 *
 * @example
 * const reservation = await reserveSignInAttempt(tx, { email, ip });
 * if (!reservation.allowed) throw tooManyAttempts(reservation.retryAfterSeconds);
 */
export function reserveSignInAttempt(tx: SqlExecutor, options: { email: string; ip: string }): Promise<SignInReservation> {
  return reserve(tx, counterKeys(options.email, options.ip));
}

/**
 * The same limits for second factors (TOTP codes, recovery codes, passkeys), on counters of their
 * own: whoever knows the password gets no more guesses at a 6-digit code than at the password.
 * Counted per user, since the second step knows who it is for.
 */
export function reserveSecondFactorAttempt(tx: SqlExecutor, options: { userId: string; ip: string }): Promise<SignInReservation> {
  return reserve(tx, secondFactorCounterKeys(options.userId, options.ip));
}

function secondFactorCounterKeys(userId: string, ip: string): CounterKeys {
  return { account: `second_factor:${sha256Hex(userId)}`, emailAndIp: `second_factor_ip:${sha256Hex(`${userId}\n${ip}`)}` };
}

async function reserve(tx: SqlExecutor, keys: CounterKeys): Promise<SignInReservation> {
  // Always the account counter first: one lock order, no deadlock between concurrent attempts.
  const account = await countAttempt(tx, keys.account, SIGN_IN_LIMITS.perAccount);
  if (account.failures > SIGN_IN_LIMITS.perAccount.maxFailures) {
    return { allowed: false, retryAfterSeconds: account.retry_after_seconds };
  }
  const emailAndIp = await countAttempt(tx, keys.emailAndIp, SIGN_IN_LIMITS.perEmailAndIp);
  if (emailAndIp.failures > SIGN_IN_LIMITS.perEmailAndIp.maxFailures) {
    await refund(tx, keys.account);
    return { allowed: false, retryAfterSeconds: emailAndIp.retry_after_seconds };
  }
  return {
    allowed: true,
    isLastBeforeAccountCeiling: account.failures === SIGN_IN_LIMITS.perAccount.maxFailures,
    accountWindowEndsAt: account.window_ends_at,
  };
}

/**
 * After a correct password: the (email, IP) counter starts again, and the account gets back the
 * attempt that was reserved. Other addresses' failures stay counted — a correct sign-in by the owner
 * must not hand an attacker elsewhere a fresh allowance.
 */
export function settleSuccessfulSignIn(tx: SqlExecutor, options: { email: string; ip: string }): Promise<void> {
  return settle(tx, counterKeys(options.email, options.ip));
}

/** After a correct second factor, as `settleSuccessfulSignIn` after a correct password. */
export function settleSuccessfulSecondFactor(tx: SqlExecutor, options: { userId: string; ip: string }): Promise<void> {
  return settle(tx, secondFactorCounterKeys(options.userId, options.ip));
}

async function settle(tx: SqlExecutor, keys: CounterKeys): Promise<void> {
  await refund(tx, keys.account);
  await tx.query('DELETE FROM rampart.sign_in_failures WHERE key = $1', [keys.emailAndIp]);
}
