import pg from 'pg';
import type { DatabaseDriver, SqlExecutor } from './driver.js';

export interface PostgresDriverOptions {
  url: string;
  /** Connections in the pool. */
  poolSize?: number;
  /** Called with errors of idle pooled connections (e.g. the server restarted) so they never crash the process. */
  onIdleError?: (error: Error) => void;
}

/** A real Postgres server through a node-postgres pool. */
export function openPostgresDriver(options: PostgresDriverOptions): DatabaseDriver {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'rampart',
  });
  pool.on('error', (error) => options.onIdleError?.(error));

  return {
    kind: 'postgres',
    async transaction(fn) {
      const client = await pool.connect();
      let isConnectionBroken = false;
      try {
        await client.query('BEGIN');
        const executor: SqlExecutor = {
          async query<Row>(text: string, params: readonly unknown[] = []) {
            const result = await client.query(text, params as unknown[]);
            return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
          },
          async exec(script) {
            await client.query(script);
          },
        };
        const result = await fn(executor);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          // A connection that cannot even roll back is in an unknown state: never reuse it.
          isConnectionBroken = true;
        }
        throw error;
      } finally {
        client.release(isConnectionBroken);
      }
    },
    close: () => pool.end(),
  };
}
