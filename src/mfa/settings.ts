import { deriveKey } from '../crypto/tokens.js';
import type { RampartConfig } from '../server/config.js';

/** What the second-factor flows need: keys derived from the master key, and the configured limits. */
export interface MfaSettings {
  /** AES-256-GCM key of the TOTP secrets (never stored in the database). */
  totpSecretKey: Buffer;
  /** HMAC key of the recovery-code hashes. */
  recoveryCodeKey: Buffer;
  /** Sensitive actions need an authentication at most this old. */
  stepUpWindowSeconds: number;
  /** Shown by authenticator apps next to the code, and by the browser's passkey prompt. */
  issuer: string;
  webauthn: { rpId: string; origins: string[] };
}

/** Issuer and relying-party name in authenticator apps and passkey prompts. */
export const MFA_ISSUER = 'Rampart';

export function mfaSettingsFrom(config: Pick<RampartConfig, 'stepUpMinutes' | 'webauthn'>, masterKey: Buffer): MfaSettings {
  return {
    totpSecretKey: deriveKey(masterKey, 'rampart totp secrets v1'),
    recoveryCodeKey: deriveKey(masterKey, 'rampart recovery codes v1'),
    stepUpWindowSeconds: config.stepUpMinutes * 60,
    issuer: MFA_ISSUER,
    webauthn: config.webauthn,
  };
}
