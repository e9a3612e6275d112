import type { SqlExecutor } from '../db/driver.js';
import { hashPassword, verifyAgainstDummyHash, verifyPassword } from '../crypto/password-hash.js';
import { accountLockedMessage } from '../mail/index.js';
import { hasSecondFactor, loadFactorSummary } from '../mfa/factors.js';
import { issueMfaChallenge, type MfaChallenge } from '../mfa/second-step.js';
import { createSession, type Session, type SessionUser } from '../sessions/sessions.js';
import {
  emailLookupKey,
  publicLink,
  recordAccountEvent,
  type AccountServices,
  type RequestOrigin,
} from './account-services.js';
import type { PasswordWorkTicket } from './password-work-queue.js';
import { reserveSignInAttempt, settleSuccessfulSignIn } from './sign-in-throttle.js';

export type SignInResult =
  | { status: 'signed_in'; user: SessionUser; session: Session; token: string }
  /** The password was right and the account has a second factor: no session yet, a second step is owed. */
  | { status: 'mfa_required'; challenge: MfaChallenge }
  /** Wrong email or wrong password: deliberately one outcome. */
  | { status: 'invalid_credentials' }
  | { status: 'throttled'; retryAfterSeconds: number };

interface AccountRow {
  id: string;
  email: string;
  name: string;
  email_verified_at: Date | null;
  created_at: Date;
  password_hash: string | null;
}

/** The failure goes to the account's log; at the account's ceiling, the owner is also emailed. */
export async function recordFailedSignInAndWarnOwner(
  services: AccountServices,
  account: { id: string; email: string; name: string },
  reservation: { isLastBeforeAccountCeiling: boolean; accountWindowEndsAt: Date },
  origin: RequestOrigin,
): Promise<void> {
  await services.database.withTenant({ userId: account.id }, async (tx) => {
    await recordAccountEvent(services, tx, { userId: account.id, action: 'account.sign_in_failed', origin });
    if (reservation.isLastBeforeAccountCeiling) {
      await recordAccountEvent(services, tx, { userId: account.id, action: 'account.locked', origin });
    }
  });
  if (reservation.isLastBeforeAccountCeiling) {
    const message = accountLockedMessage({
      name: account.name,
      resetLink: publicLink(services, '/forgot-password'),
      unlockAt: reservation.accountWindowEndsAt,
    });
    await services.mailer.send({ to: account.email, ...message });
  }
}

/**
 * Checks an email and password and, when they match, starts a new session.
 *
 * The attempt is counted before the password is checked (see sign-in-throttle.ts), and a refused
 * attempt costs no hash. An unknown email runs the same password hash against a dummy, so both
 * failures take the same time and say the same thing.
 *
 * @example
 * const result = await signIn(services, { email, password }, origin);
 * if (result.status === 'signed_in') setSessionCookies(reply, result);
 */
export async function signIn(
  services: AccountServices,
  input: { email: string; password: string },
  origin: RequestOrigin,
): Promise<SignInResult> {
  // A place in the password queue comes first, before any database work: in a flood, the requests
  // beyond the queue's capacity are refused with 503 at once, and cost neither a transaction nor a hash.
  const passwordWork = services.passwordWork.admit();
  try {
    return await checkPasswordAndStartSession(services, input, origin, passwordWork);
  } finally {
    passwordWork.release();
  }
}

async function checkPasswordAndStartSession(
  services: AccountServices,
  input: { email: string; password: string },
  origin: RequestOrigin,
  passwordWork: PasswordWorkTicket,
): Promise<SignInResult> {
  const lookupKey = emailLookupKey(input.email);
  const attempt = await services.database.withTenant({ lookupKey }, async (tx) => {
    const reservation = await reserveSignInAttempt(tx, { email: lookupKey, ip: origin.ip });
    if (!reservation.allowed) return { reservation, account: undefined };
    const { rows } = await tx.query<AccountRow>(
      `SELECT u.id, u.email, u.name, u.email_verified_at, u.created_at, c.password_hash
         FROM rampart.users u LEFT JOIN rampart.password_credentials c ON c.user_id = u.id
        WHERE lower(u.email) = $1`,
      [lookupKey],
    );
    return { reservation, account: rows[0] };
  });
  const { reservation, account } = attempt;
  if (!reservation.allowed) return { status: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };

  const verification = await passwordWork.run(async () => {
    if (account?.password_hash == null) {
      await verifyAgainstDummyHash(input.password);
      return { ok: false, needsRehash: false };
    }
    return verifyPassword(account.password_hash, input.password);
  });

  if (account === undefined) return { status: 'invalid_credentials' };
  if (!verification.ok) {
    // Recorded after the response: done before it, the write would make a wrong password for a real
    // account measurably slower than an unknown email, and the clock would tell which addresses exist.
    services.background.run('record a failed sign-in', () => recordFailedSignInAndWarnOwner(services, account, reservation, origin));
    return { status: 'invalid_credentials' };
  }

  // Imported bcrypt hashes and weaker argon2 parameters are replaced now, while the password is known.
  const verifiedHash = account.password_hash!;
  const upgradedHash = verification.needsRehash ? await passwordWork.run(() => hashPassword(input.password)) : undefined;
  return services.database.withTenant({ userId: account.id }, async (tx) => {
    // The hash was checked outside any transaction; if a reset or change replaced it meanwhile, the
    // password just checked is no longer the account's and must not open a session.
    if (!(await lockPasswordHashIfUnchanged(tx, account.id, verifiedHash))) return { status: 'invalid_credentials' as const };
    await settleSuccessfulSignIn(tx, { email: lookupKey, ip: origin.ip });
    if (upgradedHash !== undefined) {
      await tx.query('UPDATE rampart.password_credentials SET password_hash = $2, updated_at = now() WHERE user_id = $1', [
        account.id,
        upgradedHash,
      ]);
    }
    // With a second factor the password only opens the second step; a reset password is no way round it.
    const factors = await loadFactorSummary(tx, account.id);
    if (hasSecondFactor(factors)) {
      const challenge = await issueMfaChallenge(services, tx, { userId: account.id, factors });
      await recordAccountEvent(services, tx, {
        userId: account.id,
        action: 'account.second_factor_requested',
        origin,
        details: { methods: challenge.methods, hashUpgraded: upgradedHash !== undefined },
      });
      return { status: 'mfa_required' as const, challenge };
    }
    const { session, token } = await createSession(tx, { userId: account.id, policy: services.sessionPolicy, origin });
    await recordAccountEvent(services, tx, {
      userId: account.id,
      action: 'account.signed_in',
      origin,
      details: { sessionId: session.id, method: 'password', hashUpgraded: upgradedHash !== undefined },
    });
    return {
      status: 'signed_in' as const,
      session,
      token,
      user: {
        id: account.id,
        email: account.email,
        name: account.name,
        emailVerified: account.email_verified_at !== null,
        createdAt: account.created_at,
      },
    };
  });
}

/**
 * Locks the user's password row until COMMIT and tells whether it still holds `expectedHash`: the
 * guard for work decided on a hash checked outside the transaction.
 */
export async function lockPasswordHashIfUnchanged(tx: SqlExecutor, userId: string, expectedHash: string): Promise<boolean> {
  const { rows } = await tx.query<{ password_hash: string }>(
    'SELECT password_hash FROM rampart.password_credentials WHERE user_id = $1 FOR UPDATE',
    [userId],
  );
  return rows[0]?.password_hash === expectedHash;
}
