import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccountServices } from '../../auth/account-services.js';
import {
  addPasskey,
  confirmTotpEnrolment,
  disableTotp,
  regenerateRecoveryCodes,
  removeUserPasskey,
  renameUserPasskey,
  startTotpEnrolment,
  type FactorOwner,
} from '../../mfa/enrolment.js';
import { loadFactorSummary, secondFactorMethods } from '../../mfa/factors.js';
import { listPasskeys, startPasskeyRegistration, type PasskeySummary } from '../../mfa/passkeys.js';
import { AppError } from '../../server/errors.js';
import type { FastifyRequest } from 'fastify';
import { nameSchema, totpCodeSchema } from '../schemas.js';
import { requestOrigin, type SessionGuard } from '../session-guard.js';
import { registrationResponseSchema, webauthnOptionsBody, webauthnOptionsSchema } from '../webauthn-schemas.js';

export interface MfaRoutesOptions {
  services: AccountServices;
  requireSession: SessionGuard;
}

const passkeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  deviceType: z.enum(['singleDevice', 'multiDevice']),
  backedUp: z.boolean(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
});

function toPasskeyBody(passkey: PasskeySummary): z.infer<typeof passkeySchema> {
  return {
    id: passkey.id,
    name: passkey.name,
    deviceType: passkey.deviceType,
    backedUp: passkey.backedUp,
    createdAt: passkey.createdAt.toISOString(),
    lastUsedAt: passkey.lastUsedAt?.toISOString() ?? null,
  };
}

/** A passkey's name: a label the user chooses ("Work laptop"), 1 to 100 characters. */
const passkeyNameSchema = nameSchema.pipe(z.string().max(100));
const passkeyParams = z.strictObject({ id: z.uuid() });
/** Shown once: the plain codes, when this change created a new set (null: the existing set stays valid). */
const recoveryCodesSchema = z.array(z.string()).nullable();

function ownerOf(request: FastifyRequest): FactorOwner {
  const { user, session } = request.auth!;
  return { user, sessionId: session.id, origin: requestOrigin(request) };
}

/**
 * `/api/me/mfa/*` and `/api/me/passkeys*`: the signed-in user's second factors. Every change needs a
 * recent authentication (the step-up table), is audited, and is emailed to the user.
 */
