import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { publicLink, recordAccountEvent, type AccountServices, type RequestOrigin } from '../auth/account-services.js';
import { continueAsUser } from '../db/database.js';
import type { SqlExecutor } from '../db/driver.js';
import { generateToken, hashToken, isTokenShaped } from '../crypto/tokens.js';
import { secondFactorFailedMessage } from '../mail/index.js';
import { createSession, loadSessionUser, type Session, type SessionUser } from '../sessions/sessions.js';
import { secondFactorMethods, type FactorSummary, type SecondFactorMethod } from './factors.js';
import { passkeyAssertionOptions, userCredentials } from './passkeys.js';
import { checkSecondFactor, notifyRecoveryCodeUsed, type SecondFactorProof } from './second-factor.js';

/** The second step must follow the password within five minutes. */
export const MFA_CHALLENGE_TTL_SECONDS = 5 * 60;
/** Wrong second factors one sign-in may try before its password step must be repeated. */
export const MFA_CHALLENGE_MAX_FAILURES = 5;

export interface MfaChallenge {
  /** Handed to the client once; only its hash is stored. Not a session: it opens nothing but the second step. */
  mfaToken: string;
  methods: SecondFactorMethod[];
  /** Present when the user has passkeys: the options for `navigator.credentials.get`. */
  passkeyOptions?: PublicKeyCredentialRequestOptionsJSON;
}

/**
 * Starts the second step of a sign-in whose password was right (context: the user). With passkeys,
 * the assertion options are issued at once, their challenge stored (hashed) with the token.
 */
export async function issueMfaChallenge(
  services: AccountServices,
  tx: SqlExecutor,
  options: { userId: string; factors: FactorSummary },
): Promise<MfaChallenge> {
  const mfaToken = generateToken();
  const passkey = options.factors.passkeys > 0 ? await passkeyAssertionOptions(services.mfa, await userCredentials(tx, options.userId)) : undefined;
  await tx.query(
    `INSERT INTO rampart.mfa_challenges (token_hash, user_id, passkey_challenge_hash, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [hashToken(mfaToken), options.userId, passkey?.challengeHash ?? null, MFA_CHALLENGE_TTL_SECONDS],
  );
  return {
    mfaToken,
    methods: secondFactorMethods(options.factors),
    ...(passkey === undefined ? {} : { passkeyOptions: passkey.options }),
  };
}

/** The second factor of a sign-in, as the client sends it (a passkey answers the challenge issued with the token). */
export type SecondStepProof =
  | { method: 'totp'; code: string }
  | { method: 'recovery_code'; code: string }
  | { method: 'passkey'; response: AuthenticationResponseJSON };

export type MfaSignInResult =
  | { status: 'signed_in'; user: SessionUser; session: Session; token: string }
  /** Unknown, expired, already used, or spent on too many wrong factors: sign in again. */
  | { status: 'invalid_token' }
  | { status: 'throttled'; retryAfterSeconds: number }
  | { status: 'rejected' };

interface ChallengeRow {
  user_id: string;
  passkey_challenge_hash: string | null;
  failed_attempts: number;
  is_live: boolean;
}

/**
 * Completes a sign-in with the token of its first step and a second factor. The token is used up
 * by the sign-in it completes; a wrong factor leaves it usable until it has failed
 * `MFA_CHALLENGE_MAX_FAILURES` times or expired. The token only reaches its own row, and the factor
 * is checked against that row's user: another user's code, recovery code or passkey is wrong here.
 *
 * @example
 * const result = await completeMfaSignIn(services, { mfaToken, proof: { method: 'totp', code } }, origin);
 */
export async function completeMfaSignIn(
  services: AccountServices,
  input: { mfaToken: string; proof: SecondStepProof },
  origin: RequestOrigin,
): Promise<MfaSignInResult> {
  if (!isTokenShaped(input.mfaToken)) return { status: 'invalid_token' };
  const tokenHash = hashToken(input.mfaToken);
  const outcome = await services.database.withTenant({ lookupKey: tokenHash }, async (tx) => {
    const { rows } = await tx.query<ChallengeRow>(
      `SELECT user_id, passkey_challenge_hash, failed_attempts, expires_at > now() AS is_live
         FROM rampart.mfa_challenges WHERE token_hash = $1 FOR UPDATE`,
      [tokenHash],
    );
    const challenge = rows[0];
    if (challenge === undefined) return { result: { status: 'invalid_token' as const } };
    if (!challenge.is_live) {
      await tx.query('DELETE FROM rampart.mfa_challenges WHERE token_hash = $1', [tokenHash]);
      return { result: { status: 'invalid_token' as const } };
    }
    const userId = challenge.user_id;
    await continueAsUser(tx, userId);
    const user = await loadSessionUser(tx, userId);
    const proof = await proofWithChallenge(tx, tokenHash, challenge, input.proof);
    const verdict = await checkSecondFactor(services, tx, { userId, proof, origin, purpose: 'sign_in' });
    if (verdict.ok) {
      await tx.query('DELETE FROM rampart.mfa_challenges WHERE token_hash = $1', [tokenHash]);
      const { session, token } = await createSession(tx, { userId, policy: services.sessionPolicy, origin, authLevel: 'multi_factor' });
      await recordAccountEvent(services, tx, {
        userId,
        action: 'account.signed_in',
        origin,
        details: { sessionId: session.id, method: verdict.method },
      });
      return { user, verdict, result: { status: 'signed_in' as const, user, session, token } };
    }
    if (verdict.reason === 'throttled') return { result: { status: 'throttled' as const, retryAfterSeconds: verdict.retryAfterSeconds } };
    if (challenge.failed_attempts + 1 >= MFA_CHALLENGE_MAX_FAILURES) {
      await tx.query('DELETE FROM rampart.mfa_challenges WHERE token_hash = $1', [tokenHash]);
    } else {
      await tx.query('UPDATE rampart.mfa_challenges SET failed_attempts = failed_attempts + 1 WHERE token_hash = $1', [tokenHash]);
    }
    return { user, verdict, isFirstFailure: challenge.failed_attempts === 0, result: { status: 'rejected' as const } };
  });
  if (outcome.user !== undefined && outcome.verdict !== undefined) notifyRecoveryCodeUsed(services, outcome.user, outcome.verdict);
  if (outcome.user !== undefined && outcome.isFirstFailure === true) notifyPasswordKnown(services, outcome.user);
  return outcome.result;
}

/**
 * A passkey answers the challenge issued with the token, which is used up by this attempt whatever
 * its outcome (WebAuthn challenges are single use); without one, the passkey cannot be right.
 */
async function proofWithChallenge(tx: SqlExecutor, tokenHash: string, challenge: ChallengeRow, proof: SecondStepProof): Promise<SecondFactorProof> {
  if (proof.method !== 'passkey') return proof;
  if (challenge.passkey_challenge_hash !== null) {
    await tx.query('UPDATE rampart.mfa_challenges SET passkey_challenge_hash = NULL WHERE token_hash = $1', [tokenHash]);
  }
  // No stored challenge: a hash that no challenge string can have, so the assertion fails verification.
  return { method: 'passkey', response: proof.response, challengeHash: challenge.passkey_challenge_hash ?? 'none' };
}

/** The password was right but the second factor was not: whoever tried knows the password. */
function notifyPasswordKnown(services: AccountServices, user: { email: string; name: string }): void {
  const message = secondFactorFailedMessage({ name: user.name, resetLink: publicLink(services, '/forgot-password') });
  services.background.run('tell a user their password was used with a wrong second factor', () =>
    services.mailer.send({ to: user.email, ...message }),
  );
}
