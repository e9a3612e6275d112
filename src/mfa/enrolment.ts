import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { publicLink, recordAccountEvent, type AccountServices, type RequestOrigin } from '../auth/account-services.js';
import type { SqlExecutor } from '../db/driver.js';
import { securityFactorChangedMessage, type FactorChange } from '../mail/index.js';
import { markSessionAuthenticated, type SessionUser } from '../sessions/sessions.js';
import {
  checkTotpCode,
  hasSecondFactor,
  loadFactorSummary,
  lockFactorChanges,
  replaceRecoveryCodes,
  sealTotpSecret,
  settleAfterFactorRemoved,
  type FactorSummary,
} from './factors.js';
import { finishPasskeyRegistration, removePasskey, renamePasskey, type PasskeySummary } from './passkeys.js';
import { newTotpSecret, totpSecretBase32, totpUri } from './totp.js';

/**
 * Enrolling and removing second factors. Each change is audited in the transaction that makes it
 * and emailed to the user after it commits: an attacker who adds their own factor, or removes the
 * owner's, is seen.
 */

/** The signed-in user and session a change is made for. */
export interface FactorOwner {
  user: SessionUser;
  sessionId: string;
  origin: RequestOrigin;
}

function notifyFactorChanged(services: AccountServices, user: SessionUser, change: FactorChange): void {
  const message = securityFactorChangedMessage({ name: user.name, change, resetLink: publicLink(services, '/forgot-password') });
  services.background.run('tell a user a sign-in factor changed', () => services.mailer.send({ to: user.email, ...message }));
}

/**
 * A first factor comes with a first set of recovery codes, and the session that proved possession of
 * it counts as multi-factor from now on. Later factors leave an existing set alone.
 */
async function afterFactorAdded(services: AccountServices, tx: SqlExecutor, owner: FactorOwner, before: FactorSummary): Promise<string[] | null> {
  await markSessionAuthenticated(tx, { sessionId: owner.sessionId, authLevel: 'multi_factor' });
  if (hasSecondFactor(before) && before.recoveryCodesRemaining > 0) return null;
  const codes = await replaceRecoveryCodes(services.mfa, tx, owner.user.id);
  await recordAccountEvent(services, tx, { userId: owner.user.id, action: 'account.recovery_codes_generated', origin: owner.origin });
  return codes;
}

export type TotpStart = { status: 'started'; secret: string; uri: string } | { status: 'already_enabled' };

/** Starts (or restarts) enrolling an authenticator app: a new secret, sealed, waiting for its first code. */
export async function startTotpEnrolment(services: AccountServices, owner: FactorOwner): Promise<TotpStart> {
  const userId = owner.user.id;
  return services.database.withTenant({ userId }, async (tx) => {
    const secret = newTotpSecret();
    const { rowCount } = await tx.query(
      `INSERT INTO rampart.totp_credentials (user_id, secret_ciphertext) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = EXCLUDED.secret_ciphertext, created_at = now(), last_used_step = NULL
       WHERE rampart.totp_credentials.confirmed_at IS NULL`,
      [userId, sealTotpSecret(services.mfa, userId, secret)],
    );
    if (rowCount === 0) return { status: 'already_enabled' as const };
    return {
      status: 'started' as const,
      secret: totpSecretBase32(secret),
      uri: totpUri(secret, { issuer: services.mfa.issuer, accountName: owner.user.email }),
    };
  });
}

export type TotpConfirmation = { status: 'enabled'; recoveryCodes: string[] | null } | { status: 'no_enrolment' } | { status: 'wrong_code' };

/** Activates the authenticator app being enrolled, once it produced a valid code. */
export async function confirmTotpEnrolment(services: AccountServices, owner: FactorOwner, code: string): Promise<TotpConfirmation> {
  const userId = owner.user.id;
  const result = await services.database.withTenant({ userId }, async (tx) => {
    await lockFactorChanges(tx, userId);
    const { rows } = await tx.query('SELECT 1 FROM rampart.totp_credentials WHERE user_id = $1 AND confirmed_at IS NULL', [userId]);
    if (rows.length === 0) return { status: 'no_enrolment' as const };
    const before = await loadFactorSummary(tx, userId);
    const check = await checkTotpCode(services.mfa, tx, { userId, code, pending: true });
    if (check !== 'accepted') {
      await recordAccountEvent(services, tx, {
        userId,
        action: 'account.second_factor_failed',
        origin: owner.origin,
        details: { method: 'totp', purpose: 'enrolment', reason: check },
      });
      return { status: 'wrong_code' as const };
    }
    await tx.query('UPDATE rampart.totp_credentials SET confirmed_at = now() WHERE user_id = $1', [userId]);
    await recordAccountEvent(services, tx, { userId, action: 'account.totp_enabled', origin: owner.origin });
    return { status: 'enabled' as const, recoveryCodes: await afterFactorAdded(services, tx, owner, before) };
  });
  if (result.status === 'enabled') notifyFactorChanged(services, owner.user, 'totp_enabled');
  return result;
}

