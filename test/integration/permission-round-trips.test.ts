/**
 * What the permission check costs: the caller's membership is loaded by the statement that enters the
 * workspace (which every workspace transaction sends anyway), so a workspace route makes exactly as
 * many database round trips as an account route that does the same amount of work. Counted at the
 * driver: every statement, BEGIN and COMMIT is one round trip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/database.js';
import type { DatabaseDriver } from '../../src/db/driver.js';
import { openEmbeddedDriver } from '../../src/db/embedded-driver.js';
import { applyMigrations, loadMigrations } from '../../src/db/migrate.js';
import { openPostgresDriver } from '../../src/db/postgres-driver.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, uniqueEmail } from '../fixtures/accounts.js';
import { createEmptyTestDatabase, TEST_DATABASE_KIND } from '../fixtures/database.js';
import { createWorkspaceAs } from '../fixtures/workspaces.js';

/** Wraps a driver so that every round trip it makes is written down. */
function recordingDriver(inner: DatabaseDriver, log: string[]): DatabaseDriver {
  return {
    kind: inner.kind,
    transaction(fn) {
      log.push('BEGIN');
      return inner
        .transaction((tx) =>
          fn({
            query: (text, params) => (log.push(text), tx.query(text, params)),
            exec: (script) => (log.push(script), tx.exec(script)),
          }),
        )
        .finally(() => log.push('COMMIT'));
    },
    queryPrepared: (name, text, params) => (log.push(text), inner.queryPrepared(name, text, params)),
    close: () => inner.close(),
  };
}

const log: string[] = [];
let t: TestApp;
let closeServerDatabase: (() => Promise<void>) | undefined;

beforeAll(async () => {
  let driver: DatabaseDriver;
  let url: string | undefined;
  if (TEST_DATABASE_KIND === 'postgres') {
    const server = await createEmptyTestDatabase();
    url = server.url;
    await server.database.close();
    driver = openPostgresDriver({ url: url! });
    closeServerDatabase = server.destroy;
  } else {
    driver = await openEmbeddedDriver(undefined);
  }
  const database = new Database(recordingDriver(driver, log));
  const migrations = await loadMigrations();
  await applyMigrations(database, migrations);
  t = await createTestApp({
    testDatabase: { database, migrations, url, destroy: async () => { await database.close(); await closeServerDatabase?.(); } },
  });
});
afterAll(() => t.close());

/** The round trips of one request (after the background work of earlier ones has settled). */
async function roundTripsOf(request: () => Promise<{ statusCode: number }>): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  log.length = 0;
  const response = await request();
  expect(response.statusCode).toBe(200);
  return [...log];
}

describe('the permission check', () => {
  it('adds no database round trip: a workspace read costs what an account read does', async () => {
    const user = await createVerifiedUser(t, { email: uniqueEmail('trips') });
    const workspaceId = await createWorkspaceAs(t, user.browser);
    const get = (url: string) => () => t.app.inject({ method: 'GET', url, headers: user.browser.headers() });

    const members = await roundTripsOf(get(`/api/workspaces/${workspaceId}/members`));
    const sessions = await roundTripsOf(get('/api/me/sessions'));
    // Session read; BEGIN; the statement that sets the context (and, for the workspace, loads the
    // membership the check needs); the route's one query; COMMIT.
    expect(members).toHaveLength(5);
    expect(sessions).toHaveLength(members.length);
    expect(members[2]).toContain('rampart.enter_workspace_context');
    expect(members.filter((text) => /rampart\.memberships/.test(text))).toHaveLength(1); // the route's own list
  });
});
