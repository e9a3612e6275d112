/**
 * Attack: someone who can reach the database — an operator, a leaked owner password, an SQL
 * injection running as the app role — rewrites history: edits what an event says, deletes it,
 * reorders events, slips in a forged one, or cuts off the newest. Postgres refuses changes to events
 * outright; and whatever gets past that (a superuser disabling the trigger) breaks the hash chain or
 * the signed head, and verification names the first bad event.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditEventInput } from '../../src/audit/index.js';
import type { OwnerSqlExecutor, SqlExecutor } from '../../src/db/driver.js';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.js';
import { seedTwoWorkspaces, type TwoWorkspaces } from '../fixtures/seed.js';

const RLS_OR_PRIVILEGE_VIOLATION = '42501';

let testDatabase: TestDatabase;
let ids: TwoWorkspaces;
const auditLog = AuditLog.fromMasterKey(randomBytes(32));

beforeAll(async () => {
  testDatabase = await createTestDatabase();
});
afterAll(() => testDatabase.destroy());
beforeEach(async () => {
  ids = await seedTwoWorkspaces(testDatabase.database, auditLog);
});

const db = () => testDatabase.database;
const event = (workspaceId: string, index: number): AuditEventInput => ({
  action: 'workspace.renamed',
  actor: { type: 'user', id: ids.alice },
  scope: { workspaceId },
  target: { type: 'workspace', id: workspaceId },
  origin: { ip: '203.0.113.7', userAgent: 'test', requestId: `req-${index}` },
  details: { from: `name ${index}`, to: `name ${index + 1}` },
});

/** Five more events in workspace A (after the seed's one): seq 2 to 6. */
async function recordFiveInA(): Promise<void> {
  for (let index = 0; index < 5; index += 1) {
    await db().withTenant({ workspaceId: ids.workspaceA, userId: ids.alice }, (tx) =>
      auditLog.record(tx, event(ids.workspaceA, index)),
    );
  }
}

const verifyA = () => db().withTenant({ workspaceId: ids.workspaceA }, (tx) => auditLog.verify(tx, { workspaceId: ids.workspaceA }));

/** Tampers as the owner with triggers off for the transaction — what a superuser can always do. */
const tamper = (fn: (tx: OwnerSqlExecutor) => Promise<unknown>) =>
  db().transactionAsOwner(async (tx) => {
    await tx.query(`SET LOCAL session_replication_role = replica`);
    await fn(tx);
  });

const idAt = async (seq: number) =>
  (
    await db().transactionAsOwner((tx) =>
      tx.query<{ id: string }>('SELECT id FROM rampart.audit_events WHERE workspace_id = $1 AND seq = $2', [ids.workspaceA, seq]),
    )
  ).rows[0]!.id;

