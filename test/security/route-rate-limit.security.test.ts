/**
 * Attacks: flooding a route (credential stuffing, account or email spam, scraping) from one address
 * or one account; escaping the count by forging a cookie or an `X-Forwarded-For` header; spreading
 * the requests over several instances. Every route has a limit per client (the signed-in user, or the
 * address of an anonymous request), tighter where a route is worth attacking.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys/key-format.js';
import { generateToken } from '../../src/crypto/tokens.js';
import { createTestApp, sharedLimitStores, type TestApp } from '../fixtures/app.js';
import { createWorkspaceAs } from '../fixtures/workspaces.js';
import { createVerifiedUser, fetchFormToken, SAME_ORIGIN, signInRequest, strongPassword, uniqueEmail } from '../fixtures/accounts.js';

const LIMIT = 5;
const limited = { limitRouteRates: true, env: { RAMPART_RATE_LIMIT_PER_MINUTE: String(LIMIT) } };

async function statusesOf(requests: (() => Promise<{ statusCode: number }>)[]): Promise<number[]> {
  const statuses: number[] = [];
  // One after the other: the order of the answers is the order of the counts.
  for (const send of requests) statuses.push((await send()).statusCode);
  return statuses;
}

function times<T>(count: number, make: (index: number) => T): T[] {
  return Array.from({ length: count }, (_, index) => make(index));
}

const allowedThenRefused = (allowed: number, refused: number) => [...times(allowed, () => 200), ...times(refused, () => 429)];

describe('per-route rate limits (one instance)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(limited);
  });
  afterAll(() => t.close());

  it('refuses a flood of one route from one address with 429 problem+json, Retry-After and RateLimit-* headers', async () => {
    const address = '192.0.2.1';
    const responses = [];
    for (let index = 0; index <= LIMIT; index += 1) {
      responses.push(await t.app.inject({ method: 'GET', url: '/api/health/live', remoteAddress: address }));
    }
    expect(responses.map((response) => response.statusCode)).toEqual(allowedThenRefused(LIMIT, 1));
    expect(responses[0]!.headers).toMatchObject({ 'ratelimit-limit': String(LIMIT), 'ratelimit-remaining': String(LIMIT - 1), 'ratelimit-policy': `${LIMIT};w=60` });
    const refused = responses[LIMIT]!;
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers).toMatchObject({ 'ratelimit-remaining': '0', 'ratelimit-reset': String(retryAfter) });
    // The limit is per route and per address: another route, or another address, is still served.
    expect((await t.app.inject({ method: 'GET', url: '/api/openapi.json', remoteAddress: address })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/health/live', remoteAddress: '192.0.2.2' })).statusCode).toBe(200);
  });

  it('limits requests for paths that do not exist (scanning) like any route', async () => {
    const statuses = await statusesOf(times(LIMIT + 1, (index) => () => t.app.inject({ method: 'GET', url: `/scan-${index}`, remoteAddress: '192.0.2.3' })));
    expect(statuses).toEqual([...times(LIMIT, () => 404), 429]);
  });

  it('holds sign-in to its own, tighter limit per address (credential stuffing over many accounts)', async () => {
    const address = '192.0.2.4';
    // A different email each time: the per-account failure limits never trigger, only the route's.
    const statuses = await statusesOf(times(21, () => () => signInRequest(t.app, uniqueEmail('stuffing'), 'not-the-password-1', address)));
    expect(statuses.slice(0, 20).every((status) => status === 401)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  it('counts a forged session cookie or API key against the address: inventing credentials does not reset the count', async () => {
    const address = '192.0.2.5';
    const forgedCookies = await statusesOf(
      times(LIMIT + 1, (index) => () => t.app.inject({ method: 'GET', url: '/api/me', remoteAddress: address, headers: { cookie: `rampart_session=forged${index}` } })),
    );
    expect(forgedCookies).toEqual([...times(LIMIT, () => 401), 429]);
    // On a route with no guard, the credential is not even looked at: the address is counted.
    const forgedKeys = await statusesOf(
      times(LIMIT + 1, (index) => () => t.app.inject({ method: 'GET', url: '/api/health/live', remoteAddress: '192.0.2.6', headers: { authorization: `Bearer forged${index}` } })),
    );
    expect(forgedKeys).toEqual(allowedThenRefused(LIMIT, 1));
  });

  it('counts well-formed but unknown credentials against the address too, on session and API-key routes', async () => {
    const owner = await createVerifiedUser(t);
    const workspaceId = await createWorkspaceAs(t, owner.browser);
    const unknownSession = await statusesOf(
      times(LIMIT + 1, () => () => t.app.inject({ method: 'GET', url: '/api/me', remoteAddress: '192.0.2.20', headers: { cookie: `rampart_session=${generateToken()}` } })),
    );
    expect(unknownSession).toEqual([...times(LIMIT, () => 401), 429]);
    const unknownKey = await statusesOf(
      times(LIMIT + 1, () => () =>
        t.app.inject({ method: 'GET', url: `/api/workspaces/${workspaceId}`, remoteAddress: '192.0.2.21', headers: { authorization: `Bearer ${generateApiKey('test').key}` } }),
      ),
    );
    expect(unknownKey).toEqual([...times(LIMIT, () => 401), 429]);
  });

  it('counts a request whose body fails before its credential is checked (a flood of broken bodies)', async () => {
    const cookie = `rampart_session=${generateToken()}`;
    const broken = () =>
      t.app.inject({ method: 'POST', url: '/api/workspaces', remoteAddress: '192.0.2.22', headers: { ...SAME_ORIGIN, cookie, 'content-type': 'application/json' }, payload: '{' });
    // Each is answered 400 (its body decides that) but counted against the address all the same.
    expect(await statusesOf(times(LIMIT, () => broken))).toEqual(times(LIMIT, () => 400));
    const next = await t.app.inject({ method: 'POST', url: '/api/workspaces', remoteAddress: '192.0.2.22', headers: SAME_ORIGIN, payload: { name: 'After the flood' } });
    expect(next.statusCode).toBe(429);
  });

  it('counts an IPv6 client by its /64, so that picking a new address in its own block does not reset the count', async () => {
    const statuses = await statusesOf(times(LIMIT + 1, (index) => () => t.app.inject({ method: 'GET', url: '/api/health/live', remoteAddress: `2001:db8:0:1::${index + 1}` })));
    expect(statuses).toEqual(allowedThenRefused(LIMIT, 1));
    expect((await t.app.inject({ method: 'GET', url: '/api/health/live', remoteAddress: '2001:db8:0:2::1' })).statusCode).toBe(200);
  });

  it('gives HEAD and GET of a route one budget', async () => {
    const send = (method: 'GET' | 'HEAD') => () => t.app.inject({ method, url: '/api/openapi.json', remoteAddress: '192.0.2.23' });
    expect(await statusesOf([...times(3, () => send('HEAD')), ...times(3, () => send('GET'))])).toEqual(allowedThenRefused(LIMIT, 1));
  });

  it('counts a signed-in user across addresses, and does not spend other users of the same address (an office behind one NAT)', async () => {
    const first = await createVerifiedUser(t);
    const second = await createVerifiedUser(t);
    const me = (browser: typeof first.browser, remoteAddress: string) => () =>
      t.app.inject({ method: 'GET', url: '/api/me', headers: browser.headers(), remoteAddress });
    // The first user switches address half-way: the count follows the user.
    const firstUser = await statusesOf([...times(3, () => me(first.browser, '198.51.100.1')), ...times(3, () => me(first.browser, '198.51.100.2'))]);
    expect(firstUser).toEqual(allowedThenRefused(LIMIT, 1));
    expect(await statusesOf([me(second.browser, '198.51.100.1')])).toEqual([200]);
  });
});

describe('the client address behind a proxy (X-Forwarded-For spoofing)', () => {
  const spoofed = (t: TestApp) =>
    statusesOf(
      times(LIMIT + 1, (index) => () =>
        t.app.inject({ method: 'GET', url: '/api/health/live', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': `203.0.113.${index + 1}` } }),
      ),
    );

  it('ignores X-Forwarded-For when no proxy is trusted: a new header value per request is still one client', async () => {
    const t = await createTestApp(limited);
    try {
      expect(await spoofed(t)).toEqual(allowedThenRefused(LIMIT, 1));
    } finally {
      await t.close();
    }
  });

  it('believes X-Forwarded-For from a trusted proxy only (TRUST_PROXY): each forwarded client is counted apart', async () => {
    const t = await createTestApp({ ...limited, env: { ...limited.env, TRUST_PROXY: '127.0.0.1' } });
    try {
      expect(await spoofed(t)).toEqual(times(LIMIT + 1, () => 200));
      // The same header from an address that is not the proxy is not believed.
      const untrusted = await statusesOf(
        times(LIMIT + 1, (index) => () =>
          t.app.inject({ method: 'GET', url: '/api/health/live', remoteAddress: '192.0.2.9', headers: { 'x-forwarded-for': `203.0.113.${index + 100}` } }),
        ),
      );
      expect(untrusted).toEqual(allowedThenRefused(LIMIT, 1));
    } finally {
      await t.close();
    }
  });
});

/** An anonymous route counted in the shared store (liveness is counted per instance, by design). */
const SHARED_ROUTE = '/api/openapi.json';
describe('two instances share one count', () => {
  // On the embedded database the counts live in the process (only one process may open it); on a
  // Postgres server they live in the database, and in Redis when REDIS_URL is set.
  const stores = sharedLimitStores();

  describe.each(stores)('counts in %s', (label, env) => {
    let first: TestApp;
    let second: TestApp;
    beforeAll(async () => {
      first = await createTestApp({ ...limited, env: { ...limited.env, ...env } });
      second = await createTestApp({ ...limited, env: { ...limited.env, ...env }, testDatabase: first.testDatabase, masterKey: first.masterKey });
    });
    afterAll(async () => {
      await second.app.close();
      await first.close();
    });

    it(`admits exactly ${LIMIT} of ${2 * LIMIT} concurrent requests split across the instances`, async (context) => {
      if (label === 'the database' && first.testDatabase.database.kind === 'embedded') {
        context.skip('the embedded database is opened by one process only: its counts are in that process');
      }
      // A fresh address per store, so the two stores' runs cannot meet (Redis outlives the test database).
      const remoteAddress = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
      const responses = await Promise.all(
        times(2 * LIMIT, (index) => (index % 2 === 0 ? first : second).app.inject({ method: 'GET', url: SHARED_ROUTE, remoteAddress })),
      );
      const statuses = responses.map((response) => response.statusCode);
      expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT);
      expect(statuses.filter((status) => status === 429)).toHaveLength(LIMIT);
    });

    it(`admits exactly ${LIMIT} of ${2 * LIMIT} concurrent requests of one signed-in user split across the instances`, async (context) => {
      if (label === 'the database' && first.testDatabase.database.kind === 'embedded') {
        context.skip('the embedded database is opened by one process only: its counts are in that process');
      }
      const { browser } = await createVerifiedUser(first);
      const responses = await Promise.all(
        times(2 * LIMIT, (index) => (index % 2 === 0 ? first : second).app.inject({ method: 'GET', url: '/api/me', headers: browser.headers() })),
      );
      const statuses = responses.map((response) => response.statusCode);
      expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT);
      expect(statuses.filter((status) => status === 429)).toHaveLength(LIMIT);
    });
  });

  it('names its counters with a keyed hash: a copy of the table does not tell who called (guessing addresses)', async (context) => {
    const first = await createTestApp(limited);
    // Another deployment (another master key) on the same database: the same caller, another key.
    const second = await createTestApp({ ...limited, testDatabase: first.testDatabase });
    try {
      if (first.testDatabase.database.kind === 'embedded') context.skip('the embedded database keeps its counts in memory');
      const keys = async () =>
        (await first.testDatabase.database.transactionAsOwner((tx) => tx.query<{ key: string }>('SELECT key FROM rampart.rate_limits'))).rows.map((row) => row.key);
      const before = new Set(await keys());
      for (const instance of [first, second]) await instance.app.inject({ method: 'GET', url: SHARED_ROUTE, remoteAddress: '192.0.2.77' });
      const added = (await keys()).filter((key) => !before.has(key));
      expect(added).toHaveLength(2);
      // Not the plain SHA-256 anyone could compute from a guessed address.
      const unkeyed = createHash('sha256').update(`GET ${SHARED_ROUTE}\nip:192.0.2.77`).digest('base64url');
      expect(added).not.toContain(unkeyed);
    } finally {
      await second.app.close();
      await first.close();
    }
  });
});

