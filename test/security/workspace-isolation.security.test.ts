/**
 * The database as the last line, and roles that cannot be outrun.
 *
 * Attack 1: a route that forgets every workspace filter (a bug, not an attacker) would hand out
 * other tenants' rows; row-level security must return the route's own workspace only.
 * Attack 2: a member about to be demoted fires many requests at once, hoping some are checked
 * against the old role and commit after the demotion. Each request checks the role in its own
 * transaction and holds the membership row (FOR SHARE) until it commits; the demotion waits for
 * them, so every action that succeeds is ordered before it — the workspace's audit chain, one
 * sequence for all its writes, shows the order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePermission } from '../../src/http/workspace-guard.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, uniqueEmail } from '../fixtures/accounts.js';
import { seedTwoWorkspaces } from '../fixtures/seed.js';
import { createWorkspaceAs, inviteAndJoin } from '../fixtures/workspaces.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({
    beforeReady: (app) => {
      // Test-only: every tenant table read with no WHERE clause at all.
      app.get(
        '/api/workspaces/:ws/test-unfiltered',
        { ...requirePermission('content:read'), preHandler: app.requireSession },
        (request) =>
          app.workspaceAccess.asMember(request, async (tx) => {
            const read = async (table: string) =>
              (await tx.query<{ workspace_id: string }>(`SELECT workspace_id::text FROM rampart.${table}`)).rows.map((row) => row.workspace_id);
            const { rows: users } = await tx.query<{ id: string }>('SELECT id FROM rampart.users');
            return {
              workspaces: await read('workspaces'),
              memberships: await read('memberships'),
              invitations: await read('invitations'),
              auditEvents: await read('audit_events'),
              users: users.map((row) => row.id),
            };
          }),
      );
    },
  });
});
afterAll(() => t.close());

describe('the database is the last line', () => {
  it('returns no row of another workspace to a route that omits every workspace filter', async () => {
    const alice = await createVerifiedUser(t, { email: uniqueEmail('alice') });
    const bob = await createVerifiedUser(t, { email: uniqueEmail('bob') });
    const carol = await createVerifiedUser(t, { email: uniqueEmail('carol') });
    const workspaceA = await createWorkspaceAs(t, alice.browser, 'A');
    const workspaceB = await createWorkspaceAs(t, bob.browser, 'B');
    await inviteAndJoin(t, { inviter: alice.browser, workspaceId: workspaceA, member: carol, role: 'member' });
    await inviteAndJoin(t, { inviter: bob.browser, workspaceId: workspaceB, member: carol, role: 'viewer' });
    for (const workspaceId of [workspaceA, workspaceB]) {
      const inviter = workspaceId === workspaceA ? alice : bob;
      await t.app.inject({
        method: 'POST',
        url: `/api/workspaces/${workspaceId}/invitations`,
        headers: inviter.browser.headers(),
        payload: { email: uniqueEmail('pending'), role: 'viewer' },
      });
    }

    const response = await t.app.inject({ method: 'GET', url: `/api/workspaces/${workspaceA}/test-unfiltered`, headers: carol.browser.headers() });
    expect(response.statusCode).toBe(200);
    const seen = response.json<Record<string, string[]>>();
    for (const table of ['workspaces', 'memberships', 'invitations', 'auditEvents']) {
      expect(seen[table]!.length, table).toBeGreaterThan(0);
      expect(new Set(seen[table]), table).toEqual(new Set([workspaceA]));
    }
    // Accounts: Carol herself and the members of A — never Bob, who shares only B with her.
    expect(new Set(seen.users)).toEqual(new Set([alice.userId, carol.userId]));
  });
});

describe('before the invitee belongs to the workspace', () => {
  it('lets an invitation token hash reach that one invitation, and no other row of its workspace', async () => {
    const ids = await seedTwoWorkspaces(t.testDatabase.database);
    // The seed stores the invitation of A under the hash 'aaa…' (and B's under 'bbb…').
    const seen = await t.testDatabase.database.withTenant({ userId: ids.carol, lookupKey: 'a'.repeat(64) }, async (tx) => ({
      invitations: (await tx.query<{ workspace_id: string }>('SELECT workspace_id FROM rampart.invitations')).rows,
      memberships: (await tx.query<{ workspace_id: string }>('SELECT workspace_id FROM rampart.memberships')).rows,
      events: (await tx.query('SELECT 1 FROM rampart.audit_events')).rows,
    }));
    expect(seen.invitations).toEqual([{ workspace_id: ids.workspaceA }]);
    expect(seen.events).toEqual([]);
    // Carol's own memberships (the account context), nothing of the invitation's workspace beyond that.
    expect(seen.memberships.length).toBe(2);
  });
});

describe('a role change cannot be outrun', () => {
  it('lets none of 20 parallel requests of a demoted admin succeed with the old role after the demotion commits', async () => {
    const owner = await createVerifiedUser(t, { email: uniqueEmail('owner') });
    const admin = await createVerifiedUser(t, { email: uniqueEmail('admin') });
    const workspaceId = await createWorkspaceAs(t, owner.browser, 'Race');
    await inviteAndJoin(t, { inviter: owner.browser, workspaceId, member: admin, role: 'admin' });

    const invite = () =>
      t.app.inject({
        method: 'POST',
        url: `/api/workspaces/${workspaceId}/invitations`,
        headers: admin.browser.headers(),
        payload: { email: uniqueEmail('race'), role: 'viewer' },
      });
    const demote = () =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/workspaces/${workspaceId}/members/${admin.userId}`,
        headers: owner.browser.headers(),
        payload: { role: 'member' },
      });
    const first = Array.from({ length: 10 }, invite);
    const demotion = demote();
    const second = Array.from({ length: 10 }, invite);
    const responses = await Promise.all([...first, ...second]);
    expect((await demotion).statusCode).toBe(200);

    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.every((status) => status === 201 || status === 403), statuses.join(' ')).toBe(true);
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ seq: string; action: string; actor_id: string }>(
        `SELECT seq::text AS seq, action, actor_id FROM rampart.audit_events
          WHERE workspace_id = $1 AND action IN ('invitation.created', 'member.role_changed') ORDER BY seq`,
        [workspaceId],
      ),
    );
    const demotedAt = Number(rows.find((row) => row.action === 'member.role_changed')!.seq);
    const invitedAt = rows.filter((row) => row.action === 'invitation.created' && row.actor_id === admin.userId).map((row) => Number(row.seq));
    expect(invitedAt).toHaveLength(statuses.filter((status) => status === 201).length);
    expect(invitedAt.filter((seq) => seq > demotedAt), 'actions ordered after the demotion').toEqual([]);
  });
});
