import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/index.js';
import { setPlatformAdmin } from '../../src/cli/admin.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { browserFrom, createVerifiedUser, signInRequest, signUpRequest, strongPassword, tokenFromOutbox, uniqueEmail, waitFor, type Browser } from '../fixtures/accounts.js';
import { createWorkspaceAs, inviteAndJoin, problemCode, workspaceAuditActions } from '../fixtures/workspaces.js';

type User = Awaited<ReturnType<typeof createVerifiedUser>>;

let t: TestApp;
let owner: User;
let admin: User;
let member: User;
let viewer: User;
let outsider: User;

beforeAll(async () => {
  t = await createTestApp();
  [owner, admin, member, viewer, outsider] = await Promise.all(
    ['owner', 'admin', 'member', 'viewer', 'outsider'].map((label) => createVerifiedUser(t, { email: uniqueEmail(label), name: label })),
  ) as [User, User, User, User, User];
});
afterAll(() => t.close());

/** A workspace owned by `owner`, with `admin`, `member` and `viewer` in those roles. */
async function teamWorkspace(name = 'Team'): Promise<string> {
  const workspaceId = await createWorkspaceAs(t, owner.browser, name);
  for (const [user, role] of [[admin, 'admin'], [member, 'member'], [viewer, 'viewer']] as const) {
    await inviteAndJoin(t, { inviter: owner.browser, workspaceId, member: user, role });
  }
  return workspaceId;
}

function as(browser: Browser, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  return t.app.inject({ method, url, headers: browser.headers(), ...(payload === undefined ? {} : { payload }) });
}

async function countRows(table: string): Promise<number> {
  const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
    tx.query<{ count: string }>(`SELECT count(*)::text AS count FROM rampart.${table}`),
  );
  return Number(rows[0]!.count);
}

describe('workspaces', () => {
  it('creates a workspace whose creator is its owner, lists, reads and renames it, and audits each change', async () => {
    const create = await as(owner.browser, 'POST', '/api/workspaces', { name: '  Acme Corp  ' });
    expect(create.statusCode).toBe(201);
    const workspace = create.json<{ id: string; name: string; role: string }>();
    expect(workspace).toMatchObject({ name: 'Acme Corp', role: 'owner' });

    const list = await as(owner.browser, 'GET', '/api/workspaces');
    expect(list.json<{ workspaces: { id: string; role: string }[] }>().workspaces).toContainEqual(
      expect.objectContaining({ id: workspace.id, role: 'owner' }),
    );
    expect((await as(outsider.browser, 'GET', '/api/workspaces')).json<{ workspaces: { id: string }[] }>().workspaces.map((w) => w.id)).not.toContain(workspace.id);

    const rename = await as(owner.browser, 'PATCH', `/api/workspaces/${workspace.id}`, { name: 'Acme Inc' });
    expect(rename.statusCode).toBe(200);
    expect((await as(owner.browser, 'GET', `/api/workspaces/${workspace.id}`)).json()).toMatchObject({ name: 'Acme Inc', role: 'owner' });
    expect(await workspaceAuditActions(t, workspace.id)).toEqual(['workspace.created', 'workspace.renamed']);
  });

  it('refuses a user whose email is not verified with 403 EMAIL_NOT_VERIFIED, creating nothing', async () => {
    const email = uniqueEmail('unverified');
    const password = strongPassword();
    await signUpRequest(t.app, { email, password, name: 'New' });
    const browser = browserFrom(await signInRequest(t.app, email, password));
    const before = await countRows('workspaces');
    const response = await as(browser, 'POST', '/api/workspaces', { name: 'Mine' });
    expect(response.statusCode).toBe(403);
    expect(problemCode(response)).toBe('EMAIL_NOT_VERIFIED');
    expect(await countRows('workspaces')).toBe(before);
  });

  it('deletes only with the name typed back exactly; a deleted workspace is 404 on every route and leaves the lists', async () => {
    const workspaceId = await teamWorkspace('Doomed');
    const mismatch = await as(owner.browser, 'DELETE', `/api/workspaces/${workspaceId}`, { confirmName: 'doomed' });
    expect(mismatch.statusCode).toBe(400);
    expect(problemCode(mismatch)).toBe('CONFIRMATION_MISMATCH');
    expect((await as(owner.browser, 'GET', `/api/workspaces/${workspaceId}`)).statusCode).toBe(200);

    const deletion = await as(owner.browser, 'DELETE', `/api/workspaces/${workspaceId}`, { confirmName: 'Doomed' });
    expect(deletion.statusCode).toBe(200);
    const { deletedAt, purgeAfter } = deletion.json<{ deletedAt: string; purgeAfter: string }>();
    expect(Date.parse(purgeAfter) - Date.parse(deletedAt)).toBe(30 * 86_400_000);

    for (const user of [owner, admin, member]) {
      expect((await as(user.browser, 'GET', `/api/workspaces/${workspaceId}`)).statusCode).toBe(404);
      expect((await as(user.browser, 'GET', `/api/workspaces/${workspaceId}/members`)).statusCode).toBe(404);
      const list = await as(user.browser, 'GET', '/api/workspaces');
      expect(list.json<{ workspaces: { id: string }[] }>().workspaces.map((w) => w.id)).not.toContain(workspaceId);
    }
    // Soft-deleted: the rows are still there for the grace period.
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query('SELECT 1 FROM rampart.memberships WHERE workspace_id = $1', [workspaceId]),
    );
    expect(rows).toHaveLength(4);
    expect((await workspaceAuditActions(t, workspaceId)).at(-1)).toBe('workspace.deleted');
  });
});

