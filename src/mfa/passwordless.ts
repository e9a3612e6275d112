import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { recordAccountEvent, type AccountServices, type RequestOrigin } from '../auth/account-services.js';
import { continueAsUser } from '../db/database.js';
import { hashToken } from '../crypto/tokens.js';
import { createSession, loadSessionUser, type Session, type SessionUser } from '../sessions/sessions.js';
import {
  challengeOf,
  consumeChallenge,
  passkeyAssertionOptions,
  passkeyLookupKey,
  passkeyOwner,
  storeChallenge,
  verifyPasskeyAssertion,
} from './passkeys.js';

/**
 * Options for a passwordless sign-in: no user is named (the browser offers the passkeys it holds for
 * this site), and the challenge is stored without a user, reachable only by its own hash.
 */
export async function startPasskeySignIn(services: AccountServices): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { options, challengeHash } = await passkeyAssertionOptions(services.mfa, []);
  await services.database.withTenant({ lookupKey: challengeHash }, (tx) =>
    storeChallenge(tx, { challengeHash, purpose: 'sign_in', userId: null }),
  );
  return options;
}

export type PasskeySignInResult = { status: 'signed_in'; user: SessionUser; session: Session; token: string } | { status: 'rejected' };

/**
 * Signs in with a passkey alone. A passkey with user verification is two factors in one (the device,
 * and the PIN or biometric that unlocks it), so the session is multi-factor. The challenge is used up
 * before anything else; then the passkey the response names is found through its credential id (the
 * only row that lookup reaches) and the rest runs as its owner.
 */
export async function signInWithPasskey(
  services: AccountServices,
  response: AuthenticationResponseJSON,
  origin: RequestOrigin,
): Promise<PasskeySignInResult> {
  const challenge = challengeOf(response);
  if (challenge === undefined) return { status: 'rejected' };
  const challengeHash = hashToken(challenge);
  const isLive = await services.database.withTenant({ lookupKey: challengeHash }, (tx) =>
    consumeChallenge(tx, { challengeHash, purpose: 'sign_in', userId: null }),
  );
  if (!isLive) return { status: 'rejected' };
  return services.database.withTenant({ lookupKey: passkeyLookupKey(response.id) }, async (tx) => {
    const userId = await passkeyOwner(tx, response.id);
    if (userId === undefined) return { status: 'rejected' as const };
    await continueAsUser(tx, userId);
    const assertion = await verifyPasskeyAssertion(services.mfa, tx, { userId, response, challengeHash });
    if (assertion.status !== 'verified') {
      if (assertion.status === 'clone_suspected') {
        await recordAccountEvent(services, tx, {
          userId,
          action: 'account.passkey_clone_suspected',
          origin,
          details: { purpose: 'sign_in', passkeyId: assertion.passkeyId },
        });
      }
      await recordAccountEvent(services, tx, { userId, action: 'account.sign_in_failed', origin, details: { method: 'passkey' } });
      return { status: 'rejected' as const };
    }
    const user = await loadSessionUser(tx, userId);
    const { session, token } = await createSession(tx, { userId, policy: services.sessionPolicy, origin, authLevel: 'multi_factor' });
    await recordAccountEvent(services, tx, { userId, action: 'account.signed_in', origin, details: { sessionId: session.id, method: 'passkey' } });
    return { status: 'signed_in' as const, user, session, token };
  });
}
