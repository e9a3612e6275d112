import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/**
 * What every authenticator app (Google Authenticator, Authy, 1Password) agrees on: RFC 6238 with
 * HMAC-SHA-1, 6 digits, a 30-second step. SHA-1 is fine inside HMAC; other settings are ignored by
 * some apps, which would then show codes that never match.
 */
export const TOTP_SETTINGS = { algorithm: 'SHA1', digits: 6, periodSeconds: 30 } as const;
/** A code of the step before or after the current one is accepted (clock drift); two steps away is not. */
export const TOTP_WINDOW_STEPS = 1;
/** 160 bits: the key size RFC 4226 recommends for HMAC-SHA-1. */
export const TOTP_SECRET_BYTES = 20;

export interface TotpParameters {
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  digits: number;
  periodSeconds: number;
}

export function newTotpSecret(): Buffer {
  return randomBytes(TOTP_SECRET_BYTES);
}

/** The secret as authenticator apps take it when typed: base32 without padding. */
export function totpSecretBase32(secret: Buffer): string {
  return new Secret({ buffer: toArrayBuffer(secret) }).base32;
}

/** The `otpauth://totp/…` URI the console renders as a QR code. */
export function totpUri(secret: Buffer, options: { issuer: string; accountName: string }): string {
  return new TOTP({
    issuer: options.issuer,
    label: options.accountName,
    secret: new Secret({ buffer: toArrayBuffer(secret) }),
    algorithm: TOTP_SETTINGS.algorithm,
    digits: TOTP_SETTINGS.digits,
    period: TOTP_SETTINGS.periodSeconds,
  }).toString();
}

/** The code for a moment (RFC 6238 §4), for any of the RFC's parameter sets. */
export function totpCodeAt(secret: Buffer, timeMs: number, parameters: TotpParameters = TOTP_SETTINGS): string {
  return TOTP.generate({
    secret: new Secret({ buffer: toArrayBuffer(secret) }),
    algorithm: parameters.algorithm,
    digits: parameters.digits,
    period: parameters.periodSeconds,
    timestamp: timeMs,
  });
}

/**
 * Finds the time step a typed code belongs to, within one step of `timeMs`, or undefined. The caller
 * accepts a step only if it is later than the last one accepted: that is what makes a code single use.
 *
 * @example
 * const step = matchTotpStep(secret, body.code, Date.now());
 * if (step === undefined || step <= lastUsedStep) refuse();
 */
export function matchTotpStep(secret: Buffer, code: string, timeMs: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = TOTP.validate({
    token: code,
    secret: new Secret({ buffer: toArrayBuffer(secret) }),
    algorithm: TOTP_SETTINGS.algorithm,
    digits: TOTP_SETTINGS.digits,
    period: TOTP_SETTINGS.periodSeconds,
    timestamp: timeMs,
    window: TOTP_WINDOW_STEPS,
  });
  if (delta === null) return undefined;
  return TOTP.counter({ period: TOTP_SETTINGS.periodSeconds, timestamp: timeMs }) + delta;
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