describe('members', () => {
  it('lists the members with their roles to every member', async () => {
    const workspaceId = await teamWorkspace();
    const response = await as(viewer.browser, 'GET', `/api/workspaces/${workspaceId}/members`);
    expect(response.statusCode).toBe(200);
    const roles = Object.fromEntries(response.json<{ members: { userId: string; role: string }[] }>().members.map((m) => [m.userId, m.role]));
    expect(roles).toEqual({ [owner.userId]: 'owner', [admin.userId]: 'admin', [member.userId]: 'member', [viewer.userId]: 'viewer' });
  });

  it('lets an admin change roles below their own up to their own, and nothing at or above it', async () => {
    const workspaceId = await teamWorkspace();
    const url = (user: User) => `/api/workspaces/${workspaceId}/members/${user.userId}`;
    expect((await as(admin.browser, 'PATCH', url(viewer), { role: 'manager' })).statusCode).toBe(200);
    expect((await as(admin.browser, 'PATCH', url(member), { role: 'admin' })).statusCode).toBe(200);
    // member is an admin now: at the admin's own level.
    for (const [target, role] of [[member, 'viewer'], [owner, 'admin'], [admin, 'viewer']] as const) {
      const response = await as(admin.browser, 'PATCH', url(target), { role });
      expect(response.statusCode, `${target.email} → ${role}`).toBe(403);
      expect(problemCode(response)).toBe('ROLE_NOT_ALLOWED');
    }
    const owned = await as(admin.browser, 'PATCH', url(viewer), { role: 'owner' });
    expect(owned.statusCode).toBe(400);
    expect(await workspaceAuditActions(t, workspaceId)).toEqual(expect.arrayContaining(['member.role_changed']));
  });

  it('keeps the last owner: they cannot leave, be removed or be demoted (409 LAST_OWNER)', async () => {
    const workspaceId = await teamWorkspace();
    const self = `/api/workspaces/${workspaceId}/members/${owner.userId}`;
    for (const response of [await as(owner.browser, 'DELETE', self), await as(owner.browser, 'PATCH', self, { role: 'admin' })]) {
      expect(response.statusCode).toBe(409);
      expect(problemCode(response)).toBe('LAST_OWNER');
    }
    const removal = await as(admin.browser, 'DELETE', self);
    expect(removal.statusCode).toBe(403);
    const members = await as(owner.browser, 'GET', `/api/workspaces/${workspaceId}/members`);
    expect(members.json<{ members: { userId: string; role: string }[] }>().members).toContainEqual(
      expect.objectContaining({ userId: owner.userId, role: 'owner' }),
    );
  });

  it('transfers ownership explicitly to a member only; the old owner becomes an admin and may then leave', async () => {
    const workspaceId = await teamWorkspace();
    const transfer = (userId: string) => as(owner.browser, 'POST', `/api/workspaces/${workspaceId}/transfer-ownership`, { userId });
    expect((await transfer(outsider.userId)).statusCode).toBe(404);
    expect((await transfer(owner.userId)).statusCode).toBe(403);
    expect((await transfer(member.userId)).statusCode).toBe(200);
    const roles = Object.fromEntries(
      (await as(member.browser, 'GET', `/api/workspaces/${workspaceId}/members`))
        .json<{ members: { userId: string; role: string }[] }>()
        .members.map((m) => [m.userId, m.role]),
    );
    expect(roles[member.userId]).toBe('owner');
    expect(roles[owner.userId]).toBe('admin');
    expect((await as(owner.browser, 'DELETE', `/api/workspaces/${workspaceId}/members/${owner.userId}`)).statusCode).toBe(204);
    expect(await workspaceAuditActions(t, workspaceId)).toEqual(expect.arrayContaining(['workspace.ownership_transferred', 'member.left']));
  });

  it('applies a removal or demotion to the very next request of that member', async () => {
    const workspaceId = await teamWorkspace();
    const invite = (browser: Browser) =>
      as(browser, 'POST', `/api/workspaces/${workspaceId}/invitations`, { email: uniqueEmail('next'), role: 'viewer' });
    expect((await invite(admin.browser)).statusCode).toBe(201);
    expect((await as(owner.browser, 'PATCH', `/api/workspaces/${workspaceId}/members/${admin.userId}`, { role: 'member' })).statusCode).toBe(200);
    const demoted = await invite(admin.browser);
    expect(demoted.statusCode).toBe(403);
    expect(problemCode(demoted)).toBe('INSUFFICIENT_ROLE');

    expect((await as(owner.browser, 'DELETE', `/api/workspaces/${workspaceId}/members/${member.userId}`)).statusCode).toBe(204);
    expect((await as(member.browser, 'GET', `/api/workspaces/${workspaceId}`)).statusCode).toBe(404);
    expect(await workspaceAuditActions(t, workspaceId)).toEqual(expect.arrayContaining(['member.removed']));
  });
});

