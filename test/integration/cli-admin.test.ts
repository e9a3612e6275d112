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
let aliceEmail: string;

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

function rampart(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], {
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
  workDir = await mkdtemp(path.join(tmpdir(), 'rampart-cli-admin-'));
  if (TEST_DATABASE_KIND === 'postgres') serverDatabase = await createEmptyTestDatabase();
  ids = await withDatabase(async (database) => {
    await migrateDatabase(database, createLogger({ level: 'silent' }));
    return seedTwoWorkspaces(database, AuditLog.fromMasterKey(masterKey));
  });
  aliceEmail = `${ids.workspaceA.slice(0, 8)}.alice@a.example`;
});
afterAll(async () => {
  await serverDatabase?.destroy();
  await rm(workDir, { recursive: true, force: true });
});

describe('rampart admin', () => {
  it('grants, lists and revokes the platform super-admin flag, each change in the platform log', () => {
    expect(rampart(['admin', 'list']).stdout).toContain('no platform super-admins');
    const grant = rampart(['admin', 'grant', aliceEmail.toUpperCase()]);
    expect(grant.stderr).toBe('');
    expect(grant.status).toBe(0);
    expect(rampart(['admin', 'grant', aliceEmail]).stdout).toContain('unchanged');
    expect(rampart(['admin', 'list']).stdout).toContain(aliceEmail);
    expect(rampart(['admin', 'revoke', aliceEmail]).status).toBe(0);
    expect(rampart(['admin', 'list']).stdout).toContain('no platform super-admins');

    const verify = rampart(['audit', 'verify']);
    expect(verify.status).toBe(0);
    expect(verify.stdout).toContain('platform log: ok, 2 event(s)');
    expect(verify.stdout).toContain(`account ${ids.alice}: ok, 3 event(s)`);
  });

  it('refuses an unknown email (exit 67) and a malformed command (exit 64), changing nothing', () => {
    const unknown = rampart(['admin', 'grant', 'nobody@example.com']);
    expect(unknown.status).toBe(67);
    expect(unknown.stderr).toContain('no account');
    expect(rampart(['admin', 'grant']).status).toBe(64);
    expect(rampart(['admin', 'grant', aliceEmail, 'extra']).status).toBe(64);
    expect(rampart(['admin', 'promote', aliceEmail]).status).toBe(64);
    expect(rampart(['admin', 'list']).stdout).toContain('no platform super-admins');
  });

  it('is the only way to set the flag: the app role cannot write it', async () => {
    const privileges = await withDatabase((database) =>
      database.transactionAsOwner((tx) =>
        tx.query<{ privilege: string; granted: boolean }>(
          `SELECT p AS privilege, has_table_privilege('rampart_app', 'rampart.platform_admins', p) AS granted
             FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p`,
        ),
      ),
    );
    expect(Object.fromEntries(privileges.rows.map((row) => [row.privilege, row.granted]))).toEqual({
      SELECT: true,
      INSERT: false,
      UPDATE: false,
      DELETE: false,
    });
  });
});