export const mfaRoutes: FastifyPluginAsyncZod<MfaRoutesOptions> = async (app, { services, requireSession }) => {
  app.addHook('preValidation', requireSession);

  app.get(
    '/api/me/mfa',
    {
      schema: {
        tags: ['mfa'],
        summary: 'Which second factors the user has, and how many recovery codes remain',
        response: {
          200: z.object({
            totp: z.boolean(),
            passkeys: z.number().int(),
            recoveryCodesRemaining: z.number().int(),
            methods: z.array(z.enum(['passkey', 'totp', 'recovery_code'])),
          }),
        },
      },
    },
    async (request) => {
      const userId = request.auth!.user.id;
      const summary = await services.database.withTenant({ userId }, (tx) => loadFactorSummary(tx, userId));
      return { ...summary, methods: secondFactorMethods(summary) };
    },
  );

  app.post(
    '/api/me/mfa/totp',
    {
      schema: {
        tags: ['mfa'],
        summary: 'Start enrolling an authenticator app: the secret and its otpauth:// URI (for a QR code)',
        body: z.strictObject({}).nullish(),
        response: { 200: z.object({ secret: z.string(), uri: z.string() }) },
      },
    },
    async (request) => {
      const started = await startTotpEnrolment(services, ownerOf(request));
      if (started.status === 'already_enabled') throw new AppError('TOTP_ALREADY_ENABLED');
      return { secret: started.secret, uri: started.uri };
    },
  );

  app.post(
    '/api/me/mfa/totp/confirm',
    {
      schema: {
        tags: ['mfa'],
        summary: 'Activate the authenticator app with a code it shows; returns the first recovery codes',
        body: z.strictObject({ code: totpCodeSchema }),
        response: { 200: z.object({ recoveryCodes: recoveryCodesSchema }) },
      },
    },
    async (request) => {
      const result = await confirmTotpEnrolment(services, ownerOf(request), request.body.code);
      if (result.status === 'no_enrolment') throw new AppError('NOT_FOUND', { publicMessage: 'No authenticator app is being set up.' });
      if (result.status === 'wrong_code') throw new AppError('INVALID_SECOND_FACTOR');
      return { recoveryCodes: result.recoveryCodes };
    },
  );

  app.delete(
    '/api/me/mfa/totp',
    { schema: { tags: ['mfa'], summary: 'Remove the authenticator app' } },
    async (request, reply) => {
      if (!(await disableTotp(services, ownerOf(request)))) {
        throw new AppError('NOT_FOUND', { publicMessage: 'No authenticator app is set up.' });
      }
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/me/mfa/recovery-codes',
    {
      schema: {
        tags: ['mfa'],
        summary: 'Create a new set of recovery codes (the previous set stops working); shown once',
        body: z.strictObject({}).nullish(),
        response: { 200: z.object({ recoveryCodes: z.array(z.string()) }) },
      },
    },
    async (request) => {
      const recoveryCodes = await regenerateRecoveryCodes(services, ownerOf(request));
      if (recoveryCodes === undefined) throw new AppError('MFA_NOT_ENABLED');
      return { recoveryCodes };
    },
  );

  app.get(
    '/api/me/passkeys',
    { schema: { tags: ['mfa'], summary: "The user's passkeys", response: { 200: z.object({ passkeys: z.array(passkeySchema) }) } } },
    async (request) => {
      const userId = request.auth!.user.id;
      const passkeys = await services.database.withTenant({ userId }, (tx) => listPasskeys(tx, userId));
      return { passkeys: passkeys.map(toPasskeyBody) };
    },
  );

  app.post(
    '/api/me/passkeys/registration-options',
    {
      schema: {
        tags: ['mfa'],
        summary: 'Options for registering a passkey (navigator.credentials.create)',
        body: z.strictObject({}).nullish(),
        response: { 200: z.object({ options: webauthnOptionsSchema }) },
      },
    },
    async (request) => {
      const { user } = request.auth!;
      const options = await services.database.withTenant({ userId: user.id }, (tx) => startPasskeyRegistration(services.mfa, tx, user));
      return { options: webauthnOptionsBody(options) };
    },
  );

  app.post(
    '/api/me/passkeys',
    {
      schema: {
        tags: ['mfa'],
        summary: "Register a passkey from the browser's response; returns the first recovery codes when it is the first factor",
        body: z.strictObject({ name: passkeyNameSchema, response: registrationResponseSchema }),
        response: { 201: z.object({ passkey: passkeySchema, recoveryCodes: recoveryCodesSchema }) },
      },
    },
    async (request, reply) => {
      const result = await addPasskey(services, ownerOf(request), request.body);
      if (result.status === 'rejected') throw new AppError('PASSKEY_REJECTED');
      return reply.code(201).send({ passkey: toPasskeyBody(result.passkey), recoveryCodes: result.recoveryCodes });
    },
  );

  app.patch(
    '/api/me/passkeys/:id',
    {
      schema: {
        tags: ['mfa'],
        summary: 'Rename a passkey',
        params: passkeyParams,
        body: z.strictObject({ name: passkeyNameSchema }),
        response: { 200: passkeySchema },
      },
    },
    async (request) => {
      const renamed = await renameUserPasskey(services, ownerOf(request), { passkeyId: request.params.id.toLowerCase(), name: request.body.name });
      if (renamed === undefined) throw new AppError('NOT_FOUND', { publicMessage: 'No such passkey.' });
      return toPasskeyBody(renamed);
    },
  );

  app.delete(
    '/api/me/passkeys/:id',
    { schema: { tags: ['mfa'], summary: 'Remove a passkey', params: passkeyParams } },
    async (request, reply) => {
      if (!(await removeUserPasskey(services, ownerOf(request), request.params.id.toLowerCase()))) {
        throw new AppError('NOT_FOUND', { publicMessage: 'No such passkey.' });
      }
      return reply.code(204).send();
    },
  );
};