describe('when the shared store is down', () => {
  it('still limits every request (each instance counts in memory meanwhile) and answers no 5xx', async () => {
    // Nothing listens on port 1: every Redis command fails at once.
    const t = await createTestApp({ ...limited, env: { ...limited.env, REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const statuses = await statusesOf(times(LIMIT + 1, () => () => t.app.inject({ method: 'GET', url: SHARED_ROUTE, remoteAddress: '192.0.2.10' })));
      expect(statuses).toEqual(allowedThenRefused(LIMIT, 1));
    } finally {
      await t.close();
    }
  });
});

describe('tighter limits declared by a route', () => {
  it('sign-up from one address is capped per hour (account spam)', async () => {
    const t = await createTestApp({ limitRouteRates: true });
    try {
      const formToken = await fetchFormToken(t.app, 'sign-up');
      const signUp = () =>
        t.app.inject({
          method: 'POST',
          url: '/api/auth/sign-up',
          headers: SAME_ORIGIN,
          remoteAddress: '192.0.2.11',
          payload: { email: uniqueEmail('spam'), password: strongPassword(), name: 'Spam', formToken },
        });
      expect(await statusesOf(times(21, () => signUp))).toEqual([...times(20, () => 202), 429]);
    } finally {
      await t.close();
    }
  });

  it('early-access requests from one address are capped at 3 an hour (form spam)', async () => {
    const t = await createTestApp({ limitRouteRates: true });
    try {
      const formToken = await fetchFormToken(t.app, 'early-access');
      const submit = () =>
        t.app.inject({ method: 'POST', url: '/api/early-access', headers: SAME_ORIGIN, remoteAddress: '192.0.2.12', payload: { email: uniqueEmail('early'), formToken } });
      const statuses = await statusesOf(times(4, () => submit));
      expect(statuses).toEqual([202, 202, 202, 429]);
      // Per address: another one may still ask.
      expect((await t.app.inject({ method: 'POST', url: '/api/early-access', headers: SAME_ORIGIN, remoteAddress: '192.0.2.13', payload: { email: uniqueEmail('early'), formToken } })).statusCode).toBe(202);
    } finally {
      await t.close();
    }
  });
});
