-- Workspaces in use: soft deletion, invitations, the platform super-admin flag and its log, and the
-- one statement that enters a workspace and loads the caller's membership with it.

-- A deleted workspace is kept for a grace period (its data intact, reachable by no route) before the
-- purge removes it.
ALTER TABLE rampart.workspaces ADD COLUMN purge_after timestamptz;
ALTER TABLE rampart.workspaces ADD CONSTRAINT workspaces_deletion_check
  CHECK ((deleted_at IS NULL) = (purge_after IS NULL));
-- Names are trimmed single-line text, without bidirectional overrides: the request schema refuses
-- exactly this set first; this is the last line. Spelled as code points, not [[:cntrl:]], whose
-- meaning depends on the collation.
ALTER TABLE rampart.workspaces ADD CONSTRAINT workspaces_name_text_check
  CHECK (name = btrim(name) AND name !~ '[\u0001-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]');

-- Invitations: one pending invitation per address and workspace (sending again replaces its token),
-- for any role but owner (ownership moves only by an explicit transfer). The token is stored as its
-- SHA-256; the row is deleted when the invitation is accepted or revoked.
CREATE TABLE rampart.invitations (
  workspace_id uuid NOT NULL DEFAULT rampart.current_workspace_id()
               REFERENCES rampart.workspaces (workspace_id) ON DELETE CASCADE,
  id           uuid NOT NULL DEFAULT gen_random_uuid(),
  email        text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
  role         text NOT NULL CHECK (role IN ('admin', 'manager', 'member', 'viewer')),
  token_hash   text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  invited_by   uuid REFERENCES rampart.users (id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  sent_at      timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, email)
);
-- Not unique: unique indexes of tenant tables include workspace_id. Two 256-bit tokens hashing alike
-- is not a case to design for.
CREATE INDEX invitations_token_hash_idx ON rampart.invitations (token_hash);

ALTER TABLE rampart.invitations ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- Inside the workspace: its invitations. Before the invitee belongs to it: the one invitation whose
-- token hashes to the lookup key, and nothing else.
CREATE POLICY invitations_select ON rampart.invitations FOR SELECT
  USING (workspace_id = rampart.current_workspace_id() OR token_hash = rampart.current_lookup_key());
CREATE POLICY invitations_insert ON rampart.invitations FOR INSERT
  WITH CHECK (workspace_id = rampart.current_workspace_id());
CREATE POLICY invitations_update ON rampart.invitations FOR UPDATE
  USING (workspace_id = rampart.current_workspace_id())
  WITH CHECK (workspace_id = rampart.current_workspace_id());
