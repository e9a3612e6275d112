/**
 * Attack: one tenant reads or writes another tenant's rows — because a route forgot a
 * `WHERE workspace_id = …`, because a request inherited the previous request's context on a pooled
 * connection, or because a forged context value reached SQL. These tests run every statement as the
 * app role through `withTenant`, exactly as a request does, and deliberately leave out the filters a
 * route would have: Postgres row-level security alone must keep the tenants apart.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlExecutor } from '../../src/db/driver.js';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.js';
import { listAppTables, listTenantTables, seedTwoWorkspaces, type TwoWorkspaces } from '../fixtures/seed.js';

const RLS_VIOLATION = '42501';

let testDatabase: TestDatabase;
let ids: TwoWorkspaces;
let tenantTables: string[];
let appTables: string[];

beforeAll(async () => {
  testDatabase = await createTestDatabase({ poolSize: 1 });
  ids = await seedTwoWorkspaces(testDatabase.database);
  tenantTables = await listTenantTables(testDatabase.database);
  appTables = await listAppTables(testDatabase.database);
});
afterAll(() => testDatabase.destroy());

const db = () => testDatabase.database;
const appRoleMayRead = async (table: string) =>
  (
    await db().transactionAsOwner((tx) =>
      tx.query<{ may: boolean }>(`SELECT has_table_privilege('rampart_app', $1, 'SELECT') AS may`, [`rampart.${table}`]),
    )
  ).rows[0]!.may;
const workspaceIdsOf = async (tx: SqlExecutor, table: string) =>
  (await tx.query<{ workspace_id: string }>(`SELECT workspace_id FROM rampart.${table}`)).rows.map((r) => r.workspace_id);

describe('reading without a filter', () => {
  it('covers every tenant table of the schema', () => {
    expect(tenantTables).toEqual(expect.arrayContaining(['audit_chain_heads', 'audit_events', 'memberships', 'workspaces']));
  });

  it("returns only workspace A's rows, from every tenant table, inside workspace A", async () => {
    await db().withTenant({ workspaceId: ids.workspaceA, userId: ids.carol }, async (tx) => {
      for (const table of tenantTables) {
        const seen = await workspaceIdsOf(tx, table);
        expect(seen.length, table).toBeGreaterThan(0);
        expect(new Set(seen), table).toEqual(new Set([ids.workspaceA]));
      }
    });
  });

  it('returns no row of any tenant table, nor any account, when no context is set', async () => {
    expect(appTables).toEqual(expect.arrayContaining([...tenantTables, 'users']));
    for (const table of appTables) {
      // A table the app role may only write to (the early-access requests) cannot even be read.
      const mayRead = await appRoleMayRead(table);
      const read = db().withTenant({}, (tx) => tx.query(`SELECT * FROM rampart.${table}`));
      if (mayRead) expect((await read).rows, table).toEqual([]);
      else await expect(read, table).rejects.toThrow(/permission denied/);
    }
  });

  it('shows only the members of the current workspace among accounts', async () => {
    const names = await db().withTenant({ workspaceId: ids.workspaceB, userId: ids.bob }, async (tx) =>
      (await tx.query<{ name: string }>('SELECT name FROM rampart.users ORDER BY name')).rows.map((r) => r.name),
    );
    expect(names).toEqual(['Bob', 'Carol']);
  });

  it('in the account context (a user, no workspace) shows only that user’s own memberships', async () => {
    await db().withTenant({ userId: ids.carol }, async (tx) => {
      const memberships = await tx.query<{ user_id: string }>('SELECT user_id FROM rampart.memberships');
      expect(memberships.rows.map((r) => r.user_id)).toEqual([ids.carol, ids.carol]);
      expect(new Set(await workspaceIdsOf(tx, 'workspaces'))).toEqual(new Set([ids.workspaceA, ids.workspaceB]));
    });
    const aliceSees = await db().withTenant({ userId: ids.alice }, (tx) => workspaceIdsOf(tx, 'workspaces'));
    expect(aliceSees).toEqual([ids.workspaceA]);
  });
});

describe('writing across the boundary', () => {
  const inWorkspaceA = <T>(fn: (tx: SqlExecutor) => Promise<T>) =>
    db().withTenant({ workspaceId: ids.workspaceA, userId: ids.alice }, fn);

  it("refuses to insert a row into workspace B from workspace A's context", async () => {
    await expect(
      inWorkspaceA((tx) =>
        tx.query(`INSERT INTO rampart.memberships (workspace_id, user_id, role) VALUES ($1, $2, 'admin')`, [
          ids.workspaceB,
          ids.alice,
        ]),
      ),
    ).rejects.toMatchObject({ code: RLS_VIOLATION });
    await expect(
      inWorkspaceA((tx) => tx.query(`INSERT INTO rampart.workspaces (workspace_id, name) VALUES ($1, 'X')`, [ids.workspaceB])),
    ).rejects.toMatchObject({ code: RLS_VIOLATION });
  });

  it('refuses to move a row of workspace A into workspace B', async () => {
    await expect(
      inWorkspaceA((tx) => tx.query('UPDATE rampart.memberships SET workspace_id = $1', [ids.workspaceB])),
    ).rejects.toMatchObject({ code: RLS_VIOLATION });
  });

  it("cannot update or delete workspace B's rows, even naming them explicitly", async () => {
    const changed = await inWorkspaceA(async (tx) => [
      (await tx.query(`UPDATE rampart.memberships SET role = 'viewer' WHERE workspace_id = $1`, [ids.workspaceB])).rowCount,
      (await tx.query('UPDATE rampart.workspaces SET name = $2 WHERE workspace_id = $1', [ids.workspaceB, 'pwned'])).rowCount,
      (await tx.query('DELETE FROM rampart.memberships WHERE workspace_id = $1', [ids.workspaceB])).rowCount,
      (await tx.query('DELETE FROM rampart.workspaces WHERE workspace_id = $1', [ids.workspaceB])).rowCount,
    ]);
    expect(changed).toEqual([0, 0, 0, 0]);
    const bAsOwner = await db().transactionAsOwner(async (tx) => ({
      name: (await tx.query<{ name: string }>('SELECT name FROM rampart.workspaces WHERE workspace_id = $1', [ids.workspaceB]))
        .rows[0]?.name,
      roles: (
        await tx.query<{ role: string }>('SELECT role FROM rampart.memberships WHERE workspace_id = $1 ORDER BY role', [
          ids.workspaceB,
        ])
      ).rows.map((r) => r.role),
    }));
    expect(bAsOwner).toEqual({ name: 'B', roles: ['owner', 'viewer'] });
  });

  it('cannot write tenant rows at all without a workspace context', async () => {
    await expect(
      db().withTenant({ userId: ids.carol }, (tx) =>
        tx.query(`INSERT INTO rampart.memberships (workspace_id, user_id, role) VALUES ($1, $2, 'owner')`, [
          ids.workspaceB,
          ids.carol,
        ]),
      ),
    ).rejects.toMatchObject({ code: RLS_VIOLATION });
    const updated = await db().withTenant({ userId: ids.carol }, (tx) =>
      tx.query(`UPDATE rampart.memberships SET role = 'owner' WHERE user_id = $1`, [ids.carol]),
    );
    expect(updated.rowCount).toBe(0);
  });

  it('fills workspace_id from the context when a route leaves it out', async () => {
    const dave = await db().transactionAsOwner(async (tx) =>
      (await tx.query<{ id: string }>(`INSERT INTO rampart.users (email, name) VALUES ('dave@a.example', 'Dave') RETURNING id`))
        .rows[0]!.id,
    );
    const inserted = await inWorkspaceA((tx) =>
      tx.query<{ workspace_id: string }>(
        `INSERT INTO rampart.memberships (user_id, role) VALUES ($1, 'viewer') RETURNING workspace_id`,
        [dave],
      ),
    );
    expect(inserted.rows[0]?.workspace_id).toBe(ids.workspaceA);
  });
});

describe('context never outlives its transaction', () => {
  it('keeps two interleaved requests on a pool of one connection apart', async () => {
    const observe = (workspaceId: string, userId: string) =>
      db().withTenant({ workspaceId, userId }, async (tx) => {
        const first = await workspaceIdsOf(tx, 'memberships');
        await sleep(20); // the other request is queued on the same connection meanwhile
        const second = await workspaceIdsOf(tx, 'memberships');
        return new Set([...first, ...second]);
      });
    const [seenByA, seenByB] = await Promise.all([observe(ids.workspaceA, ids.alice), observe(ids.workspaceB, ids.bob)]);
    expect(seenByA).toEqual(new Set([ids.workspaceA]));
    expect(seenByB).toEqual(new Set([ids.workspaceB]));
  });

  it('leaves neither the role nor the settings on the connection after commit or rollback', async () => {
    await db().withTenant({ workspaceId: ids.workspaceA, userId: ids.alice }, async () => undefined);
    await expect(
      db().withTenant({ workspaceId: ids.workspaceB, userId: ids.bob }, async () => {
        throw new Error('the request failed');
      }),
    ).rejects.toThrow('the request failed');
    const after = await db().transactionAsOwner(async (tx) =>
      (
        await tx.query<{ role: string; workspace: string; user: string }>(
          `SELECT current_user AS role,
                  coalesce(current_setting('rampart.workspace_id', true), '') AS workspace,
                  coalesce(current_setting('rampart.user_id', true), '') AS user`,
        )
      ).rows[0],
    );
    expect(after?.role).not.toBe('rampart_app');
    expect(after?.workspace).toBe('');
    expect(after?.user).toBe('');
  });

  it('runs the queries of a one-statement call as the app role, keyed by the presented hash only', async () => {
    const presentedHash = 'a'.repeat(64);
    const context = await db().transactionAsOwner(async (tx) => {
      await tx.query('SELECT * FROM rampart.session_by_token_hash($1, 3600, 3600, 60, 300, NULL, NULL)', [presentedHash]);
      // Still inside the same transaction: what the function left in force for its own queries.
      const { rows } = await tx.query<{ role: string; key: string; workspace: string; user: string }>(
        `SELECT current_user AS role, current_setting('rampart.lookup_key', true) AS key,
                current_setting('rampart.workspace_id', true) AS workspace, current_setting('rampart.user_id', true) AS user`,
      );
      return rows[0];
    });
    expect(context).toEqual({ role: 'rampart_app', key: presentedHash, workspace: '', user: '' });
  });

  it('ends the context of a one-statement call with that statement', async () => {
    // The statement switches to the app role itself; the next user of the connection must not inherit it.
    await db().callContextFunction('rampart.session_by_token_hash', ['0'.repeat(64), 3600, 3600, 60, 300, null, null]);
    const after = await db().transactionAsOwner(async (tx) =>
      (
        await tx.query<{ role: string; key: string; user: string }>(
          `SELECT current_user AS role,
                  coalesce(current_setting('rampart.lookup_key', true), '') AS key,
                  coalesce(current_setting('rampart.user_id', true), '') AS user`,
        )
      ).rows[0],
    );
    expect(after?.role).not.toBe('rampart_app');
    expect({ key: after?.key, user: after?.user }).toEqual({ key: '', user: '' });
  });

  it('overrides a context left on the connection at session level instead of inheriting it', async () => {
    // Something (a careless maintenance script, a bug) sets the context for the whole session.
    await db().transactionAsOwner((tx) =>
      tx.query(`SELECT set_config('rampart.workspace_id', $1, false)`, [ids.workspaceA]),
    );
    try {
      const rows = await db().withTenant({}, (tx) => workspaceIdsOf(tx, 'memberships'));
      expect(rows).toEqual([]);
    } finally {
      await db().transactionAsOwner((tx) => tx.query(`SELECT set_config('rampart.workspace_id', '', false)`));
    }
  });

  it('refuses a query issued after its transaction ended, instead of running it as the owner', async () => {
    let leaked: SqlExecutor | undefined;
    await db().withTenant({ workspaceId: ids.workspaceA }, async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.query('SELECT * FROM rampart.memberships')).rejects.toThrow(/after its transaction had ended/);
  });

  it('keeps many concurrent requests apart on a larger pool too', async () => {
    const pooled = await createTestDatabase({ poolSize: 4 });
    try {
      const seeded = await seedTwoWorkspaces(pooled.database);
      const requests = Array.from({ length: 24 }, (_, index) => {
        const workspaceId = index % 2 === 0 ? seeded.workspaceA : seeded.workspaceB;
        return pooled.database.withTenant({ workspaceId }, async (tx) => {
          await sleep(index % 5);
          return { expected: workspaceId, seen: new Set(await workspaceIdsOf(tx, 'memberships')) };
        });
      });
      for (const { expected, seen } of await Promise.all(requests)) expect(seen).toEqual(new Set([expected]));
    } finally {
      await pooled.destroy();
    }
  });
});

describe('forged context values and injected statements', () => {
  it.each([["' OR true --"], ['not-a-uuid'], ['*']])('refuses %j as a workspace id before it reaches SQL', async (forged) => {
    await expect(db().withTenant({ workspaceId: forged }, async () => undefined)).rejects.toThrow(TypeError);
    await expect(db().withTenant({ userId: forged }, async () => undefined)).rejects.toThrow(TypeError);
  });

  it('refuses a query text holding several statements (no stacked statements from a request)', async () => {
    await expect(
      db().withTenant({ workspaceId: ids.workspaceA }, (tx) =>
        tx.query(`SELECT 1; SELECT set_config('rampart.workspace_id', '${ids.workspaceB}', false)`),
      ),
    ).rejects.toThrow();
    const rows = await db().withTenant({}, (tx) => workspaceIdsOf(tx, 'memberships'));
    expect(rows).toEqual([]);
  });
});