/** Removes the authenticator app (confirmed or pending). False when there is none. */
export async function disableTotp(services: AccountServices, owner: FactorOwner): Promise<boolean> {
  const userId = owner.user.id;
  const wasConfirmed = await services.database.withTenant({ userId }, async (tx) => {
    await lockFactorChanges(tx, userId);
    const { rows } = await tx.query<{ confirmed: boolean }>(
      'DELETE FROM rampart.totp_credentials WHERE user_id = $1 RETURNING confirmed_at IS NOT NULL AS confirmed',
      [userId],
    );
    if (rows[0] === undefined) return undefined;
    if (rows[0].confirmed) await recordAccountEvent(services, tx, { userId, action: 'account.totp_disabled', origin: owner.origin });
    await settleAfterFactorRemoved(tx, userId);
    return rows[0].confirmed;
  });
  if (wasConfirmed === true) notifyFactorChanged(services, owner.user, 'totp_disabled');
  return wasConfirmed !== undefined;
}

/** A new set of recovery codes, invalidating the previous set; undefined when the user has no second factor. */
export async function regenerateRecoveryCodes(services: AccountServices, owner: FactorOwner): Promise<string[] | undefined> {
  const userId = owner.user.id;
  const codes = await services.database.withTenant({ userId }, async (tx) => {
    await lockFactorChanges(tx, userId);
    if (!hasSecondFactor(await loadFactorSummary(tx, userId))) return undefined;
    const fresh = await replaceRecoveryCodes(services.mfa, tx, userId);
    await recordAccountEvent(services, tx, { userId, action: 'account.recovery_codes_generated', origin: owner.origin });
    return fresh;
  });
  if (codes !== undefined) notifyFactorChanged(services, owner.user, 'recovery_codes_regenerated');
  return codes;
}

export type PasskeyAdded = { status: 'registered'; passkey: PasskeySummary; recoveryCodes: string[] | null } | { status: 'rejected' };

/** Registers a passkey from the browser's response to the registration options. */
export async function addPasskey(
  services: AccountServices,
  owner: FactorOwner,
  input: { name: string; response: RegistrationResponseJSON },
): Promise<PasskeyAdded> {
  const userId = owner.user.id;
  const result = await services.database.withTenant({ userId }, async (tx) => {
    await lockFactorChanges(tx, userId);
    const before = await loadFactorSummary(tx, userId);
    const registration = await finishPasskeyRegistration(services.mfa, tx, { userId, ...input });
    // The used-up challenge must stay used up: a refusal commits too.
    if (registration.status === 'rejected') return registration;
    await recordAccountEvent(services, tx, {
      userId,
      action: 'account.passkey_added',
      origin: owner.origin,
      details: { passkeyId: registration.passkey.id, deviceType: registration.passkey.deviceType },
    });
    return { ...registration, recoveryCodes: await afterFactorAdded(services, tx, owner, before) };
  });
  if (result.status === 'registered') notifyFactorChanged(services, owner.user, 'passkey_added');
  return result;
}

export async function renameUserPasskey(
  services: AccountServices,
  owner: FactorOwner,
  input: { passkeyId: string; name: string },
): Promise<PasskeySummary | undefined> {
  const userId = owner.user.id;
  return services.database.withTenant({ userId }, async (tx) => {
    const renamed = await renamePasskey(tx, { userId, ...input });
    if (renamed !== undefined) {
      await recordAccountEvent(services, tx, { userId, action: 'account.passkey_renamed', origin: owner.origin, details: { passkeyId: renamed.id } });
    }
    return renamed;
  });
}

export async function removeUserPasskey(services: AccountServices, owner: FactorOwner, passkeyId: string): Promise<boolean> {
  const userId = owner.user.id;
  const removed = await services.database.withTenant({ userId }, async (tx) => {
    await lockFactorChanges(tx, userId);
    const passkey = await removePasskey(tx, { userId, passkeyId });
    if (passkey === undefined) return false;
    await recordAccountEvent(services, tx, { userId, action: 'account.passkey_removed', origin: owner.origin, details: { passkeyId } });
    await settleAfterFactorRemoved(tx, userId);
    return true;
  });
  if (removed) notifyFactorChanged(services, owner.user, 'passkey_removed');
  return removed;
}
