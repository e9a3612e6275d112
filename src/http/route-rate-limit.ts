import { hash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preValidationHookHandler } from 'fastify';
import { decision, type RateLimitDecision } from '../api-keys/rate-limiter.js';
import { AppError } from '../server/errors.js';
import type { CountedRequest } from '../sessions/sessions.js';
import type { RouteCounters } from './rate-limit-counters.js';
import type { SessionCookies } from './session-guard.js';

/** How many requests one client may make to one route in one window. */
export interface RouteRateLimit {
  max: number;
  windowSeconds: number;
  /**
   * Count in this instance's memory even where the counts are shared: for liveness, which must answer
   * whatever state the shared store is in, and whose flood costs less than a shared count would.
   */
  isPerInstance?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * This route's limit, per client (the signed-in user, or the address of an anonymous request).
     * Declared next to the route; without it the default applies (`RAMPART_RATE_LIMIT_PER_MINUTE`).
     */
    rateLimit?: Partial<RouteRateLimit>;
    /** The limit that applies: the route's declaration over the default (set when the route is added). */
    appliedRateLimit?: RouteRateLimit;
  }
  interface FastifyRequest {
    /**
     * True while a request that carries credentials waits for its guard to say who it is: the guard
     * then counts it against the user (or, when authentication fails, against the address).
     */
    isRateLimitPending: boolean;
  }
}

/** The route as its counts name it: `METHOD /pattern`, or one name for every path no route matches. */
function routeName(request: FastifyRequest): string {
  const { url } = request.routeOptions;
  return url === undefined ? 'unmatched' : `${request.method} ${url}`;
}

/** The `RateLimit-*` fields (IETF draft) of a decision, and `Retry-After` once the limit is reached. */
export function rateLimitHeaders(rate: RateLimitDecision, windowSeconds: number): Record<string, string> {
  return {
    'ratelimit-limit': String(rate.limit),
    'ratelimit-remaining': String(rate.remaining),
    'ratelimit-reset': String(rate.resetSeconds),
    'ratelimit-policy': `${rate.limit};w=${windowSeconds}`,
  };
}

/**
 * The per-route limit: every request is counted against one client of its route — the signed-in user
 * when it authenticates, otherwise its address (`request.ip`, which believes `X-Forwarded-For` only
 * from the proxies TRUST_PROXY names). API-key requests are counted by their key's own limit instead.
 *
 * Anonymous requests are counted in `onRequest`, before their body is read. A request with a session
 * cookie or an `Authorization` header is counted once its guard knows whether the credential is good:
 * against the user if it is, against the address if it is not — so a forged cookie neither escapes
 * the address's limit nor spends a real user's. A route without a guard counts such a request
 * against the address before its body is validated (a route-level `preValidation` hook added to
 * every route, after the guard's).
 */
export class RouteRateLimits {
  constructor(
    private readonly counters: { shared: RouteCounters; perInstance: RouteCounters } | undefined,
    private readonly options: { defaultLimit: RouteRateLimit; cookies: SessionCookies },
  ) {}

  /** Installs the fallback counting on every route registered after this call. */
  install(app: FastifyInstance): void {
    app.decorateRequest('isRateLimitPending', false);
    if (this.counters === undefined) return;
    // Callback style: on every route, and nothing to do for most requests — no promise for those.
    const countUnguarded: preValidationHookHandler = (request, reply, done) => {
      if (!request.isRateLimitPending) return done();
      this.countAddress(request, reply).then(() => done(), done);
    };
    app.addHook('onRoute', (route) => {
      route.config = { ...route.config, appliedRateLimit: { ...this.options.defaultLimit, ...route.config?.rateLimit } };
      const own = route.preValidation === undefined ? [] : [route.preValidation].flat();
      route.preValidation = [...own, countUnguarded];
    });
  }

  /** For the app's `onRequest` hook: counts an anonymous request now, defers one with credentials. */
  readonly onRequest: onRequestHookHandler = (request, reply, done) => {
    if (this.counters === undefined) return done();
    const hasRoute = request.routeOptions.url !== undefined;
    if (hasRoute && (request.headers.authorization !== undefined || this.options.cookies.readSessionToken(request) !== undefined)) {
      request.isRateLimitPending = true;
      return done();
    }
    this.countAddress(request, reply).then(() => done(), done);
  };

  /** Counts an authenticated request against its user. */
  countUser(request: FastifyRequest, reply: FastifyReply, userId: string): Promise<void> {
    return this.count(request, reply, `user:${userId}`);
  }

  /** Counts the request against its address. */
  countAddress(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    return this.count(request, reply, `ip:${request.ip}`);
  }

  /** Marks a request as counted elsewhere (an API key's own limit). */
  skip(request: FastifyRequest): void {
    request.isRateLimitPending = false;
  }

  /**
   * When the counts are in Postgres, what the session lookup needs to count a pending request
   * against the session's user in its own statement (no round trip of its own); otherwise undefined.
   */
  countInSessionLookup(request: FastifyRequest): { route: string; windowMs: number } | undefined {
    if (!request.isRateLimitPending || this.counters?.shared.isInDatabase !== true) return undefined;
    const limit = this.limitOf(request);
    if (limit.isPerInstance) return undefined;
    return { route: routeName(request), windowMs: limit.windowSeconds * 1000 };
  }

  /** Applies the count the session lookup made (see `countInSessionLookup`). */
  applySessionLookupCount(request: FastifyRequest, reply: FastifyReply, counted: CountedRequest): void {
    request.isRateLimitPending = false;
    const limit = this.limitOf(request);
    this.apply(reply, limit, decision(limit.max, counted.points, (counted.windowEndsAtMs - Date.now()) / 1000));
  }

  private limitOf(request: FastifyRequest): RouteRateLimit {
    return request.routeOptions.config.appliedRateLimit ?? this.options.defaultLimit;
  }

  private async count(request: FastifyRequest, reply: FastifyReply, client: string): Promise<void> {
    request.isRateLimitPending = false;
    if (this.counters === undefined) return;
    const limit = this.limitOf(request);
    // One key per (route, client), hashed: no address or user id is kept in the store in plain form.
    // The session lookup computes the same key for (route, user) in SQL (migrations/0009).
    const key = hash('sha256', `${routeName(request)}\n${client}`, 'base64url');
    const rate = await (limit.isPerInstance ? this.counters.perInstance : this.counters.shared).consume(key, limit);
    this.apply(reply, limit, rate);
  }

  private apply(reply: FastifyReply, limit: RouteRateLimit, rate: RateLimitDecision): void {
    void reply.headers(rateLimitHeaders(rate, limit.windowSeconds));
    if (!rate.isAllowed) {
      throw new AppError('RATE_LIMITED', {
        publicMessage: `This route allows ${limit.max} requests per ${limit.windowSeconds} s; retry after ${rate.resetSeconds} s.`,
        headers: { 'retry-after': String(rate.resetSeconds) },
      });
    }
  }
}
