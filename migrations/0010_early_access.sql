-- Requests of the public early-access form. Not tenant data (no workspace, no account): requests
-- may add a row and nothing else. Reading them is the operator's work, as the owner, so a request can
-- neither list the addresses nor find out whether one has asked before.
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
