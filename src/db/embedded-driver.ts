import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { DatabaseDriver, SqlExecutor } from './driver.js';

/** Thrown when another live process (or another Database in this one) has the directory open. */
export class EmbeddedDatabaseInUseError extends Error {
  override name = 'EmbeddedDatabaseInUseError';
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<dataDir>.lock`. PGlite does not guard its directory, and two instances writing one
 * directory (say `rampart migrate` while `rampart start` runs) corrupt it; this refuses the second.
 * A lock left by a process that no longer exists is taken over.
 *
 * @returns a function that releases the lock.
 */
async function lockDirectory(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await writeFile(lockFile, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && isProcessAlive(holder)) {
      throw new EmbeddedDatabaseInUseError(
        `the embedded database in ${dataDir} is in use by process ${holder}; stop it first (or use DATABASE_URL for several processes)`,
      );
    }
    await rm(lockFile, { force: true });
  }
  throw new EmbeddedDatabaseInUseError(`could not lock the embedded database in ${dataDir}`);
}

/**
 * PGlite: real Postgres compiled to WebAssembly, running in this process. It has exactly one
 * connection and runs one transaction at a time, so concurrent requests queue rather than interleave.
 *
 * @param dataDir a directory for persistent data (locked while open), or `undefined` for a
 *   throw-away in-memory database.
 */
export async function openEmbeddedDriver(dataDir: string | undefined): Promise<DatabaseDriver> {
  let unlock = async () => {};
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    unlock = await lockDirectory(dataDir);
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dataDir);
  } catch (error) {
    await unlock();
    throw error;
  }

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
    async close() {
      try {
        await pglite.close();
      } finally {
        await unlock();
      }
    },
  };
}
