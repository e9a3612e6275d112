/**
 * Attack: a tenant table that a later migration adds without row-level security (or with a policy
 * that forgets the workspace) silently becomes readable across tenants; an app role that is a
 * superuser, has BYPASSRLS or owns the tables ignores every policy. The schema check refuses such a
 * schema at every start; these tests prove that it finds each kind of mistake, and that the shipped
 * schema has none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE } from '../../src/db/database.js';
import type { OwnerSqlExecutor } from '../../src/db/driver.js';
import { findSchemaViolations } from '../../src/db/schema-check.js';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.js';

let testDatabase: TestDatabase;
beforeAll(async () => {
  testDatabase = await createTestDatabase();
});
afterAll(() => testDatabase.destroy());

class Rollback extends Error {}

/** Runs `setup` and the check in one owner transaction that is always rolled back. */
async function violationsAfter(setup: (tx: OwnerSqlExecutor) => Promise<void>): Promise<string[]> {
  let violations: string[] = [];
  await testDatabase.database
    .transactionAsOwner(async (tx) => {
      await setup(tx);
      violations = await findSchemaViolations(tx);
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
  return violations;
}

const GOOD_TENANT_TABLE = `
  CREATE TABLE rampart.notes (
    workspace_id uuid NOT NULL DEFAULT rampart.current_workspace_id(),
    id uuid NOT NULL,
    slug text NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, slug)
  );
  ALTER TABLE rampart.notes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
  CREATE POLICY notes_select ON rampart.notes FOR SELECT USING (workspace_id = rampart.current_workspace_id());`;

describe('the shipped schema', () => {
  it('breaks no tenancy rule', async () => {
    expect(await testDatabase.database.transactionAsOwner((tx) => findSchemaViolations(tx))).toEqual([]);
  });

  it('gives rampart_app no superuser, no BYPASSRLS, no login and no ownership of anything', async () => {
    const role = await testDatabase.database.transactionAsOwner(async (tx) => {
      const { rows } = await tx.query<Record<string, unknown>>(
        `SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreaterole, rolcreatedb,
                (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) AS owned_relations,
                (SELECT count(*)::int FROM pg_namespace WHERE nspowner = r.oid) AS owned_schemas,
                (SELECT count(*)::int FROM pg_proc WHERE proowner = r.oid) AS owned_functions
           FROM pg_roles r WHERE rolname = $1`,
        [APP_ROLE],
      );
      return rows[0];
    });
    expect(role).toEqual({
      rolsuper: false,
      rolbypassrls: false,
      rolcanlogin: false,
      rolcreaterole: false,
      rolcreatedb: false,
      owned_relations: 0,
      owned_schemas: 0,
      owned_functions: 0,
    });
  });

  it('lets rampart_app only read, insert, update and delete — no TRUNCATE, REFERENCES or TRIGGER', async () => {
    const privileges = await testDatabase.database.transactionAsOwner(async (tx) =>
      (
        await tx.query<{ privilege_type: string }>(
          `SELECT DISTINCT privilege_type FROM information_schema.role_table_grants
            WHERE grantee = $1 AND table_schema = 'rampart' ORDER BY privilege_type`,
          [APP_ROLE],
        )
      ).rows.map((r) => r.privilege_type),
    );
    expect(privileges).toEqual(['DELETE', 'INSERT', 'SELECT', 'UPDATE']);
  });
});

describe('the schema check', () => {
  it('accepts a tenant table that follows the rules', async () => {
    expect(await violationsAfter((tx) => tx.exec(GOOD_TENANT_TABLE))).toEqual([]);
  });

  it.each([
    ['row level security not enabled', 'ALTER TABLE rampart.notes DISABLE ROW LEVEL SECURITY', 'row level security is not enabled'],
    ['row level security not forced', 'ALTER TABLE rampart.notes NO FORCE ROW LEVEL SECURITY', 'row level security is not forced'],
    ['no policy', 'DROP POLICY notes_select ON rampart.notes', 'has no row level security policy'],
    [
      'a policy that ignores the workspace',
      'CREATE POLICY notes_leak ON rampart.notes FOR SELECT USING (true)',
      'policy notes_leak does not compare workspace_id',
    ],
    [
      'a nullable workspace_id',
      `CREATE TABLE rampart.loose (workspace_id uuid, id uuid PRIMARY KEY);
       ALTER TABLE rampart.loose ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
       CREATE POLICY loose_select ON rampart.loose USING (workspace_id = rampart.current_workspace_id())`,
      'rampart.loose: workspace_id must be NOT NULL',
    ],
    [
      'a primary key without workspace_id',
      'ALTER TABLE rampart.notes DROP CONSTRAINT notes_pkey; ALTER TABLE rampart.notes ADD PRIMARY KEY (id)',
      'workspace_id must be part of the primary key',
    ],
    [
      'a unique index without workspace_id',
      'CREATE UNIQUE INDEX notes_slug_key ON rampart.notes (slug)',
      'unique index notes_slug_key must include workspace_id',
    ],
    [
      'a unique index that only INCLUDEs workspace_id',
      'CREATE UNIQUE INDEX notes_slug_key ON rampart.notes (slug) INCLUDE (workspace_id)',
      'unique index notes_slug_key must include workspace_id',
    ],
  ])('reports a tenant table with %s', async (_case, breakIt, expected) => {
    const violations = await violationsAfter(async (tx) => {
      await tx.exec(GOOD_TENANT_TABLE);
      await tx.exec(breakIt);
    });
    expect(violations.join('\n')).toContain(expected);
  });

  it.each([
    [
      'a view that runs with its owner’s rights',
      'CREATE VIEW rampart.all_names AS SELECT workspace_id, name FROM rampart.workspaces',
      'rampart.all_names: a view must be created WITH (security_invoker = true)',
    ],
    [
      'a materialised view',
      'CREATE MATERIALIZED VIEW rampart.name_cache AS SELECT workspace_id, name FROM rampart.workspaces',
      'rampart.name_cache: materialised views and foreign tables bypass row level security',
    ],
    [
      'an unlisted SECURITY DEFINER function',
      `CREATE FUNCTION rampart.all_workspace_names() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER
         AS $$ SELECT name FROM rampart.workspaces $$`,
      'rampart.all_workspace_names(): SECURITY DEFINER functions must be listed',
    ],
    [
      'a grant outside the rampart schema',
      'CREATE TABLE public.side_door (workspace_id uuid); GRANT SELECT ON public.side_door TO rampart_app',
      'public.side_door: rampart_app must only be granted objects of the rampart schema',
    ],
  ])('reports %s, which reads around row level security', async (_case, breakIt, expected) => {
    expect((await violationsAfter((tx) => tx.exec(breakIt))).join('\n')).toContain(expected);
  });

  it('accepts a view that runs with the reader’s rights', async () => {
    const violations = await violationsAfter((tx) =>
      tx.exec(
        'CREATE VIEW rampart.names WITH (security_invoker = true) AS SELECT workspace_id, name FROM rampart.workspaces',
      ),
    );
    expect(violations).toEqual([]);
  });

  it('reports a non-tenant table without row level security', async () => {
    const violations = await violationsAfter((tx) => tx.exec('CREATE TABLE rampart.settings (key text PRIMARY KEY)'));
    expect(violations).toContain('rampart.settings: row level security is not enabled');
  });

  it('reports write access of rampart_app to a bookkeeping table', async () => {
    const violations = await violationsAfter((tx) => tx.exec(`GRANT DELETE ON rampart.schema_migrations TO ${APP_ROLE}`));
    expect(violations).toContain(`rampart.schema_migrations: ${APP_ROLE} must only read this table, but has DELETE`);
  });

  it.each([
    ['BYPASSRLS', `ALTER ROLE ${APP_ROLE} BYPASSRLS`, 'must not have BYPASSRLS'],
    ['ownership of a table', `ALTER TABLE rampart.memberships OWNER TO ${APP_ROLE}`, 'must own nothing, but owns table memberships'],
    ['membership of another role', `GRANT pg_read_all_data TO ${APP_ROLE}`, 'must belong to no role, but is a member of pg_read_all_data'],
  ])('reports rampart_app with %s', async (_case, breakIt, expected) => {
    // Role changes are transactional: the rollback keeps them from ever reaching other sessions.
    const violations = await violationsAfter((tx) => tx.exec(breakIt));
    expect(violations.join('\n')).toContain(expected);
  });
});