describe('an audit chain', () => {
  it('verifies when untouched', async () => {
    await recordFiveInA();
    expect(await verifyA()).toMatchObject({ ok: true, events: 6, head: { seq: 6 } });
  });

  it("names an event whose details were edited", async () => {
    await recordFiveInA();
    const edited = await idAt(3);
    await tamper((tx) =>
      tx.query(`UPDATE rampart.audit_events SET details = '{"from":"x","to":"y"}' WHERE workspace_id = $1 AND seq = 3`, [
        ids.workspaceA,
      ]),
    );
    expect(await verifyA()).toEqual({
      ok: false,
      events: 2,
      firstBadEvent: { seq: 3, id: edited },
      reason: 'was altered after it was recorded',
    });
  });

  it('names the event after one that was deleted', async () => {
    await recordFiveInA();
    const next = await idAt(4);
    await tamper((tx) => tx.query('DELETE FROM rampart.audit_events WHERE workspace_id = $1 AND seq = 3', [ids.workspaceA]));
    expect(await verifyA()).toMatchObject({ ok: false, firstBadEvent: { seq: 4, id: next }, reason: 'event 3 is missing' });
  });

  it('notices that the newest events were cut off', async () => {
    await recordFiveInA();
    await tamper((tx) => tx.query('DELETE FROM rampart.audit_events WHERE workspace_id = $1 AND seq >= 5', [ids.workspaceA]));
    expect(await verifyA()).toMatchObject({ ok: false, firstBadEvent: null, reason: 'events 5 to 6 were removed' });
  });

  it('names the first of two events that were swapped', async () => {
    await recordFiveInA();
    const third = await idAt(3);
    await tamper(async (tx) => {
      await tx.query('UPDATE rampart.audit_events SET seq = 1000 WHERE workspace_id = $1 AND seq = 2', [ids.workspaceA]);
      await tx.query('UPDATE rampart.audit_events SET seq = 2 WHERE workspace_id = $1 AND seq = 3', [ids.workspaceA]);
      await tx.query('UPDATE rampart.audit_events SET seq = 3 WHERE workspace_id = $1 AND seq = 1000', [ids.workspaceA]);
    });
    expect(await verifyA()).toMatchObject({
      ok: false,
      firstBadEvent: { seq: 2, id: third },
      reason: 'does not follow the event before it',
    });
  });

  it('names a forged event inserted in the middle', async () => {
    await recordFiveInA();
    await tamper(async (tx) => {
      await tx.query('UPDATE rampart.audit_events SET seq = seq + 100 WHERE workspace_id = $1 AND seq >= 3', [ids.workspaceA]);
      await tx.query('UPDATE rampart.audit_events SET seq = seq - 99 WHERE workspace_id = $1 AND seq >= 103', [ids.workspaceA]);
      await tx.query(
        `INSERT INTO rampart.audit_events (workspace_id, seq, id, occurred_at, actor_type, actor_id, action, details, prev_hash, hash)
         SELECT workspace_id, 3, gen_random_uuid(), occurred_at, 'system', NULL, 'workspace.renamed', '{}', hash, repeat('f', 64)
           FROM rampart.audit_events WHERE workspace_id = $1 AND seq = 2`,
        [ids.workspaceA],
      );
    });
    expect(await verifyA()).toMatchObject({ ok: false, firstBadEvent: { seq: 3 }, reason: 'was altered after it was recorded' });
  });

  it('catches a well-formed forged event appended by someone without the signing key', async () => {
    await recordFiveInA();
    // The attacker knows the algorithm and can write as the app role, but not the master key.
    const attacker = AuditLog.fromMasterKey(randomBytes(32));
    await db().withTenant({ workspaceId: ids.workspaceA }, (tx) =>
      attacker.record(tx, { ...event(ids.workspaceA, 99), actor: { type: 'system' } }),
    );
    expect(await verifyA()).toMatchObject({ ok: false, reason: 'the chain head signature is invalid' });
  });

  it('catches an event appended without moving the head', async () => {
    await recordFiveInA();
    await tamper((tx) =>
      tx.query(
        `INSERT INTO rampart.audit_events (workspace_id, seq, id, occurred_at, actor_type, actor_id, action, details, prev_hash, hash)
         SELECT workspace_id, 7, gen_random_uuid(), occurred_at, 'system', NULL, 'workspace.renamed', '{}', hash, repeat('a', 64)
           FROM rampart.audit_events WHERE workspace_id = $1 AND seq = 6`,
        [ids.workspaceA],
      ),
    );
    expect(await verifyA()).toMatchObject({ ok: false, reason: 'event 7 and later were not recorded through the chain' });
  });

  it('catches a valid event whose head was rolled back to the one before', async () => {
    await recordFiveInA();
    const before = await db().transactionAsOwner((tx) =>
      tx.query('SELECT seq, hash, signature FROM rampart.audit_chain_heads WHERE workspace_id = $1', [ids.workspaceA]),
    );
    await recordFiveInA();
    await tamper((tx) =>
      tx.query('UPDATE rampart.audit_chain_heads SET seq = $2, hash = $3, signature = $4 WHERE workspace_id = $1', [
        ids.workspaceA,
        before.rows[0]!.seq,
        before.rows[0]!.hash,
        before.rows[0]!.signature,
      ]),
    );
    expect(await verifyA()).toMatchObject({ ok: false, reason: 'event 7 and later were not recorded through the chain' });
  });

  it('verifies cleanly while writers keep appending', async () => {
    const deadline = Date.now() + 1_500;
    const writing = (async () => {
      while (Date.now() < deadline) {
        await db().withTenant({ workspaceId: ids.workspaceA, userId: ids.alice }, (tx) => auditLog.record(tx, event(ids.workspaceA, 0)));
      }
    })();
    const results = [];
    while (Date.now() < deadline) results.push(await verifyA());
    await writing;
    expect(results.length).toBeGreaterThan(0);
    for (const result of results) expect(result).toMatchObject({ ok: true });
  });

  it('verifies events whose ids and text came in unusual but valid forms', async () => {
    await db().withTenant({ workspaceId: ids.workspaceA, userId: ids.alice }, (tx) =>
      auditLog.record(tx, {
        ...event(ids.workspaceA, 0),
        actor: { type: 'user', id: ids.alice.toUpperCase() },
        scope: { workspaceId: ids.workspaceA.toUpperCase() },
        // 511 characters and then an emoji: cut to 512 characters, never in the middle of one.
        origin: { userAgent: `${'x'.repeat(511)}😀😀`, ip: '2001:db8::1' },
        details: { name: 'Ünïcødé ✓', nested: { list: [1, 2.5, -0, true, null, 'a'], empty: [] } },
      }),
    );
    expect(await verifyA()).toMatchObject({ ok: true, events: 2 });
  });

  it.each<[string, Partial<AuditEventInput>]>([
    ['a lone surrogate', { target: { type: 'workspace', id: 'bad\ud800' } }],
    ['a NUL character', { details: { note: 'a\u0000b' } }],
    ['a value that is not JSON', { details: { when: new Date() as unknown as string } }],
    ['a secret under another spelling', { details: { access_token: 'x' } }],
  ])('refuses an event with %s instead of storing something else than it hashed', async (_case, override) => {
    await expect(
      db().withTenant({ workspaceId: ids.workspaceA, userId: ids.alice }, (tx) =>
        auditLog.record(tx, { ...event(ids.workspaceA, 0), ...override }),
      ),
    ).rejects.toThrow(TypeError);
  });

  it('verifies a user’s own account log the same way', async () => {
    const verifyCarol = () => db().withTenant({ userId: ids.carol }, (tx) => auditLog.verify(tx, { userId: ids.carol }));
    for (let index = 0; index < 3; index += 1) {
      await db().withTenant({ userId: ids.carol }, (tx) =>
        auditLog.record(tx, { action: 'account.signed_in', actor: { type: 'user', id: ids.carol }, scope: { userId: ids.carol } }),
      );
    }
    expect(await verifyCarol()).toMatchObject({ ok: true, events: 3 });
    await tamper((tx) =>
      tx.query(`UPDATE rampart.account_audit_events SET ip = '198.51.100.1' WHERE user_id = $1 AND seq = 2`, [ids.carol]),
    );
    expect(await verifyCarol()).toMatchObject({ ok: false, firstBadEvent: { seq: 2 }, reason: 'was altered after it was recorded' });
  });
});

