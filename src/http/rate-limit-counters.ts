import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterPostgres,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { consumeOne, type RateLimitDecision } from '../api-keys/rate-limiter.js';
import type { Database } from '../db/database.js';
import type { RouteRateLimit } from './route-rate-limit.js';

/**
 * Request counters for the per-route limits, through rate-limiter-flexible (fixed windows): in memory
 * for one process (the embedded database), in Postgres or Redis when several instances must share one
 * count. The library fixes points and duration per limiter, so there is one limiter per distinct limit.
 */
export class RouteCounters {
  private readonly limiters = new Map<string, RateLimiterAbstract>();
  /** The same, by the limit object of a route: no key to build per request. */
  private readonly limitersByLimit = new WeakMap<RouteRateLimit, RateLimiterAbstract>();

  private constructor(
    private readonly createLimiter: (limit: RouteRateLimit) => RateLimiterAbstract,
    /** Where the counts are: this process's memory, `rampart.rate_limits` (which the session lookup can count in too), or Redis. */
    readonly place: 'process' | 'database' | 'redis',
  ) {}

  get isInDatabase(): boolean {
    return this.place === 'database';
  }

  /** One process's own counters: right for the embedded database, which only one process may open. */
  static inMemory(): RouteCounters {
    return new RouteCounters((limit) => new RateLimiterMemory(inMemory(limit)), 'process');
  }

  /**
   * Counters in the `rampart.rate_limits` table, one statement per request. Should the database fail
   * to answer, each instance counts in memory meanwhile (the library's insurance limiter): requests
   * are still limited, never let through uncounted nor refused for want of a counter.
   */
  static inPostgres(database: Database): RouteCounters {
    return new RouteCounters((limit) => new RateLimiterRampartPostgres(database, sharedStoreOptions(limit)), 'database');
  }

  /** Counters in Redis (one round trip per request), insured by memory like the Postgres ones. */
  static inRedis(redis: Redis): RouteCounters {
    return new RouteCounters((limit) => new RateLimiterRedis({ storeClient: redis, ...sharedStoreOptions(limit), keyPrefix: 'rampart:route' }), 'redis');
  }

  private limiterFor(limit: RouteRateLimit): RateLimiterAbstract {
    let limiter = this.limitersByLimit.get(limit);
    if (limiter !== undefined) return limiter;
    const name = `${limit.max}/${limit.windowSeconds}`;
    limiter = this.limiters.get(name) ?? this.createLimiter(limit);
    this.limiters.set(name, limiter);
    this.limitersByLimit.set(limit, limiter);
    return limiter;
  }

  consume(key: string, limit: RouteRateLimit): Promise<RateLimitDecision> {
    return consumeOne(this.limiterFor(limit), key, limit.max);
  }
}

function inMemory(limit: RouteRateLimit) {
  return { keyPrefix: '', points: limit.max, duration: limit.windowSeconds };
}

/**
 * A shared store's options: insured by memory (above), and a client that went over its limit is
 * refused from memory until its window ends, so a flood from one client is not a flood of writes.
 */
function sharedStoreOptions(limit: RouteRateLimit) {
  return { ...inMemory(limit), insuranceLimiter: new RateLimiterMemory(inMemory(limit)), inMemoryBlockOnConsumed: limit.max + 1 };
}

interface StoredWindow {
  points: number;
  expire: number;
}

/**
 * rate-limiter-flexible's Postgres limiter with Rampart's own statements: the library's SQL would run
 * as the connecting (owner) role, and requests run only as rampart_app. Each database function enters
 * the app role and does its work in one round trip, by the database's clock; the library keeps the
 * counting rules (windows, insurance, the hourly sweep of ended windows). Only counting is needed:
 * reading or deleting a key is not offered.
 */
class RateLimiterRampartPostgres extends RateLimiterPostgres {
  constructor(
    private readonly database: Database,
    options: Omit<ConstructorParameters<typeof RateLimiterPostgres>[0], 'storeClient' | 'storeType' | 'tableCreated'>,
  ) {
    // `storeType: 'pool'` only tells the library to call the client directly; every call is overridden.
    super({ ...options, storeClient: database, storeType: 'pool', tableCreated: true });
  }

  _upsert(key: string, points: number, msDuration: number, forceExpire = false): Promise<{ rows: StoredWindow[] }> {
    return this.database
      .callContextFunction<StoredWindow>('rampart.rate_limits_consume', [key, points, msDuration, forceExpire])
      .then((rows) => ({ rows }));
  }

  /** Called by the library's sweep (an unreferenced timer); the database decides what has ended. */
  clearExpired(): Promise<void> {
    // Not critical: a failure leaves the rows for the next sweep.
    return this.database.callContextFunction('rampart.rate_limits_clear_expired', []).then(
      () => undefined,
      () => undefined,
    );
  }

  _get(): Promise<never> {
    return Promise.reject(new Error('reading a rate-limit key is not supported'));
  }

  _delete(): Promise<never> {
    return Promise.reject(new Error('deleting a rate-limit key is not supported'));
  }
}
