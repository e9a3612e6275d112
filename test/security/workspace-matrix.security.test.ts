/**
 * The cross-tenant attack matrix. Attack: a signed-in user reaches a workspace they do not belong to
 * (another tenant's, a deleted one, a made-up id), or does more in their own than their role allows.
 *
 * The matrix is generated: every route under `/api/workspaces/:ws` the app registered (with the action
 * it declared) × every role × {own workspace, another workspace, a workspace that does not exist, a
 * deleted workspace}, and the expected answer comes from the permission table — allowed (2xx), 403
 * INSUFFICIENT_ROLE for a role below the action's in the own workspace, 404 for anything else. A
 * refused request must change nothing. A new route is covered as soon as it is registered; a route
 * without a request recipe below fails the build.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRoleAtLeast, minimumRoleFor, ROLES, type Role } from '../../src/workspaces/index.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, uniqueEmail, type Browser } from '../fixtures/accounts.js';
import { problemCode } from '../fixtures/workspaces.js';

/** A workspace written as the owner for one case: its owner, the actor (when a member), a viewer to act on, a pending invitation. */
interface Fixture {
  workspaceId: string;
  name: string;
  targetUserId: string;
  invitationId: string;
  apiKeyId: string;
}

interface RouteRequest {
  /** Values of the path parameters other than `:ws`. */
  params?: Record<string, string>;
  /** A query string (without `?`) the route requires. */
  query?: string;
  payload?: object;
}

/**
 * How to call each workspace route: a request that succeeds for a role high enough. Adding a route
 * without a recipe here fails "has a request recipe for every workspace route".
 */
const RECIPES: Record<string, (fixture: Fixture) => RouteRequest> = {
  'GET /api/workspaces/:ws': () => ({}),
  'PATCH /api/workspaces/:ws': () => ({ payload: { name: 'Renamed' } }),
  'DELETE /api/workspaces/:ws': (f) => ({ payload: { confirmName: f.name } }),
  'GET /api/workspaces/:ws/members': () => ({}),
  'PATCH /api/workspaces/:ws/members/:userId': (f) => ({ params: { userId: f.targetUserId }, payload: { role: 'member' } }),
  'DELETE /api/workspaces/:ws/members/:userId': (f) => ({ params: { userId: f.targetUserId } }),
  'POST /api/workspaces/:ws/transfer-ownership': (f) => ({ payload: { userId: f.targetUserId } }),
  'POST /api/workspaces/:ws/invitations': () => ({ payload: { email: uniqueEmail('matrix'), role: 'viewer' } }),
  'GET /api/workspaces/:ws/invitations': () => ({}),
  'DELETE /api/workspaces/:ws/invitations/:id': (f) => ({ params: { id: f.invitationId } }),
  // Turning the requirement on also needs a multi-factor session (mfa.test.ts); off is what every role can be asked.
  'PUT /api/workspaces/:ws/mfa-policy': () => ({ payload: { required: false } }),
  'GET /api/workspaces/:ws/api-keys': () => ({}),
  'POST /api/workspaces/:ws/api-keys': () => ({ payload: { name: 'Matrix key', scopes: ['workspace:read'] } }),
  'DELETE /api/workspaces/:ws/api-keys/:id': (f) => ({ params: { id: f.apiKeyId } }),
  'PUT /api/workspaces/:ws/api-key-policy': () => ({ payload: { rateLimitMax: 599 } }),
  'GET /api/workspaces/:ws/audit-log': () => ({}),
  'GET /api/workspaces/:ws/audit-log/verify': () => ({}),
  'GET /api/workspaces/:ws/audit-log/export': () => ({ query: 'format=jsonl' }),
};

const TARGETS = ['own workspace', 'another workspace', 'a workspace that does not exist', 'a deleted workspace'] as const;
type Target = (typeof TARGETS)[number];

let t: TestApp;
let actor: { userId: string; email: string; browser: Browser };
/** The owner of every fixture the actor does not own, and the member each fixture's routes act on. */
let ownerId: string;
let targetId: string;

