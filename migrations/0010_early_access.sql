-- Requests of the public early-access form. Not tenant data (no workspace, no account): requests
-- may add a row and nothing else. Reading and deleting them is the operator's work, as the owner
-- (`rampart early-access list | delete | purge`), so a request can neither list the addresses nor
-- find out whether one has asked before.
CREATE TABLE rampart.early_access_requests (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email      text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  name       text CHECK (length(name) BETWEEN 1 AND 200),
  message    text CHECK (length(message) <= 2000),
  created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE rampart.early_access_requests ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY early_access_requests_insert ON rampart.early_access_requests FOR INSERT
  WITH CHECK (true);
GRANT INSERT ON rampart.early_access_requests TO rampart_app;

-- FORCE binds the owner too: without these, an owner that is neither superuser nor BYPASSRLS (the
-- README's deployment) would read no row and delete none, and a deletion request could not be
-- honoured. They name the role running this migration — the owner — and no other. rampart_app is
-- granted INSERT only and belongs to no role (src/db/schema-check.ts), so it gets neither the
-- privilege nor a policy to read or remove a row.
DO $$
BEGIN
  EXECUTE format('CREATE POLICY early_access_requests_select ON rampart.early_access_requests FOR SELECT TO %I USING (true)', current_user);
  EXECUTE format('CREATE POLICY early_access_requests_delete ON rampart.early_access_requests FOR DELETE TO %I USING (true)', current_user);
END
$$;
