-- Workspace API keys: the key table, the per-key request windows of the rate limiter, and the one
-- statement that authenticates a key (and counts its use) on every request made with it.

-- The most requests per minute any key of the workspace may be given.
ALTER TABLE rampart.workspaces ADD COLUMN api_key_rate_limit_max integer NOT NULL DEFAULT 600
  CHECK (api_key_rate_limit_max BETWEEN 1 AND 100000);

-- A key is stored as an HMAC-SHA256 under a pepper kept outside the database (`pepper_id` names
-- which), plus its non-secret display prefix. Revoking keeps the row (the list and the audit log
-- still name it); the workspace's deletion removes it.
CREATE TABLE rampart.api_keys (
  workspace_id          uuid NOT NULL DEFAULT rampart.current_workspace_id()
                        REFERENCES rampart.workspaces (workspace_id) ON DELETE CASCADE,
  id                    uuid NOT NULL DEFAULT gen_random_uuid(),
  name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 100 AND name = btrim(name)
                        AND name !~ '[\u0001-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]'),
  prefix                text NOT NULL CHECK (prefix ~ '^rk_(live|test)_[0-9A-Za-z]{4}$'),
  key_hash              text NOT NULL CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  pepper_id             text NOT NULL CHECK (pepper_id ~ '^[0-9a-f]{16}$'),
  scopes                text[] NOT NULL CHECK (cardinality(scopes) BETWEEN 1 AND 32),
  rate_limit_per_minute integer NOT NULL CHECK (rate_limit_per_minute BETWEEN 1 AND 100000),
  -- The member whose authority the key carries; a deleted account leaves NULL, and such a key is dead.
  created_by            uuid REFERENCES rampart.users (id) ON DELETE SET NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz CHECK (expires_at > created_at),
  revoked_at            timestamptz,
  last_used_at          timestamptz,
  PRIMARY KEY (workspace_id, id)
);
-- Not unique (unique indexes of tenant tables include workspace_id); two 190-bit keys hashing alike
-- is not a case to design for.
CREATE INDEX api_keys_key_hash_idx ON rampart.api_keys (key_hash);

ALTER TABLE rampart.api_keys ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
-- Inside the workspace: its keys. Before the key is known: the one key whose hash is the lookup key.
CREATE POLICY api_keys_select ON rampart.api_keys FOR SELECT
  USING (workspace_id = rampart.current_workspace_id() OR key_hash = rampart.current_lookup_key());
CREATE POLICY api_keys_insert ON rampart.api_keys FOR INSERT
  WITH CHECK (workspace_id = rampart.current_workspace_id());
CREATE POLICY api_keys_update ON rampart.api_keys FOR UPDATE
  USING (workspace_id = rampart.current_workspace_id())
  WITH CHECK (workspace_id = rampart.current_workspace_id());
GRANT SELECT, INSERT ON rampart.api_keys TO rampart_app;
GRANT UPDATE (revoked_at, last_used_at, key_hash, pepper_id) ON rampart.api_keys TO rampart_app;

-- The rate limiter's state when no Redis is configured: one fixed one-minute window per key, started
-- by the first request after the previous one ended. UNLOGGED: counting a request writes no WAL and
-- waits for no disk flush; a crash forgets at most one minute of counts.
CREATE UNLOGGED TABLE rampart.api_key_request_windows (
  workspace_id   uuid NOT NULL DEFAULT rampart.current_workspace_id(),
  key_id         uuid NOT NULL,
  window_ends_at timestamptz NOT NULL,
  used           integer NOT NULL CHECK (used > 0),
  PRIMARY KEY (workspace_id, key_id)
);
ALTER TABLE rampart.api_key_request_windows ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY api_key_request_windows_select ON rampart.api_key_request_windows FOR SELECT
  USING (workspace_id = rampart.current_workspace_id());
CREATE POLICY api_key_request_windows_insert ON rampart.api_key_request_windows FOR INSERT
  WITH CHECK (workspace_id = rampart.current_workspace_id());
CREATE POLICY api_key_request_windows_update ON rampart.api_key_request_windows FOR UPDATE
  USING (workspace_id = rampart.current_workspace_id())
  WITH CHECK (workspace_id = rampart.current_workspace_id());
GRANT SELECT, INSERT, UPDATE ON rampart.api_key_request_windows TO rampart_app;

