-- Multi-factor authentication: TOTP authenticators, recovery codes, passkeys, the second step of
-- sign-in, WebAuthn challenges, the session's authentication level and the workspace MFA policy.
--
-- Nothing here is usable from a copy of the database: the TOTP secret is AES-256-GCM ciphertext
-- under a key derived from the master key (which never enters the database); recovery codes, MFA
-- sign-in tokens and WebAuthn challenges are stored as hashes; a passkey row holds a public key.

-- How the session's user last proved who they are: a password alone, or with a second factor (a
-- passkey with user verification counts as both). Step-up and the workspace MFA policy read it.
ALTER TABLE rampart.sessions
  ADD COLUMN auth_level text NOT NULL DEFAULT 'single_factor' CHECK (auth_level IN ('single_factor', 'multi_factor'));
GRANT UPDATE (auth_level) ON rampart.sessions TO rampart_app;

-- One authenticator app per user. confirmed_at is null while the enrolment waits for its first code.
-- last_used_step is the RFC 6238 time step of the last code accepted: a code of that step or an
-- earlier one is a replay.
CREATE TABLE rampart.totp_credentials (
  user_id           uuid PRIMARY KEY REFERENCES rampart.users (id) ON DELETE CASCADE,
  secret_ciphertext bytea NOT NULL CHECK (octet_length(secret_ciphertext) BETWEEN 49 AND 256),
  confirmed_at      timestamptz,
  last_used_step    bigint CHECK (last_used_step >= 0),
  created_at        timestamptz NOT NULL DEFAULT now()
);

-- Single-use recovery codes: HMAC-SHA256 under a key derived from the master key (hex). A used code
-- is deleted.
CREATE TABLE rampart.recovery_codes (
  user_id    uuid NOT NULL REFERENCES rampart.users (id) ON DELETE CASCADE,
  code_hash  text NOT NULL CHECK (code_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, code_hash)
);

-- WebAuthn credentials. credential_id is the authenticator's id (base64url), public: passwordless
-- sign-in finds the row through it before it knows the user (the lookup key).
CREATE TABLE rampart.passkeys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id       uuid NOT NULL REFERENCES rampart.users (id) ON DELETE CASCADE,
  credential_id text NOT NULL UNIQUE CHECK (credential_id ~ '^[A-Za-z0-9_-]{16,}$' AND char_length(credential_id) <= 1366),
  public_key    bytea NOT NULL CHECK (octet_length(public_key) BETWEEN 16 AND 2048),
  sign_count    bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
  transports    text[] NOT NULL DEFAULT '{}',
  name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  device_type   text NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
  is_backed_up  boolean NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz
);
CREATE INDEX passkeys_user_id_idx ON rampart.passkeys (user_id);

-- The second step of a sign-in: the password was right, a second factor is owed. The token is
-- handed to the client (its SHA-256 is kept), short-lived and single use; it is not a session.
-- A passkey challenge issued with it is kept as a hash too.
CREATE TABLE rampart.mfa_challenges (
  token_hash             text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  user_id                uuid NOT NULL REFERENCES rampart.users (id) ON DELETE CASCADE,
  passkey_challenge_hash text CHECK (passkey_challenge_hash ~ '^[0-9a-f]{64}$'),
  failed_attempts        integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
  created_at             timestamptz NOT NULL DEFAULT now(),
  expires_at             timestamptz NOT NULL
);
CREATE INDEX mfa_challenges_user_id_idx ON rampart.mfa_challenges (user_id);