beforeAll(async () => {
  t = await createTestApp();
  actor = await createVerifiedUser(t, { email: uniqueEmail('actor') });
  [ownerId, targetId] = [randomUUID(), randomUUID()];
  await t.testDatabase.database.transactionAsOwner((tx) =>
    tx.query(`INSERT INTO rampart.users (id, email, name) VALUES ($1, $2, 'Owner'), ($3, $4, 'Target')`, [
      ownerId,
      uniqueEmail('owner'),
      targetId,
      uniqueEmail('target'),
    ]),
  );
});
afterAll(() => t.close());

/** Writes a fixture workspace as the owner role. `actorRole` null: the actor is not a member. */
async function seedWorkspace(options: { actorRole: Role | null; isDeleted?: boolean }): Promise<Fixture> {
  const fixture: Fixture = { workspaceId: randomUUID(), name: `Matrix ${randomUUID().slice(0, 8)}`, targetUserId: targetId, invitationId: randomUUID(), apiKeyId: randomUUID() };
  await t.testDatabase.database.transactionAsOwner(async (tx) => {
    await tx.query(
      `INSERT INTO rampart.workspaces (workspace_id, name, deleted_at, purge_after)
       VALUES ($1, $2, CASE WHEN $3 THEN now() END, CASE WHEN $3 THEN now() + interval '30 days' END)`,
      [fixture.workspaceId, fixture.name, options.isDeleted === true],
    );
    const members: [string, Role][] = [[targetId, 'viewer']];
    if (options.actorRole !== 'owner') members.push([ownerId, 'owner']);
    if (options.actorRole !== null) members.push([actor.userId, options.actorRole]);
    for (const [userId, role] of members) {
      await tx.query('INSERT INTO rampart.memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)', [fixture.workspaceId, userId, role]);
    }
    await tx.query(
      `INSERT INTO rampart.invitations (workspace_id, id, email, role, token_hash, expires_at)
       VALUES ($1, $2, $3, 'member', encode(sha256(gen_random_uuid()::text::bytea), 'hex'), now() + interval '7 days')`,
      [fixture.workspaceId, fixture.invitationId, uniqueEmail('pending')],
    );
    await tx.query(
      `INSERT INTO rampart.api_keys (workspace_id, id, name, prefix, key_hash, pepper_id, scopes, rate_limit_per_minute, created_by)
       VALUES ($1, $2, 'Fixture key', 'rk_test_abcd', encode(sha256(gen_random_uuid()::text::bytea), 'hex'), repeat('0', 16), '{workspace:read}', 60, $3)`,
      [fixture.workspaceId, fixture.apiKeyId, ownerId],
    );
  });
  return fixture;
}

/** Everything a workspace route could change, as one string (read as the owner, around RLS). */
async function databaseState(): Promise<string> {
  const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
    tx.query<{ state: string }>(
      `SELECT concat_ws(' | ',
         (SELECT string_agg(concat_ws(',', workspace_id, name, deleted_at), ';' ORDER BY workspace_id) FROM rampart.workspaces),
         (SELECT string_agg(concat_ws(',', workspace_id, user_id, role), ';' ORDER BY workspace_id, user_id) FROM rampart.memberships),
         (SELECT string_agg(concat_ws(',', workspace_id, id, revoked_at), ';' ORDER BY workspace_id, id) FROM rampart.api_keys),
         (SELECT string_agg(concat_ws(',', workspace_id, id, role, token_hash), ';' ORDER BY workspace_id, id) FROM rampart.invitations),
         (SELECT count(*) FROM rampart.audit_events)) AS state`,
    ),
  );
  return rows[0]!.state;
}

function send(route: { method: string; url: string }, workspaceId: string, request: RouteRequest, extraHeaders: Record<string, string> = {}) {
  const path = route.url.replace(/:(\w+)/g, (_match, name: string) => (name === 'ws' ? workspaceId : (request.params?.[name] ?? '')));
  const url = request.query === undefined ? path : `${path}?${request.query}`;
  return t.app.inject({
    method: route.method as 'GET',
    url,
    headers: { ...actor.browser.headers(), ...extraHeaders },
    ...(request.payload === undefined ? {} : { payload: request.payload }),
  });
}