CREATE POLICY invitations_delete ON rampart.invitations FOR DELETE
  USING (workspace_id = rampart.current_workspace_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON rampart.invitations TO rampart_app;

-- Platform super-admins: set and cleared only by the CLI (`rampart admin grant|revoke`), as the
-- owner. The app role may read its own row, nothing else, and write none.
CREATE TABLE rampart.platform_admins (
  user_id    uuid PRIMARY KEY REFERENCES rampart.users (id) ON DELETE CASCADE,
  granted_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE rampart.platform_admins ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY platform_admins_own ON rampart.platform_admins FOR ALL
  USING (user_id = rampart.current_user_id())
  WITH CHECK (user_id = rampart.current_user_id());
GRANT SELECT ON rampart.platform_admins TO rampart_app;

-- The platform log: one hash chain, same form as the workspace and account chains, recording every
-- grant and revocation of the flag and every use of it. Only a transaction acting for a super-admin
-- may read or append to it.
CREATE FUNCTION rampart.current_user_is_platform_admin() RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT EXISTS (SELECT 1 FROM rampart.platform_admins a WHERE a.user_id = rampart.current_user_id()) $$;
REVOKE ALL ON FUNCTION rampart.current_user_is_platform_admin() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rampart.current_user_is_platform_admin() TO rampart_app;

CREATE TABLE rampart.platform_audit_events (
  chain_id     uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000'
               CHECK (chain_id = '00000000-0000-0000-0000-000000000000'),
  seq          bigint NOT NULL CHECK (seq > 0),
  id           uuid NOT NULL,
  occurred_at  timestamptz NOT NULL,
  actor_type   text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system', 'super_admin')),
  actor_id     uuid,
  action       text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
  target_type  text CHECK (length(target_type) <= 100),
  target_id    text CHECK (length(target_id) <= 200),
  ip           text CHECK (length(ip) <= 64),
  user_agent   text CHECK (length(user_agent) <= 512),
  request_id   text CHECK (length(request_id) <= 100),
  details      jsonb NOT NULL DEFAULT '{}',
  prev_hash    text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash         text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  PRIMARY KEY (chain_id, seq),
  UNIQUE (chain_id, id),
  CHECK ((actor_type = 'system') = (actor_id IS NULL)),
  CHECK (occurred_at = date_trunc('milliseconds', occurred_at))
);

CREATE TABLE rampart.platform_audit_chain_heads (
  chain_id             uuid PRIMARY KEY
                       CHECK (chain_id = '00000000-0000-0000-0000-000000000000'),
  seq                  bigint NOT NULL,
  hash                 text NOT NULL,
  signature            text NOT NULL,
  checkpoint_seq       bigint NOT NULL DEFAULT 0,
  checkpoint_hash      text NOT NULL DEFAULT repeat('0', 64),
  checkpoint_signature text,
  CHECK (hash ~ '^[0-9a-f]{64}$' AND signature ~ '^[0-9a-f]{64}$' AND checkpoint_hash ~ '^[0-9a-f]{64}$'),
  CHECK (checkpoint_signature IS NULL OR checkpoint_signature ~ '^[0-9a-f]{64}$'),
  CHECK (checkpoint_seq >= 0 AND seq >= checkpoint_seq)
);

CREATE TRIGGER platform_audit_events_append_only BEFORE UPDATE OR DELETE ON rampart.platform_audit_events
  FOR EACH ROW EXECUTE FUNCTION rampart.refuse_audit_change();
CREATE TRIGGER platform_audit_events_no_truncate BEFORE TRUNCATE ON rampart.platform_audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION rampart.refuse_audit_change();
CREATE TRIGGER platform_audit_chain_heads_kept BEFORE DELETE ON rampart.platform_audit_chain_heads
  FOR EACH ROW EXECUTE FUNCTION rampart.refuse_head_removal();
CREATE TRIGGER platform_audit_chain_heads_no_truncate BEFORE TRUNCATE ON rampart.platform_audit_chain_heads
  FOR EACH STATEMENT EXECUTE FUNCTION rampart.refuse_head_removal();

ALTER TABLE rampart.platform_audit_events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.platform_audit_chain_heads ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

CREATE POLICY platform_audit_events_select ON rampart.platform_audit_events FOR SELECT
  USING (rampart.current_user_is_platform_admin());
CREATE POLICY platform_audit_events_insert ON rampart.platform_audit_events FOR INSERT
  WITH CHECK (rampart.current_user_is_platform_admin());
CREATE POLICY platform_audit_events_delete ON rampart.platform_audit_events FOR DELETE
  USING (rampart.current_user_is_platform_admin());
CREATE POLICY platform_audit_chain_heads_select ON rampart.platform_audit_chain_heads FOR SELECT
  USING (rampart.current_user_is_platform_admin());
CREATE POLICY platform_audit_chain_heads_insert ON rampart.platform_audit_chain_heads FOR INSERT
  WITH CHECK (rampart.current_user_is_platform_admin());
CREATE POLICY platform_audit_chain_heads_update ON rampart.platform_audit_chain_heads FOR UPDATE
  USING (rampart.current_user_is_platform_admin())
  WITH CHECK (rampart.current_user_is_platform_admin());

GRANT SELECT, INSERT ON rampart.platform_audit_events TO rampart_app;
GRANT SELECT, INSERT (chain_id, seq, hash, signature), UPDATE (seq, hash, signature)
  ON rampart.platform_audit_chain_heads TO rampart_app;

-- Entering a workspace, in the statement that sets the context: the role switch and settings of
-- `rampart.enter_app_context`, then the caller's membership of that (not deleted) workspace. The
-- permission check needs nothing more, so it costs no round trip of its own.
--
-- `lock_mode` makes the membership hold still until the transaction ends, so that a role change or
-- removal committed meanwhile cannot be outrun by an action checked against the old role:
--   'none'   reads (a read that started before a change is ordered before it);
--   'share'  writes: the caller's membership row, FOR SHARE — a change to it waits for this write;
--   'update' membership changes: the caller's and `other_user_id`'s rows FOR UPDATE, locked in user
--            id order, so two changes involving the same two people queue instead of deadlocking.
CREATE FUNCTION rampart.enter_workspace_context(
  workspace_id  text,
  user_id       text,
  lock_mode     text,
  other_user_id text
) RETURNS TABLE (
  role                text,
  other_role          text,
  workspace_is_active boolean,
  is_platform_admin   boolean
)
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  caller  uuid := user_id::uuid;
  other   uuid := nullif(other_user_id, '')::uuid;
  active  boolean;
BEGIN
  PERFORM rampart.enter_app_context(workspace_id, user_id, '');
  IF lock_mode = 'update' THEN
    PERFORM 1 FROM rampart.memberships m
      WHERE m.workspace_id = rampart.current_workspace_id() AND m.user_id IN (caller, other)
      ORDER BY m.user_id FOR UPDATE;
  ELSIF lock_mode = 'share' THEN
    PERFORM 1 FROM rampart.memberships m
      WHERE m.workspace_id = rampart.current_workspace_id() AND m.user_id = caller FOR SHARE;
  ELSIF lock_mode <> 'none' THEN
    RAISE EXCEPTION 'unknown lock mode %', lock_mode USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT w.deleted_at IS NULL INTO active FROM rampart.workspaces w
   WHERE w.workspace_id = rampart.current_workspace_id();
  RETURN QUERY SELECT
    (SELECT m.role FROM rampart.memberships m
      WHERE m.workspace_id = rampart.current_workspace_id() AND m.user_id = caller),
    (SELECT m.role FROM rampart.memberships m
      WHERE m.workspace_id = rampart.current_workspace_id() AND m.user_id = other),
    coalesce(active, false),
    rampart.current_user_is_platform_admin();
END
$$;
REVOKE ALL ON FUNCTION rampart.enter_workspace_context(text, text, text, text) FROM PUBLIC;
