/**
 * Schema-driven fuzzing of every route in the OpenAPI document (so a route added later is fuzzed
 * without touching this file): hostile JSON for the route's own fields, extra fields, wrong types,
 * huge numbers, deep nesting, invalid UTF-8, NUL and CR/LF, `__proto__`, oversized and foreign-typed
 * bodies, junk path parameters, repeated query parameters, and same-origin, cross-site or missing
 * Fetch Metadata — anonymously and as a signed-in owner. Thousands of cases per run, and for every
 * one: no 5xx, and every error is problem+json with a stable code. On the embedded database, whose
 * transaction counter belongs to this test alone, a request refused as bad input (validation,
 * malformed body or URL, size, media type, origin) must also have written nothing — a guard against
 * a hook or a route that writes before it validates. `RAMPART_FUZZ_RUNS` sets the number of cases
 * per route (default 60); fast-check prints the seed of a failure to replay it.
 */
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { createVerifiedUser, SAME_ORIGIN, type Browser } from '../fixtures/accounts.js';
import { openApiOperations, type OpenApiOperation } from '../fixtures/openapi.js';
import { createWorkspaceAs } from '../fixtures/workspaces.js';

const RUNS_PER_ROUTE = Number(process.env.RAMPART_FUZZ_RUNS ?? 60);
/**
 * Codes that mean "the input was refused as such", before any handler or guard ran: such a request
 * must not have written anything. (Later refusals may write by design: a failed sign-in is counted,
 * a session read may record its last use.)
 */
const REFUSED_INPUT = new Set([
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'MALFORMED_URL',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'URI_TOO_LONG',
  'UNSUPPORTED_MEDIA_TYPE',
  'METHOD_NOT_ALLOWED',
  'CROSS_SITE_REQUEST',
]);
/** The owner does not sign out in the middle of the run (it is fuzzed anonymously). */
const ANONYMOUS_ONLY = new Set(['POST /api/auth/sign-out']);

let t: TestApp;
let owner: Browser;
let workspaceId: string;
let operations: OpenApiOperation[];

beforeAll(async () => {
  t = await createTestApp();
  owner = (await createVerifiedUser(t)).browser;
  workspaceId = await createWorkspaceAs(t, owner);
  operations = await openApiOperations(t);
});
afterAll(() => t.close());

/** One past the newest finished transaction id: it moves when, and only when, a transaction that wrote ends. */
async function writeMark(): Promise<string> {
  const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
    tx.query<{ mark: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS mark'),
  );
  return rows[0]!.mark;
}

/**
 * The mark once the work an earlier request left running after its answer (emails, audit events,
 * a session's last use) is done: two equal readings in a row.
 */
async function settledWriteMark(): Promise<string> {
  let previous = await writeMark();
  for (let attempt = 0; attempt < 40; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const current = await writeMark();
    if (current === previous) return current;
    previous = current;
  }
  return previous;
}

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    'a\u0000b',
    'line\r\nInjected: header',
    '\u202eevil',
    '\ud800',
    '__proto__',
    "'; DROP TABLE rampart.users; --",
    '../../../etc/passwd',
    'owner',
    'x'.repeat(5_000),
    'user@example.com',
    'rk_live_000000000000000000000000000000000000000000',
    '00000000-0000-0000-0000-000000000000',
  ),
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, Number.MIN_VALUE),
);
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A JSON body: the route's own fields with hostile values (so validation runs deep), maybe an extra field. */
function bodyFor(operation: OpenApiOperation): fc.Arbitrary<{ raw: string | Buffer; contentType?: string }> {
  const fields = operation.bodyFields.length > 0 ? operation.bodyFields : ['name'];
  const shaped = fc
    .tuple(
      fc.subarray(fields),
      fc.array(hostileValue, { minLength: fields.length, maxLength: fields.length }),
      fc.option(fc.tuple(fc.constantFrom('role', 'workspaceId', 'workspace_id', 'isAdmin', 'constructor', 'id'), hostileValue)),
    )
    .map(([chosen, values, extra]) => {
      const body: Record<string, unknown> = Object.fromEntries(chosen.map((field, index) => [field, values[index]]));
      if (extra !== null) body[extra[0]] = extra[1];
      return { raw: JSON.stringify(body) };
    });
  const raw = fc.constantFrom<{ raw: string | Buffer; contentType?: string }>(
    { raw: '{"name":' },
    { raw: '' },
    { raw: 'null' },
    { raw: '[]' },
    { raw: '"just a string"' },
    { raw: '{"__proto__":{"isAdmin":true}}' },
    { raw: '{"constructor":{"prototype":{"isAdmin":true}}}' },
    { raw: `${'['.repeat(10_000)}${']'.repeat(10_000)}` },
    { raw: `{"name":"${'a'.repeat(200_000)}"}` },
    { raw: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]) },
    { raw: '{"name": 1e999999}' },
    { raw: 'name=x&role=owner', contentType: 'application/x-www-form-urlencoded' },
    { raw: '{"name":"x"}', contentType: 'text/plain' },
    { raw: '{"name":"x"}', contentType: 'application/json; charset=latin1' },
    { raw: '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--', contentType: 'multipart/form-data; boundary=b' },
  );
  return fc.oneof({ weight: 3, arbitrary: shaped }, { weight: 1, arbitrary: raw });
}

