import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAccountEvent, type AccountServices } from '../../auth/account-services.js';
import { requestPasswordReset, resetPassword } from '../../auth/passwords.js';
import { signIn } from '../../auth/sign-in.js';
import type { MfaChallenge } from '../../mfa/second-step.js';
import { checkSignUpPasswordRules, signUp, verifyEmail } from '../../auth/sign-up.js';
import { deleteSession } from '../../sessions/sessions.js';
import { AppError } from '../../server/errors.js';
import {
  emailSchema,
  nameSchema,
  passwordProblem,
  passwordSchema,
  toUserBody,
  tokenSchema,
  tooManyAttempts,
  userSchema,
} from '../schemas.js';
import { formProtectionFields, type FormGuard } from '../form-guard.js';
import { refuseWhenPasswordWorkIsFull } from '../password-work-guard.js';
import { requestOrigin, type SessionCookies, type SessionGuard } from '../session-guard.js';
import { webauthnOptionsBody, webauthnOptionsSchema } from '../webauthn-schemas.js';

/** The answer to a right password when the account has a second factor: no cookies, a second step. */
const mfaChallengeSchema = z.object({
  mfaRequired: z.literal(true),
  mfaToken: z.string(),
  methods: z.array(z.enum(['passkey', 'totp', 'recovery_code'])),
  passkeyOptions: webauthnOptionsSchema.optional(),
});

function mfaChallengeBody(challenge: MfaChallenge): z.infer<typeof mfaChallengeSchema> {
  const { mfaToken, methods, passkeyOptions } = challenge;
  return { mfaRequired: true, mfaToken, methods, ...(passkeyOptions === undefined ? {} : { passkeyOptions: webauthnOptionsBody(passkeyOptions) }) };
}

export interface AuthRoutesOptions {
  services: AccountServices;
  cookies: SessionCookies;
  requireSession: SessionGuard;
  formGuard: FormGuard;
}

const acceptedBody = z.object({ status: z.literal('accepted'), message: z.string() });
const SIGN_UP_ACCEPTED = {
  status: 'accepted' as const,
  message: 'Check your inbox: we have sent an email to this address with the next step.',
};
const RESET_ACCEPTED = {
  status: 'accepted' as const,
  message: 'If an account uses this address, we have sent it a link to choose a new password.',
};

/** `/api/auth/*`: sign-up, email verification, sign-in, sign-out and password reset. */
export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, { services, cookies, requireSession, formGuard }) => {
  const passwordWorkGuard = refuseWhenPasswordWorkIsFull(services.passwordWork);

  app.post(
    '/api/auth/sign-up',
    {
      // Accounts are made rarely: a burst from one address is a script.
      config: { rateLimit: { max: 20, windowSeconds: 3600 } },
      onRequest: passwordWorkGuard,
      schema: {
        tags: ['accounts'],
        summary: 'Create an account; the same answer whether or not the email is registered',
        body: z.strictObject({
          email: emailSchema,
          password: passwordSchema,
          name: nameSchema,
          ...formProtectionFields('sign-up'),
        }),
        response: { 202: acceptedBody },
      },
    },
    async (request, reply) => {
      // The password rules a real sign-up would refuse come first, so a dropped sign-up gets the same
      // 400 and the answer never tells a bot it was caught; then, before any password hashing, the drop.
      const rules = checkSignUpPasswordRules(request.body);
      if (!rules.ok) throw passwordProblem(rules.reason);
      if (!formGuard.admit(request.log, 'sign-up', request.body)) return reply.code(202).send(SIGN_UP_ACCEPTED);
      const { email, password, name } = request.body;
      const verdict = await signUp(services, { email, password, name }, requestOrigin(request));
      if (!verdict.ok) throw passwordProblem(verdict.reason);
      return reply.code(202).send(SIGN_UP_ACCEPTED);
    },
  );

  app.post(
    '/api/auth/verify-email',
    {
      config: { rateLimit: { max: 20, windowSeconds: 60 } },
      schema: {
        tags: ['accounts'],
        summary: 'Verify an email address with the token of its link',
        body: z.strictObject({ token: tokenSchema }),
        response: { 200: z.object({ status: z.literal('verified') }) },
      },
    },
    async (request) => {
      const isVerified = await verifyEmail(services, request.body.token, requestOrigin(request));
      if (!isVerified) throw new AppError('INVALID_TOKEN');
      return { status: 'verified' as const };
    },
  );

  app.post(
    '/api/auth/sign-in',
    {
      // Beside the failed-sign-in limits per account and per (account, address): a cap per address.
      config: { rateLimit: { max: 20, windowSeconds: 60 } },
      onRequest: passwordWorkGuard,
      schema: {
        tags: ['accounts'],
        summary: 'Sign in with email and password; sets the session and CSRF cookies',
        body: z.strictObject({ email: emailSchema, password: passwordSchema }),
        response: { 200: z.union([z.object({ user: userSchema }), mfaChallengeSchema]) },
      },
    },
    async (request, reply) => {
      const result = await signIn(services, request.body, requestOrigin(request));
      if (result.status === 'throttled') throw tooManyAttempts(result.retryAfterSeconds);
      if (result.status === 'invalid_credentials') throw new AppError('INVALID_CREDENTIALS');
      if (result.status === 'mfa_required') return mfaChallengeBody(result.challenge);
      cookies.set(reply, result);
      return { user: toUserBody(result.user) };
    },
  );

  app.post(
    '/api/auth/sign-out',
    { preValidation: requireSession, schema: { tags: ['accounts'], summary: 'End the current session' } },
    async (request, reply) => {
      const { user, session } = request.auth!;
      await services.database.withTenant({ userId: user.id }, async (tx) => {
        await deleteSession(tx, { userId: user.id, sessionId: session.id });
        await recordAccountEvent(services, tx, {
          userId: user.id,
          action: 'account.signed_out',
          origin: requestOrigin(request),
          details: { sessionId: session.id },
        });
      });
      cookies.clear(reply);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/auth/password/forgot',
    {
      // Each accepted request may send an email: few per address, so Rampart cannot be used to spam.
      config: { rateLimit: { max: 10, windowSeconds: 900 } },
      schema: {
        tags: ['accounts'],
        summary: 'Email a password reset link; the same answer whether or not the email is registered',
        body: z.strictObject({ email: emailSchema, ...formProtectionFields('password-reset') }),
        response: { 202: acceptedBody },
      },
    },
    async (request, reply) => {
      if (formGuard.admit(request.log, 'password-reset', request.body)) {
        requestPasswordReset(services, request.body.email, requestOrigin(request));
      }
      return reply.code(202).send(RESET_ACCEPTED);
    },
  );

  app.post(
    '/api/auth/password/reset',
    {
      config: { rateLimit: { max: 10, windowSeconds: 900 } },
      onRequest: passwordWorkGuard,
      schema: {
        tags: ['accounts'],
        summary: 'Choose a new password with the token of a reset link; ends every session',
        body: z.strictObject({ token: tokenSchema, password: passwordSchema }),
      },
    },
    async (request, reply) => {
      const result = await resetPassword(services, request.body, requestOrigin(request));
      if (result.status === 'invalid_token') throw new AppError('INVALID_TOKEN');
      if (result.status === 'rejected') throw passwordProblem(result.reason);
      return reply.code(204).send();
    },
  );
};
