import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { testConfig } from '../fixtures/app.js';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.js';
import type { Migration } from '../../src/db/migrate.js';

let testDatabase: TestDatabase | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  await testDatabase?.destroy();
  app = undefined;
  testDatabase = undefined;
});

async function appOn(options: { extraMigrations?: Migration[] } = {}) {
  testDatabase = await createTestDatabase();
  app = await createApp({
    config: testConfig(),
    database: testDatabase.database,
    migrations: [...testDatabase.migrations, ...(options.extraMigrations ?? [])],
    logger: createLogger({ level: 'silent' }),
    masterKey: randomBytes(32),
    closeDatabaseOnClose: false,
  });
  return app;
}

describe('GET /api/health', () => {
  it('is 200 ok when the database answers and is fully migrated', async () => {
    const app = await appOn();
    const response = await app.inject({ method: 'GET', url: '/api/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', checks: { database: 'ok', migrations: 'ok', config: 'ok' } });
  });

  it('is 503 SERVICE_DEGRADED when this version ships a migration the database lacks', async () => {
    const app = await appOn({ extraMigrations: [{ name: '9999_later.sql', sql: 'SELECT 1', checksum: 'x' }] });
    const response = await app.inject({ method: 'GET', url: '/api/health' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ code: 'SERVICE_DEGRADED', checks: { database: 'ok', migrations: 'pending' } });
  });

  it('is 503 SERVICE_DEGRADED when the database is gone, while liveness stays 200', async () => {
    const app = await appOn();
    await testDatabase!.database.close();
    const ready = await app.inject({ method: 'GET', url: '/api/health' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      code: 'SERVICE_DEGRADED',
      checks: { database: 'unreachable', migrations: 'unavailable' },
    });
    expect(ready.body).not.toMatch(/pool|closed|ECONN/i);
    const live = await app.inject({ method: 'GET', url: '/api/health/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
  });
});
