import { APP_ROLE } from './database.js';
import type { SqlExecutor } from './driver.js';

/**
 * Tables that hold no tenant data and that rampart_app may at most read. Anything else in the
 * `rampart` schema must have row-level security enabled and forced.
 */
export const BOOKKEEPING_TABLES: readonly string[] = ['schema_migrations'];

/**
 * SECURITY DEFINER functions run with their owner's rights, outside row-level security: each one is
 * a hole in the tenant boundary by design and must be listed here, with a reason, to be allowed.
 */
export const SECURITY_DEFINER_FUNCTIONS: readonly string[] = [];

/** Key columns of an index (an INCLUDE column is stored but does not make the key unique). */
const KEY_COLUMNS = '(i.indkey::int2[])[0:i.indnkeyatts - 1]';

/** The function every tenant policy must compare workspace_id with. */
const WORKSPACE_CONTEXT_CALL = 'current_workspace_id()';

interface TableRow {
  table_name: string;
  rls_enabled: boolean;
  rls_forced: boolean;
  has_workspace_id: boolean;
  workspace_id_not_null: boolean;
  policy_count: number;
  pk_has_workspace_id: boolean | null;
}

/**
 * Checks the live schema against the tenancy rules of docs/ARCHITECTURE.md and returns every
 * violation as a sentence (empty when the schema is sound). Run as the owner: at every start, so a
 * bad migration can never serve traffic, and by the test suite, so it cannot be merged.
 *
 * Rules: each table with a `workspace_id` column has it NOT NULL, in its primary key and in every
 * unique index (as a key column), has RLS enabled and forced, and has policies that all refer to the
 * workspace context; every other table has RLS enabled, forced and with policies, or is a
 * bookkeeping table that the app role can only read; nothing reads around RLS (owner-rights views,
 * materialised views, foreign tables, unlisted SECURITY DEFINER functions, grants outside the
 * schema); the app role is not superuser, has no BYPASSRLS, cannot log in, owns nothing and belongs
 * to no other role.
 */
export async function findSchemaViolations(tx: SqlExecutor): Promise<string[]> {
  const violations: string[] = [];

  const { rows: tables } = await tx.query<TableRow>(
    `SELECT c.relname AS table_name,
            c.relrowsecurity AS rls_enabled,
            c.relforcerowsecurity AS rls_forced,
            a.attname IS NOT NULL AS has_workspace_id,
            coalesce(a.attnotnull, false) AS workspace_id_not_null,
            (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policy_count,
            (SELECT a.attnum = ANY (${KEY_COLUMNS}) FROM pg_index i
              WHERE i.indrelid = c.oid AND i.indisprimary) AS pk_has_workspace_id
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped
      WHERE n.nspname = 'rampart' AND c.relkind IN ('r', 'p')
      ORDER BY c.relname`,
  );

  for (const table of tables) {
    const name = `rampart.${table.table_name}`;
    if (table.has_workspace_id) {
      if (!table.workspace_id_not_null) violations.push(`${name}: workspace_id must be NOT NULL`);
      if (table.pk_has_workspace_id !== true) violations.push(`${name}: workspace_id must be part of the primary key`);
    } else if (BOOKKEEPING_TABLES.includes(table.table_name)) {
      continue;
    }
    if (!table.rls_enabled) violations.push(`${name}: row level security is not enabled`);
    if (!table.rls_forced) violations.push(`${name}: row level security is not forced`);
    if (table.policy_count === 0) violations.push(`${name}: has no row level security policy`);
  }

  const { rows: uniqueIndexes } = await tx.query<{ table_name: string; index_name: string }>(
    `SELECT c.relname AS table_name, ic.relname AS index_name
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped
      WHERE n.nspname = 'rampart' AND i.indisunique AND NOT (a.attnum = ANY (${KEY_COLUMNS}))`,
  );
  for (const index of uniqueIndexes) {
    violations.push(`rampart.${index.table_name}: unique index ${index.index_name} must include workspace_id`);
  }

  const { rows: policies } = await tx.query<{ table_name: string; policy_name: string; expression: string }>(
    `SELECT p.tablename AS table_name, p.policyname AS policy_name,
            coalesce(p.qual, '') || ' ' || coalesce(p.with_check, '') AS expression
       FROM pg_policies p
       JOIN pg_class c ON c.relname = p.tablename
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = p.schemaname
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped
      WHERE p.schemaname = 'rampart'`,
  );
  for (const policy of policies) {
    if (!policy.expression.includes(WORKSPACE_CONTEXT_CALL)) {
      violations.push(
        `rampart.${policy.table_name}: policy ${policy.policy_name} does not compare workspace_id with ${WORKSPACE_CONTEXT_CALL}`,
      );
    }
  }

  const { rows: bookkeepingGrants } = await tx.query<{ table_name: string; privilege: string }>(
    `SELECT table_name, privilege_type AS privilege
       FROM information_schema.role_table_grants
      WHERE grantee = $1 AND table_schema = 'rampart' AND table_name = ANY ($2) AND privilege_type <> 'SELECT'`,
    [APP_ROLE, BOOKKEEPING_TABLES],
  );
  for (const grant of bookkeepingGrants) {
    violations.push(`rampart.${grant.table_name}: ${APP_ROLE} must only read this table, but has ${grant.privilege}`);
  }

  violations.push(...(await findBypassViolations(tx)));
  violations.push(...(await findAppRoleViolations(tx)));
  return violations;
}

