import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
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
}

export function decision(limit: number, used: number, resetSeconds: number): RateLimitDecision {
  return { isAllowed: used <= limit, limit, remaining: Math.max(0, limit - used), resetSeconds: Math.max(1, Math.ceil(resetSeconds)) };
}

/**
 * Counts one request with a rate-limiter-flexible limiter and says what it decided. A rejection is a
 * refusal whatever count it reports (one answered from the library's in-memory block reports 0 points
 * used); any other failure (the store unreachable) is thrown for the caller to decide.
 */
export async function consumeOne(limiter: RateLimiterAbstract, key: string, limit: number): Promise<RateLimitDecision> {
  try {
    const result = await limiter.consume(key);
    return decision(limit, result.consumedPoints, result.msBeforeNext / 1000);
  } catch (error) {
    if (error instanceof RateLimiterRes) return decision(limit, Math.max(error.consumedPoints, limit + 1), error.msBeforeNext / 1000);
    throw error;
  }
}

/** The default: the authenticating statement has counted the request in the key's window row. */
export class DatabaseRateLimiter implements ApiKeyRateLimiter {
  readonly isCountedByDatabase = true;

  decide(lookup: ApiKeyLookup): Promise<RateLimitDecision> {
    return Promise.resolve(decision(lookup.rateLimitPerMinute, lookup.requestsUsed, lookup.windowResetSeconds));
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

  constructor(private readonly redis: Redis) {}

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
      return await consumeOne(this.limiterFor(limit), lookup.id, limit);
    } catch (error) {
      throw new AppError('SERVICE_UNAVAILABLE', { publicMessage: 'The rate limiter is unreachable; retry shortly.', cause: error });
    }
  }
}

/**
 * The Redis connection of an instance, shared by its rate limiters. No offline queue: a request must
 * not wait for a reconnection, its command fails at once.
 */
export function connectRedis(url: string, logger: Pick<Logger, 'warn'>): Redis {
  // A Redis that accepts connections but stalls must not stall requests: a command gives up after
  // `commandTimeout` ms and the limiter falls back (memory for route limits, 503 for API keys).
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false, commandTimeout: 500 });
  let lastWarnedAt = 0;
  redis.on('error', (error: Error) => {
    // The client reconnects by itself; say so at most once a minute, not once per attempt.
    if (Date.now() - lastWarnedAt < 60_000) return;
    lastWarnedAt = Date.now();
    logger.warn({ err: error }, 'Redis connection failed; rate limits fall back until it answers');
  });
  return redis;
}

/**
 * Resolves true once the connection is ready, or false after `timeoutMs`: an instance starts serving
 * either way, but should not count its first requests alone because Redis was still connecting.
 */
export function whenRedisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), timeoutMs);
    const onReady = () => finish(true);
    function finish(isReady: boolean) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(isReady);
    }
    redis.once('ready', onReady);
  });
}

export async function closeRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}