describe('invitations', () => {
  it('voids the invitations of an inviter who was removed or demoted below the role offered', async () => {
    const workspaceId = await teamWorkspace();
    const url = `/api/workspaces/${workspaceId}/invitations`;
    const accomplices = [await createVerifiedUser(t, { email: uniqueEmail('accomplice') }), await createVerifiedUser(t, { email: uniqueEmail('accomplice') })];
    const tokens: string[] = [];
    for (const accomplice of accomplices) {
      const seen = new Set(t.outbox.messages().map((message) => message.id));
      expect((await as(admin.browser, 'POST', url, { email: accomplice.email, role: 'admin' })).statusCode).toBe(201);
      tokens.push(await waitFor(() => tokenFromOutbox(t, accomplice.email, '/invitations/accept', seen)));
    }
    // Demoted below the role offered, the first link admits no one; removed, neither does the second.
    expect((await as(owner.browser, 'PATCH', `/api/workspaces/${workspaceId}/members/${admin.userId}`, { role: 'manager' })).statusCode).toBe(200);
    expect(problemCode(await as(accomplices[0]!.browser, 'POST', '/api/invitations/accept', { token: tokens[0] }))).toBe('INVALID_TOKEN');
    expect((await as(owner.browser, 'DELETE', `/api/workspaces/${workspaceId}/members/${admin.userId}`)).statusCode).toBe(204);
    expect(problemCode(await as(accomplices[1]!.browser, 'POST', '/api/invitations/accept', { token: tokens[1] }))).toBe('INVALID_TOKEN');
    const members = (await as(owner.browser, 'GET', `/api/workspaces/${workspaceId}/members`)).json<{ members: { userId: string }[] }>().members;
    expect(members.map((m) => m.userId)).not.toContain(accomplices[0]!.userId);
    expect(members.map((m) => m.userId)).not.toContain(accomplices[1]!.userId);
  });

  it('mails a single-use link bound to the invited address, stored only as a hash', async () => {
    const workspaceId = await createWorkspaceAs(t, owner.browser);
    const invitee = await createVerifiedUser(t, { email: uniqueEmail('invitee') });
    const invite = await as(owner.browser, 'POST', `/api/workspaces/${workspaceId}/invitations`, { email: invitee.email.toUpperCase(), role: 'manager' });
    expect(invite.statusCode).toBe(201);
    expect(invite.json()).toMatchObject({ email: invitee.email, role: 'manager' });
    expect(invite.body).not.toMatch(/token/i);
    const token = await waitFor(() => tokenFromOutbox(t, invitee.email, '/invitations/accept'));
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ token_hash: string }>('SELECT token_hash FROM rampart.invitations WHERE workspace_id = $1', [workspaceId]),
    );
    expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(token);

    // Another signed-in address cannot use it, and that attempt does not use it up.
    const stranger = await as(outsider.browser, 'POST', '/api/invitations/accept', { token });
    expect(stranger.statusCode).toBe(403);
    expect(problemCode(stranger)).toBe('INVITATION_EMAIL_MISMATCH');

    const accept = await as(invitee.browser, 'POST', '/api/invitations/accept', { token });
    expect(accept.statusCode).toBe(200);
    expect(accept.json()).toMatchObject({ workspace: { id: workspaceId, role: 'manager' } });
    const again = await as(invitee.browser, 'POST', '/api/invitations/accept', { token });
    expect(again.statusCode).toBe(400);
    expect(problemCode(again)).toBe('INVALID_TOKEN');
    expect(await workspaceAuditActions(t, workspaceId)).toEqual(['workspace.created', 'invitation.created', 'member.joined']);
  });

  it('replaces the link when sent again, and revoking ends it', async () => {
    const workspaceId = await createWorkspaceAs(t, owner.browser);
    const invitee = await createVerifiedUser(t, { email: uniqueEmail('resend') });
    const url = `/api/workspaces/${workspaceId}/invitations`;
    const first = await as(owner.browser, 'POST', url, { email: invitee.email, role: 'member' });
    const firstToken = await waitFor(() => tokenFromOutbox(t, invitee.email, '/invitations/accept'));
    const second = await as(owner.browser, 'POST', url, { email: invitee.email, role: 'viewer' });
    expect(second.json<{ id: string }>().id).toBe(first.json<{ id: string }>().id);
    const secondToken = await waitFor(() => {
      const token = tokenFromOutbox(t, invitee.email, '/invitations/accept');
      if (token === firstToken) throw new Error('the second email has not arrived yet');
      return token;
    });
    expect(problemCode(await as(invitee.browser, 'POST', '/api/invitations/accept', { token: firstToken }))).toBe('INVALID_TOKEN');

    const listed = await as(admin.browser, 'GET', url);
    expect(listed.statusCode).toBe(404); // admin is not a member of this workspace
    const pending = (await as(owner.browser, 'GET', url)).json<{ invitations: { id: string; role: string }[] }>().invitations;
    expect(pending).toEqual([expect.objectContaining({ id: first.json<{ id: string }>().id, role: 'viewer' })]);

    expect((await as(owner.browser, 'DELETE', `${url}/${pending[0]!.id}`)).statusCode).toBe(204);
    expect(problemCode(await as(invitee.browser, 'POST', '/api/invitations/accept', { token: secondToken }))).toBe('INVALID_TOKEN');
    expect((await as(owner.browser, 'DELETE', `${url}/${pending[0]!.id}`)).statusCode).toBe(404);
    expect(await workspaceAuditActions(t, workspaceId)).toEqual(['workspace.created', 'invitation.created', 'invitation.resent', 'invitation.revoked']);
  });

  it('refuses an expired invitation, one to a deleted workspace, and an unverified invitee', async () => {
    const workspaceId = await createWorkspaceAs(t, owner.browser, 'Short');
    const url = `/api/workspaces/${workspaceId}/invitations`;
    const expiring = await createVerifiedUser(t, { email: uniqueEmail('expired') });
    await as(owner.browser, 'POST', url, { email: expiring.email, role: 'member' });
    const expiredToken = await waitFor(() => tokenFromOutbox(t, expiring.email, '/invitations/accept'));
    await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query(`UPDATE rampart.invitations SET expires_at = now() - interval '1 second' WHERE email = $1`, [expiring.email]),
    );
    expect(problemCode(await as(expiring.browser, 'POST', '/api/invitations/accept', { token: expiredToken }))).toBe('INVALID_TOKEN');

    const email = uniqueEmail('unverified');
    const password = strongPassword();
    await signUpRequest(t.app, { email, password, name: 'New' });
    const unverified = browserFrom(await signInRequest(t.app, email, password));
    await as(owner.browser, 'POST', url, { email, role: 'member' });
    const unverifiedToken = await waitFor(() => tokenFromOutbox(t, email, '/invitations/accept'));
    const refused = await as(unverified, 'POST', '/api/invitations/accept', { token: unverifiedToken });
    expect(refused.statusCode).toBe(403);
    expect(problemCode(refused)).toBe('EMAIL_NOT_VERIFIED');

    const late = await createVerifiedUser(t, { email: uniqueEmail('late') });
    await as(owner.browser, 'POST', url, { email: late.email, role: 'member' });
    const lateToken = await waitFor(() => tokenFromOutbox(t, late.email, '/invitations/accept'));
    await as(owner.browser, 'DELETE', `/api/workspaces/${workspaceId}`, { confirmName: 'Short' });
    expect(problemCode(await as(late.browser, 'POST', '/api/invitations/accept', { token: lateToken }))).toBe('INVALID_TOKEN');
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query('SELECT 1 FROM rampart.memberships WHERE workspace_id = $1', [workspaceId]),
    );
    expect(rows).toHaveLength(1);
  });

  it('refuses to invite an existing member (409 ALREADY_MEMBER)', async () => {
    const workspaceId = await teamWorkspace();
    const response = await as(owner.browser, 'POST', `/api/workspaces/${workspaceId}/invitations`, { email: member.email, role: 'viewer' });
    expect(response.statusCode).toBe(409);
    expect(problemCode(response)).toBe('ALREADY_MEMBER');
  });
});

