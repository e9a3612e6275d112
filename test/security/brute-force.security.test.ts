/**
 * Attack: online password guessing. An attacker tries passwords for one account — from one address,
 * from many addresses, or many requests at once hoping that parallel requests slip past a counter
 * that is read before it is written. Rampart counts every attempt in Postgres before hashing,
 * atomically, so the limits hold across requests and instances, and a refused attempt costs no hash.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PasswordWorkQueue } from '../../src/auth/index.js';
import { SIGN_IN_LIMITS } from '../../src/auth/sign-in-throttle.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, signInRequest, strongPassword, uniqueEmail, waitFor } from '../fixtures/accounts.js';

/** Every password hash verification the app runs, counted. */
const hashChecks = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/crypto/password-hash.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/crypto/password-hash.js')>();
  return {
    ...original,
    verifyPassword: (...args: Parameters<typeof original.verifyPassword>) => {
      hashChecks.count += 1;
      return original.verifyPassword(...args);
    },
    verifyAgainstDummyHash: (...args: Parameters<typeof original.verifyAgainstDummyHash>) => {
      hashChecks.count += 1;
      return original.verifyAgainstDummyHash(...args);
    },
  };
});

let t: TestApp;
beforeAll(async () => {
  // Room for every parallel attempt below in the password queue: these tests are about the counters,
  // so none may be refused by the queue first (sign-in-flood.security.test.ts covers the queue).
  t = await createTestApp({ passwordWork: new PasswordWorkQueue({ maxWaiting: 64 }) });
});
afterAll(() => t.close());

describe('sign-in brute-force limits', () => {
  it('allows 5 failures per 15 minutes for one email from one address, then 429 with Retry-After and no hash', async () => {
    const user = await createVerifiedUser(t);
    for (let attempt = 0; attempt < SIGN_IN_LIMITS.perEmailAndIp.maxFailures; attempt += 1) {
      expect((await signInRequest(t.app, user.email, strongPassword(), '203.0.113.1')).statusCode).toBe(401);
    }
    const before = hashChecks.count;
    // Even the right password: the pause protects the account, not the guess.
    const refused = await signInRequest(t.app, user.email, user.password, '203.0.113.1');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(hashChecks.count).toBe(before);
    // The same email from another address is a different (email, IP) pair.
    expect((await signInRequest(t.app, user.email, user.password, '203.0.113.2')).statusCode).toBe(200);
  });

  it('counts unknown emails too, so the limit does not reveal which addresses exist', async () => {
    const email = uniqueEmail('ghost');
    for (let attempt = 0; attempt < 5; attempt += 1) await signInRequest(t.app, email, strongPassword(), '203.0.113.9');
    expect((await signInRequest(t.app, email, strongPassword(), '203.0.113.9')).statusCode).toBe(429);
  });

  it('never runs more than 5 password hashes for 20 parallel wrong passwords (race on the counter)', async () => {
    const user = await createVerifiedUser(t);
    const before = hashChecks.count;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => signInRequest(t.app, user.email, strongPassword(), '203.0.113.20')),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(hashChecks.count - before).toBeLessThanOrEqual(SIGN_IN_LIMITS.perEmailAndIp.maxFailures);
    expect(statuses.filter((status) => status === 401)).toHaveLength(SIGN_IN_LIMITS.perEmailAndIp.maxFailures);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20 - SIGN_IN_LIMITS.perEmailAndIp.maxFailures);
  });

  it('pauses the account after 20 failures from any mix of addresses, tells the owner by email, and audits it', async () => {
    const user = await createVerifiedUser(t);
    for (let attempt = 0; attempt < SIGN_IN_LIMITS.perAccount.maxFailures; attempt += 1) {
      const address = `198.18.0.${attempt}`; // a new address every time: the per-address limit never triggers
      expect((await signInRequest(t.app, user.email, strongPassword(), address)).statusCode).toBe(401);
    }
    const refused = await signInRequest(t.app, user.email, user.password, '198.18.1.1');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(50 * 60);
    const notice = await waitFor(() => {
      const found = t.outbox.messages().find((message) => message.to === user.email && /paused|locked/i.test(message.subject + message.text));
      if (!found) throw new Error('no lockout email yet');
      return found;
    });
    expect(notice.text).not.toMatch(/token=/);
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ action: string }>('SELECT action FROM rampart.account_audit_events WHERE user_id = $1 ORDER BY seq', [user.userId]),
    );
    const actions = rows.map((row) => row.action);
    expect(actions.filter((action) => action === 'account.sign_in_failed')).toHaveLength(20);
    expect(actions.filter((action) => action === 'account.locked')).toHaveLength(1);
  });

  it('keeps its counters in the shared database: a second app instance on it sees the same pause', async () => {
    const user = await createVerifiedUser(t);
    for (let attempt = 0; attempt < 5; attempt += 1) await signInRequest(t.app, user.email, strongPassword(), '203.0.113.50');
    const { createApp } = await import('../../src/server/app.js');
    const { createLogger } = await import('../../src/server/logger.js');
    const second = await createApp({
      config: t.config,
      database: t.testDatabase.database,
      migrations: t.testDatabase.migrations,
      logger: createLogger({ level: 'silent' }),
      masterKey: t.masterKey,
      mailer: t.outbox,
      closeDatabaseOnClose: false,
    });
    try {
      expect((await signInRequest(second, user.email, user.password, '203.0.113.50')).statusCode).toBe(429);
    } finally {
      await second.close();
    }
  });

  it('counts wrong current passwords on the password change route like failed sign-ins (session used as an oracle)', async () => {
    const user = await createVerifiedUser(t);
    const change = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/me/password',
        headers: user.browser.headers(),
        payload: { currentPassword: strongPassword(), newPassword: strongPassword() },
      });
    for (let attempt = 0; attempt < 5; attempt += 1) expect((await change()).statusCode).toBe(400);
    expect((await change()).statusCode).toBe(429);
  });
});