describe('the route table', () => {
  it('has a request recipe for every workspace route, and no recipe for a route that is gone', () => {
    const registered = t.app.workspaceRoutes.map((route) => `${route.method} ${route.url}`).sort();
    expect(registered.length).toBeGreaterThan(0);
    expect(registered).toEqual(Object.keys(RECIPES).sort());
  });
});

describe.each(ROLES)('as %s', (role) => {
  it.each(TARGETS)('answers every workspace route in %s as the permission table says, changing nothing when refused', async (target: Target) => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const route of t.app.workspaceRoutes) {
      const recipe = RECIPES[`${route.method} ${route.url}`];
      expect(recipe, `no request recipe for ${route.method} ${route.url}`).toBeDefined();
      const fixture = await seedWorkspace({
        actorRole: target === 'another workspace' ? null : role,
        isDeleted: target === 'a deleted workspace',
      });
      const workspaceId = target === 'a workspace that does not exist' ? randomUUID() : fixture.workspaceId;
      const isAllowed = target === 'own workspace' && hasRoleAtLeast(role, minimumRoleFor(route.permission));
      const before = await databaseState();
      const response = await send(route, workspaceId, recipe!(fixture));
      const label = `${route.method} ${route.url} (${route.permission})`;
      const status = response.statusCode;
      outcomes.push(`${label}: ${status >= 200 && status < 300 ? 'allowed' : `${status} ${problemCode(response)}`}`);
      if (isAllowed) {
        expected.push(`${label}: allowed`);
      } else {
        expected.push(`${label}: ${target === 'own workspace' ? '403 INSUFFICIENT_ROLE' : '404 NOT_FOUND'}`);
        expect(await databaseState(), `${label} changed something`).toBe(before);
      }
    }
    expect(outcomes).toEqual(expected);
  });
});

