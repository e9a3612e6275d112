-- The statement that authenticates an API key, made cheaper and stricter (same arguments):
--   * it returns the stored hash it matched, which the application compares again with the
--     presented key's hashes, in constant time, before it trusts the row (a backstop: the lookup is
--     by equality already);
--   * the workspace and the creator's current role are read in one statement instead of two;
--   * the pepper upgrade and "last used" are one UPDATE (at most once a minute per key);
--   * the request is counted last, so that the window row of a busy key stays locked only from its
--     increment to the commit: concurrent requests with one key wait on that row, nothing else.
DROP FUNCTION rampart.api_key_authenticate(text[], text, boolean, integer, integer);

-- `presented_hashes` are the key's HMACs under the current pepper, then under each previous one; the
-- first that finds a key wins, and a key found under an old pepper is rewritten under the current
-- one. Once found, the statement continues inside the key's own workspace only (never the workspace
-- the request names), and:
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
  key_hash               text,
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
  found_key          rampart.api_keys%ROWTYPE;
  matched_index      integer := 1;
  candidate_count    integer := coalesce(array_length(presented_hashes, 1), 0);
  is_usable          boolean;
  is_last_use_due    boolean;
  used               integer := 0;
  ends_at            timestamptz := now();
  found_ws_deleted   timestamptz;
  found_ws_name      text;
  found_ws_mfa       boolean;
  found_ws_created   timestamptz;
  found_ws_key_limit integer;
  role_now           text;
BEGIN
  IF candidate_count = 0 THEN
    RETURN;
  END IF;
  -- Enter as the app role (it may not call this again) with the first candidate as the lookup key;
  -- the others, during a pepper rotation, in turn.
  PERFORM rampart.enter_app_context('', '', presented_hashes[1]);
  SELECT * INTO found_key FROM rampart.api_keys k WHERE k.key_hash = presented_hashes[1];
  WHILE NOT FOUND AND matched_index < candidate_count LOOP
    matched_index := matched_index + 1;
    PERFORM pg_catalog.set_config('rampart.lookup_key', presented_hashes[matched_index], true);
    SELECT * INTO found_key FROM rampart.api_keys k WHERE k.key_hash = presented_hashes[matched_index];
  END LOOP;
  IF found_key.id IS NULL THEN
    RETURN;
  END IF;
  -- Counters, "last used" and a pepper upgrade may be lost in a crash; none is worth a disk flush.
  PERFORM pg_catalog.set_config('synchronous_commit', 'off', true),
          pg_catalog.set_config('rampart.workspace_id', found_key.workspace_id::text, true),
          pg_catalog.set_config('rampart.lookup_key', '', true);

  SELECT w.deleted_at, w.name, w.mfa_required, w.created_at, w.api_key_rate_limit_max, m.role
    INTO found_ws_deleted, found_ws_name, found_ws_mfa, found_ws_created, found_ws_key_limit, role_now
    FROM rampart.workspaces w
    LEFT JOIN rampart.memberships m ON m.workspace_id = w.workspace_id AND m.user_id = found_key.created_by
   WHERE w.workspace_id = found_key.workspace_id;

  is_usable := found_key.revoked_at IS NULL AND (found_key.expires_at IS NULL OR found_key.expires_at > now())
               AND role_now IS NOT NULL AND found_ws_deleted IS NULL;
  is_last_use_due := is_usable AND (found_key.last_used_at IS NULL
                                    OR now() - found_key.last_used_at >= make_interval(secs => last_used_seconds));
  IF matched_index > 1 OR is_last_use_due THEN
    UPDATE rampart.api_keys k
       SET key_hash = presented_hashes[1], pepper_id = current_pepper_id,
           last_used_at = CASE WHEN is_last_use_due THEN now() ELSE k.last_used_at END
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

  RETURN QUERY SELECT
    found_key.id, found_key.workspace_id, found_key.key_hash, found_key.name, found_key.scopes,
    least(found_key.rate_limit_per_minute, found_ws_key_limit),
    found_key.created_by, role_now,
    found_key.revoked_at IS NOT NULL,
    found_key.expires_at IS NOT NULL AND found_key.expires_at <= now(),
    used,
    greatest(extract(epoch FROM ends_at - now()), 0)::double precision,
    found_ws_deleted IS NULL,
    found_ws_name, found_ws_mfa, found_ws_created;
END
$$;
REVOKE ALL ON FUNCTION rampart.api_key_authenticate(text[], text, boolean, integer, integer) FROM PUBLIC;
