/**
 * Attack: a client spreads its requests over every instance behind the load balancer to multiply a
 * key's rate limit. The limit's state lives in the database (by default) or in Redis (with
 * REDIS_URL), never in one process: two Rampart instances on one database, sent twice the limit
 * between them at once, admit exactly the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, sharedLimitStores, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, uniqueEmail } from '../fixtures/accounts.js';
import { createWorkspaceAs } from '../fixtures/workspaces.js';

const LIMIT = 10;
const backends = sharedLimitStores();

describe.each(backends)('one key, two instances, limit state in %s', (_label, env) => {
  let first: TestApp;
  let second: TestApp;
  let workspaceId: string;
  let key: string;

  beforeAll(async () => {
    first = await createTestApp({ env });
    // A second app on the same database, as a second instance would be (its own process state, the same store).
    second = await createTestApp({ env, testDatabase: first.testDatabase, masterKey: first.masterKey });
    const user = await createVerifiedUser(first, { email: uniqueEmail('limited') });
    workspaceId = await createWorkspaceAs(first, user.browser, 'Limited');
    const created = await first.app.inject({
      method: 'POST',
      url: `/api/workspaces/${workspaceId}/api-keys`,
      headers: user.browser.headers(),
      payload: { name: 'Shared limit', scopes: ['workspace:read'], rateLimitPerMinute: LIMIT },
    });
    expect(created.statusCode, created.body).toBe(201);
    key = created.json<{ key: string }>().key;
  });
  afterAll(async () => {
    await second.app.close();
    await first.close();
  });

  it(`admits exactly ${LIMIT} of ${2 * LIMIT} concurrent requests split across the two instances`, async () => {
    const responses = await Promise.all(
      Array.from({ length: 2 * LIMIT }, (_, index) =>
        (index % 2 === 0 ? first : second).app.inject({
          method: 'GET',
          url: `/api/workspaces/${workspaceId}`,
          headers: { authorization: `Bearer ${key}` },
        }),
      ),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(LIMIT);
    // Both instances refused some: neither kept a count of its own.
    expect(statuses.filter((status, index) => status === 429 && index % 2 === 0).length).toBeGreaterThan(0);
    expect(statuses.filter((status, index) => status === 429 && index % 2 === 1).length).toBeGreaterThan(0);
    for (const response of responses.filter((r) => r.statusCode === 429)) {
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      expect(response.headers['ratelimit-remaining']).toBe('0');
    }
  });

  it('refuses a revoked key on the other instance at its next request (nothing caches a key)', async () => {
    const user = await createVerifiedUser(first, { email: uniqueEmail('revoker') });
    const workspace = await createWorkspaceAs(first, user.browser, 'Revoking');
    const created = await first.app.inject({
      method: 'POST',
      url: `/api/workspaces/${workspace}/api-keys`,
      headers: user.browser.headers(),
      payload: { name: 'Soon revoked', scopes: ['workspace:read'] },
    });
    const { id, key: revokedKey } = created.json<{ id: string; key: string }>();
    const read = () => second.app.inject({ method: 'GET', url: `/api/workspaces/${workspace}`, headers: { authorization: `Bearer ${revokedKey}` } });
    expect((await read()).statusCode).toBe(200);
    const revoke = await first.app.inject({ method: 'DELETE', url: `/api/workspaces/${workspace}/api-keys/${id}`, headers: user.browser.headers() });
    expect(revoke.statusCode).toBe(204);
    expect((await read()).statusCode).toBe(401);
  });
});
