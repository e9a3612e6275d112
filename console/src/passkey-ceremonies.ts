/**
 * The browser side of passkey ceremonies, typed against the API. The server sends WebAuthn options
 * and takes the credential's JSON; @simplewebauthn/browser runs `navigator.credentials` between the
 * two. The generated OpenAPI types describe the options loosely (a record), hence the one cast here
 * rather than at every call.
 */
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import type { paths } from './api/schema';

type JsonBody<Path extends keyof paths, Method extends 'post'> = paths[Path][Method] extends { requestBody?: { content: { 'application/json': infer Body } } }
  ? Body
  : never;

/** What sign-in's second step, passwordless sign-in and step-up take as the passkey's answer. */
export type PasskeyAssertion = Extract<JsonBody<'/api/auth/step-up', 'post'>, { passkey: unknown }>['passkey'];
/** What `POST /api/me/passkeys` takes as the new passkey's answer. */
export type PasskeyRegistration = JsonBody<'/api/me/passkeys', 'post'>['response'];

/** Asks the authenticator to sign the server's challenge (sign-in, second step, step-up). */
export async function assertPasskey(options: unknown): Promise<PasskeyAssertion> {
  return (await startAuthentication({ optionsJSON: options as Parameters<typeof startAuthentication>[0]['optionsJSON'] })) as unknown as PasskeyAssertion;
}

/** Asks the authenticator to create a passkey for the server's registration options. */
export async function createPasskey(options: unknown): Promise<PasskeyRegistration> {
  return (await startRegistration({ optionsJSON: options as Parameters<typeof startRegistration>[0]['optionsJSON'] })) as unknown as PasskeyRegistration;
}
