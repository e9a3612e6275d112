/**
 * `rampart early-access …`: the operator reads and deletes the early-access requests — personal data
 * that must not be kept forever, nor survive a deletion request. On the real server the CLI runs as
 * an owner that is neither superuser nor BYPASSRLS (the README's deployment), which FORCE ROW LEVEL
 * SECURITY binds like any role: without the owner's own policies it would read no row and delete
 * none. Requests, meanwhile, may still only add a row.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { deleteEarlyAccessRequests, listEarlyAccessRequests, recordEarlyAccessRequest } from '../../src/forms/early-access.js';
import { createCliTestBed, type CliTestBed } from '../fixtures/cli.js';
import { TEST_DATABASE_KIND } from '../fixtures/database.js';

let bed: CliTestBed;
const earlyAccess = (args: string[]) => bed.rampart(['early-access', ...args]);
const tag = randomBytes(4).toString('hex');
const address = (name: string) => `${tag}.${name}@example.com`;

/** Adds a request as requests do (the app role), backdated when `createdAt` is given. */
function addRequest(request: { email: string; name?: string; message?: string; createdAt: string }): Promise<unknown> {
  return bed.withDatabase((database) =>
    database.withTenant({}, (tx) =>
      tx.query('INSERT INTO rampart.early_access_requests (email, name, message, created_at) VALUES ($1, $2, $3, $4)', [
        request.email,
        request.name ?? null,
        request.message ?? null,
        request.createdAt,
      ]),
    ),
  );
}

interface ListedRequest {
  id: string;
  email: string;
  name: string | null;
  message: string | null;
  created_at: string;
}

function listed(): ListedRequest[] {
  const result = earlyAccess(['list']);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ListedRequest);
}

/** A role of the server (postgres only), dropped after the bed's database that it holds grants in. */
const READER = `rampart_reader_${tag}`;

async function asServerAdmin(url: string, statements: readonly string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    for (const statement of statements) await admin.query(statement);
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  bed = await createCliTestBed('cli-early-access', { owner: 'restricted' });
});
afterAll(async () => {
  await bed.destroy();
  if (TEST_DATABASE_KIND === 'postgres') await asServerAdmin(process.env.DATABASE_URL!, [`DROP ROLE IF EXISTS ${READER}`]);
});

