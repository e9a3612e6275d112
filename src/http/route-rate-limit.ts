import { createHmac, hash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preValidationHookHandler } from 'fastify';
import { decision, type RateLimitDecision } from '../api-keys/rate-limiter.js';
import { wellFormedApiKeyIn } from '../api-keys/key-format.js';
import { isTokenShaped } from '../crypto/tokens.js';
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
    /** The limit that applies, set when the route is added (see `AppliedRateLimit`). */
    appliedRateLimit?: AppliedRateLimit;
  }
  interface FastifyRequest {
    /** The limit of the request's route, set in `onRequest`. */
    appliedRateLimit: AppliedRateLimit | null;
    /**
     * True while a request that carries credentials waits for its guard to say who it is: the guard
     * then counts it against the user (or, when authentication fails, against the address).
     */
    isRateLimitPending: boolean;
  }
}

/** A route's limit as applied: its declaration over the default, and its share of the counter keys. */
interface AppliedRateLimit extends RouteRateLimit {
  /** HMAC(key secret, "METHOD /pattern"), computed once per route (HEAD named as GET: one budget). */
  routeKey: string;
  /** A short name of the route for this process's own memory, where a long key costs every lookup. */
  localKey: string;
}

/**
 * The address a request is counted against: an IPv4 address as it is, an IPv6 address by its /64 —
 * the block one subscriber is given, inside which a client picks a new address at will — and an
 * IPv4-mapped IPv6 address as the IPv4 address it is.
 */
