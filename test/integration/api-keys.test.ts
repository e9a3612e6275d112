/**
 * Workspace API keys: creation (shown once), listing, revocation, expiry, scopes, the creator's role,
 * the per-key rate limit and pepper rotation. Attacks named where they apply.
 */
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys/key-format.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, uniqueEmail } from '../fixtures/accounts.js';
import { createWorkspaceAs, inviteAndJoin, problemCode, workspaceAuditActions } from '../fixtures/workspaces.js';

type User = Awaited<ReturnType<typeof createVerifiedUser>>;

interface KeyBody {
  id: string;
  key: string;
  prefix: string;
  scopes: string[];
  rateLimitPerMinute: number;
  status: string;
  lastUsedAt: string | null;
}

let t: TestApp;
let owner: User;
let admin: User;
let workspaceId: string;
let otherWorkspaceId: string;

beforeAll(async () => {
  t = await createTestApp();
  [owner, admin] = (await Promise.all(
    ['owner', 'admin'].map((label) => createVerifiedUser(t, { email: uniqueEmail(label), name: label })),
  )) as [User, User];
  workspaceId = await createWorkspaceAs(t, owner.browser, 'Keyed');
  await inviteAndJoin(t, { inviter: owner.browser, workspaceId, member: admin, role: 'admin' });
  otherWorkspaceId = await createWorkspaceAs(t, owner.browser, 'Other of the same owner');
});
afterAll(() => t.close());

async function createKey(user: User, body: Record<string, unknown>, workspace = workspaceId): Promise<KeyBody> {
  const response = await t.app.inject({
    method: 'POST',
    url: `/api/workspaces/${workspace}/api-keys`,
    headers: user.browser.headers(),
    payload: { name: 'CI deploy', scopes: ['workspace:read'], ...body },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<KeyBody>();
}

function withKey(key: string, url: string, method: 'GET' | 'DELETE' | 'PATCH' = 'GET', payload?: object): Promise<LightMyRequestResponse> {
  return t.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload === undefined ? {} : { payload }) });
}

async function deniedReasons(workspace = workspaceId): Promise<string[]> {
  const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
    tx.query<{ reason: string }>(
      `SELECT details->>'reason' AS reason FROM rampart.audit_events WHERE workspace_id = $1 AND action = 'api_key.use_denied' ORDER BY seq`,
      [workspace],
    ),
  );
  return rows.map((row) => row.reason);
}

describe('creating and listing keys', () => {
  it('shows the key once, in the creation answer, and never again: the list holds its prefix only', async () => {
    const created = await createKey(admin, { name: 'Reporting', scopes: ['workspace:read', 'members:read'] });
    expect(created.key).toMatch(/^rk_test_[0-9A-Za-z]{38}$/);
    expect(created.prefix).toBe(created.key.slice(0, 12));
    expect(created).toMatchObject({ scopes: ['workspace:read', 'members:read'], rateLimitPerMinute: 60, status: 'active' });

    const list = await t.app.inject({ method: 'GET', url: `/api/workspaces/${workspaceId}/api-keys`, headers: owner.browser.headers() });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(created.key);
    expect(list.body).not.toContain(created.key.slice(12));
    const listed = list.json<{ apiKeys: Record<string, unknown>[] }>().apiKeys.find((key) => key.id === created.id);
    expect(listed).toMatchObject({ name: 'Reporting', prefix: created.prefix, createdBy: admin.userId, status: 'active', expiresAt: null });
    expect(listed).not.toHaveProperty('key');
    expect(await workspaceAuditActions(t, workspaceId)).toContain('api_key.created');
  });

  it.each([
    ['an unknown scope', { scopes: ['workspace:write'] }],
    ['a repeated scope', { scopes: ['workspace:read', 'workspace:read'] }],
    ['no scope', { scopes: [] }],
    ['an expiry in the past', { expiresAt: '2020-01-01T00:00:00Z' }],
    ['a name with a line break', { name: 'two\nlines' }],
    ['a field it does not know', { role: 'owner' }],
    ['a zero rate limit', { rateLimitPerMinute: 0 }],
  ])('refuses %s with 400 and creates nothing', async (_label, body) => {
    const before = await workspaceAuditActions(t, workspaceId);
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/workspaces/${workspaceId}/api-keys`,
      headers: admin.browser.headers(),
      payload: { name: 'Bad', scopes: ['workspace:read'], ...body },
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(problemCode(response)).toBe('VALIDATION_FAILED');
    expect(await workspaceAuditActions(t, workspaceId)).toEqual(before);
  });

  it("refuses a rate limit above the workspace's maximum with 400 RATE_LIMIT_TOO_HIGH", async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/workspaces/${workspaceId}/api-keys`,
      headers: admin.browser.headers(),
      payload: { name: 'Greedy', scopes: ['workspace:read'], rateLimitPerMinute: 601 },
    });
    expect(response.statusCode).toBe(400);
    expect(problemCode(response)).toBe('RATE_LIMIT_TOO_HIGH');
  });
});