describe('rampart early-access', () => {
  it('lists every request as a JSON line, oldest first, as an owner that row-level security binds', async () => {
    await addRequest({ email: address('ada'), name: 'Ada', message: 'Let me in', createdAt: '2024-03-01T10:00:00Z' });
    await addRequest({ email: address('bob'), createdAt: '2024-01-01T10:00:00Z' });
    await bed.withDatabase((database) => recordEarlyAccessRequest(database, { email: address('ADA').toUpperCase() }));

    const requests = listed().filter((request) => request.email.toLowerCase().startsWith(tag));
    expect(requests.map((request) => request.email)).toEqual([address('bob'), address('ada'), address('ADA').toUpperCase()]);
    const { id, ...ada } = requests[1]!;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(ada).toEqual({
      email: address('ada'),
      name: 'Ada',
      message: 'Let me in',
      created_at: '2024-03-01T10:00:00.000Z',
    });
    expect(requests[0]).toMatchObject({ name: null, message: null });
  });

  it('deletes every request of one address, whatever its case, and says how many (a deletion request)', () => {
    const deleted = earlyAccess(['delete', '--email', address('Ada')]);
    expect(deleted.stderr).toBe('');
    expect(deleted.status).toBe(0);
    expect(deleted.stdout).toBe(`deleted 2 early-access request(s) of ${address('Ada')}\n`);
    expect(listed().map((request) => request.email.toLowerCase())).not.toContain(address('ada'));
    expect(listed().map((request) => request.email)).toContain(address('bob'));
    expect(earlyAccess(['delete', '--email', address('ada')]).stdout).toBe(`deleted 0 early-access request(s) of ${address('ada')}\n`);
  });

  it('purges the requests made before a date, and keeps the later ones (retention)', async () => {
    await addRequest({ email: address('old'), createdAt: '2000-06-30T23:59:59Z' });
    await addRequest({ email: address('new'), createdAt: '2000-07-01T00:00:00Z' });
    const purged = earlyAccess(['purge', '--before', '2000-07-01']);
    expect(purged.stderr).toBe('');
    expect(purged.status).toBe(0);
    expect(purged.stdout).toBe('deleted 1 early-access request(s) made before 2000-07-01T00:00:00.000Z\n');
    const emails = listed().map((request) => request.email);
    expect(emails).not.toContain(address('old'));
    expect(emails).toContain(address('new'));
    expect(earlyAccess(['purge', '--before', '2000-07-01T02:00:00+02:00']).stdout).toBe(
      'deleted 0 early-access request(s) made before 2000-07-01T00:00:00.000Z\n',
    );
  });

  it('lets the app role insert a request and neither read nor delete one (insert only)', async () => {
    await bed.withDatabase(async (database) => {
      await expect(database.withTenant({}, (tx) => tx.query('SELECT email FROM rampart.early_access_requests'))).rejects.toThrow(
        /permission denied/,
      );
      await expect(database.withTenant({}, (tx) => tx.query('DELETE FROM rampart.early_access_requests'))).rejects.toThrow(
        /permission denied/,
      );
      const { rows } = await database.transactionAsOwner((tx) =>
        tx.query<{ owner: string; privileges: Record<string, boolean>; policies: Record<string, string[]> }>(
          `SELECT current_user AS owner,
                  (SELECT json_object_agg(p, has_table_privilege('rampart_app', 'rampart.early_access_requests', p))
                     FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p) AS privileges,
                  (SELECT json_object_agg(cmd, roles::text[]) FROM pg_policies
                    WHERE schemaname = 'rampart' AND tablename = 'early_access_requests') AS policies`,
        ),
      );
      const [{ owner, privileges, policies }] = rows as [(typeof rows)[number]];
      expect(privileges).toEqual({ SELECT: false, INSERT: true, UPDATE: false, DELETE: false, TRUNCATE: false });
      // Reading and deleting: the owner's policies only; adding: anyone with the privilege.
      expect(policies).toEqual({ SELECT: [owner], DELETE: [owner], INSERT: ['public'] });
    });
    // Every row is still there for the owner: the app role's attempts removed nothing.
    expect(listed().map((request) => request.email)).toContain(address('bob'));
  });

  it.runIf(TEST_DATABASE_KIND === 'postgres')(
    'refuses a role that no policy names, rather than report no requests or none deleted (false assurance)',
    async () => {
      const databaseName = await bed.withDatabase((database) =>
        database.transactionAsOwner(async (tx) => (await tx.query<{ name: string }>('SELECT current_database() AS name')).rows[0]!.name),
      );
      // A role with every privilege a list and a delete need, but named by no policy.
      const inDatabase = new URL(process.env.DATABASE_URL!);
      inDatabase.pathname = `/${databaseName}`;
      await asServerAdmin(inDatabase.toString(), [
        `CREATE ROLE ${READER} LOGIN NOSUPERUSER NOBYPASSRLS`,
        `GRANT USAGE ON SCHEMA rampart TO ${READER}`,
        `GRANT SELECT, DELETE ON rampart.early_access_requests TO ${READER}`,
      ]);
      const asReader = new URL(inDatabase);
      asReader.username = READER;
      asReader.password = '';
      const database = await openDatabase({ kind: 'postgres', url: asReader.toString() });
      try {
        await expect(listEarlyAccessRequests(database)).rejects.toThrow(/only as the role that ran the migrations/);
        await expect(deleteEarlyAccessRequests(database, { email: address('bob') })).rejects.toThrow(/only as the role that ran the migrations/);
      } finally {
        await database.close();
      }
    },
  );

  it.each([
    [['wipe']],
    [['list', '--all']],
    [['delete']],
    [['delete', '--email']],
    [['delete', 'ada@example.com']],
    [['purge', '--before']],
    [['purge', '--before', '2025-02-30']],
    [['purge', '--before', '2025-01-31T12:00:00']],
    [['purge', '--before', 'yesterday']],
  ])('refuses %j with the usage text and exit 64, deleting nothing', (args) => {
    const result = earlyAccess(args);
    expect(result.status).toBe(64);
    expect(result.stderr).toContain('rampart early-access delete --email EMAIL');
    expect(result.stdout).toBe('');
  });

  it('prints its usage for --help', () => {
    const result = earlyAccess(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('rampart early-access purge --before DATE');
  });
});
