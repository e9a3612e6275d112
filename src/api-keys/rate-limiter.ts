import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../server/errors.js';
import type { ApiKeyLookup } from './api-keys.js';
import { RATE_LIMIT_WINDOW_SECONDS } from './api-keys.js';

/** The limiter's answer for one request, with what the `RateLimit-*` headers report. */
export interface RateLimitDecision {
  isAllowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends and the count starts again. */
  resetSeconds: number;
}

/**
 * The per-key request limit, shared by every instance of Rampart: counted by the database in the
 * statement that authenticates the key (no extra round trip), or in Redis when `REDIS_URL` is set
 * (one round trip to Redis, none to the database).
 */
export interface ApiKeyRateLimiter {
  /** True when the authenticating statement must count the request itself. */
  readonly isCountedByDatabase: boolean;
  decide(lookup: ApiKeyLookup): Promise<RateLimitDecision>;
  close(): Promise<void>;
}

function decision(limit: number, used: number, resetSeconds: number): RateLimitDecision {
  return { isAllowed: used <= limit, limit, remaining: Math.max(0, limit - used), resetSeconds: Math.max(1, Math.ceil(resetSeconds)) };
}

/** The default: the authenticating statement has counted the request in the key's window row. */
export class DatabaseRateLimiter implements ApiKeyRateLimiter {
  readonly isCountedByDatabase = true;

  decide(lookup: ApiKeyLookup): Promise<RateLimitDecision> {
    return Promise.resolve(decision(lookup.rateLimitPerMinute, lookup.requestsUsed, lookup.windowResetSeconds));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Redis, through rate-limiter-flexible: a fixed window per key (an atomic increment with its expiry,
 * one round trip). A limiter per distinct limit, since the library fixes the points per limiter.
 * When Redis cannot be reached the request is refused with 503, never let through uncounted.
 */
export class RedisRateLimiter implements ApiKeyRateLimiter {
  readonly isCountedByDatabase = false;
  private readonly limiters = new Map<number, RateLimiterRedis>();

  private constructor(private readonly redis: Redis) {}

  static connect(url: string): RedisRateLimiter {
    // No offline queue: a request must not wait for a reconnection, it fails at once.
    const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
    redis.on('error', () => {
      // Reported per request by the failing command; the client reconnects by itself.
    });
    return new RedisRateLimiter(redis);
  }

  private limiterFor(limit: number): RateLimiterRedis {
    let limiter = this.limiters.get(limit);
    if (limiter === undefined) {
      limiter = new RateLimiterRedis({ storeClient: this.redis, keyPrefix: 'rampart:api-key', points: limit, duration: RATE_LIMIT_WINDOW_SECONDS });
      this.limiters.set(limit, limiter);
    }
    return limiter;
  }

  async decide(lookup: ApiKeyLookup): Promise<RateLimitDecision> {
    const limit = lookup.rateLimitPerMinute;
    try {
      const result = await this.limiterFor(limit).consume(lookup.id);
      return decision(limit, result.consumedPoints, result.msBeforeNext / 1000);
    } catch (error) {
      if (error instanceof RateLimiterRes) return decision(limit, error.consumedPoints, error.msBeforeNext / 1000);
      throw new AppError('SERVICE_UNAVAILABLE', { publicMessage: 'The rate limiter is unreachable; retry shortly.', cause: error });
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
