import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { z } from 'zod';
import { CREDENTIAL_ID_PATTERN } from '../mfa/passkeys.js';

/**
 * The JSON a browser's `PublicKeyCredential.toJSON()` produces for a passkey ceremony. The fields
 * `@simplewebauthn/server` reads are checked here for shape and size (base64url, bounded); what the
 * browser adds beyond them (extension outputs, hints) is dropped rather than refused, since browsers
 * add fields over time. The signature and everything inside the encoded blobs is checked by the
 * library.
 */
const base64url = (maxLength: number) => z.string().regex(/^[A-Za-z0-9_-]*$/, { error: 'must be base64url' }).max(maxLength);
const credentialId = z.string().regex(CREDENTIAL_ID_PATTERN, { error: 'must be a base64url credential id' });
const transports = z.array(z.enum(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'])).max(8);

/** What every ceremony's response carries around its `response`: the credential and the browser's notes. */
const credentialFields = {
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).optional(),
};

export const registrationResponseSchema = z
  .object({
    ...credentialFields,
    response: z.object({
      clientDataJSON: base64url(4096),
      attestationObject: base64url(16_384),
      transports: transports.optional(),
    }),
  })
  .transform((value) => ({ ...value, clientExtensionResults: {} }) as RegistrationResponseJSON);

export const authenticationResponseSchema = z
  .object({
    ...credentialFields,
    response: z.object({
      clientDataJSON: base64url(4096),
      authenticatorData: base64url(4096),
      signature: base64url(1024),
      userHandle: base64url(128).optional(),
    }),
  })
  .transform((value) => ({ ...value, clientExtensionResults: {} }) as AuthenticationResponseJSON);

/** Options for `navigator.credentials.create/get` (`PublicKeyCredential.parse…OptionsFromJSON`); described loosely for the OpenAPI document. */
export const webauthnOptionsSchema = z.record(z.string(), z.unknown());

/** WebAuthn options as the loosely described JSON object of `webauthnOptionsSchema`. */
export function webauthnOptionsBody(options: object): Record<string, unknown> {
  return { ...options };
}
