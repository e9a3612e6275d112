/**
 * Attack: a sign-in flood meant to slow the service down for everyone — each request for a new email,
 * so no per-account or per-(email, IP) limit ever applies, and each asking for a password hash. The
 * password queue admits a bounded number of sign-ins, synchronously at the start of each request; the
 * rest are refused with 503 SERVICE_BUSY before any database work or hash, and while the queue is
 * full, before their body is even read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PasswordWorkQueue } from '../../src/auth/index.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { signInRequest, strongPassword, uniqueEmail, SAME_ORIGIN } from '../fixtures/accounts.js';

const passwordWork = new PasswordWorkQueue({ concurrency: 1, maxWaiting: 2 });
const capacity = passwordWork.concurrency + passwordWork.maxWaiting;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ passwordWork });
});
afterAll(() => t.close());

/** Sign-in attempts that reached the database: each new email adds one per-account counter. */
async function countedAccounts(): Promise<number> {
  const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
    tx.query<{ count: number }>(`SELECT count(*)::int AS count FROM rampart.sign_in_failures WHERE key LIKE 'account:%'`),
  );
  return rows[0]!.count;
}

describe('a sign-in flood', () => {
  it('admits only as many parallel sign-ins as the password queue holds; the rest get 503 and touch no table', async () => {
    const before = await countedAccounts();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => signInRequest(t.app, uniqueEmail('flood'), strongPassword(), `198.51.100.${index + 1}`)),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 401)).toHaveLength(capacity);
    const refused = responses.filter((response) => response.statusCode === 503);
    expect(refused).toHaveLength(20 - capacity);
    for (const response of refused) {
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.json()).toMatchObject({ code: 'SERVICE_BUSY' });
    }
    expect((await countedAccounts()) - before).toBe(capacity);
    expect(passwordWork.isFull).toBe(false);
  });

  it('refuses a sign-in while the queue is full before reading its body (503, not 400)', async () => {
    const held = Array.from({ length: capacity }, () => passwordWork.admit());
    const unreadable = () =>
      t.app.inject({ method: 'POST', url: '/api/auth/sign-in', headers: { ...SAME_ORIGIN, 'content-type': 'application/json' }, payload: '{"email": [' });
    try {
      const response = await unreadable();
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: 'SERVICE_BUSY' });
    } finally {
      for (const ticket of held) ticket.release();
    }
    expect((await unreadable()).statusCode).toBe(400);
  });
});