/** Percent-encoding that cannot throw: a lone surrogate becomes the bytes of one (invalid UTF-8, on purpose). */
function encodePathValue(value: string): string {
  return [...value].map((character) => (/[\ud800-\udfff]/.test(character) ? '%ED%A0%80' : encodeURIComponent(character))).join('');
}

/** A path parameter: the owner's workspace (for `ws`), a fresh UUID, or junk. */
function pathValue(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(name === 'ws' ? workspaceId : '00000000-0000-4000-8000-000000000000'),
    fc.uuid().map((value) => value),
    hostileString.map(encodePathValue),
    fc.constantFrom('%00', '%E0%A4%A', '..%2F..%2Fadmin', 'A'.repeat(250), '%2e%2e'),
  );
}

/** A query string: the route's own fields and strangers, with hostile values, sometimes repeated. */
function queryFor(operation: OpenApiOperation): fc.Arbitrary<string> {
  const names = fc.oneof(fc.constantFrom(...operation.queryFields, '__proto__', 'constructor', 'token', 'limit'), fc.string({ maxLength: 8 }));
  const value = fc.oneof(hostileString, hostileNumber.map(String), fc.constantFrom('1e309', '-0', 'NaN', 'true', '[]'));
  return fc.array(fc.tuple(names, value), { maxLength: 4 }).map((pairs) => {
    const query = new URLSearchParams();
    for (const [name, item] of pairs) query.append(name, item);
    return query.toString();
  });
}

function requestFor(operation: OpenApiOperation) {
  const names = [...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
  const signedIn = ANONYMOUS_ONLY.has(`${operation.method} ${operation.path}`) ? fc.constant(false) : fc.boolean();
  const fetchMetadata = fc.constantFrom<Record<string, string>>(SAME_ORIGIN, SAME_ORIGIN, SAME_ORIGIN, { 'sec-fetch-site': 'cross-site' }, {});
  return fc.record({
    params: fc.tuple<string[]>(...names.map(pathValue)),
    query: queryFor(operation),
    body: bodyFor(operation),
    signedIn,
    fetchMetadata,
  }).map(({ params, query, body, signedIn: isSignedIn, fetchMetadata: site }) => {
    let index = 0;
    const path = operation.path.replace(/\{(\w+)\}/g, () => params[index++]!);
    const { hasBody } = operation;
    const { 'sec-fetch-site': _ownerSite, ...ownerCredentials } = owner.headers();
    const headers: Record<string, string> = {
      ...(isSignedIn ? ownerCredentials : {}),
      ...site,
      ...(hasBody ? { 'content-type': body.contentType ?? 'application/json' } : {}),
    };
    return { method: operation.method, url: query ? `${path}?${query}` : path, headers, ...(hasBody ? { payload: body.raw } : {}) };
  });
}

function expectWellFormedAnswer(response: LightMyRequestResponse, label: string): string | undefined {
  expect(response.statusCode, `${label} → ${response.statusCode} ${response.body.slice(0, 300)}`).toBeLessThan(500);
  if (response.statusCode < 400) return undefined;
  expect(response.headers['content-type'], label).toMatch(/^application\/problem\+json/);
  const problem = response.json<{ code?: unknown; status?: unknown; requestId?: unknown }>();
  expect(problem.code, label).toMatch(/^[A-Z][A-Z0-9_]+$/);
  expect(problem.status, label).toBe(response.statusCode);
  expect(problem.requestId, label).toBe(response.headers['x-request-id']);
  return problem.code as string;
}

describe('fuzzing every route of the OpenAPI document', () => {
  // Thousands of requests, each checked against the database: minutes, not the default 30 s.
  it('never answers 5xx, answers every error as problem+json, and (embedded) writes nothing for a refused input', { timeout: 600_000 }, async () => {
    const statuses = new Map<number, number>();
    // PostgreSQL's transaction counter is shared by every database of the server, where other test
    // files write at the same time: the write check needs the embedded database, which is this
    // test's alone.
    const checksWrites = t.testDatabase.database.kind === 'embedded';
    const codes = new Set<string>();
    let cases = 0;
    let mark = '';
    let isMarkStale = true;
    for (const operation of operations) {
      await fc.assert(
        fc.asyncProperty(requestFor(operation), async (request) => {
          const label = `${request.method} ${request.url.slice(0, 200)}`;
          if (isMarkStale && checksWrites) mark = await settledWriteMark();
          const response = await t.app.inject(request as InjectOptions);
          cases += 1;
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          const code = expectWellFormedAnswer(response, label);
          if (code !== undefined) codes.add(code);
          isMarkStale = code === undefined || !REFUSED_INPUT.has(code);
          if (!isMarkStale && checksWrites) expect(await writeMark(), `${label} → ${code} wrote to the database`).toBe(mark);
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    }
    expect(cases).toBe(operations.length * RUNS_PER_ROUTE);
    process.stdout.write(`fuzz: ${cases} cases over ${operations.length} routes; statuses ${JSON.stringify(Object.fromEntries(statuses))}; codes ${[...codes].sort().join(' ')}\n`);
    // The cases reached the routes' own logic too, not only the validator.
    expect([...statuses.keys()].some((status) => status < 300), JSON.stringify([...statuses])).toBe(true);
    // Each kind of refusal the generators aim at was met.
    for (const code of ['VALIDATION_FAILED', 'MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'CROSS_SITE_REQUEST']) {
      expect(codes, code).toContain(code);
    }
  });
});
