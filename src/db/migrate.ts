import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.js';
import type { SqlExecutor } from './driver.js';

/** `migrations/` at the package root: two levels above both `src/db/` and `dist/db/`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const MIGRATION_FILE = /^\d{4}_[a-z0-9_]+\.sql$/;

/** Any constant works; it only has to be the same for every Rampart process migrating one database. */
const MIGRATION_LOCK_KEY = 7_267_759_001;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationStatus {
  /** Known to this version, not applied yet. */
  pending: string[];
  /** Applied, but the file has changed since: the database may not be what the code expects. */
  changed: string[];
  /** Applied by a newer version of Rampart that this one does not know. */
  unknown: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Reads the SQL migrations in name order. A `.sql` file with a malformed name is an error, not skipped. */
export async function loadMigrations(directory = MIGRATIONS_DIR): Promise<Migration[]> {
  const sqlFiles = (await readdir(directory)).filter((name) => name.endsWith('.sql'));
  const misnamed = sqlFiles.filter((name) => !MIGRATION_FILE.test(name));
  if (misnamed.length > 0) {
    throw new MigrationError(`migration files must be named NNNN_name.sql: ${misnamed.join(', ')}`);
  }
  const names = sqlFiles.sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(directory, name), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/** Compares what the database has applied with the migrations this version ships. */
export async function readMigrationStatus(tx: SqlExecutor, migrations: readonly Migration[]): Promise<MigrationStatus> {
  const { rows } = await tx.query<{ name: string; checksum: string }>(
    'SELECT name, checksum FROM rampart.schema_migrations',
  );
  const applied = new Map(rows.map((row) => [row.name, row.checksum]));
  const known = new Set(migrations.map((migration) => migration.name));
  return {
    pending: migrations.filter((m) => !applied.has(m.name)).map((m) => m.name),
    changed: migrations.filter((m) => applied.has(m.name) && applied.get(m.name) !== m.checksum).map((m) => m.name),
    unknown: [...applied.keys()].filter((name) => !known.has(name)).sort(),
  };
}

/**
 * Applies every pending migration in one transaction, as the owner role. Concurrent callers (several
 * instances starting at once) queue on an advisory lock, so each migration runs exactly once.
 * Refuses to run over a database whose applied migrations were edited or come from a newer version.
 *
 * @returns the names of the migrations it applied.
 */
export async function applyMigrations(database: Database, migrations: readonly Migration[]): Promise<string[]> {
  return database.transactionAsOwner(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(`
      CREATE SCHEMA IF NOT EXISTS rampart;
      CREATE TABLE IF NOT EXISTS rampart.schema_migrations (
        name       text PRIMARY KEY,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      );
    `);
    const status = await readMigrationStatus(tx, migrations);
    if (status.changed.length > 0) {
      throw new MigrationError(`migrations changed after they were applied: ${status.changed.join(', ')}`);
    }
    const lastApplied = migrations.filter((m) => !status.pending.includes(m.name)).at(-1)?.name;
    const outOfOrder = status.pending.filter((name) => lastApplied !== undefined && name < lastApplied);
    if (outOfOrder.length > 0) {
      throw new MigrationError(
        `migrations ${outOfOrder.join(', ')} sort before the already applied ${lastApplied}: give them a later number`,
      );
    }
    if (status.unknown.length > 0) {
      throw new MigrationError(
        `the database has migrations this version does not know (${status.unknown.join(', ')}): it was migrated by a newer Rampart`,
      );
    }
    for (const migration of migrations.filter((m) => status.pending.includes(m.name))) {
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO rampart.schema_migrations (name, checksum) VALUES ($1, $2)', [
        migration.name,
        migration.checksum,
      ]);
    }
    return status.pending;
  });
}