describe('authenticating with a key', () => {
  it('reads its own workspace and its members, with the key as the actor and RateLimit headers', async () => {
    const { key } = await createKey(admin, { scopes: ['workspace:read', 'members:read'] });
    const workspace = await withKey(key, `/api/workspaces/${workspaceId}`);
    expect(workspace.statusCode, workspace.body).toBe(200);
    expect(workspace.json()).toMatchObject({ id: workspaceId, name: 'Keyed', role: 'admin' });
    expect(workspace.headers['ratelimit-limit']).toBe('60');
    expect(workspace.headers['ratelimit-remaining']).toBe('59');
    const members = await withKey(key, `/api/workspaces/${workspaceId}/members`);
    expect(members.statusCode).toBe(200);
    expect(members.json<{ members: { userId: string }[] }>().members.map((m) => m.userId).sort()).toEqual([owner.userId, admin.userId].sort());
  });

  it("answers 404 on another workspace's route (one the creator also belongs to) and records the attempt in the key's log", async () => {
    const { key } = await createKey(owner, {});
    const otherBefore = await workspaceAuditActions(t, otherWorkspaceId);
    const response = await withKey(key, `/api/workspaces/${otherWorkspaceId}`);
    expect(response.statusCode).toBe(404);
    expect(problemCode(response)).toBe('NOT_FOUND');
    expect(await deniedReasons()).toContain('wrong_workspace');
    expect(await workspaceAuditActions(t, otherWorkspaceId)).toEqual(otherBefore);
  });

  it('refuses revoked, expired, checksum-broken, unknown and malformed keys with one generic 401', async () => {
    const revoked = await createKey(admin, { name: 'To revoke' });
    expect((await withKey(revoked.key, `/api/workspaces/${workspaceId}`)).statusCode).toBe(200);
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/workspaces/${workspaceId}/api-keys/${revoked.id}`, headers: admin.browser.headers() });
    expect(revoke.statusCode).toBe(204);

    const expired = await createKey(admin, { name: 'To expire', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query(`UPDATE rampart.api_keys SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE id = $1`, [expired.id]),
    );
    const last = revoked.key.at(-1) === 'A' ? 'B' : 'A';
    const checksumBroken = `${revoked.key.slice(0, -1)}${last}`;
    const unknown = generateApiKey('test').key;

    const denials = await deniedReasons();
    const bodies: Record<string, unknown>[] = [];
    for (const header of [revoked.key, expired.key, checksumBroken, unknown, 'rk_test_short'].map((key) => `Bearer ${key}`).concat(['Basic YWRtaW46YWRtaW4=', 'Bearer'])) {
      const response = await t.app.inject({ method: 'GET', url: `/api/workspaces/${workspaceId}`, headers: { authorization: header } });
      expect(response.statusCode, header).toBe(401);
      const { requestId: _requestId, ...body } = response.json<Record<string, unknown>>();
      bodies.push(body);
    }
    expect(new Set(bodies.map((body) => JSON.stringify(body))).size).toBe(1);
    expect(bodies[0]).toMatchObject({ code: 'INVALID_API_KEY', status: 401 });
    expect((await deniedReasons()).slice(denials.length)).toEqual(['revoked', 'expired']);

    const list = await t.app.inject({ method: 'GET', url: `/api/workspaces/${workspaceId}/api-keys`, headers: admin.browser.headers() });
    const statuses = Object.fromEntries(list.json<{ apiKeys: { id: string; status: string }[] }>().apiKeys.map((key) => [key.id, key.status]));
    expect(statuses[revoked.id]).toBe('revoked');
    expect(statuses[expired.id]).toBe('expired');
    expect(await workspaceAuditActions(t, workspaceId)).toContain('api_key.revoked');
  });

  it('refuses an action no scope of the key allows with 403 INSUFFICIENT_SCOPE, changing nothing', async () => {
    const { key } = await createKey(owner, { scopes: ['workspace:read'] });
    const before = await workspaceAuditActions(t, workspaceId);
    for (const [method, path, payload] of [
      ['GET', '/members', undefined],
      ['GET', '/api-keys', undefined],
      ['GET', '/audit-log', undefined],
      ['PATCH', '', { name: 'Renamed by a key' }],
    ] as const) {
      const response = await withKey(key, `/api/workspaces/${workspaceId}${path}`, method, payload);
      expect(response.statusCode, `${method} ${path}`).toBe(403);
      expect(problemCode(response)).toBe('INSUFFICIENT_SCOPE');
    }
    const after = await workspaceAuditActions(t, workspaceId);
    expect(after.slice(before.length)).toEqual(['api_key.use_denied', 'api_key.use_denied', 'api_key.use_denied', 'api_key.use_denied']);
    expect((await withKey(key, `/api/workspaces/${workspaceId}`)).json()).toMatchObject({ name: 'Keyed' });
  });

  it("narrows a demoted creator's keys to the new role and stops a removed creator's keys", async () => {
    const member = await createVerifiedUser(t, { email: uniqueEmail('creator') });
    await inviteAndJoin(t, { inviter: owner.browser, workspaceId, member, role: 'admin' });
    const { key } = await createKey(member, { scopes: ['members:read', 'audit:read'] });
    expect((await withKey(key, `/api/workspaces/${workspaceId}/audit-log`)).statusCode).toBe(200);

    const demote = await t.app.inject({
      method: 'PATCH',
      url: `/api/workspaces/${workspaceId}/members/${member.userId}`,
      headers: owner.browser.headers(),
      payload: { role: 'viewer' },
    });
    expect(demote.statusCode).toBe(200);
    const audit = await withKey(key, `/api/workspaces/${workspaceId}/audit-log`);
    expect(audit.statusCode).toBe(403);
    expect(problemCode(audit)).toBe('INSUFFICIENT_SCOPE');
    expect((await withKey(key, `/api/workspaces/${workspaceId}/members`)).statusCode).toBe(200);

    const remove = await t.app.inject({ method: 'DELETE', url: `/api/workspaces/${workspaceId}/members/${member.userId}`, headers: owner.browser.headers() });
    expect(remove.statusCode).toBe(204);
    const removed = await withKey(key, `/api/workspaces/${workspaceId}/members`);
    expect(removed.statusCode).toBe(401);
    expect(problemCode(removed)).toBe('INVALID_API_KEY');
    expect((await deniedReasons()).slice(-2)).toEqual(['creator_role_too_low', 'creator_not_member']);
  });

  it('refuses a session cookie and a key in the same request (400 MIXED_CREDENTIALS), and a key on a session route (401)', async () => {
    const { key } = await createKey(admin, {});
    for (const url of [`/api/workspaces/${workspaceId}`, '/api/me']) {
      const mixed = await t.app.inject({ method: 'GET', url, headers: { ...admin.browser.headers(), authorization: `Bearer ${key}` } });
      expect(mixed.statusCode, url).toBe(400);
      expect(problemCode(mixed)).toBe('MIXED_CREDENTIALS');
    }
    const me = await withKey(key, '/api/me');
    expect(me.statusCode).toBe(401);
    expect(problemCode(me)).toBe('UNAUTHENTICATED');
  });

  it('answers 429 with Retry-After and RateLimit headers once a key has used its limit for the minute', async () => {
    const { key } = await createKey(admin, { rateLimitPerMinute: 3 });
    for (let index = 0; index < 3; index += 1) {
      const response = await withKey(key, `/api/workspaces/${workspaceId}`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-remaining']).toBe(String(2 - index));
    }
    const limited = await withKey(key, `/api/workspaces/${workspaceId}`);
    expect(limited.statusCode).toBe(429);
    expect(problemCode(limited)).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.headers['ratelimit-limit']).toBe('3');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
  });

  it('records the last-used time on the first use and not again within the minute (no write per request)', async () => {
    const created = await createKey(admin, {});
    const lastUsed = async () =>
      (
        await t.testDatabase.database.transactionAsOwner((tx) =>
          tx.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM rampart.api_keys WHERE id = $1', [created.id]),
        )
      ).rows[0]!.last_used_at;
    expect(await lastUsed()).toBeNull();
    await withKey(created.key, `/api/workspaces/${workspaceId}`);
    const first = await lastUsed();
    expect(first).toBeInstanceOf(Date);
    await withKey(created.key, `/api/workspaces/${workspaceId}`);
    expect(await lastUsed()).toEqual(first);
  });
});

describe('pepper rotation', () => {
  it('verifies a key hashed under the previous pepper, rewrites it under the current one, and refuses it once the old pepper is dropped', async () => {
    const [oldPepper, newPepper] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const before = await createTestApp({ env: { RAMPART_API_KEY_PEPPER: oldPepper } });
    try {
      const user = await createVerifiedUser(before, { email: uniqueEmail('rotation') });
      const workspace = await createWorkspaceAs(before, user.browser, 'Rotating');
      const create = await before.app.inject({
        method: 'POST',
        url: `/api/workspaces/${workspace}/api-keys`,
        headers: user.browser.headers(),
        payload: { name: 'Old', scopes: ['workspace:read'] },
      });
      const { id, key } = create.json<KeyBody>();
      const stored = async () =>
        (
          await before.testDatabase.database.transactionAsOwner((tx) =>
            tx.query<{ key_hash: string; pepper_id: string }>('SELECT key_hash, pepper_id FROM rampart.api_keys WHERE id = $1', [id]),
          )
        ).rows[0]!;
      const original = await stored();

      const rotated = await createTestApp({
        testDatabase: before.testDatabase,
        env: { RAMPART_API_KEY_PEPPER: newPepper, RAMPART_API_KEY_PREVIOUS_PEPPERS: oldPepper },
      });
      const read = (app: TestApp) => app.app.inject({ method: 'GET', url: `/api/workspaces/${workspace}`, headers: { authorization: `Bearer ${key}` } });
      const rotatedRead = await read(rotated);
      expect(rotatedRead.statusCode, JSON.stringify(rotated.logs.filter((l) => (l.level as number) >= 50))).toBe(200);
      const upgraded = await stored();
      expect(upgraded.pepper_id).not.toBe(original.pepper_id);
      expect(upgraded.key_hash).not.toBe(original.key_hash);
      await rotated.app.close();

      const newOnly = await createTestApp({ testDatabase: before.testDatabase, env: { RAMPART_API_KEY_PEPPER: newPepper } });
      expect((await read(newOnly)).statusCode).toBe(200);
      await newOnly.app.close();

      const wrongPepper = await createTestApp({ testDatabase: before.testDatabase, env: { RAMPART_API_KEY_PEPPER: randomBytes(32).toString('base64') } });
      const refused = await read(wrongPepper);
      expect(refused.statusCode).toBe(401);
      await wrongPepper.app.close();
    } finally {
      await before.close();
    }
  });
});

describe("the workspace's maximum per-key limit", () => {
  const setMaximum = (user: User, payload: unknown) =>
    t.app.inject({ method: 'PUT', url: `/api/workspaces/${workspaceId}/api-key-policy`, headers: user.browser.headers(), payload: payload as object });
  const listedMaximum = async () =>
    (await t.app.inject({ method: 'GET', url: `/api/workspaces/${workspaceId}/api-keys`, headers: owner.browser.headers() })).json<{ rateLimitMax: number }>()
      .rateLimitMax;

  it('lets an admin lower it: new keys above it are refused, keys given more are held to it from their next request, the change is audited', async () => {
    const { key } = await createKey(admin, { rateLimitPerMinute: 50 });
    expect(await listedMaximum()).toBe(600);
    try {
      const lowered = await setMaximum(admin, { rateLimitMax: 2 });
      expect(lowered.statusCode, lowered.body).toBe(200);
      expect(lowered.json()).toEqual({ rateLimitMax: 2 });
      expect(await listedMaximum()).toBe(2);

      const tooHigh = await t.app.inject({
        method: 'POST',
        url: `/api/workspaces/${workspaceId}/api-keys`,
        headers: admin.browser.headers(),
        payload: { name: 'Above the new maximum', scopes: ['workspace:read'], rateLimitPerMinute: 3 },
      });
      expect(problemCode(tooHigh)).toBe('RATE_LIMIT_TOO_HIGH');

      // Attack: a key created under a generous maximum keeps hammering after the workspace lowered it.
      const answers = [];
      for (let index = 0; index < 3; index += 1) answers.push(await withKey(key, `/api/workspaces/${workspaceId}`));
      expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 429]);
      expect(answers[0]!.headers['ratelimit-limit']).toBe('2');

      const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
        tx.query<{ details: { from: number; to: number } }>(
          `SELECT details FROM rampart.audit_events WHERE workspace_id = $1 AND action = 'api_key.rate_limit_max_changed' ORDER BY seq`,
          [workspaceId],
        ),
      );
      expect(rows.at(-1)?.details).toEqual({ from: 600, to: 2 });
    } finally {
      await setMaximum(owner, { rateLimitMax: 600 });
    }
  });

  it.each([
    ['zero', { rateLimitMax: 0 }],
    ['more than 100,000', { rateLimitMax: 100_001 }],
    ['a fraction', { rateLimitMax: 1.5 }],
    ['a string', { rateLimitMax: '10' }],
    ['no value', {}],
    ['a field it does not know', { rateLimitMax: 10, workspaceId: '00000000-0000-4000-8000-000000000000' }],
  ])('refuses %s with 400 and changes nothing', async (_label, payload) => {
    const [maximumBefore, eventsBefore] = [await listedMaximum(), await workspaceAuditActions(t, workspaceId)];
    const response = await setMaximum(admin, payload);
    expect(response.statusCode, response.body).toBe(400);
    expect(problemCode(response)).toBe('VALIDATION_FAILED');
    expect(await listedMaximum()).toBe(maximumBefore);
    expect(await workspaceAuditActions(t, workspaceId)).toEqual(eventsBefore);
  });
});