-- Authenticating a request made with an API key, in one statement (one round trip, plans kept per
-- connection). `presented_hashes` are the key's HMACs under the current pepper, then under each
-- previous one; the first that finds a key wins, and a key found under an old pepper is rewritten
-- under the current one. Once found, the statement continues inside the key's own workspace only
-- (never the workspace the request names), and:
--   * counts the request in the key's window when `count_usage` (no Redis), whether or not the key
--     is still valid, so that even a dead key's use is bounded;
--   * sets `last_used_at` at most once per `last_used_seconds`, for a valid key: no write per request;
--   * returns the creator's current role there (NULL once they left or were removed) and the
--     workspace's row, so that a read of the workspace itself needs nothing more.
-- Every time comparison uses the database's clock.
CREATE FUNCTION rampart.api_key_authenticate(
  presented_hashes  text[],
  current_pepper_id text,
  count_usage       boolean,
  window_seconds    integer,
  last_used_seconds integer
) RETURNS TABLE (
  id                     uuid,
  workspace_id           uuid,
  name                   text,
  scopes                 text[],
  rate_limit_per_minute  integer,
  created_by             uuid,
  creator_role           text,
  is_revoked             boolean,
  is_expired             boolean,
  requests_used          integer,
  window_reset_seconds   double precision,
  workspace_is_active    boolean,
  workspace_name         text,
  workspace_mfa_required boolean,
  workspace_created_at   timestamptz
)
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  found_key     rampart.api_keys%ROWTYPE;
  matched_index integer;
  used          integer := 0;
  ends_at       timestamptz := now();
  found_ws      rampart.workspaces%ROWTYPE;
  role_now      text;
BEGIN
  -- Enter as the app role once (it may not call this again); then each candidate is the lookup key in turn.
  PERFORM rampart.enter_app_context('', '', '');
  FOR i IN 1 .. coalesce(array_length(presented_hashes, 1), 0) LOOP
    PERFORM pg_catalog.set_config('rampart.lookup_key', presented_hashes[i], true);
    SELECT * INTO found_key FROM rampart.api_keys k WHERE k.key_hash = presented_hashes[i];
    IF FOUND THEN
      matched_index := i;
      EXIT;
    END IF;
  END LOOP;
  IF matched_index IS NULL THEN
    RETURN;
  END IF;
  -- Counters, "last used" and a pepper upgrade may be lost in a crash; none is worth a disk flush.
  PERFORM pg_catalog.set_config('synchronous_commit', 'off', true),
          pg_catalog.set_config('rampart.workspace_id', found_key.workspace_id::text, true),
          pg_catalog.set_config('rampart.lookup_key', '', true);

  IF matched_index > 1 THEN
    UPDATE rampart.api_keys k SET key_hash = presented_hashes[1], pepper_id = current_pepper_id
     WHERE k.workspace_id = found_key.workspace_id AND k.id = found_key.id;
  END IF;
  IF count_usage THEN
    INSERT INTO rampart.api_key_request_windows AS w (workspace_id, key_id, window_ends_at, used)
    VALUES (found_key.workspace_id, found_key.id, now() + make_interval(secs => window_seconds), 1)
    ON CONFLICT ON CONSTRAINT api_key_request_windows_pkey DO UPDATE
      SET used = CASE WHEN w.window_ends_at <= now() THEN 1 ELSE w.used + 1 END,
          window_ends_at = CASE WHEN w.window_ends_at <= now()
                                THEN now() + make_interval(secs => window_seconds) ELSE w.window_ends_at END
    RETURNING w.used, w.window_ends_at INTO used, ends_at;
  END IF;

  SELECT * INTO found_ws FROM rampart.workspaces w WHERE w.workspace_id = found_key.workspace_id;
  SELECT m.role INTO role_now FROM rampart.memberships m
   WHERE m.workspace_id = found_key.workspace_id AND m.user_id = found_key.created_by;

  IF found_key.revoked_at IS NULL AND (found_key.expires_at IS NULL OR found_key.expires_at > now())
     AND role_now IS NOT NULL AND found_ws.deleted_at IS NULL
     AND (found_key.last_used_at IS NULL OR now() - found_key.last_used_at >= make_interval(secs => last_used_seconds)) THEN
    UPDATE rampart.api_keys k SET last_used_at = now()
     WHERE k.workspace_id = found_key.workspace_id AND k.id = found_key.id;
  END IF;

  RETURN QUERY SELECT
    found_key.id, found_key.workspace_id, found_key.name, found_key.scopes,
    least(found_key.rate_limit_per_minute, found_ws.api_key_rate_limit_max),
    found_key.created_by, role_now,
    found_key.revoked_at IS NOT NULL,
    found_key.expires_at IS NOT NULL AND found_key.expires_at <= now(),
    used,
    greatest(extract(epoch FROM ends_at - now()), 0)::double precision,
    found_ws.deleted_at IS NULL,
    found_ws.name, found_ws.mfa_required, found_ws.created_at;
END
$$;
REVOKE ALL ON FUNCTION rampart.api_key_authenticate(text[], text, boolean, integer, integer) FROM PUBLIC;