-- WebAuthn challenges for registering a passkey, stepping up with one (both for a signed-in user)
-- and passwordless sign-in (no user yet: found by the hash of the challenge the response signed).
CREATE TABLE rampart.webauthn_challenges (
  challenge_hash text PRIMARY KEY CHECK (challenge_hash ~ '^[0-9a-f]{64}$'),
  purpose        text NOT NULL CHECK (purpose IN ('registration', 'step_up', 'sign_in')),
  user_id        uuid REFERENCES rampart.users (id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  CHECK ((purpose = 'sign_in') = (user_id IS NULL))
);
CREATE INDEX webauthn_challenges_user_id_idx ON rampart.webauthn_challenges (user_id);

ALTER TABLE rampart.totp_credentials ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.recovery_codes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.passkeys ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.mfa_challenges ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE rampart.webauthn_challenges ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- A user's own factors only: no workspace member, admin or lookup key reaches them.
CREATE POLICY totp_credentials_own ON rampart.totp_credentials FOR ALL
  USING (user_id = rampart.current_user_id()) WITH CHECK (user_id = rampart.current_user_id());
CREATE POLICY recovery_codes_own ON rampart.recovery_codes FOR ALL
  USING (user_id = rampart.current_user_id()) WITH CHECK (user_id = rampart.current_user_id());

-- Passwordless sign-in reads the one passkey whose credential id it was given, with the lookup key
-- 'passkey:<credential id>': it holds no '@' and is no 64-digit hash, so the same key never opens an
-- account or a token row, and no email or token hash opens a passkey.
CREATE POLICY passkeys_select ON rampart.passkeys FOR SELECT
  USING (user_id = rampart.current_user_id() OR 'passkey:' || credential_id = rampart.current_lookup_key());
CREATE POLICY passkeys_insert ON rampart.passkeys FOR INSERT
  WITH CHECK (user_id = rampart.current_user_id());
CREATE POLICY passkeys_update ON rampart.passkeys FOR UPDATE
  USING (user_id = rampart.current_user_id()) WITH CHECK (user_id = rampart.current_user_id());
CREATE POLICY passkeys_delete ON rampart.passkeys FOR DELETE
  USING (user_id = rampart.current_user_id());

-- Created once the password is verified (context: the user); the second step presents the token,
-- and reaches that one row by its hash.
CREATE POLICY mfa_challenges_select ON rampart.mfa_challenges FOR SELECT
  USING (user_id = rampart.current_user_id() OR token_hash = rampart.current_lookup_key());
CREATE POLICY mfa_challenges_insert ON rampart.mfa_challenges FOR INSERT
  WITH CHECK (user_id = rampart.current_user_id());
CREATE POLICY mfa_challenges_update ON rampart.mfa_challenges FOR UPDATE
  USING (user_id = rampart.current_user_id() OR token_hash = rampart.current_lookup_key())
  WITH CHECK (user_id = rampart.current_user_id() OR token_hash = rampart.current_lookup_key());
CREATE POLICY mfa_challenges_delete ON rampart.mfa_challenges FOR DELETE
  USING (user_id = rampart.current_user_id() OR token_hash = rampart.current_lookup_key());

-- A user's own challenges; a passwordless one (no user) is created and consumed by its hash alone.
CREATE POLICY webauthn_challenges_select ON rampart.webauthn_challenges FOR SELECT
  USING (user_id = rampart.current_user_id() OR (user_id IS NULL AND challenge_hash = rampart.current_lookup_key()));
CREATE POLICY webauthn_challenges_insert ON rampart.webauthn_challenges FOR INSERT
  WITH CHECK (user_id = rampart.current_user_id() OR (user_id IS NULL AND challenge_hash = rampart.current_lookup_key()));
CREATE POLICY webauthn_challenges_delete ON rampart.webauthn_challenges FOR DELETE
  USING (user_id = rampart.current_user_id() OR (user_id IS NULL AND challenge_hash = rampart.current_lookup_key()));

GRANT SELECT, INSERT, UPDATE, DELETE ON rampart.totp_credentials TO rampart_app;
GRANT SELECT, INSERT, DELETE ON rampart.recovery_codes TO rampart_app;
GRANT SELECT, INSERT, DELETE, UPDATE (sign_count, name, last_used_at, is_backed_up) ON rampart.passkeys TO rampart_app;
GRANT SELECT, INSERT, DELETE, UPDATE (failed_attempts, passkey_challenge_hash) ON rampart.mfa_challenges TO rampart_app;
GRANT SELECT, INSERT, DELETE ON rampart.webauthn_challenges TO rampart_app;

-- The workspace MFA policy: when true, a member's session must have been authenticated with a
-- second factor to use the workspace.
ALTER TABLE rampart.workspaces ADD COLUMN mfa_required boolean NOT NULL DEFAULT false;

-- Session validation also returns the authentication level and its age (by the database's clock).
DROP FUNCTION rampart.session_by_token_hash(text, integer, integer, integer, integer);
CREATE FUNCTION rampart.session_by_token_hash(
  presented_hash         text,
  idle_timeout_seconds   integer,
  rotation_seconds       integer,
  rotation_grace_seconds integer,
  last_seen_seconds      integer
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
  user_created_at            timestamptz
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
           found_session.authenticated_at, found_session.expires_at, found_session.auth_level,
           extract(epoch FROM now() - found_session.authenticated_at)::double precision,
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
REVOKE ALL ON FUNCTION rampart.session_by_token_hash(text, integer, integer, integer, integer) FROM PUBLIC;

-- Entering a workspace also says whether it requires MFA of its members.
DROP FUNCTION rampart.enter_workspace_context(text, text, text, text);
CREATE FUNCTION rampart.enter_workspace_context(
  workspace_id  text,
  user_id       text,
  lock_mode     text,
  other_user_id text
) RETURNS TABLE (
  role                text,
  other_role          text,
  workspace_is_active boolean,
  requires_mfa        boolean,
  is_platform_admin   boolean
)
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  caller  uuid := user_id::uuid;
  other   uuid := nullif(other_user_id, '')::uuid;
  active  boolean;
  mfa     boolean;
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
  SELECT w.deleted_at IS NULL, w.mfa_required INTO active, mfa FROM rampart.workspaces w
   WHERE w.workspace_id = rampart.current_workspace_id();
  RETURN QUERY SELECT
    (SELECT m.role FROM rampart.memberships m
      WHERE m.workspace_id = rampart.current_workspace_id() AND m.user_id = caller),
    (SELECT m.role FROM rampart.memberships m
      WHERE m.workspace_id = rampart.current_workspace_id() AND m.user_id = other),
    coalesce(active, false),
    coalesce(mfa, false),
    rampart.current_user_is_platform_admin();
END
$$;
REVOKE ALL ON FUNCTION rampart.enter_workspace_context(text, text, text, text) FROM PUBLIC;
