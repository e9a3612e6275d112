import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { publicLink, recordAccountEvent, type AccountServices, type RequestOrigin } from '../auth/account-services.js';
import { reserveSecondFactorAttempt, settleSuccessfulSecondFactor } from '../auth/sign-in-throttle.js';
import type { SqlExecutor } from '../db/driver.js';
import { recoveryCodeUsedMessage } from '../mail/index.js';
import { checkTotpCode, consumeRecoveryCode, type SecondFactorMethod } from './factors.js';
import { verifyPasskeyAssertion } from './passkeys.js';

/** What a user presents as their second factor. */
export type SecondFactorProof =
  | { method: 'totp'; code: string }
  | { method: 'recovery_code'; code: string }
  /** `challengeHash`: the challenge issued for this step, already used up by the caller. */
  | { method: 'passkey'; response: AuthenticationResponseJSON; challengeHash: string };

export type SecondFactorVerdict =
  | { ok: true; method: SecondFactorMethod; recoveryCodesRemaining?: number }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number }
  | { ok: false; reason: 'wrong' | 'replayed' }
  | { ok: false; reason: 'clone_suspected'; passkeyId: string };

/**
 * Checks a second factor of `userId` inside the caller's transaction (context: that user), counted
 * against the second-factor limits before it is checked (a refused attempt is neither checked nor
 * recorded). A checked failure, and a recovery code's use, are recorded in the user's log in the
 * same transaction, so the caller must commit a failure too (return, not throw): the counted attempt
 * and the record are what stop guessing.
 *
 * @example
 * const verdict = await checkSecondFactor(services, tx, { userId, proof: { method: 'totp', code }, origin });
 */
export async function checkSecondFactor(
  services: AccountServices,
  tx: SqlExecutor,
  options: { userId: string; proof: SecondFactorProof; origin: RequestOrigin; purpose: 'sign_in' | 'step_up' },
): Promise<SecondFactorVerdict> {
  const { userId, proof, origin } = options;
  const reservation = await reserveSecondFactorAttempt(tx, { userId, ip: origin.ip });
  if (!reservation.allowed) return { ok: false, reason: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };
  const verdict = await verify(services, tx, userId, proof);
  const details = { method: proof.method, purpose: options.purpose };
  if (verdict.ok) {
    await settleSuccessfulSecondFactor(tx, { userId, ip: origin.ip });
    if (verdict.method === 'recovery_code') {
      await recordAccountEvent(services, tx, {
        userId,
        action: 'account.recovery_code_used',
        origin,
        details: { ...details, remaining: verdict.recoveryCodesRemaining ?? 0 },
      });
    }
    return verdict;
  }
  if (verdict.reason === 'replayed') {
    await recordAccountEvent(services, tx, { userId, action: 'account.totp_code_replayed', origin, details });
  } else if (verdict.reason === 'clone_suspected') {
    await recordAccountEvent(services, tx, { userId, action: 'account.passkey_clone_suspected', origin, details: { ...details, passkeyId: verdict.passkeyId } });
  }
  await recordAccountEvent(services, tx, { userId, action: 'account.second_factor_failed', origin, details: { ...details, reason: verdict.reason } });
  if (reservation.isLastBeforeAccountCeiling) {
    // The user's ceiling of wrong second factors is reached: sign-in and step-up pause for the window.
    await recordAccountEvent(services, tx, { userId, action: 'account.locked', origin, details: { factor: 'second_factor' } });
  }
  return verdict;
}

async function verify(services: AccountServices, tx: SqlExecutor, userId: string, proof: SecondFactorProof): Promise<SecondFactorVerdict> {
  switch (proof.method) {
    case 'totp': {
      const check = await checkTotpCode(services.mfa, tx, { userId, code: proof.code });
      if (check === 'accepted') return { ok: true, method: 'totp' };
      return { ok: false, reason: check };
    }
    case 'recovery_code': {
      const remaining = await consumeRecoveryCode(services.mfa, tx, { userId, code: proof.code });
      return remaining === undefined ? { ok: false, reason: 'wrong' } : { ok: true, method: 'recovery_code', recoveryCodesRemaining: remaining };
    }
    case 'passkey': {
      const assertion = await verifyPasskeyAssertion(services.mfa, tx, { userId, response: proof.response, challengeHash: proof.challengeHash });
      if (assertion.status === 'verified') return { ok: true, method: 'passkey' };
      if (assertion.status === 'clone_suspected') return { ok: false, reason: 'clone_suspected', passkeyId: assertion.passkeyId };
      return { ok: false, reason: 'wrong' };
    }
  }
}

/** After the transaction committed: a used recovery code is never silent. */
export function notifyRecoveryCodeUsed(
  services: AccountServices,
  user: { email: string; name: string },
  verdict: SecondFactorVerdict,
): void {
  if (!verdict.ok || verdict.method !== 'recovery_code') return;
  const message = recoveryCodeUsedMessage({
    name: user.name,
    remaining: verdict.recoveryCodesRemaining ?? 0,
    resetLink: publicLink(services, '/forgot-password'),
  });
  services.background.run('tell a user a recovery code was used', () => services.mailer.send({ to: user.email, ...message }));
}
