/**
 * Attacks on account rows through the database layer:
 * - a workspace member reading another member's password hash (members may see each other's names
 *   and addresses, never their hashes);
 * - a pre-authentication request (holding only an email or a token hash) reaching rows it does not
 *   name;
 * - a sign-in whose password check raced a reset: the old password must not open a session, nor
 *   write its re-hash over the new password.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountServices, PasswordWorkQueue } from '../../src/auth/index.js';
import type { PasswordWorkTicket } from '../../src/auth/password-work-queue.js';
import { signIn } from '../../src/auth/sign-in.js';
import { hashPassword } from '../../src/crypto/password-hash.js';
import { hashToken } from '../../src/crypto/tokens.js';
import { createLogger } from '../../src/server/logger.js';
import { MemoryOutbox } from '../../src/mail/index.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, strongPassword } from '../fixtures/accounts.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('account rows under row-level security', () => {
  it('never shows a fellow member their password hash, though it shows their name', async () => {
    const alice = await createVerifiedUser(t);
    const bob = await createVerifiedUser(t);
    const workspaceId = (await t.testDatabase.database.transactionAsOwner(async (tx) => {
      const { rows } = await tx.query<{ workspace_id: string }>(
        `INSERT INTO rampart.workspaces (workspace_id, name) VALUES (gen_random_uuid(), 'Shared') RETURNING workspace_id`,
      );
      await tx.query(`INSERT INTO rampart.memberships (workspace_id, user_id, role) VALUES ($1, $2, 'owner'), ($1, $3, 'member')`, [
        rows[0]!.workspace_id,
        alice.userId,
        bob.userId,
      ]);
      return rows[0]!.workspace_id;
    }));
    const seen = await t.testDatabase.database.withTenant({ workspaceId, userId: bob.userId }, async (tx) => ({
      users: (await tx.query<{ id: string }>('SELECT id FROM rampart.users')).rows.map((row) => row.id),
      hashes: (await tx.query<{ user_id: string }>('SELECT user_id FROM rampart.password_credentials')).rows.map((row) => row.user_id),
    }));
    expect(seen.users).toEqual(expect.arrayContaining([alice.userId, bob.userId]));
    expect(seen.hashes).toEqual([bob.userId]);
  });

  it('lets an email lookup reach that account and its hash only, and no session', async () => {
    const alice = await createVerifiedUser(t);
    await createVerifiedUser(t);
    const seen = await t.testDatabase.database.withTenant({ lookupKey: alice.email.toLowerCase() }, async (tx) => ({
      users: (await tx.query<{ id: string }>('SELECT id FROM rampart.users')).rows,
      hashes: (await tx.query<{ user_id: string }>('SELECT user_id FROM rampart.password_credentials')).rows,
      sessions: (await tx.query('SELECT id FROM rampart.sessions')).rows,
      tokens: (await tx.query('SELECT user_id FROM rampart.account_tokens')).rows,
    }));
    expect(seen).toEqual({ users: [{ id: alice.userId }], hashes: [{ user_id: alice.userId }], sessions: [], tokens: [] });
  });

  it('lets a session token hash reach that session only: no account, no password hash', async () => {
    const alice = await createVerifiedUser(t);
    await createVerifiedUser(t);
    const seen = await t.testDatabase.database.withTenant({ lookupKey: hashToken(alice.browser.sessionToken) }, async (tx) => ({
      users: (await tx.query<{ id: string }>('SELECT id FROM rampart.users')).rows,
      sessions: (await tx.query<{ user_id: string }>('SELECT user_id FROM rampart.sessions')).rows,
      hashes: (await tx.query('SELECT user_id FROM rampart.password_credentials')).rows,
    }));
    expect(seen).toEqual({ users: [], sessions: [{ user_id: alice.userId }], hashes: [] });
  });

  it('validates a session in one statement that reads that session and its own user only', async () => {
    const alice = await createVerifiedUser(t);
    const bob = await createVerifiedUser(t);
    const lookUp = (tokenHash: string) =>
      t.testDatabase.database.callContextFunction<{ user_id: string; email: string }>('rampart.session_by_token_hash', [
        tokenHash,
        3600,
        3600,
        60,
        300,
        null,
        null,
      ]);
    const found = await lookUp(hashToken(alice.browser.sessionToken));
    expect(found.map((row) => [row.user_id, row.email])).toEqual([[alice.userId, alice.email]]);
    expect(await lookUp(hashToken(bob.browser.sessionToken))).toEqual([expect.objectContaining({ user_id: bob.userId })]);
    expect(await lookUp(hashToken('not-a-session-token-at-all-000000000000000'))).toEqual([]);
  });
});

describe('sign-in racing a password reset', () => {
  it('opens no session and keeps the new password when the hash changed while the old one was being checked', async () => {
    const user = await createVerifiedUser(t);
    const resetHash = await hashPassword(strongPassword());
    const services = createAccountServices({
      config: t.config,
      database: t.testDatabase.database,
      masterKey: randomBytes(32),
      logger: createLogger({ level: 'silent' }),
      mailer: new MemoryOutbox(),
    });
    // The reset commits while the sign-in is busy checking the old password.
    class RacingQueue extends PasswordWorkQueue {
      override admit(): PasswordWorkTicket {
        const ticket = super.admit();
        return {
          run: async (work) => {
            await t.testDatabase.database.transactionAsOwner((tx) =>
              tx.query('UPDATE rampart.password_credentials SET password_hash = $2 WHERE user_id = $1', [user.userId, resetHash]),
            );
            return ticket.run(work);
          },
          release: () => ticket.release(),
        };
      }
    }
    const racingQueue = new RacingQueue();
    const result = await signIn(
      { ...services, passwordWork: racingQueue },
      { email: user.email, password: user.password },
      { ip: '192.0.2.1', requestId: 'race' },
    );
    expect(result.status).toBe('invalid_credentials');
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ password_hash: string; sessions: number }>(
        `SELECT c.password_hash, (SELECT count(*)::int FROM rampart.sessions s WHERE s.user_id = c.user_id) AS sessions
           FROM rampart.password_credentials c WHERE c.user_id = $1`,
        [user.userId],
      ),
    );
    expect(rows).toEqual([{ password_hash: resetHash, sessions: 1 }]); // only the session from before
    await services.background.drain();
  });
});
