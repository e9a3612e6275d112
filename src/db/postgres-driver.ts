import pg from 'pg';
import type { DatabaseDriver, OwnerSqlExecutor } from './driver.js';

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
    // A transaction left open (a hung request) would hold its locks and its connection forever.
    idle_in_transaction_session_timeout: 60_000,
    application_name: 'rampart',
  });
  pool.on('error', (error) => options.onIdleError?.(error));

  return {
    kind: 'postgres',
    async transaction(fn) {
      const client = await pool.connect();
      let isConnectionBroken = false;
      // While checked out, a connection's errors (the server restarting, the backend being
      // terminated) are emitted on the client, which the pool no longer listens to: without this
      // listener they would crash the process. The failing query rejects on its own.
      const markBroken = () => {
        isConnectionBroken = true;
      };
      client.on('error', markBroken);
      try {
        await client.query('BEGIN');
        const executor: OwnerSqlExecutor = {
          async query<Row>(text: string, params: readonly unknown[] = []) {
            // `queryMode` is missing from the type definitions; node-postgres honours it.
            const config = { text, values: params as unknown[], queryMode: 'extended' } as pg.QueryConfig;
            const result: pg.QueryResult = await client.query(config);
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
        if (!isConnectionBroken) {
          try {
            await client.query('ROLLBACK');
          } catch {
            // A connection that cannot even roll back is in an unknown state: never reuse it.
            isConnectionBroken = true;
          }
        }
        throw error;
      } finally {
        client.off('error', markBroken);
        client.release(isConnectionBroken);
      }
    },
    async queryPrepared<Row>(name: string, text: string, params: readonly unknown[]) {
      // The pool checks a connection out for this one query and discards it if the query fails.
      const result = await pool.query({ name, text, values: params as unknown[] });
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
    },
    close: () => pool.end(),
  };
}
