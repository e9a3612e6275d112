import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/index.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { createLogger } from '../../src/server/logger.js';
import { migrateDatabase } from '../../src/server/start.js';
import { createEmptyTestDatabase, TEST_DATABASE_KIND } from '../fixtures/database.js';
import { seedTwoWorkspaces, type TwoWorkspaces } from '../fixtures/seed.js';

const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url));
const masterKey = randomBytes(32);

let workDir: string;
let serverDatabase: Awaited<ReturnType<typeof createEmptyTestDatabase>> | undefined;
let ids: TwoWorkspaces;

/** The embedded database is locked while open, so each step opens it, works, and closes it again. */
async function withDatabase<T>(fn: (database: Database) => Promise<T>): Promise<T> {
  const database = serverDatabase
    ? await openDatabase({ kind: 'postgres', url: serverDatabase.url! })
    : await openDatabase({ kind: 'embedded', dataDir: path.join(workDir, 'data', 'pgdata') });
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

function audit(args: string[]) {
  return spawnSync(process.execPath, [CLI, 'audit', ...args], {
    cwd: workDir,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      RAMPART_DATA_DIR: path.join(workDir, 'data'),
      RAMPART_MASTER_KEY: masterKey.toString('base64'),
      ...(serverDatabase?.url ? { DATABASE_URL: serverDatabase.url } : {}),
    },
  });
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'rampart-cli-audit-'));
  if (TEST_DATABASE_KIND === 'postgres') serverDatabase = await createEmptyTestDatabase();
  ids = await withDatabase(async (database) => {
    await migrateDatabase(database, createLogger({ level: 'silent' }));
    return seedTwoWorkspaces(database, AuditLog.fromMasterKey(masterKey));
  });
});
afterAll(async () => {
  await serverDatabase?.destroy();
  await rm(workDir, { recursive: true, force: true });
});

describe('rampart audit', () => {
  it('verifies every chain, workspace and account, and exits 0', () => {
    const result = audit(['verify']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`workspace ${ids.workspaceA}: ok, 1 event(s)`);
    expect(result.stdout).toContain(`workspace ${ids.workspaceB}: ok, 1 event(s)`);
    expect(result.stdout).toContain(`account ${ids.alice}: ok, 1 event(s)`);
    expect(result.stdout).toContain('platform log: ok, 0 event(s)');
  });

  it('names the first broken event and exits 2 when a chain was tampered with', async () => {
    await withDatabase((database) =>
      database.transactionAsOwner(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query(`UPDATE rampart.audit_events SET actor_type = 'system', actor_id = NULL WHERE workspace_id = $1`, [
          ids.workspaceB,
        ]);
      }),
    );
    const result = audit(['verify', '--workspace', ids.workspaceB]);
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(new RegExp(`workspace ${ids.workspaceB}: BROKEN: event 1 \\(.+\\) was altered after it was recorded`));
  });

  it('purges nothing younger than the retention period, and leaves the broken chain alone (exit 2)', () => {
    const result = audit(['purge']);
    expect(result.status).toBe(2);
    expect(result.stdout).toContain(`workspace ${ids.workspaceB}: not purged: refusing to purge a broken chain`);
    // Two workspaces and three users (Carol has no account events yet, but is listed all the same),
    // less workspace B, tampered with above.
    expect(result.stdout).toMatch(/removed 0 event\(s\) recorded before .+ from 5 chain\(s\)\n$/);
    expect(audit(['purge', '--workspace', ids.workspaceA]).status).toBe(0);
  });

  it.each([[['verify', '--workspace']], [['verify', '--workspace', 'not-a-uuid']], [['rewrite']], [['purge', '--all']]])(
    'refuses %j with the usage text and exit 64',
    (args) => {
      const result = audit(args);
      expect(result.status).toBe(64);
      expect(result.stderr).toContain('rampart audit verify [--workspace ID]');
      expect(result.stdout).toBe('');
    },
  );
});
