import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { DatabaseDriver, OwnerSqlExecutor } from './driver.js';

/** Thrown when another live process (or another Database in this one) has the directory open. */
export class EmbeddedDatabaseInUseError extends Error {
  override name = 'EmbeddedDatabaseInUseError';
}

/** Directories this process has open: a lock naming our own PID is ours only if listed here. */
const openDirectories = new Set<string>();

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock's holder still runs. A restarted container often gets the same PID as its crashed predecessor. */
function isHeldByLiveProcess(holder: number, directory: string): boolean {
  if (holder === process.pid) return openDirectories.has(directory);
  return isProcessAlive(holder);
}

const readLockHolder = async (lockFile: string) => (await readFile(lockFile, 'utf8').catch(() => '')).trim();

/**
 * Takes `<dataDir>.lock`. PGlite does not guard its directory, and two instances writing one
 * directory (say `rampart migrate` while `rampart start` runs) corrupt it; this refuses the second.
 * A lock whose process no longer exists is taken over. (Two processes that find the same stale lock
 * within the same few microseconds could both take it; the embedded database is for one process.)
 *
 * @returns a function that releases the lock.
 */
async function lockDirectory(dataDir: string): Promise<() => Promise<void>> {
  const directory = path.resolve(dataDir);
  const lockFile = `${directory}.lock`;
  const inUse = (holder: string) =>
    new EmbeddedDatabaseInUseError(
      `the embedded database in ${directory} is in use by process ${holder}; stop it first (or use DATABASE_URL for several processes)`,
    );
  if (openDirectories.has(directory)) throw inUse(String(process.pid));

  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      await writeFile(lockFile, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      openDirectories.add(directory);
      return async () => {
        openDirectories.delete(directory);
        await rm(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readLockHolder(lockFile);
    if (holder === '') {
      // Created but not written yet: another process is taking it right now.
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    const pid = Number(holder);
    if (Number.isInteger(pid) && pid > 0 && isHeldByLiveProcess(pid, directory)) throw inUse(holder);
    // Stale. Remove it only if it is still the same stale lock, not one just taken by someone else.
    if ((await readLockHolder(lockFile)) === holder) await rm(lockFile, { force: true });
  }
  throw new EmbeddedDatabaseInUseError(`could not lock the embedded database in ${directory}`);
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
        const executor: OwnerSqlExecutor = {
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
    async queryPrepared<Row>(_name: string, text: string, params: readonly unknown[]) {
      // PGlite runs it exclusively, like a transaction: nothing interleaves. With one in-process
      // connection there is no round trip to save.
      const result = await pglite.query<Row>(text, params as unknown[]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async close() {
      try {
        await pglite.close();
      } finally {
        await unlock();
      }
    },
  };
}
