import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  API_KEY_RATE_LIMIT_CEILING,
  createApiKey,
  listApiKeys,
  readApiKeyRateLimitMax,
  revokeApiKey,
  setApiKeyRateLimitMax,
  type ApiKeySummary,
} from '../../api-keys/api-keys.js';
import { API_KEY_SCOPE_NAMES, roleMayHoldScope } from '../../api-keys/scopes.js';
import type { AccountServices } from '../../auth/account-services.js';
import { AppError } from '../../server/errors.js';
import type { ApiKeyServices } from '../api-key-guard.js';
import type { SessionGuard } from '../session-guard.js';
import { requirePermission, type WorkspaceAccess } from '../workspace-guard.js';

export interface ApiKeyRoutesOptions {
  services: AccountServices;
  apiKeys: ApiKeyServices;
  requireSession: SessionGuard;
  access: WorkspaceAccess;
}

/** The longest a key may be set to live; without `expiresAt` it lives until revoked. */
const MAX_LIFETIME_DAYS = 3_650;

const noQuery = z.strictObject({});
const workspaceParams = z.strictObject({ ws: z.uuid() });
const keyParams = z.strictObject({ ws: z.uuid(), id: z.uuid() });

/** Same rule as workspace names (and the migration's check): single-line text without control or bidi characters. */
const keyNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((value) => value.isWellFormed() && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u.test(value), {
    error: 'must be single-line text without control characters',
  });

const createBody = z.strictObject({
  name: keyNameSchema,
  scopes: z
    .array(z.enum(API_KEY_SCOPE_NAMES, { error: `must be one of ${API_KEY_SCOPE_NAMES.join(', ')}` }))
    .min(1)
    .max(API_KEY_SCOPE_NAMES.length)
    .refine((scopes) => new Set(scopes).size === scopes.length, { error: 'must not repeat a scope' }),
  expiresAt: z.iso
    .datetime({ offset: true })
    .refine((value) => Date.parse(value) > Date.now(), { error: 'must be in the future' })
    .refine((value) => Date.parse(value) <= Date.now() + MAX_LIFETIME_DAYS * 86_400_000, { error: `must be within ${MAX_LIFETIME_DAYS} days` })
    .optional(),
  rateLimitPerMinute: z.number().int().min(1).max(API_KEY_RATE_LIMIT_CEILING).optional(),
});

const keySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  rateLimitPerMinute: z.number().int(),
  createdBy: z.uuid().nullable(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable(),
  status: z.enum(['active', 'expired', 'revoked']),
});

function toKeyBody(key: ApiKeySummary): z.infer<typeof keySchema> {
  const status = key.revokedAt !== null ? 'revoked' : key.expiresAt !== null && key.expiresAt.getTime() <= Date.now() ? 'expired' : 'active';
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    rateLimitPerMinute: key.rateLimitPerMinute,
    createdBy: key.createdBy,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    status,
  };
}

/**
 * `GET/POST /api/workspaces/:ws/api-keys` and `DELETE …/api-keys/:id`: admins and owners list,
 * create (after a step-up, see STEP_UP_ROUTES) and revoke the workspace's keys. The key itself is in
 * the creation's answer and nowhere else, ever.
 */
export const apiKeyRoutes: FastifyPluginAsyncZod<ApiKeyRoutesOptions> = async (app, { services, apiKeys, requireSession, access }) => {
  app.addHook('preValidation', requireSession);
  const { auditLog } = services;

  app.get(
    '/api/workspaces/:ws/api-keys',
    {
      ...requirePermission('api_keys:read'),
      schema: {
        tags: ['api keys'],
        summary: "The workspace's API keys, newest first (never the key itself)",
        params: workspaceParams,
        querystring: noQuery,
        response: { 200: z.object({ apiKeys: z.array(keySchema), rateLimitMax: z.number().int() }) },
      },
    },
    (request) =>
      access.asMember(request, async (tx) => ({ apiKeys: (await listApiKeys(tx)).map(toKeyBody), rateLimitMax: await readApiKeyRateLimitMax(tx) })),
  );

  app.put(
    '/api/workspaces/:ws/api-key-policy',
    {
      ...requirePermission('api_keys:set_rate_limit_max'),
      schema: {
        tags: ['api keys'],
        summary: 'Set the most requests per minute any key of the workspace may be given; keys above it are held to it from their next request',
        params: workspaceParams,
        querystring: noQuery,
        body: z.strictObject({ rateLimitMax: z.number().int().min(1).max(API_KEY_RATE_LIMIT_CEILING) }),
        response: { 200: z.object({ rateLimitMax: z.number().int() }) },
      },
    },
    async (request) => ({
      rateLimitMax: await access.asMember(request, (tx, actor) => setApiKeyRateLimitMax(tx, auditLog, { actor, maximum: request.body.rateLimitMax })),
    }),
  );

  app.post(
    '/api/workspaces/:ws/api-keys',
    {
      ...requirePermission('api_keys:create'),
      schema: {
        tags: ['api keys'],
        summary: 'Create an API key with scopes up to your role; the answer is the only time the key is shown',
        params: workspaceParams,
        querystring: noQuery,
        body: createBody,
        response: { 201: keySchema.extend({ key: z.string() }) },
      },
    },
    async (request, reply) => {
      const { name, scopes, expiresAt, rateLimitPerMinute } = request.body;
      const created = await access.asMember(request, async (tx, actor) => {
        const beyondRole = scopes.filter((scope) => !roleMayHoldScope(actor.role, scope));
        if (beyondRole.length > 0) {
          throw new AppError('ROLE_NOT_ALLOWED', { publicMessage: `Your role does not allow the scopes ${beyondRole.join(', ')}; a key cannot exceed its creator.` });
        }
        return createApiKey(tx, auditLog, {
          actor,
          hasher: apiKeys.hasher,
          environment: apiKeys.environment,
          name,
          scopes,
          expiresAt: expiresAt === undefined ? undefined : new Date(expiresAt),
          rateLimitPerMinute,
        });
      });
      if (created.status === 'rate_limit_too_high') {
        throw new AppError('RATE_LIMIT_TOO_HIGH', { publicMessage: `This workspace allows at most ${created.maximum} requests per minute per key.` });
      }
      // The key is a secret: no cache may keep this answer.
      return reply.code(201).header('cache-control', 'no-store').send({ ...toKeyBody(created.summary), key: created.key });
    },
  );

  app.delete(
    '/api/workspaces/:ws/api-keys/:id',
    {
      ...requirePermission('api_keys:revoke'),
      schema: { tags: ['api keys'], summary: 'Revoke an API key: the next request made with it is refused', params: keyParams, querystring: noQuery },
    },
    async (request, reply) => {
      const keyId = request.params.id.toLowerCase();
      const isRevoked = await access.asMember(request, (tx, actor) => revokeApiKey(tx, auditLog, { actor, keyId }));
      if (!isRevoked) throw new AppError('NOT_FOUND', { publicMessage: 'No such active API key.' });
      return reply.code(204).send();
    },
  );
};
