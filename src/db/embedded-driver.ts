import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { DatabaseDriver, SqlExecutor } from './driver.js';

/**
 * PGlite: real Postgres compiled to WebAssembly, running in this process. It has exactly one
 * connection and runs one transaction at a time, so concurrent requests queue rather than interleave.
 *
 * @param dataDir a directory for persistent data, or `undefined` for a throw-away in-memory database.
 */
export async function openEmbeddedDriver(dataDir: string | undefined): Promise<DatabaseDriver> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const pglite = await PGlite.create(dataDir);

  return {
    kind: 'embedded',
    transaction: (fn) =>
      pglite.transaction((tx) => {
        const executor: SqlExecutor = {
          async query<Row>(text: string, params: readonly unknown[] = []) {
            const result = await tx.query<Row>(text, params as unknown[]);
            return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
          },
          async exec(script) {
            await tx.exec(script);
          },
        };
        return fn(executor);
      }),
    close: () => pglite.close(),
  };
}