export function addressForLimits(ip: string): string {
  if (!ip.includes(':')) return ip;
  const address = ip.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = address.split('::');
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':'));
  const headGroups = groupsOf(head);
  const tailGroups = tail === undefined ? [] : groupsOf(tail);
  // (`Math.max`: an address a trusted proxy forwarded is not guaranteed well-formed; it still gets a key.)
  const zeros = tail === undefined ? [] : Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0');
  const groups = [...headGroups, ...zeros, ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
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
 * A request without a well-formed credential is counted in `onRequest`, before its body is read. One
 * with a well-formed session cookie or API key is counted once its guard knows whether the credential
 * is good: against the user if it is, against the address if it is not — so a forged cookie neither
 * escapes the address's limit nor spends a real user's. A route without a guard counts such a request
 * against the address before its body is validated (a route-level `preValidation` hook added to
 * every route, after the guard's); one whose body fails first is counted in `onError`.
 */
export class RouteRateLimits {
  /** The short name of each route in this process's memory (HEAD and GET share one). */
  private readonly localKeys = new Map<string, string>();
  /** The limit of every path that matches no route: one budget per address for all of them. */
  private readonly unmatched: AppliedRateLimit;

  constructor(
    private readonly counters: { shared: RouteCounters; perInstance: RouteCounters } | undefined,
    private readonly options: {
      defaultLimit: RouteRateLimit;
      cookies: SessionCookies;
      /** Keys the stored counter names, so that a copy of the store does not give away who called. */
      keySecret: Buffer;
    },
  ) {
    this.unmatched = this.applied({}, 'unmatched');
  }

  private applied(declared: Partial<RouteRateLimit>, routeName: string): AppliedRateLimit {
    const routeKey = createHmac('sha256', this.options.keySecret).update(routeName).digest('hex');
    let localKey = this.localKeys.get(routeName);
    if (localKey === undefined) {
      localKey = String(this.localKeys.size);
      this.localKeys.set(routeName, localKey);
    }
    return { ...this.options.defaultLimit, ...declared, routeKey, localKey };
  }

  /** Gives every route registered after this call its applied limit and the fallback count. */
  install(app: FastifyInstance): void {
    app.decorateRequest('isRateLimitPending', false);
    app.decorateRequest('appliedRateLimit', null);
    if (this.counters === undefined) return;
    // Callback style: on every route, and nothing to do for most requests — no promise for those.
    const countUnguarded: preValidationHookHandler = (request, reply, done) => {
      if (!request.isRateLimitPending) return done();
      this.countAddress(request, reply).then(() => done(), done);
    };
    app.addHook('onRoute', (route) => {
      // HEAD is GET without the body: one budget for both. (A route of several methods has one budget.)
      const method = [route.method].flat()[0];
      const routeName = `${method === 'HEAD' ? 'GET' : method} ${route.url}`;
      route.config = { ...route.config, appliedRateLimit: this.applied(route.config?.rateLimit ?? {}, routeName) };
      const own = route.preValidation === undefined ? [] : [route.preValidation].flat();
      route.preValidation = [...own, countUnguarded];
    });
  }

  /**
   * For the app's `onRequest` hook: counts a request now, unless it carries a well-formed credential
   * for a route (its guard counts it). A malformed one cannot authenticate anyone: counted now, like
   * an anonymous request, before the body is read.
   */
  readonly onRequest: onRequestHookHandler = (request, reply, done) => {
    if (this.counters === undefined) return done();
    // `routeOptions` is built afresh at each read: read it once.
    const limit = request.routeOptions.config.appliedRateLimit ?? this.unmatched;
    request.appliedRateLimit = limit;
    if (limit !== this.unmatched && this.hasWellFormedCredential(request)) {
      request.isRateLimitPending = true;
      return done();
    }
    this.countAddress(request, reply).then(() => done(), done);
  };

  /**
   * For the app's `onError` hook: a deferred request that failed before its guard ran (a body that
   * does not parse, is too large or of the wrong type) is counted against its address all the same.
   * Its answer is already decided; the count holds back the requests that follow.
   */
  async countIfStillPending(request: FastifyRequest): Promise<void> {
    if (!request.isRateLimitPending) return;
    // No reply: its headers may be on their way already.
    await this.count(request, undefined, `ip:${addressForLimits(request.ip)}`).catch(() => undefined);
  }

  private hasWellFormedCredential(request: FastifyRequest): boolean {
    const { authorization } = request.headers;
    if (authorization !== undefined) return wellFormedApiKeyIn(authorization) !== undefined;
    const token = this.options.cookies.readSessionToken(request);
    return token !== undefined && isTokenShaped(token);
  }

  /** Counts an authenticated request against its user. */
  countUser(request: FastifyRequest, reply: FastifyReply, userId: string): Promise<void> {
    return this.count(request, reply, `user:${userId}`);
  }

  /** Counts the request against its address. */
  countAddress(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    return this.count(request, reply, `ip:${addressForLimits(request.ip)}`);
  }

  /** Marks a request as counted elsewhere (an API key's own limit). */
  skip(request: FastifyRequest): void {
    request.isRateLimitPending = false;
  }

  /**
   * When the counts are in Postgres, what the session lookup needs to count a pending request
   * against the session's user in its own statement (no round trip of its own); otherwise undefined.
   */
  countInSessionLookup(request: FastifyRequest): { routeKey: string; windowMs: number } | undefined {
    if (!request.isRateLimitPending || this.counters?.shared.isInDatabase !== true) return undefined;
    const limit = this.limitOf(request);
    if (limit.isPerInstance) return undefined;
    return { routeKey: limit.routeKey, windowMs: limit.windowSeconds * 1000 };
  }

  /** Applies the count the session lookup made (see `countInSessionLookup`). */
  applySessionLookupCount(request: FastifyRequest, reply: FastifyReply, counted: CountedRequest): void {
    request.isRateLimitPending = false;
    const limit = this.limitOf(request);
    this.apply(reply, limit, decision(limit.max, counted.points, (counted.windowEndsAtMs - Date.now()) / 1000));
  }

  private limitOf(request: FastifyRequest): AppliedRateLimit {
    return request.appliedRateLimit ?? this.unmatched;
  }

  private async count(request: FastifyRequest, reply: FastifyReply | undefined, client: string): Promise<void> {
    request.isRateLimitPending = false;
    if (this.counters === undefined) return;
    const limit = this.limitOf(request);
    // One key per (route, client). In a shared store it is hashed with the route's keyed share: no
    // address or user id is kept there in plain form, nor found by hashing guesses; the session lookup
    // computes the same key for (route, user) in SQL (migrations/0009). This process's own memory
    // sees the addresses anyway: a short key, no hash, there.
    const counters = limit.isPerInstance ? this.counters.perInstance : this.counters.shared;
    const key = counters.place === 'process' ? `${limit.localKey}\n${client}` : hash('sha256', `${limit.routeKey}\n${client}`, 'base64url');
    const rate = await counters.consume(key, limit);
    if (reply !== undefined) this.apply(reply, limit, rate);
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
