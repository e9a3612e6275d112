import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { recordAccountEvent, type AccountServices, type RequestOrigin } from '../auth/account-services.js';
import { checkCurrentPassword } from '../auth/passwords.js';
import { hashToken } from '../crypto/tokens.js';
import { markSessionAuthenticated, type AuthLevel, type SessionUser } from '../sessions/sessions.js';
import { hasSecondFactor, loadFactorSummary } from './factors.js';
import { challengeOf, consumeChallenge, passkeyAssertionOptions, storeChallenge, userCredentials } from './passkeys.js';
import { checkSecondFactor, notifyRecoveryCodeUsed, type SecondFactorProof } from './second-factor.js';
import type { SecondStepProof } from './second-step.js';

/** How a signed-in user confirms who they are again: the password when they have no second factor, else the second factor. */
export type StepUpProof = { method: 'password'; password: string } | SecondStepProof;

export type StepUpResult =
  | { status: 'stepped_up'; authLevel: AuthLevel }
  | { status: 'second_factor_required' }
  | { status: 'wrong_password' }
  | { status: 'rejected' }
  | { status: 'throttled'; retryAfterSeconds: number };

/**
 * Whether the session's last authentication is recent and strong enough for a sensitive action: no
 * older than the step-up window, and with a second factor whenever the user has one (a password-only
 * session of a user who has since enrolled one does not count).
 */
export async function isRecentlyAuthenticated(
  services: AccountServices,
  auth: { user: { id: string }; session: { authLevel: AuthLevel; authenticationAgeSeconds: number } },
): Promise<boolean> {
  if (auth.session.authenticationAgeSeconds > services.mfa.stepUpWindowSeconds) return false;
  if (auth.session.authLevel === 'multi_factor') return true;
  const factors = await services.database.withTenant({ userId: auth.user.id }, (tx) => loadFactorSummary(tx, auth.user.id));
  return !hasSecondFactor(factors);
}

/**
 * Options for stepping up with a passkey: a challenge for this user, for the user's passkeys; or
 * undefined when the user has none (no challenge is stored then).
 */
export async function startPasskeyStepUp(services: AccountServices, userId: string): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
  return services.database.withTenant({ userId }, async (tx) => {
    const credentials = await userCredentials(tx, userId);
    if (credentials.length === 0) return undefined;
    const { options, challengeHash } = await passkeyAssertionOptions(services.mfa, credentials);
    await storeChallenge(tx, { challengeHash, purpose: 'step_up', userId });
    return options;
  });
}

/**
 * Re-authenticates the user of a session: afterwards the session's authentication time is now, and
 * its level is what the proof reached. A user with a second factor must use it (a stolen password
 * plus a stolen session is not enough); wrong proofs count against the same limits as sign-in.
 *
 * @example
 * const result = await stepUp(services, { user, sessionId, proof: { method: 'totp', code } }, origin);
 */
export async function stepUp(
  services: AccountServices,
  input: { user: SessionUser; sessionId: string; proof: StepUpProof },
  origin: RequestOrigin,
): Promise<StepUpResult> {
  const { user, sessionId, proof } = input;
  if (proof.method === 'password') return stepUpWithPassword(services, { user, sessionId, password: proof.password }, origin);
  const outcome = await services.database.withTenant({ userId: user.id }, async (tx) => {
    const factors = await loadFactorSummary(tx, user.id);
    if (!hasSecondFactor(factors)) return { result: { status: 'rejected' as const } };
    let checked: SecondFactorProof;
    if (proof.method === 'passkey') {
      const challenge = challengeOf(proof.response);
      if (challenge === undefined) return { result: { status: 'rejected' as const } };
      const challengeHash = hashToken(challenge);
      if (!(await consumeChallenge(tx, { challengeHash, purpose: 'step_up', userId: user.id }))) return { result: { status: 'rejected' as const } };
      checked = { method: 'passkey', response: proof.response, challengeHash };
    } else {
      checked = proof;
    }
    const verdict = await checkSecondFactor(services, tx, { userId: user.id, proof: checked, origin, purpose: 'step_up' });
    if (!verdict.ok) {
      if (verdict.reason === 'throttled') return { result: { status: 'throttled' as const, retryAfterSeconds: verdict.retryAfterSeconds } };
      return { result: { status: 'rejected' as const } };
    }
    await markSessionAuthenticated(tx, { sessionId, authLevel: 'multi_factor' });
    await recordAccountEvent(services, tx, { userId: user.id, action: 'account.stepped_up', origin, details: { sessionId, method: verdict.method } });
    return { verdict, result: { status: 'stepped_up' as const, authLevel: 'multi_factor' as const } };
  });
  if (outcome.verdict !== undefined) notifyRecoveryCodeUsed(services, user, outcome.verdict);
  return outcome.result;
}

async function stepUpWithPassword(
  services: AccountServices,
  input: { user: SessionUser; sessionId: string; password: string },
  origin: RequestOrigin,
): Promise<StepUpResult> {
  const { user, sessionId } = input;
  const factors = await services.database.withTenant({ userId: user.id }, (tx) => loadFactorSummary(tx, user.id));
  if (hasSecondFactor(factors)) return { status: 'second_factor_required' };
  const current = await checkCurrentPassword(services, { userId: user.id, password: input.password }, origin);
  if (current.status === 'throttled') return current;
  if (current.status === 'wrong_current_password') return { status: 'wrong_password' };
  await services.database.withTenant({ userId: user.id }, async (tx) => {
    await markSessionAuthenticated(tx, { sessionId, authLevel: 'single_factor' });
    await recordAccountEvent(services, tx, { userId: user.id, action: 'account.stepped_up', origin, details: { sessionId, method: 'password' } });
  });
  return { status: 'stepped_up', authLevel: 'single_factor' };
}
