import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { testConfig } from '../fixtures/app.js';
import { createTestDatabase } from '../fixtures/database.js';

describe('graceful shutdown', () => {
  it('finishes the in-flight request, refuses new connections, then closes the database', async () => {
    const testDatabase = await createTestDatabase();
    const { database } = testDatabase;
    const app = await createApp({
      config: testConfig(),
      database,
      migrations: testDatabase.migrations,
      logger: createLogger({ level: 'silent' }),
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const hasEntered = new Promise<void>((resolve) => (entered = resolve));
    app.get('/api/test/slow', async () => {
      entered();
      await gate;
      // The database must still be open for a request that started before the shutdown.
      const { rows } = await database.withTenant({}, (tx) => tx.query<{ answer: number }>('SELECT 42 AS answer'));
      return rows[0];
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const inFlight = fetch(`${base}/api/test/slow`);
    await hasEntered;
    const closing = app.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(fetch(`${base}/api/health/live`)).rejects.toThrow();
    release();

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ answer: 42 });
    await closing;
    await expect(database.withTenant({}, (tx) => tx.query('SELECT 1'))).rejects.toThrow();
    await testDatabase.destroy().catch(() => undefined);
  });
});