describe('append-only, enforced by Postgres', () => {
  it.each([
    ['UPDATE', `UPDATE rampart.audit_events SET action = 'workspace.deleted'`],
    ['DELETE', 'DELETE FROM rampart.audit_events'],
    ['TRUNCATE', 'TRUNCATE rampart.audit_events'],
  ])('refuses %s to the app role', async (_verb, sql) => {
    await expect(db().withTenant({ workspaceId: ids.workspaceA, userId: ids.alice }, (tx) => tx.query(sql))).rejects.toMatchObject({
      code: RLS_OR_PRIVILEGE_VIOLATION,
    });
  });

  it.each([
    ['UPDATE', `UPDATE rampart.audit_events SET action = 'workspace.deleted'`],
    ['DELETE', 'DELETE FROM rampart.audit_events'],
    ['TRUNCATE', 'TRUNCATE rampart.audit_events'],
    ['UPDATE of an account log', `UPDATE rampart.account_audit_events SET ip = NULL`],
  ])('refuses %s to the owner too', async (_verb, sql) => {
    await expect(db().transactionAsOwner((tx) => tx.query(sql))).rejects.toThrow(/audit events are append-only/);
  });

  it('keeps chain heads: nobody deletes one, the owner included, and the app role cannot corrupt one', async () => {
    await expect(db().transactionAsOwner((tx) => tx.query('DELETE FROM rampart.audit_chain_heads'))).rejects.toThrow(
      /heads are never removed/,
    );
    await expect(db().transactionAsOwner((tx) => tx.query('TRUNCATE rampart.audit_chain_heads'))).rejects.toThrow();
    await expect(
      db().withTenant({ workspaceId: ids.workspaceA }, (tx) =>
        tx.query(`UPDATE rampart.audit_chain_heads SET signature = repeat('é', 64)`),
      ),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      db().withTenant({ workspaceId: ids.workspaceB }, (tx) =>
        tx.query(
          `INSERT INTO rampart.account_audit_chain_heads (user_id, seq, hash, signature, checkpoint_seq) VALUES ($1, 0, repeat('0', 64), repeat('0', 64), -5)`,
          [ids.carol],
        ),
      ),
    ).rejects.toMatchObject({ code: RLS_OR_PRIVILEGE_VIOLATION });
  });

  it('lets the documented retention purge setting delete, as the owner', async () => {
    const deleted = await db().transactionAsOwner(async (tx) => {
      await tx.query(`SELECT set_config('rampart.audit_purge', 'on', true)`);
      return (await tx.query('DELETE FROM rampart.audit_events WHERE workspace_id = $1', [ids.workspaceB])).rowCount;
    });
    expect(deleted).toBeGreaterThan(0);
  });
});

