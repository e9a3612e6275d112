-- Session validation in one statement: the read every signed-in request makes.
--
-- Through a `withTenant` transaction it takes four round trips (BEGIN, the context, the SELECT,
-- COMMIT), and PostgreSQL plans the SELECT again each time — a plan that includes the row-level-
-- security policies of `sessions` and `users`, and costs more than executing it. As a PL/pgSQL
-- function called as one prepared statement it takes one round trip, and the plans of the statements
-- inside are made once per connection and reused.
--
-- Such a function enters the tenant context itself, first thing, exactly as `withTenant` does: the
-- role switch to rampart_app and the three settings, all transaction-local. Called as a statement of
-- its own (an implicit transaction), the context ends with that statement. The function's queries
-- then run as rampart_app under row-level security like any request's.

CREATE FUNCTION rampart.enter_app_context(workspace_id text, user_id text, lookup_key text) RETURNS void
  LANGUAGE plpgsql VOLATILE
  AS $$
BEGIN
  PERFORM pg_catalog.set_config('role', 'rampart_app', true),
          pg_catalog.set_config('rampart.workspace_id', workspace_id, true),
          pg_catalog.set_config('rampart.user_id', user_id, true),
          pg_catalog.set_config('rampart.lookup_key', lookup_key, true);
END
$$;

-- The session (current or previous token) whose hash is presented, with its user, and every time
-- comparison made by the database's clock. The lookup key is the presented hash itself, so the
-- function reaches that session only; once the session is found, the transaction continues as its
-- user (like `continueAsUser`) and reads the account through the plain "own row" policy.
CREATE FUNCTION rampart.session_by_token_hash(
  presented_hash         text,
  idle_timeout_seconds   integer,
  rotation_seconds       integer,
  rotation_grace_seconds integer,
  last_seen_seconds      integer
) RETURNS TABLE (
  id                  uuid,
  user_id             uuid,
  created_at          timestamptz,
  authenticated_at    timestamptz,
  expires_at          timestamptz,
  is_current          boolean,
  is_expired          boolean,
  is_revoked          boolean,
  is_due_for_rotation boolean,
  is_within_grace     boolean,
  is_last_seen_stale  boolean,
  email               text,
  name                text,
  email_verified_at   timestamptz,
  user_created_at     timestamptz
)
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  found_session rampart.sessions%ROWTYPE;
BEGIN
  PERFORM rampart.enter_app_context('', '', presented_hash);
  SELECT * INTO found_session FROM rampart.sessions s
   WHERE s.token_hash = presented_hash OR s.previous_token_hash = presented_hash;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  PERFORM pg_catalog.set_config('rampart.user_id', found_session.user_id::text, true);
  RETURN QUERY
    SELECT found_session.id, found_session.user_id, found_session.created_at,
           found_session.authenticated_at, found_session.expires_at,
           found_session.token_hash = presented_hash,
           now() >= found_session.expires_at
             OR now() - found_session.last_seen_at > make_interval(secs => idle_timeout_seconds),
           found_session.created_at < u.tokens_valid_after,
           now() - found_session.rotated_at >= make_interval(secs => rotation_seconds),
           now() - found_session.rotated_at <= make_interval(secs => rotation_grace_seconds),
           now() - found_session.last_seen_at >= make_interval(secs => last_seen_seconds),
           u.email, u.name, u.email_verified_at, u.created_at
      FROM rampart.users u
     WHERE u.id = found_session.user_id;
END
$$;

-- Session validation reads the account as its user now, so the policy arm that let a session's
-- lookup key reach its user (two subqueries planned into every read of users) goes.
DROP POLICY users_select ON rampart.users;
CREATE POLICY users_select ON rampart.users FOR SELECT
  USING (id = rampart.current_user_id()
         OR id IN (SELECT m.user_id FROM rampart.memberships m
                   WHERE m.workspace_id = rampart.current_workspace_id())
         OR lower(email) = rampart.current_lookup_key());

-- Only the connecting (owner) role calls these: request code already runs as rampart_app.
REVOKE ALL ON FUNCTION rampart.enter_app_context(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION rampart.session_by_token_hash(text, integer, integer, integer, integer) FROM PUBLIC;