/**
 * Objects that read tables without the reader's row-level security: views that run as their owner,
 * materialised views and foreign tables (which have no RLS), SECURITY DEFINER functions, and
 * anything outside the `rampart` schema that the app role was granted.
 */
async function findBypassViolations(tx: SqlExecutor): Promise<string[]> {
  const violations: string[] = [];
  const { rows: relations } = await tx.query<{ name: string; kind: string; is_invoker: boolean }>(
    `SELECT c.relname AS name, c.relkind::text AS kind,
            coalesce('security_invoker=true' = ANY (c.reloptions), false)
              OR coalesce('security_invoker=on' = ANY (c.reloptions), false) AS is_invoker
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'rampart' AND c.relkind IN ('v', 'm', 'f')`,
  );
  for (const relation of relations) {
    if (relation.kind === 'v' && !relation.is_invoker) {
      violations.push(`rampart.${relation.name}: a view must be created WITH (security_invoker = true)`);
    } else if (relation.kind !== 'v') {
      violations.push(`rampart.${relation.name}: materialised views and foreign tables bypass row level security`);
    }
  }

  const { rows: definers } = await tx.query<{ name: string }>(
    `SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'rampart' AND p.prosecdef AND NOT (p.proname = ANY ($1))`,
    [SECURITY_DEFINER_FUNCTIONS],
  );
  for (const definer of definers) {
    violations.push(`rampart.${definer.name}(): SECURITY DEFINER functions must be listed in SECURITY_DEFINER_FUNCTIONS`);
  }

  const { rows: outside } = await tx.query<{ name: string }>(
    `SELECT DISTINCT table_schema || '.' || table_name AS name FROM information_schema.role_table_grants
      WHERE grantee = $1 AND table_schema <> 'rampart'`,
    [APP_ROLE],
  );
  for (const relation of outside) {
    violations.push(`${relation.name}: ${APP_ROLE} must only be granted objects of the rampart schema`);
  }
  return violations;
}

async function findAppRoleViolations(tx: SqlExecutor): Promise<string[]> {
  const { rows } = await tx.query<{
    rolsuper: boolean;
    rolbypassrls: boolean;
    rolcanlogin: boolean;
    rolcreaterole: boolean;
    rolcreatedb: boolean;
    owned: string[];
    member_of: string[];
  }>(
    `SELECT r.rolsuper, r.rolbypassrls, r.rolcanlogin, r.rolcreaterole, r.rolcreatedb,
            array(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                   WHERE m.member = r.oid) AS member_of,
            array(SELECT 'table ' || relname FROM pg_class WHERE relowner = r.oid
                  UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspowner = r.oid
                  UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE proowner = r.oid
                  UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typowner = r.oid) AS owned
       FROM pg_roles r WHERE r.rolname = $1`,
    [APP_ROLE],
  );
  const role = rows[0];
  if (role === undefined) return [`role ${APP_ROLE} does not exist`];
  const violations: string[] = [];
  if (role.rolsuper) violations.push(`role ${APP_ROLE} must not be a superuser`);
  if (role.rolbypassrls) violations.push(`role ${APP_ROLE} must not have BYPASSRLS`);
  if (role.rolcanlogin) violations.push(`role ${APP_ROLE} must not be able to log in`);
  if (role.rolcreaterole || role.rolcreatedb) violations.push(`role ${APP_ROLE} must not create roles or databases`);
  for (const object of role.owned) violations.push(`role ${APP_ROLE} must own nothing, but owns ${object}`);
  // Membership would hand it the other role's privileges (and possibly its attributes).
  for (const group of role.member_of) violations.push(`role ${APP_ROLE} must belong to no role, but is a member of ${group}`);
  return violations;
}