describe('bad input changes nothing', () => {
  const cases: [string, (workspaceId: string) => [method: 'POST' | 'PATCH', url: string, payload: object]][] = [
    ['an unknown role name in a role change', (ws) => ['PATCH', `/api/workspaces/${ws}/members/${member.userId}`, { role: 'superuser' }]],
    ['an unknown role name in an invitation', (ws) => ['POST', `/api/workspaces/${ws}/invitations`, { email: uniqueEmail(), role: 'god' }]],
    ['an invalid email in an invitation', (ws) => ['POST', `/api/workspaces/${ws}/invitations`, { email: 'not an email', role: 'member' }]],
    ['a workspace name of 10,000 characters', (ws) => ['PATCH', `/api/workspaces/${ws}`, { name: 'x'.repeat(10_000) }]],
    ['a workspace name with a line break', (ws) => ['PATCH', `/api/workspaces/${ws}`, { name: 'Acme\nInc' }]],
    ['a workspace name with a NUL', (ws) => ['PATCH', `/api/workspaces/${ws}`, { name: 'Acme\u0000' }]],
    ['a workspace name with a bell and an escape', () => ['POST', '/api/workspaces', { name: '\u0007\u001b[31mAcme' }]],
    ['an empty workspace name', (ws) => ['PATCH', `/api/workspaces/${ws}`, { name: '   ' }]],
    ['a workspace name with a right-to-left override', (ws) => ['PATCH', `/api/workspaces/${ws}`, { name: 'Acme \u202egnp.exe' }]],
    ['a malformed invitation token', () => ['POST', '/api/invitations/accept', { token: 'x'.repeat(43) }]],
  ];

  it.each(cases)('answers %s with a 4xx problem and writes nothing', async (_name, build) => {
    const workspaceId = await teamWorkspace('Stable');
    const tables = ['workspaces', 'memberships', 'invitations', 'audit_events'];
    const before = await Promise.all(tables.map(countRows));
    const [method, url, payload] = build(workspaceId);
    const response = await as(owner.browser, method, url, payload);
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await Promise.all(tables.map(countRows))).toEqual(before);
    expect((await as(owner.browser, 'GET', `/api/workspaces/${workspaceId}`)).json()).toMatchObject({ name: 'Stable' });
  });
});

