-- The audit log: append-only, hash-chained, one chain per workspace and one per user account.
--
-- Each event stores the SHA-256 of its canonical form, which includes the previous event's hash
-- (src/audit/chain.ts defines the form). The chain's head (last sequence number and hash) lives in a
-- separate row, signed with an HMAC under a key derived from RAMPART_MASTER_KEY: someone with only
-- database access who edits, deletes, reorders, inserts or truncates events cannot produce a valid
-- head, so `rampart audit verify` finds it. Appends to one chain serialise on its head row.

CREATE TABLE rampart.audit_events (
  workspace_id uuid NOT NULL DEFAULT rampart.current_workspace_id()
               REFERENCES rampart.workspaces (workspace_id) ON DELETE RESTRICT,
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
  PRIMARY KEY (workspace_id, seq),
  UNIQUE (workspace_id, id),
  CHECK ((actor_type = 'system') = (actor_id IS NULL)),
  -- The hash covers the time to the millisecond; finer digits could change unseen.
  CHECK (occurred_at = date_trunc('milliseconds', occurred_at))
);
CREATE INDEX audit_events_occurred_at_idx ON rampart.audit_events (workspace_id, occurred_at DESC);

-- The head: where the chain ends (seq, hash), and the signed checkpoint it starts from once the
-- retention purge has removed its oldest events (0 and the genesis hash before any purge).
CREATE TABLE rampart.audit_chain_heads (
  workspace_id         uuid NOT NULL DEFAULT rampart.current_workspace_id()
                       REFERENCES rampart.workspaces (workspace_id) ON DELETE RESTRICT,
  seq                  bigint NOT NULL,
  hash                 text NOT NULL,
  signature            text NOT NULL,
  checkpoint_seq       bigint NOT NULL DEFAULT 0,
  checkpoint_hash      text NOT NULL DEFAULT repeat('0', 64),
  checkpoint_signature text,
  PRIMARY KEY (workspace_id),
  CHECK (hash ~ '^[0-9a-f]{64}$' AND signature ~ '^[0-9a-f]{64}$' AND checkpoint_hash ~ '^[0-9a-f]{64}$'),
  CHECK (checkpoint_signature IS NULL OR checkpoint_signature ~ '^[0-9a-f]{64}$'),
  CHECK (checkpoint_seq >= 0 AND seq >= checkpoint_seq)
);

-- A user's own account log (sign-ins, password changes, MFA): not tenant rows, owned by the user.
CREATE TABLE rampart.account_audit_events (
  user_id      uuid NOT NULL DEFAULT rampart.current_user_id() REFERENCES rampart.users (id) ON DELETE RESTRICT,
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
  PRIMARY KEY (user_id, seq),
  UNIQUE (user_id, id),
  CHECK ((actor_type = 'system') = (actor_id IS NULL)),
  CHECK (occurred_at = date_trunc('milliseconds', occurred_at))
);

