import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.js';
import { readMigrationStatus, type Migration } from '../../db/migrate.js';
import { AppError } from '../../server/errors.js';

export interface HealthRoutesOptions {
  database: Database;
  migrations: readonly Migration[];
  /** How long the database may take to answer before the instance reports itself not ready. */
  databaseTimeoutMs?: number;
}

const checkStates = z.object({
  database: z.enum(['ok', 'unreachable']),
  migrations: z.enum(['ok', 'pending', 'changed', 'unknown', 'unavailable']),
  config: z.literal('ok'),
});
type Checks = z.infer<typeof checkStates>;

class TimeoutError extends Error {}

const LIVENESS_BODY = JSON.stringify({ status: 'ok' });

function withTimeout<T>(promise: Promise<T>, milliseconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError()), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `GET /api/health/live`: the process is up and serving HTTP; touches nothing, so an orchestrator
 * never restarts an instance because its database is slow.
 *
 * `GET /api/health`: the instance can serve requests — the database answers (as the app role, like a
 * request would) and holds exactly the migrations this version ships. Configuration is validated at
 * start-up (a process with invalid configuration never starts), so `config` is always `ok` here.
 */
export const healthRoutes: FastifyPluginAsyncZod<HealthRoutesOptions> = async (app, options) => {
  const timeoutMs = options.databaseTimeoutMs ?? 2_000;

  app.get(
    '/api/health/live',
    {
      // Counted per instance: liveness must answer whatever the shared counters' store is doing.
      config: { rateLimit: { isPerInstance: true } },
      schema: { tags: ['health'], summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }) } },
    },
    (_request, reply) => {
      // Probed every few seconds by every orchestrator: the constant body is serialised once, here.
      // (A string body bypasses the serializer; the cast only quiets the schema-derived type.)
      void reply.type('application/json; charset=utf-8').send(LIVENESS_BODY as never);
    },
  );

  app.get(
    '/api/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: database, migrations and configuration',
        response: { 200: z.object({ status: z.literal('ok'), checks: checkStates }) },
      },
    },
    async (request) => {
      const checks: Checks = { database: 'ok', migrations: 'ok', config: 'ok' };
      try {
        const status = await withTimeout(
          options.database.withTenant({}, (tx) => readMigrationStatus(tx, options.migrations)),
          timeoutMs,
        );
        if (status.changed.length > 0) checks.migrations = 'changed';
        else if (status.unknown.length > 0) checks.migrations = 'unknown';
        else if (status.pending.length > 0) checks.migrations = 'pending';
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check: database did not answer');
        checks.database = 'unreachable';
        checks.migrations = 'unavailable';
      }
      const isReady = Object.values(checks).every((state) => state === 'ok');
      if (!isReady) throw new AppError('SERVICE_DEGRADED', { extensions: { checks } });
      return { status: 'ok' as const, checks };
    },
  );
};
