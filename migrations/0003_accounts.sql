-- Accounts: password hashes, sessions, one-time tokens and the sign-in failure counters.
--
-- Every bearer secret here is stored as the SHA-256 of the secret (hex): a copy of the database
-- gives no one a usable session, link or password. Before a request knows who it is for, it can only
-- reach a row whose key it already holds — the hash of the token it presents or the email it typed —
-- through the lookup key, a third transaction-local setting next to the workspace and the user.
-- An email key always holds an '@' (the request schemas insist) and a hash key never does, so one
-- key can never open rows of both kinds.

CREATE FUNCTION rampart.current_lookup_key() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(pg_catalog.current_setting('rampart.lookup_key', true), '') $$;
REVOKE ALL ON FUNCTION rampart.current_lookup_key() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rampart.current_lookup_key() TO rampart_app;

-- tokens_valid_after: sessions created before it are dead ("sign out everywhere").
ALTER TABLE rampart.users ADD COLUMN tokens_valid_after timestamptz NOT NULL DEFAULT '-infinity';

-- The password hash lives apart from the account: members of a workspace may read each other's
-- names and addresses, never each other's hashes. An argon2id PHC string, or a bcrypt hash imported
-- from another system (replaced at the next sign-in).
CREATE TABLE rampart.password_credentials (
  user_id       uuid PRIMARY KEY REFERENCES rampart.users (id) ON DELETE CASCADE,
  password_hash text NOT NULL CHECK (password_hash ~ '^\$(argon2(id|i|d)|2[aby])\$'),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rampart.sessions (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id             uuid NOT NULL REFERENCES rampart.users (id) ON DELETE CASCADE,
  token_hash          text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  -- The token this one replaced at the last rotation: accepted for a short grace window, then
  -- proof of theft when presented again.
  previous_token_hash text UNIQUE CHECK (previous_token_hash ~ '^[0-9a-f]{64}$'),
  created_at          timestamptz NOT NULL DEFAULT now(),
  rotated_at          timestamptz NOT NULL DEFAULT now(),
  last_seen_at        timestamptz NOT NULL DEFAULT now(),
  expires_at          timestamptz NOT NULL,
  -- When the user last proved who they are (password, later a second factor): step-up reads it.
  authenticated_at    timestamptz NOT NULL DEFAULT now(),
  ip                  text CHECK (length(ip) <= 64),
  user_agent          text CHECK (length(user_agent) <= 512)
);
CREATE INDEX sessions_user_id_idx ON rampart.sessions (user_id);

-- Email verification and password reset links. Single use: the row is deleted when used.
CREATE TABLE rampart.account_tokens (
  token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  user_id    uuid NOT NULL REFERENCES rampart.users (id) ON DELETE CASCADE,
  purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX account_tokens_user_id_idx ON rampart.account_tokens (user_id, purpose);

-- Failed sign-in counters, shared by every Rampart instance on this database. Keys are hashes of
-- (email, IP) or of the email alone, so the table keeps no typed address in plain form.
CREATE TABLE rampart.sign_in_failures (
  key          text PRIMARY KEY CHECK (key ~ '^[a-z_]+:[0-9a-f]{64}$'),
  window_start timestamptz NOT NULL,
  failures     integer NOT NULL CHECK (failures >= 0)
);

ALTER TABLE rampart.password_credentials ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.sessions ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.account_tokens ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.sign_in_failures ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- The user's own hash; sign-in (lookup key = the email typed) reads the hash of that account only.
CREATE POLICY password_credentials_select ON rampart.password_credentials FOR SELECT
  USING (user_id = rampart.current_user_id()
         OR user_id IN (SELECT u.id FROM rampart.users u WHERE lower(u.email) = rampart.current_lookup_key()));
CREATE POLICY password_credentials_insert ON rampart.password_credentials FOR INSERT
  WITH CHECK (user_id = rampart.current_user_id());
CREATE POLICY password_credentials_update ON rampart.password_credentials FOR UPDATE
  USING (user_id = rampart.current_user_id())
  WITH CHECK (user_id = rampart.current_user_id());
CREATE POLICY password_credentials_delete ON rampart.password_credentials FOR DELETE
  USING (user_id = rampart.current_user_id());

-- A user reaches their own sessions; an unauthenticated request reaches the one session whose token
-- (current or previous) hashes to the lookup key, and nothing else.
CREATE POLICY sessions_select ON rampart.sessions FOR SELECT
  USING (user_id = rampart.current_user_id()
         OR token_hash = rampart.current_lookup_key()
         OR previous_token_hash = rampart.current_lookup_key());
CREATE POLICY sessions_insert ON rampart.sessions FOR INSERT
  WITH CHECK (user_id = rampart.current_user_id());
CREATE POLICY sessions_update ON rampart.sessions FOR UPDATE
  USING (user_id = rampart.current_user_id()
         OR token_hash = rampart.current_lookup_key()
         OR previous_token_hash = rampart.current_lookup_key())
  WITH CHECK (user_id = rampart.current_user_id()
              OR token_hash = rampart.current_lookup_key()
              OR previous_token_hash = rampart.current_lookup_key());
CREATE POLICY sessions_delete ON rampart.sessions FOR DELETE
  USING (user_id = rampart.current_user_id()
         OR token_hash = rampart.current_lookup_key()
         OR previous_token_hash = rampart.current_lookup_key());

CREATE POLICY account_tokens_select ON rampart.account_tokens FOR SELECT
  USING (user_id = rampart.current_user_id() OR token_hash = rampart.current_lookup_key());
CREATE POLICY account_tokens_insert ON rampart.account_tokens FOR INSERT
  WITH CHECK (user_id = rampart.current_user_id());
CREATE POLICY account_tokens_delete ON rampart.account_tokens FOR DELETE
  USING (user_id = rampart.current_user_id() OR token_hash = rampart.current_lookup_key());

-- Sign-in (lookup key = the email typed) reads that account; session validation (lookup key = the
-- token's hash) reads the account the session belongs to.
DROP POLICY users_select ON rampart.users;
CREATE POLICY users_select ON rampart.users FOR SELECT
  USING (id = rampart.current_user_id()
         OR id IN (SELECT m.user_id FROM rampart.memberships m
                   WHERE m.workspace_id = rampart.current_workspace_id())
         OR lower(email) = rampart.current_lookup_key()
         OR id IN (SELECT s.user_id FROM rampart.sessions s
                   WHERE s.token_hash = rampart.current_lookup_key()
                      OR s.previous_token_hash = rampart.current_lookup_key()));

-- The counters are shared state of every sign-in attempt, before anyone is authenticated: every
-- request may count. They hold hashes and numbers only.
CREATE POLICY sign_in_failures_all ON rampart.sign_in_failures FOR ALL
  USING (true) WITH CHECK (true);

GRANT SELECT, INSERT, UPDATE, DELETE ON rampart.password_credentials TO rampart_app;
GRANT SELECT, INSERT, UPDATE (last_seen_at, token_hash, previous_token_hash, rotated_at, authenticated_at), DELETE
  ON rampart.sessions TO rampart_app;
GRANT SELECT, INSERT, DELETE ON rampart.account_tokens TO rampart_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON rampart.sign_in_failures TO rampart_app;
