import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccountServices } from '../../auth/account-services.js';
import { startPasskeySignIn, signInWithPasskey } from '../../mfa/passwordless.js';
import { completeMfaSignIn, type SecondStepProof } from '../../mfa/second-step.js';
import { startPasskeyStepUp, stepUp, type StepUpProof } from '../../mfa/step-up.js';
import { AppError } from '../../server/errors.js';
import { refuseWhenPasswordWorkIsFull } from '../password-work-guard.js';
import { passwordSchema, tokenSchema, totpCodeSchema, toUserBody, tooManyAttempts, userSchema } from '../schemas.js';
import { requestOrigin, type SessionCookies, type SessionGuard } from '../session-guard.js';
import { authenticationResponseSchema, webauthnOptionsBody, webauthnOptionsSchema } from '../webauthn-schemas.js';

export interface MfaAuthRoutesOptions {
  services: AccountServices;
  cookies: SessionCookies;
  requireSession: SessionGuard;
}

const recoveryCodeSchema = z.string().max(64);

/** One second factor per request: a code, a recovery code, or a passkey assertion. */
const secondFactorFields = [
  { code: totpCodeSchema },
  { recoveryCode: recoveryCodeSchema },
  { passkey: authenticationResponseSchema },
] as const;

function toSecondStepProof(body: { code?: string; recoveryCode?: string; passkey?: AuthenticationResponseJSON }): SecondStepProof {
  if (body.code !== undefined) return { method: 'totp', code: body.code };
  if (body.recoveryCode !== undefined) return { method: 'recovery_code', code: body.recoveryCode };
  return { method: 'passkey', response: body.passkey! };
}

const stepUpAnswer = z.object({ authLevel: z.enum(['single_factor', 'multi_factor']) });

/**
 * `/api/auth/*` routes of multi-factor authentication: the second step of a sign-in, passwordless
 * sign-in with a passkey, and step-up (re-authentication before a sensitive action).
 */
export const mfaAuthRoutes: FastifyPluginAsyncZod<MfaAuthRoutesOptions> = async (app, { services, cookies, requireSession }) => {
  app.post(
    '/api/auth/sign-in/mfa',
    {
      config: { rateLimit: { max: 20, windowSeconds: 60 } },
      schema: {
        tags: ['accounts'],
        summary: 'Complete a sign-in with the token of its first step and a TOTP code, a recovery code or a passkey',
        body: z.union(secondFactorFields.map((field) => z.strictObject({ mfaToken: tokenSchema, ...field }))),
        response: { 200: z.object({ user: userSchema }) },
      },
    },
    async (request, reply) => {
      const { mfaToken, ...factor } = request.body;
      const result = await completeMfaSignIn(services, { mfaToken, proof: toSecondStepProof(factor) }, requestOrigin(request));
      if (result.status === 'invalid_token') throw new AppError('INVALID_MFA_TOKEN');
      if (result.status === 'throttled') throw tooManyAttempts(result.retryAfterSeconds);
      if (result.status === 'rejected') throw new AppError('INVALID_SECOND_FACTOR');
      cookies.set(reply, result);
      return { user: toUserBody(result.user) };
    },
  );

  app.post(
    '/api/auth/passkey/options',
    {
      config: { rateLimit: { max: 20, windowSeconds: 60 } },
      schema: {
        tags: ['accounts'],
        summary: 'Options for a passwordless sign-in with a passkey (navigator.credentials.get)',
        body: z.strictObject({}).nullish(),
        response: { 200: z.object({ options: webauthnOptionsSchema }) },
      },
    },
    async () => ({ options: webauthnOptionsBody(await startPasskeySignIn(services)) }),
  );

  app.post(
    '/api/auth/passkey/sign-in',
    {
      config: { rateLimit: { max: 20, windowSeconds: 60 } },
      schema: {
        tags: ['accounts'],
        summary: 'Sign in with a passkey alone; sets the session and CSRF cookies',
        body: z.strictObject({ response: authenticationResponseSchema }),
        response: { 200: z.object({ user: userSchema }) },
      },
    },
    async (request, reply) => {
      const result = await signInWithPasskey(services, request.body.response, requestOrigin(request));
      if (result.status === 'rejected') throw new AppError('INVALID_CREDENTIALS', { publicMessage: 'The passkey was not accepted.' });
      cookies.set(reply, result);
      return { user: toUserBody(result.user) };
    },
  );

  app.post(
    '/api/auth/step-up',
    {
      config: { rateLimit: { max: 20, windowSeconds: 60 } },
      onRequest: refuseWhenPasswordWorkIsFull(services.passwordWork),
      preValidation: requireSession,
      schema: {
        tags: ['accounts'],
        summary: 'Confirm who you are again (the password, or the second factor when you have one) before a sensitive action',
        body: z.union([z.strictObject({ password: passwordSchema }), ...secondFactorFields.map((field) => z.strictObject(field))]),
        response: { 200: stepUpAnswer },
      },
    },
    async (request) => {
      const { user, session } = request.auth!;
      const body = request.body;
      const proof: StepUpProof = 'password' in body ? { method: 'password', password: body.password } : toSecondStepProof(body);
      const result = await stepUp(services, { user, sessionId: session.id, proof }, requestOrigin(request));
      if (result.status === 'throttled') throw tooManyAttempts(result.retryAfterSeconds);
      if (result.status === 'second_factor_required') throw new AppError('SECOND_FACTOR_REQUIRED');
      if (result.status === 'wrong_password') throw new AppError('INVALID_CURRENT_PASSWORD');
      if (result.status === 'rejected') throw new AppError('INVALID_SECOND_FACTOR');
      return { authLevel: result.authLevel };
    },
  );

  app.post(
    '/api/auth/step-up/passkey-options',
    {
      preValidation: requireSession,
      schema: {
        tags: ['accounts'],
        summary: 'Options for stepping up with one of your passkeys (navigator.credentials.get)',
        body: z.strictObject({}).nullish(),
        response: { 200: z.object({ options: webauthnOptionsSchema }) },
      },
    },
    async (request) => {
      const options = await startPasskeyStepUp(services, request.auth!.user.id);
      if (options === undefined) throw new AppError('MFA_NOT_ENABLED', { publicMessage: 'You have no passkey to confirm with.' });
      return { options: webauthnOptionsBody(options) };
    },
  );
};