describe('platform super-admin', () => {
  it('reads any workspace only once granted from the CLI, each use recorded in the workspace log and the platform log', async () => {
    const workspaceId = await teamWorkspace();
    const support = await createVerifiedUser(t, { email: uniqueEmail('support') });
    expect((await as(support.browser, 'GET', `/api/workspaces/${workspaceId}`)).statusCode).toBe(404);

    const auditLog = AuditLog.fromMasterKey(t.masterKey);
    expect(await setPlatformAdmin(t.testDatabase.database, auditLog, { email: support.email, isAdmin: true })).toBe('granted');
    const read = await as(support.browser, 'GET', `/api/workspaces/${workspaceId}`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: workspaceId, role: null });
    expect((await as(support.browser, 'GET', `/api/workspaces/${workspaceId}/members`)).statusCode).toBe(200);
    // Read-only: no write, whatever the route.
    expect((await as(support.browser, 'PATCH', `/api/workspaces/${workspaceId}`, { name: 'Taken' })).statusCode).toBe(404);
    expect((await as(support.browser, 'POST', `/api/workspaces/${workspaceId}/invitations`, { email: uniqueEmail(), role: 'admin' })).statusCode).toBe(404);

    const { rows: workspaceEvents } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ actor_type: string; actor_id: string }>(
        `SELECT actor_type, actor_id FROM rampart.audit_events WHERE workspace_id = $1 AND action = 'platform.workspace_accessed'`,
        [workspaceId],
      ),
    );
    expect(workspaceEvents).toEqual([
      { actor_type: 'super_admin', actor_id: support.userId },
      { actor_type: 'super_admin', actor_id: support.userId },
    ]);
    const { rows: platformEvents } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ action: string }>('SELECT action FROM rampart.platform_audit_events ORDER BY seq'),
    );
    expect(platformEvents.map((row) => row.action)).toEqual(
      expect.arrayContaining(['platform.admin_granted', 'platform.workspace_accessed', 'platform.workspace_accessed']),
    );
    const verification = await t.testDatabase.database.transactionAsOwner((tx) => auditLog.verify(tx, { platform: true }));
    expect(verification.ok).toBe(true);

    expect(await setPlatformAdmin(t.testDatabase.database, auditLog, { email: support.email, isAdmin: false })).toBe('revoked');
    expect((await as(support.browser, 'GET', `/api/workspaces/${workspaceId}`)).statusCode).toBe(404);
  });
});
