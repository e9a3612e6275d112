/**
 * Behaviour of the pool to a real server (this file runs in the `postgres` project only: the embedded
 * database has no server process to lose).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.js';

let testDatabase: TestDatabase;
beforeAll(async () => {
  testDatabase = await createTestDatabase({ poolSize: 2 });
});
afterAll(() => testDatabase.destroy());

describe('the Postgres pool', () => {
  it('fails only the request whose connection is killed, not the process, and recovers', async () => {
    const { database } = testDatabase;
    const request = database.withTenant({}, async (tx) => {
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // The server restarts, fails over, or an operator terminates the backend mid-request.
      await database.transactionAsOwner((owner) => owner.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]));
      await tx.query('SELECT 1');
    });
    await expect(request).rejects.toThrow();
    const after = await database.withTenant({}, (tx) => tx.query<{ ok: number }>('SELECT 1 AS ok'));
    expect(after.rows).toEqual([{ ok: 1 }]);
  });
});