describe('other ways to aim at another workspace', () => {
  it('refuses another workspace id slipped into a body (400), changing neither workspace', async () => {
    const own = await seedWorkspace({ actorRole: 'owner' });
    const other = await seedWorkspace({ actorRole: null });
    const before = await databaseState();
    for (const [method, url, payload] of [
      ['PATCH', `/api/workspaces/${own.workspaceId}`, { name: 'Moved', workspaceId: other.workspaceId }],
      ['POST', `/api/workspaces/${own.workspaceId}/invitations`, { email: uniqueEmail(), role: 'viewer', workspace_id: other.workspaceId }],
      ['PATCH', `/api/workspaces/${own.workspaceId}/members/${targetId}`, { role: 'member', ws: other.workspaceId }],
    ] as const) {
      const response = await t.app.inject({ method, url, headers: actor.browser.headers(), payload });
      expect(response.statusCode, url).toBe(400);
      expect(problemCode(response)).toBe('VALIDATION_FAILED');
    }
    expect(await databaseState()).toBe(before);
  });

  it('refuses another workspace id in a query string (400)', async () => {
    const own = await seedWorkspace({ actorRole: 'owner' });
    const other = await seedWorkspace({ actorRole: null });
    for (const query of [`workspaceId=${other.workspaceId}`, `ws=${other.workspaceId}`, `workspace_id=${other.workspaceId}`]) {
      const response = await t.app.inject({ method: 'GET', url: `/api/workspaces/${own.workspaceId}/members?${query}`, headers: actor.browser.headers() });
      expect(response.statusCode, query).toBe(400);
    }
  });

  it('answers a member, an invitation or a transfer target of another workspace named in the own workspace with 404', async () => {
    const own = await seedWorkspace({ actorRole: 'owner' });
    const other = await seedWorkspace({ actorRole: null });
    const stranger = randomUUID();
    await t.testDatabase.database.transactionAsOwner(async (tx) => {
      await tx.query(`INSERT INTO rampart.users (id, email, name) VALUES ($1, $2, 'Stranger')`, [stranger, uniqueEmail('stranger')]);
      await tx.query(`INSERT INTO rampart.memberships (workspace_id, user_id, role) VALUES ($1, $2, 'viewer')`, [other.workspaceId, stranger]);
    });
    const before = await databaseState();
    const base = `/api/workspaces/${own.workspaceId}`;
    for (const [method, url, payload] of [
      ['PATCH', `${base}/members/${stranger}`, { role: 'member' }],
      ['DELETE', `${base}/members/${stranger}`, undefined],
      ['POST', `${base}/transfer-ownership`, { userId: stranger }],
      ['DELETE', `${base}/invitations/${other.invitationId}`, undefined],
    ] as const) {
      const response = await t.app.inject({ method, url, headers: actor.browser.headers(), ...(payload ? { payload } : {}) });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
    expect(await databaseState()).toBe(before);
  });

  it('ignores an X-Workspace-Id header: the path alone names the workspace', async () => {
    const own = await seedWorkspace({ actorRole: 'owner' });
    const other = await seedWorkspace({ actorRole: null });
    const headers = { 'x-workspace-id': other.workspaceId, 'x-rampart-workspace': other.workspaceId };
    const members = await send({ method: 'GET', url: '/api/workspaces/:ws/members' }, own.workspaceId, {}, headers);
    expect(members.json<{ members: { userId: string }[] }>().members.map((m) => m.userId).sort()).toEqual([actor.userId, targetId].sort());
    const rename = await send({ method: 'PATCH', url: '/api/workspaces/:ws' }, own.workspaceId, { payload: { name: 'Header test' } }, headers);
    expect(rename.statusCode).toBe(200);
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ workspace_id: string; name: string }>('SELECT workspace_id, name FROM rampart.workspaces WHERE workspace_id IN ($1, $2)', [
        own.workspaceId,
        other.workspaceId,
      ]),
    );
    expect(Object.fromEntries(rows.map((row) => [row.workspace_id, row.name]))).toEqual({
      [own.workspaceId]: 'Header test',
      [other.workspaceId]: other.name,
    });
  });

  it('refuses to accept an invitation sent to another email (403), which stays usable', async () => {
    const owner = await createVerifiedUser(t, { email: uniqueEmail('inviter') });
    const workspace = await t.app.inject({ method: 'POST', url: '/api/workspaces', headers: owner.browser.headers(), payload: { name: 'Invites' } });
    const workspaceId = workspace.json<{ id: string }>().id;
    const invitedEmail = uniqueEmail('invited');
    await t.app.inject({ method: 'POST', url: `/api/workspaces/${workspaceId}/invitations`, headers: owner.browser.headers(), payload: { email: invitedEmail, role: 'admin' } });
    const { tokenFromOutbox, waitFor } = await import('../fixtures/accounts.js');
    const token = await waitFor(() => tokenFromOutbox(t, invitedEmail, '/invitations/accept'));
    const before = await databaseState();
    const response = await t.app.inject({ method: 'POST', url: '/api/invitations/accept', headers: actor.browser.headers(), payload: { token } });
    expect(response.statusCode).toBe(403);
    expect(problemCode(response)).toBe('INVITATION_EMAIL_MISMATCH');
    expect(await databaseState()).toBe(before);
  });

  it.each(ROLES)('refuses a %s editing their own role, which stays as it was', async (role) => {
    const own = await seedWorkspace({ actorRole: role });
    const before = await databaseState();
    for (const newRole of ROLES.filter((candidate) => candidate !== role)) {
      const response = await send({ method: 'PATCH', url: '/api/workspaces/:ws/members/:userId' }, own.workspaceId, {
        params: { userId: actor.userId },
        payload: { role: newRole },
      });
      expect(response.statusCode, `${role} → ${newRole}`).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, `${role} → ${newRole}`).toBeLessThan(500);
      expect(response.statusCode, `${role} → ${newRole}`).not.toBe(404);
    }
    expect(await databaseState()).toBe(before);
  });
});