describe('recorded in the same transaction as the action', () => {
  const renameA = (tx: SqlExecutor, name: string) => tx.query('UPDATE rampart.workspaces SET name = $1', [name]);
  const nameOfA = async () =>
    (
      await db().withTenant({ workspaceId: ids.workspaceA }, (tx) =>
        tx.query<{ name: string }>('SELECT name FROM rampart.workspaces'),
      )
    ).rows[0]?.name;

  it('leaves no event when the action rolls back', async () => {
    await expect(
      db().withTenant({ workspaceId: ids.workspaceA, userId: ids.alice }, async (tx) => {
        await renameA(tx, 'Renamed');
        await auditLog.record(tx, event(ids.workspaceA, 0));
        throw new Error('the action failed after recording');
      }),
    ).rejects.toThrow('the action failed after recording');
    expect(await verifyA()).toMatchObject({ ok: true, events: 1 });
    expect(await nameOfA()).toBe('A');
  });

  it.each<[string, Partial<AuditEventInput>]>([
    ['holds a secret', { details: { password: 'hunter2' } }],
    ['targets another workspace’s log', { scope: { workspaceId: '00000000-0000-4000-8000-000000000000' } }],
  ])('fails the action when the event cannot be written because it %s', async (_case, override) => {
    await expect(
      db().withTenant({ workspaceId: ids.workspaceA, userId: ids.alice }, async (tx) => {
        await renameA(tx, 'Renamed');
        await auditLog.record(tx, { ...event(ids.workspaceA, 0), ...override });
      }),
    ).rejects.toThrow();
    expect(await nameOfA()).toBe('A');
    expect(await verifyA()).toMatchObject({ ok: true, events: 1 });
  });

  it("cannot read another workspace's events", async () => {
    const seen = await db().withTenant({ workspaceId: ids.workspaceA }, (tx) =>
      tx.query<{ workspace_id: string }>('SELECT workspace_id FROM rampart.audit_events'),
    );
    expect(new Set(seen.rows.map((r) => r.workspace_id))).toEqual(new Set([ids.workspaceA]));
    await expect(
      db().withTenant({ workspaceId: ids.workspaceA }, (tx) => auditLog.verify(tx, { workspaceId: ids.workspaceB })),
    ).rejects.toThrow(TypeError);
  });
});

