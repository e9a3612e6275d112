/**
 * The README's deployment recipe on a real server: Rampart's owner role is not a superuser (it has
 * CREATEROLE, as step 1 says), runs the migrations, and every request still runs as rampart_app.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/server/logger.js';
import { migrateDatabase } from '../../src/server/start.js';

const suffix = randomBytes(4).toString('hex');
const owner = `rampart_owner_${suffix}`;
const databaseName = `rampart_test_deploy_${suffix}`;
const adminUrl = process.env.DATABASE_URL ?? '';

async function asAdmin(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  await asAdmin(`CREATE ROLE ${owner} LOGIN CREATEROLE`);
  await asAdmin(`CREATE DATABASE ${databaseName} OWNER ${owner}`);
});
afterAll(async () => {
  await asAdmin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  await asAdmin(`DROP ROLE IF EXISTS ${owner}`);
});

describe('deploying with a non-superuser owner', () => {
  it('migrates, passes the schema check, and serves requests as rampart_app', async () => {
    const url = new URL(adminUrl);
    url.username = owner;
    url.password = '';
    url.pathname = `/${databaseName}`;
    const database = await openDatabase({ kind: 'postgres', url: url.toString() });
    try {
      await migrateDatabase(database, createLogger({ level: 'silent' }));
      const who = await database.withTenant({}, (tx) =>
        tx.query<{ role: string; is_super: boolean }>(
          `SELECT current_user AS role, (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) AS is_super`,
        ),
      );
      expect(who.rows).toEqual([{ role: 'rampart_app', is_super: false }]);
    } finally {
      await database.close();
    }
  });
});
