-- The foundation: the role requests run as, the tenant context, and the core tables.
--
-- Rules every later migration keeps (docs/ARCHITECTURE.md, "Adding a tenant table"):
--   * a tenant table has workspace_id NOT NULL, first in its primary key and in every unique constraint;
--   * ENABLE and FORCE row level security, with policies that compare workspace_id to
--     rampart.current_workspace_id() and therefore match nothing when no workspace is set;
--   * rampart_app receives exactly the privileges its routes need, never ownership.
-- src/db/schema-check.ts verifies these rules at every start and in the test suite.

-- rampart_app: NOLOGIN, it is only ever entered with a transaction-local SET ROLE from the owner's
-- connection. Roles belong to the whole cluster, so another database may have created it already.
DO $$
BEGIN
  CREATE ROLE rampart_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

-- The owner must be able to switch to rampart_app (superusers always can). From PostgreSQL 16 on, a
-- CREATEROLE owner that created the role holds an ADMIN-only membership, which does not allow SET
-- ROLE: it then needs a grant of its own.
DO $$
BEGIN
  IF NOT pg_catalog.pg_has_role(current_user, 'rampart_app', 'MEMBER') THEN
    EXECUTE format('GRANT rampart_app TO %I', current_user);
  ELSIF pg_catalog.current_setting('server_version_num')::int >= 160000 THEN
    IF NOT pg_catalog.pg_has_role(current_user, 'rampart_app', 'SET') THEN
      EXECUTE format('GRANT rampart_app TO %I WITH SET TRUE', current_user);
    END IF;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA rampart TO rampart_app;
GRANT SELECT ON rampart.schema_migrations TO rampart_app;

-- The tenant context, set per transaction by Database.withTenant with set_config(…, true).
-- An unset or empty setting is NULL, and NULL = anything is never true: policies fail closed.
-- Names are schema-qualified so that nothing earlier on a search_path (pg_temp) can stand in.
CREATE FUNCTION rampart.current_workspace_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(pg_catalog.current_setting('rampart.workspace_id', true), '')::pg_catalog.uuid $$;

CREATE FUNCTION rampart.current_user_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(pg_catalog.current_setting('rampart.user_id', true), '')::pg_catalog.uuid $$;

REVOKE ALL ON FUNCTION rampart.current_workspace_id(), rampart.current_user_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rampart.current_workspace_id(), rampart.current_user_id() TO rampart_app;

-- Accounts are not tenant rows: a user may belong to many workspaces.
CREATE TABLE rampart.users (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email             text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email_verified_at timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON rampart.users (lower(email));

-- The workspace row is itself a tenant row: its key is named workspace_id like every other tenant
-- table's, so one rule (and one policy shape) covers them all.
CREATE TABLE rampart.workspaces (
  workspace_id uuid PRIMARY KEY DEFAULT rampart.current_workspace_id(),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  deleted_at   timestamptz
);

CREATE TABLE rampart.memberships (
  workspace_id uuid NOT NULL DEFAULT rampart.current_workspace_id()
               REFERENCES rampart.workspaces (workspace_id) ON DELETE CASCADE,
  user_id      uuid NOT NULL REFERENCES rampart.users (id) ON DELETE CASCADE,
  role         text NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'member', 'viewer')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON rampart.memberships (user_id);

ALTER TABLE rampart.users ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.workspaces ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.memberships ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- A user sees their own account, and the accounts of the members of the current workspace.
CREATE POLICY users_select ON rampart.users FOR SELECT
  USING (id = rampart.current_user_id()
         OR id IN (SELECT m.user_id FROM rampart.memberships m
                   WHERE m.workspace_id = rampart.current_workspace_id()));
CREATE POLICY users_insert ON rampart.users FOR INSERT
  WITH CHECK (id = rampart.current_user_id());
CREATE POLICY users_update ON rampart.users FOR UPDATE
  USING (id = rampart.current_user_id())
  WITH CHECK (id = rampart.current_user_id());
CREATE POLICY users_delete ON rampart.users FOR DELETE
  USING (id = rampart.current_user_id());

-- Inside a workspace: that workspace only. With no workspace but a user (the account context, used
-- to list "my workspaces"): the workspaces that user is a member of, read-only.
CREATE POLICY workspaces_select ON rampart.workspaces FOR SELECT
  USING (workspace_id = rampart.current_workspace_id()
         OR (rampart.current_workspace_id() IS NULL
             AND workspace_id IN (SELECT m.workspace_id FROM rampart.memberships m
                                  WHERE m.user_id = rampart.current_user_id())));
CREATE POLICY workspaces_insert ON rampart.workspaces FOR INSERT
  WITH CHECK (workspace_id = rampart.current_workspace_id());
CREATE POLICY workspaces_update ON rampart.workspaces FOR UPDATE
  USING (workspace_id = rampart.current_workspace_id())
  WITH CHECK (workspace_id = rampart.current_workspace_id());
CREATE POLICY workspaces_delete ON rampart.workspaces FOR DELETE
  USING (workspace_id = rampart.current_workspace_id());

CREATE POLICY memberships_select ON rampart.memberships FOR SELECT
  USING (workspace_id = rampart.current_workspace_id()
         OR (rampart.current_workspace_id() IS NULL AND user_id = rampart.current_user_id()));
CREATE POLICY memberships_insert ON rampart.memberships FOR INSERT
  WITH CHECK (workspace_id = rampart.current_workspace_id());
CREATE POLICY memberships_update ON rampart.memberships FOR UPDATE
  USING (workspace_id = rampart.current_workspace_id())
  WITH CHECK (workspace_id = rampart.current_workspace_id());
CREATE POLICY memberships_delete ON rampart.memberships FOR DELETE
  USING (workspace_id = rampart.current_workspace_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON rampart.users, rampart.workspaces, rampart.memberships TO rampart_app;