describe('concurrent appends', () => {
  it('keep every chain whole: 8 writers on one workspace and 8 on another, nothing lost, no deadlock', async () => {
    const deadline = Date.now() + 2_000;
    const written = { [ids.workspaceA]: 0, [ids.workspaceB]: 0 };
    const writer = async (workspaceId: string, userId: string) => {
      while (Date.now() < deadline) {
        await db().withTenant({ workspaceId, userId }, (tx) => auditLog.record(tx, event(workspaceId, 0)));
        written[workspaceId]! += 1;
      }
    };
    await Promise.all([
      ...Array.from({ length: 8 }, () => writer(ids.workspaceA, ids.alice)),
      ...Array.from({ length: 8 }, () => writer(ids.workspaceB, ids.bob)),
    ]);
    for (const workspaceId of [ids.workspaceA, ids.workspaceB]) {
      const result = await db().withTenant({ workspaceId }, (tx) => auditLog.verify(tx, { workspaceId }));
      expect(result).toMatchObject({ ok: true, events: written[workspaceId]! + 1 });
    }
    expect(written[ids.workspaceA]).toBeGreaterThan(8);
  });
});

describe('the retention purge', () => {
  const purgeA = (before: Date) =>
    db().transactionAsOwner((tx) => auditLog.purge(tx, { workspaceId: ids.workspaceA }, before));

  it('removes old events and leaves a signed checkpoint the chain verifies from', async () => {
    await recordFiveInA();
    expect(await purgeA(new Date(Date.now() + 60_000))).toBe(6);
    expect(await verifyA()).toMatchObject({ ok: true, events: 1, head: { seq: 7 } });
    const purged = await db().withTenant({ workspaceId: ids.workspaceA }, (tx) =>
      tx.query<{ action: string; details: unknown }>('SELECT action, details FROM rampart.audit_events'),
    );
    expect(purged.rows).toHaveLength(1);
    expect(purged.rows[0]).toMatchObject({ action: 'audit.purged', details: { throughSeq: 6, removed: 6 } });
    // Later events chain on as before.
    await recordFiveInA();
    expect(await verifyA()).toMatchObject({ ok: true, events: 6, head: { seq: 12 } });
  });

  it('keeps events recorded after the cut-off', async () => {
    await recordFiveInA();
    expect(await purgeA(new Date(0))).toBe(0);
    expect(await verifyA()).toMatchObject({ ok: true, events: 6 });
  });

  it('catches an old event put back after a purge', async () => {
    await recordFiveInA();
    await purgeA(new Date(Date.now() + 60_000));
    await tamper((tx) =>
      tx.query(
        `INSERT INTO rampart.audit_events (workspace_id, seq, id, occurred_at, actor_type, actor_id, action, details, prev_hash, hash)
         VALUES ($1, 3, gen_random_uuid(), date_trunc('milliseconds', now()), 'system', NULL, 'workspace.renamed', '{}',
                 repeat('0', 64), repeat('0', 64))`,
        [ids.workspaceA],
      ),
    );
    expect(await verifyA()).toMatchObject({ ok: false, firstBadEvent: { seq: 3 }, reason: 'is older than the retention checkpoint' });
  });

  it('refuses to purge a broken chain rather than sign over the evidence', async () => {
    await recordFiveInA();
    await tamper((tx) =>
      tx.query(`UPDATE rampart.audit_events SET details = '{}' WHERE workspace_id = $1 AND seq = 2`, [ids.workspaceA]),
    );
    await expect(purgeA(new Date(Date.now() + 60_000))).rejects.toThrow(/refusing to purge a broken chain/);
  });

  it('catches a checkpoint moved by hand', async () => {
    await recordFiveInA();
    await purgeA(new Date(Date.now() + 60_000));
    await tamper((tx) =>
      tx.query('UPDATE rampart.audit_chain_heads SET checkpoint_seq = 2 WHERE workspace_id = $1', [ids.workspaceA]),
    );
    expect(await verifyA()).toMatchObject({ ok: false, reason: 'the retention checkpoint signature is invalid' });
  });

  it('cannot be imitated by the app role, which may not move a checkpoint', async () => {
    await expect(
      db().withTenant({ workspaceId: ids.workspaceA }, (tx) =>
        tx.query('UPDATE rampart.audit_chain_heads SET checkpoint_seq = 0'),
      ),
    ).rejects.toMatchObject({ code: RLS_OR_PRIVILEGE_VIOLATION });
  });
});
