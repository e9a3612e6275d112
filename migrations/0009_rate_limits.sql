-- Per-route request counters, shared by every Rampart instance on this database (when no Redis is
-- configured). One row per (route, client) window; keys are hashes, so the table keeps no address
-- or user id in plain form. rate-limiter-flexible decides what a count means; this table only
-- stores it. UNLOGGED, and counted with synchronous_commit off: a count writes no WAL and waits for
-- no disk flush (a crash forgets the current windows, which only restarts them).
CREATE UNLOGGED TABLE rampart.rate_limits (
  key    text PRIMARY KEY CHECK (key ~ '^[A-Za-z0-9_-]{43}$'),
  points integer NOT NULL CHECK (points >= 0),
  -- Milliseconds since the epoch, by the database's clock: every instance agrees on when a window ends.
  expire bigint NOT NULL
);

ALTER TABLE rampart.rate_limits ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
-- Counted before anyone is authenticated: every request may count. Hashes and numbers only.
CREATE POLICY rate_limits_all ON rampart.rate_limits FOR ALL USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON rampart.rate_limits TO rampart_app;

-- Adds `points` to the key's window, starting a new window of `duration_ms` when the last one has
-- ended (or always, with `force_expire`). The caller has entered the app role.
CREATE FUNCTION rampart.rate_limits_add(rl_key text, add_points integer, duration_ms bigint, force_expire boolean)
  RETURNS TABLE (points integer, expire double precision)
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
BEGIN
  -- A count may be lost in a crash; it is not worth a disk flush.
  PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
  RETURN QUERY
    INSERT INTO rampart.rate_limits AS r (key, points, expire) VALUES (rl_key, add_points, now_ms + duration_ms)
    ON CONFLICT (key) DO UPDATE SET
      points = CASE WHEN r.expire <= now_ms OR force_expire THEN add_points ELSE r.points + add_points END,
      expire = CASE WHEN r.expire <= now_ms OR force_expire THEN now_ms + duration_ms ELSE r.expire END
    RETURNING r.points, r.expire::double precision;
END
$$;
REVOKE ALL ON FUNCTION rampart.rate_limits_add(text, integer, bigint, boolean) FROM PUBLIC;
-- Called after the switch to the app role; it only writes what the app role may write anyway.
GRANT EXECUTE ON FUNCTION rampart.rate_limits_add(text, integer, bigint, boolean) TO rampart_app;

-- The same as the app role, in one statement: one round trip per request counted by address.
CREATE FUNCTION rampart.rate_limits_consume(rl_key text, add_points integer, duration_ms bigint, force_expire boolean)
  RETURNS TABLE (points integer, expire double precision)
  LANGUAGE plpgsql VOLATILE
  AS $$
BEGIN
  PERFORM rampart.enter_app_context('', '', '');
  RETURN QUERY SELECT * FROM rampart.rate_limits_add(rl_key, add_points, duration_ms, force_expire);
END
$$;
REVOKE ALL ON FUNCTION rampart.rate_limits_consume(text, integer, bigint, boolean) FROM PUBLIC;

-- Session validation counts the request against the session's user in the same statement, when
-- asked (`rate_route_key` not NULL): a signed-in request's rate limit then costs no round trip of its
-- own. `rate_route_key` is the route's keyed share of the counter key (HMAC of the route under a key
-- only the application holds); the key is the one the application computes for (route, user):
-- base64url(SHA-256(rate_route_key || '\n' || 'user:' || user id)). Only a session that is still
-- valid is counted: a request with an ended one is counted against its address by the application.
-- This is an overload: the previous signature stays, so instances of the previous version keep
-- working during a rolling upgrade.
CREATE FUNCTION rampart.session_by_token_hash(
  presented_hash         text,
  idle_timeout_seconds   integer,
  rotation_seconds       integer,
  rotation_grace_seconds integer,
  last_seen_seconds      integer,
  rate_route_key         text,
  rate_window_ms         bigint
) RETURNS TABLE (
  id                         uuid,
  user_id                    uuid,
  created_at                 timestamptz,
  authenticated_at           timestamptz,
  expires_at                 timestamptz,
  auth_level                 text,
  authentication_age_seconds double precision,
  is_current                 boolean,
  is_expired                 boolean,
  is_revoked                 boolean,
  is_due_for_rotation        boolean,
  is_within_grace            boolean,
  is_last_seen_stale         boolean,
  email                      text,
  name                       text,
  email_verified_at          timestamptz,
  user_created_at            timestamptz,
  rate_points                integer,
  rate_expire                double precision
)
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  session_row    record;
  counted_points integer;
  counted_expire double precision;
BEGIN
  SELECT * INTO session_row FROM rampart.session_by_token_hash(
    presented_hash, idle_timeout_seconds, rotation_seconds, rotation_grace_seconds, last_seen_seconds);
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF rate_route_key IS NOT NULL AND NOT session_row.is_expired AND NOT session_row.is_revoked
     AND (session_row.is_current OR session_row.is_within_grace) THEN
    SELECT added.points, added.expire INTO counted_points, counted_expire FROM rampart.rate_limits_add(
      rtrim(translate(encode(sha256(convert_to(rate_route_key || E'\nuser:' || session_row.user_id::text, 'UTF8')), 'base64'), '+/', '-_'), '='),
      1, rate_window_ms, false) AS added;
  END IF;
  RETURN QUERY SELECT
    session_row.id, session_row.user_id, session_row.created_at, session_row.authenticated_at, session_row.expires_at, session_row.auth_level,
    session_row.authentication_age_seconds, session_row.is_current, session_row.is_expired, session_row.is_revoked,
    session_row.is_due_for_rotation, session_row.is_within_grace, session_row.is_last_seen_stale,
    session_row.email, session_row.name, session_row.email_verified_at, session_row.user_created_at,
    counted_points, counted_expire;
END
$$;
REVOKE ALL ON FUNCTION rampart.session_by_token_hash(text, integer, integer, integer, integer, text, bigint) FROM PUBLIC;

-- Deletes the windows that have ended; returns how many.
CREATE FUNCTION rampart.rate_limits_clear_expired() RETURNS integer
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  deleted integer;
BEGIN
  PERFORM rampart.enter_app_context('', '', '');
  DELETE FROM rampart.rate_limits WHERE expire <= (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END
$$;
REVOKE ALL ON FUNCTION rampart.rate_limits_clear_expired() FROM PUBLIC;
