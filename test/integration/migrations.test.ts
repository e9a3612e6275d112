import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, loadMigrations, MigrationError, readMigrationStatus, type Migration } from '../../src/db/migrate.js';
import { createEmptyTestDatabase } from '../fixtures/database.js';

type EmptyDatabase = Awaited<ReturnType<typeof createEmptyTestDatabase>>;
let current: EmptyDatabase | undefined;
afterEach(async () => {
  await current?.destroy();
  current = undefined;
});
const emptyDatabase = async () => (current = await createEmptyTestDatabase({ poolSize: 3 }));

describe('migrations', () => {
  it('apply once, in order, and are a no-op the second time', async () => {
    const { database } = await emptyDatabase();
    const migrations = await loadMigrations();
    expect(migrations.map((m) => m.name)).toEqual([...migrations.map((m) => m.name)].sort());
    expect(await applyMigrations(database, migrations)).toEqual(migrations.map((m) => m.name));
    expect(await applyMigrations(database, migrations)).toEqual([]);
    const status = await database.transactionAsOwner((tx) => readMigrationStatus(tx, migrations));
    expect(status).toEqual({ pending: [], changed: [], unknown: [] });
  });

  it('run exactly once when several instances start together', async () => {
    const { database } = await emptyDatabase();
    const migrations = await loadMigrations();
    const results = await Promise.all([1, 2, 3].map(() => applyMigrations(database, migrations)));
    expect(results.flat().sort()).toEqual(migrations.map((m) => m.name).sort());
  });

  it('apply all or nothing: a failing migration leaves no trace of the others', async () => {
    const { database } = await emptyDatabase();
    const broken: Migration = { name: '9999_broken.sql', sql: 'CREATE TABLE rampart.oops (', checksum: 'x' };
    await expect(applyMigrations(database, [...(await loadMigrations()), broken])).rejects.toThrow();
    const schemas = await database.transactionAsOwner((tx) =>
      tx.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'rampart'`),
    );
    expect(schemas.rows).toEqual([]);
  });

  it('refuse a database whose applied migration was edited afterwards', async () => {
    const { database } = await emptyDatabase();
    const migrations = await loadMigrations();
    await applyMigrations(database, migrations);
    const edited = migrations.map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
    await expect(applyMigrations(database, edited)).rejects.toThrow(MigrationError);
    await expect(applyMigrations(database, edited)).rejects.toThrow(/changed after they were applied: 0001_foundation.sql/);
  });

  it('refuse a new migration numbered before one already applied', async () => {
    const { database } = await emptyDatabase();
    const migrations = await loadMigrations();
    await applyMigrations(database, [...migrations, { name: '0500_later.sql', sql: 'SELECT 1', checksum: 'l' }]);
    const late: Migration = { name: '0400_late.sql', sql: 'SELECT 1', checksum: 'e' };
    const all = [...migrations, late, { name: '0500_later.sql', sql: 'SELECT 1', checksum: 'l' }];
    await expect(applyMigrations(database, all)).rejects.toThrow(/0400_late.sql sort before the already applied 0500_later.sql/);
  });

  it('refuse a database migrated by a newer version', async () => {
    const { database } = await emptyDatabase();
    const migrations = await loadMigrations();
    const newer: Migration = { name: '9000_future.sql', sql: 'SELECT 1', checksum: 'f' };
    await applyMigrations(database, [...migrations, newer]);
    await expect(applyMigrations(database, migrations)).rejects.toThrow(/migrated by a newer Rampart/);
  });

  it('refuse a .sql file whose name does not follow NNNN_name.sql, instead of skipping it', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'rampart-migrations-'));
    try {
      await writeFile(path.join(directory, '0001_ok.sql'), 'SELECT 1');
      await writeFile(path.join(directory, 'add-index.sql'), 'SELECT 1');
      await expect(loadMigrations(directory)).rejects.toThrow(/must be named NNNN_name.sql: add-index.sql/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
