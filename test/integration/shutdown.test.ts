import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { testConfig } from '../fixtures/app.js';
import { createTestDatabase } from '../fixtures/database.js';

/**
 * A listening app (owning its database) with `GET /api/test/slow`, which waits until `release()` and
 * then reads from the database — a request that is in flight for as long as a test wants.
 */
async function listenWithSlowRoute() {
  const testDatabase = await createTestDatabase();
  const { database } = testDatabase;
  const app = await createApp({
    config: testConfig(),
    database,
    migrations: testDatabase.migrations,
    logger: createLogger({ level: 'silent' }),
    masterKey: randomBytes(32),
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
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, database, port, release, hasEntered, destroy: () => testDatabase.destroy() };
}

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe('graceful shutdown', () => {
  it('finishes the in-flight request, refuses new connections, then closes the database', async () => {
    const { app, database, port, release, hasEntered, destroy } = await listenWithSlowRoute();
    const base = `http://127.0.0.1:${port}`;

    const inFlight = fetch(`${base}/api/test/slow`);
    await hasEntered;
    const closing = app.close();
    await pause(50);
    await expect(fetch(`${base}/api/health/live`)).rejects.toThrow();
    release();

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ answer: 42 });
    await closing;
    await expect(database.withTenant({}, (tx) => tx.query('SELECT 1'))).rejects.toThrow();
    await destroy();
  });

  it('answers a request that arrives on a kept-alive connection during shutdown with 503 SERVICE_UNAVAILABLE', async () => {
    const { app, port, release, hasEntered, destroy } = await listenWithSlowRoute();
    // Two requests on one kept-alive connection: the first is in flight when the shutdown starts,
    // the second arrives during it.
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET /api/test/slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await hasEntered;
    const closing = app.close();
    await pause(20);
    socket.write('GET /api/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    await pause(20);
    release();
    await ended;
    await closing;

    const [first, second] = received.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200/);
    expect(second).toMatch(/^HTTP\/1\.1 503/);
    expect(second).toMatch(/content-type: application\/problem\+json/i);
    expect(second).toContain('"code":"SERVICE_UNAVAILABLE"');
    expect(second).toMatch(/connection: close/i);
    await destroy();
  });
});