CREATE TABLE rampart.account_audit_chain_heads (
  user_id              uuid PRIMARY KEY DEFAULT rampart.current_user_id() REFERENCES rampart.users (id) ON DELETE RESTRICT,
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

-- Append-only for every role, the owner included. The only exception is the documented retention
-- purge, which runs as the owner with rampart.audit_purge = 'on' for its transaction. These triggers
-- guard against mistakes and against the app role (which holds no UPDATE or DELETE anyway); the table
-- owner can disable them, so against a leaked owner password it is the hash chain and the signed
-- head that give the tampering away.
CREATE FUNCTION rampart.refuse_audit_change() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF TG_OP = 'DELETE' AND pg_catalog.current_setting('rampart.audit_purge', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit events are append-only (% refused on %)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
REVOKE ALL ON FUNCTION rampart.refuse_audit_change() FROM PUBLIC;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON rampart.audit_events
  FOR EACH ROW EXECUTE FUNCTION rampart.refuse_audit_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON rampart.audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION rampart.refuse_audit_change();
CREATE TRIGGER account_audit_events_append_only BEFORE UPDATE OR DELETE ON rampart.account_audit_events
  FOR EACH ROW EXECUTE FUNCTION rampart.refuse_audit_change();
CREATE TRIGGER account_audit_events_no_truncate BEFORE TRUNCATE ON rampart.account_audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION rampart.refuse_audit_change();

-- A chain's head is moved forward, never removed: without it a chain could vanish whole.
CREATE FUNCTION rampart.refuse_head_removal() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  RAISE EXCEPTION 'audit chain heads are never removed (% refused on %)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
REVOKE ALL ON FUNCTION rampart.refuse_head_removal() FROM PUBLIC;

CREATE TRIGGER audit_chain_heads_kept BEFORE DELETE ON rampart.audit_chain_heads
  FOR EACH ROW EXECUTE FUNCTION rampart.refuse_head_removal();
CREATE TRIGGER audit_chain_heads_no_truncate BEFORE TRUNCATE ON rampart.audit_chain_heads
  FOR EACH STATEMENT EXECUTE FUNCTION rampart.refuse_head_removal();
CREATE TRIGGER account_audit_chain_heads_kept BEFORE DELETE ON rampart.account_audit_chain_heads
  FOR EACH ROW EXECUTE FUNCTION rampart.refuse_head_removal();
CREATE TRIGGER account_audit_chain_heads_no_truncate BEFORE TRUNCATE ON rampart.account_audit_chain_heads
  FOR EACH STATEMENT EXECUTE FUNCTION rampart.refuse_head_removal();

ALTER TABLE rampart.audit_events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.audit_chain_heads ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.account_audit_events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.account_audit_chain_heads ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

CREATE POLICY audit_events_select ON rampart.audit_events FOR SELECT
  USING (workspace_id = rampart.current_workspace_id());
CREATE POLICY audit_events_insert ON rampart.audit_events FOR INSERT
  WITH CHECK (workspace_id = rampart.current_workspace_id());

-- Only the retention purge deletes, as the owner with the workspace set: rampart_app holds no DELETE
-- privilege, so this policy gives it nothing; it lets an owner without BYPASSRLS run the purge.
CREATE POLICY audit_events_delete ON rampart.audit_events FOR DELETE
  USING (workspace_id = rampart.current_workspace_id());

CREATE POLICY audit_chain_heads_select ON rampart.audit_chain_heads FOR SELECT
  USING (workspace_id = rampart.current_workspace_id());
CREATE POLICY audit_chain_heads_insert ON rampart.audit_chain_heads FOR INSERT
  WITH CHECK (workspace_id = rampart.current_workspace_id());
CREATE POLICY audit_chain_heads_update ON rampart.audit_chain_heads FOR UPDATE
  USING (workspace_id = rampart.current_workspace_id())
  WITH CHECK (workspace_id = rampart.current_workspace_id());

CREATE POLICY account_audit_events_select ON rampart.account_audit_events FOR SELECT
  USING (user_id = rampart.current_user_id());
CREATE POLICY account_audit_events_insert ON rampart.account_audit_events FOR INSERT
  WITH CHECK (user_id = rampart.current_user_id());

CREATE POLICY account_audit_events_delete ON rampart.account_audit_events FOR DELETE
  USING (user_id = rampart.current_user_id());

CREATE POLICY account_audit_chain_heads_select ON rampart.account_audit_chain_heads FOR SELECT
  USING (user_id = rampart.current_user_id());
CREATE POLICY account_audit_chain_heads_insert ON rampart.account_audit_chain_heads FOR INSERT
  WITH CHECK (user_id = rampart.current_user_id());
CREATE POLICY account_audit_chain_heads_update ON rampart.account_audit_chain_heads FOR UPDATE
  USING (user_id = rampart.current_user_id())
  WITH CHECK (user_id = rampart.current_user_id());

-- Events: insert and read, nothing else. Heads: the app moves them forward on every append, but
-- only the owner's purge moves a checkpoint.
GRANT SELECT, INSERT ON rampart.audit_events, rampart.account_audit_events TO rampart_app;
GRANT SELECT, INSERT (workspace_id, seq, hash, signature), UPDATE (seq, hash, signature)
  ON rampart.audit_chain_heads TO rampart_app;
GRANT SELECT, INSERT (user_id, seq, hash, signature), UPDATE (seq, hash, signature)
  ON rampart.account_audit_chain_heads TO rampart_app;
