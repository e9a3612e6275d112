import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordAccountEvent, type AccountServices, type RequestOrigin } from '../auth/account-services.js';
import { hmacBase64Url, safeEqual } from '../crypto/tokens.js';
import { AppError } from '../server/errors.js';
import { cookieNames, readCookie, serializeCookie, type CookieNames } from '../sessions/cookies.js';
import { validateSessionToken, type CountedRequest, type Session, type SessionUser } from '../sessions/sessions.js';
import type { Permission } from '../workspaces/index.js';
import type { RouteRateLimits } from './route-rate-limit.js';

export interface AuthenticatedSession {
  user: SessionUser;
  session: Session;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the session guard on routes that require a signed-in user. */
    auth: AuthenticatedSession | null;
  }
}

/** Methods that change nothing: no CSRF token (or origin check) is asked of them. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Where the request came from, as the audit log and the session list record it. */
export function requestOrigin(request: FastifyRequest): RequestOrigin {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, requestId: request.id, ...(userAgent === undefined ? {} : { userAgent }) };
}

/**
 * Session cookies and the session guard. The CSRF token is an HMAC of the session id under a key
 * derived from the master key: nothing to store, it cannot be computed without the key, and it is
 * worthless for any other session. Sent as a cookie page scripts can read, it must come back in the
 * `X-CSRF-Token` header — which a cross-site form or image cannot set.
 */
export class SessionCookies {
  readonly names: CookieNames;

  constructor(
    private readonly options: { isHttps: boolean; csrfKey: Buffer },
  ) {
    this.names = cookieNames(options.isHttps);
  }

  csrfToken(sessionId: string): string {
    return hmacBase64Url(this.options.csrfKey, `rampart csrf v1\n${sessionId}`);
  }

  /** Puts both cookies on the reply, living as long as the session can. */
  set(reply: FastifyReply, options: { token: string; session: Session }): void {
    const maxAgeSeconds = (options.session.expiresAt.getTime() - Date.now()) / 1000;
    const { isHttps } = this.options;
    void reply.header('set-cookie', [
      serializeCookie(this.names.session, options.token, { isHttps, isReadableByScript: false, maxAgeSeconds }),
      serializeCookie(this.names.csrf, this.csrfToken(options.session.id), { isHttps, isReadableByScript: true, maxAgeSeconds }),
    ]);
  }

  clear(reply: FastifyReply): void {
    const { isHttps } = this.options;
    void reply.header('set-cookie', [
      serializeCookie(this.names.session, '', { isHttps, isReadableByScript: false, maxAgeSeconds: 0 }),
      serializeCookie(this.names.csrf, '', { isHttps, isReadableByScript: true, maxAgeSeconds: 0 }),
    ]);
  }

  readSessionToken(request: FastifyRequest): string | undefined {
    return readCookie(request.headers.cookie, this.names.session);
  }
}

/**
 * The `preValidation` hook of every route that needs a signed-in user: validates the session cookie
 * (rotating its token when due), and on state-changing methods requires the CSRF token. Sets
 * `request.auth`. Before validation, so an anonymous caller learns nothing of a route's body schema
 * and every request is counted against its rate limit, well-formed or not.
 *
 * @example
 * app.get('/api/me', { preValidation: requireSession }, (request) => request.auth!.user);
 */
export type SessionGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Authenticates a request that carries `Authorization` on a route with the given action (workspace
 * routes declare one); see `createApiKeyGuard`.
 */
export type BearerAuthenticator = (request: FastifyRequest, reply: FastifyReply, action: Permission) => Promise<void>;

export function createSessionGuard(
  services: AccountServices,
  cookies: SessionCookies,
  options: { bearer?: BearerAuthenticator; rateLimits: RouteRateLimits },
): SessionGuard {
  const { bearer, rateLimits } = options;
  // The request's rate-limit count waits for this guard (see RouteRateLimits): the user's when the
  // credential is good, the address's when it is not, the key's own limit for an API key.
  return async function requireSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    let countedInLookup: CountedRequest | undefined;
    try {
      countedInLookup = await authenticate(request, reply);
    } catch (error) {
      if (request.isRateLimitPending) await rateLimits.countAddress(request, reply);
      throw error;
    }
    if (!request.isRateLimitPending) return;
    if (request.auth === null) rateLimits.skip(request);
    else if (countedInLookup !== undefined) rateLimits.applySessionLookupCount(request, reply, countedInLookup);
    else await rateLimits.countUser(request, reply, request.auth.user.id);
  };

  /** Authenticates the request; returns the rate-limit count the session lookup made, if it made one. */
  async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<CountedRequest | undefined> {
    const token = cookies.readSessionToken(request);
    if (request.headers.authorization !== undefined) {
      // One credential per request: which one would the action be attributed to, and which checked?
      if (token !== undefined) throw new AppError('MIXED_CREDENTIALS');
      const action = request.routeOptions.config.permission;
      if (bearer === undefined || action === undefined) {
        throw new AppError('UNAUTHENTICATED', { publicMessage: 'API keys are accepted on workspace routes only; this route needs a signed-in session.' });
      }
      await bearer(request, reply, action);
      return undefined;
    }
    if (token === undefined || token === '') throw new AppError('UNAUTHENTICATED');
    const result = await validateSessionToken(services.database, token, services.sessionPolicy, rateLimits.countInSessionLookup(request));
    if (result.status === 'reused') {
      // Two parties hold this session: one of them stole it. It has been ended; the owner's log says why.
      await services.database.withTenant({ userId: result.userId }, (tx) =>
        recordAccountEvent(services, tx, {
          userId: result.userId,
          action: 'account.session_token_reused',
          origin: requestOrigin(request),
          details: { sessionId: result.sessionId },
        }),
      );
    }
    if (result.status !== 'valid') {
      cookies.clear(reply);
      throw new AppError(result.status === 'expired' ? 'SESSION_EXPIRED' : 'UNAUTHENTICATED');
    }
    if (result.rotatedToken !== undefined) cookies.set(reply, { token: result.rotatedToken, session: result.session });
    if (!SAFE_METHODS.has(request.method)) {
      const presented = request.headers['x-csrf-token'];
      if (typeof presented !== 'string' || !safeEqual(presented, cookies.csrfToken(result.session.id))) {
        throw new AppError('CSRF_TOKEN_INVALID');
      }
    }
    request.auth = { user: result.user, session: result.session };
    return result.countedRequest;
  }
}
