import type { FastifyReply, FastifyRequest } from 'fastify';
import { lookUpApiKey, RATE_LIMIT_WINDOW_SECONDS, type ApiKeyLookup } from '../api-keys/api-keys.js';
import { wellFormedApiKeyIn, type ApiKeyEnvironment } from '../api-keys/key-format.js';
import type { ApiKeyHasher } from '../api-keys/key-hasher.js';
import type { ApiKeyRateLimiter } from '../api-keys/rate-limiter.js';
import { scopesAllow } from '../api-keys/scopes.js';
import type { AccountServices } from '../auth/account-services.js';
import { AppError } from '../server/errors.js';
import {
  hasRoleAtLeast,
  isRole,
  minimumRoleFor,
  recordWorkspaceEvent,
  type Permission,
  type Role,
  type WorkspaceSummary,
} from '../workspaces/index.js';
import { rateLimitHeaders } from './route-rate-limit.js';
import { requestOrigin } from './session-guard.js';

/** A request authenticated by an API key: the key, and the member whose authority it carries. */
export interface ApiKeyPrincipal {
  id: string;
  workspaceId: string;
  scopes: string[];
  createdBy: string;
  /** The creator's role when the request was authenticated. */
  creatorRole: Role;
  /** The key's workspace as the authenticating statement read it. */
  workspace: WorkspaceSummary;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on workspace routes called with `Authorization: Bearer rk_…` (then `auth` is null). */
    apiKey: ApiKeyPrincipal | null;
  }
}

/** What API-key authentication needs, built once per app. */
export interface ApiKeyServices {
  hasher: ApiKeyHasher;
  limiter: ApiKeyRateLimiter;
  /** `live` keys in production, `test` keys elsewhere. */
  environment: ApiKeyEnvironment;
}

/** One answer for every key that does not authenticate, so that none of them tells an attacker more. */
function invalidKey(): AppError {
  return new AppError('INVALID_API_KEY');
}

type DenialReason = 'revoked' | 'expired' | 'creator_not_member' | 'wrong_workspace' | 'insufficient_scope' | 'creator_role_too_low';

/**
 * The API-key half of authentication on workspace routes: the bearer key is checked for shape and
 * checksum (no database work for a mistyped one), found by its HMAC in one statement that also counts
 * the request (or Redis counts it), then judged: revoked, expired, creator no longer a member → 401
 * INVALID_API_KEY; another workspace's path → 404; an action no scope allows, or above the creator's
 * role now → 403 INSUFFICIENT_SCOPE. Every denial of a known key is recorded in its workspace's log,
 * as long as the key is within its rate limit (so a dead key cannot flood the log).
 */
export function createApiKeyGuard(services: AccountServices, apiKeys: ApiKeyServices) {
  const { database, auditLog } = services;

  async function recordDenial(request: FastifyRequest, lookup: ApiKeyLookup, reason: DenialReason, details: Record<string, string> = {}) {
    await database.withTenant({ workspaceId: lookup.workspaceId }, (tx) =>
      recordWorkspaceEvent(auditLog, tx, { workspaceId: lookup.workspaceId, userId: lookup.createdBy ?? '', role: null, apiKeyId: lookup.id, origin: requestOrigin(request) }, {
        action: 'api_key.use_denied',
        target: { type: 'api_key', id: lookup.id },
        details: { reason, route: `${request.method} ${request.routeOptions.url ?? ''}`, ...details },
      }),
    );
  }

  return async function requireApiKey(request: FastifyRequest, reply: FastifyReply, action: Permission): Promise<void> {
    const key = wellFormedApiKeyIn(request.headers.authorization);
    if (key === undefined) throw invalidKey();

    const lookup = await lookUpApiKey(database, { key, hasher: apiKeys.hasher, countUsage: apiKeys.limiter.isCountedByDatabase });
    if (lookup === undefined || !lookup.workspace.isActive) throw invalidKey();

    const rate = await apiKeys.limiter.decide(lookup);
    void reply.headers(rateLimitHeaders(rate, RATE_LIMIT_WINDOW_SECONDS));
    if (!rate.isAllowed) {
      throw new AppError('RATE_LIMITED', {
        publicMessage: `This key may make ${rate.limit} requests a minute; retry after ${rate.resetSeconds} s.`,
        headers: { 'retry-after': String(rate.resetSeconds) },
      });
    }

    if (lookup.isRevoked || lookup.isExpired || lookup.createdBy === null || !isRole(lookup.creatorRole)) {
      await recordDenial(request, lookup, lookup.isRevoked ? 'revoked' : lookup.isExpired ? 'expired' : 'creator_not_member');
      throw invalidKey();
    }
    const { ws } = request.params as { ws: string };
    if (ws.toLowerCase() !== lookup.workspaceId) {
      await recordDenial(request, lookup, 'wrong_workspace', { requestedWorkspaceId: ws.toLowerCase() });
      throw new AppError('NOT_FOUND', { publicMessage: 'No such workspace.' });
    }
    if (!scopesAllow(lookup.scopes, action)) {
      await recordDenial(request, lookup, 'insufficient_scope', { action });
      throw new AppError('INSUFFICIENT_SCOPE', { publicMessage: `This key has no scope that allows ${action}.` });
    }
    if (!hasRoleAtLeast(lookup.creatorRole, minimumRoleFor(action))) {
      await recordDenial(request, lookup, 'creator_role_too_low', { action });
      throw new AppError('INSUFFICIENT_SCOPE', { publicMessage: `The member who created this key no longer has a role that allows ${action}.` });
    }
    request.apiKey = {
      id: lookup.id,
      workspaceId: lookup.workspaceId,
      scopes: lookup.scopes,
      createdBy: lookup.createdBy,
      creatorRole: lookup.creatorRole,
      workspace: lookup.workspace,
    };
  };
}

export type ApiKeyGuard = ReturnType<typeof createApiKeyGuard>;
