/**
 * Every action Rampart records in an audit log, in one place. A capability adds its actions here;
 * `docs/security.md` lists them (a test keeps the two in step). Names are `area.verb_object`, past
 * tense of what happened, stable once released: compliance exports and alerts match on them.
 */
export const AUDIT_ACTIONS = {
  // The audit log itself
  'audit.exported': 'A workspace audit log was exported (JSON Lines or CSV)',
  'audit.purged': 'Events older than the retention period were removed, leaving a signed checkpoint',
  // Workspaces, members and invitations: recorded in the workspace's log
  'workspace.created': 'A workspace was created',
  'workspace.renamed': 'A workspace was renamed',
  'workspace.deleted': 'A workspace was scheduled for deletion (purged after the grace period)',
  'workspace.ownership_transferred': 'The owner made another member the owner and became an admin',
  'member.joined': 'A user accepted an invitation and became a member',
  'member.role_changed': "A member's role was changed",
  'member.removed': 'A member was removed from the workspace',
  'member.left': 'A member left the workspace',
  'invitation.created': 'Someone was invited by email, with a role',
  'invitation.resent': 'An invitation was sent again with a new link (the previous link stopped working)',
  'invitation.revoked': 'A pending invitation was revoked',
  'workspace.mfa_policy_changed': 'The owner turned the requirement of multi-factor authentication for members on or off',
  'api_key.created': 'An API key was created (its name, display prefix, scopes, rate limit and expiry; never the key)',
  'api_key.revoked': 'An API key was revoked',
  'api_key.rate_limit_max_changed': 'The most requests per minute any key of the workspace may be given was changed (from, to)',
  'api_key.use_denied': "A request with a known API key was refused: revoked, expired, creator no longer a member, another workspace, or an action beyond its scopes or its creator's role",
  // The platform super-admin flag: recorded in the platform log (and its uses in the workspace's log too)
  'platform.admin_granted': 'A user was made a platform super-admin (CLI only)',
  'platform.admin_revoked': "A user's platform super-admin flag was removed (CLI only)",
  'platform.workspace_accessed': 'A platform super-admin who is not a member read a workspace (support access)',
  // Accounts: recorded in the user's own account log
  'account.signed_up': 'An account was created (its email not yet verified)',
  'account.sign_up_repeated': 'Someone tried to sign up again with the email of this account (the owner was emailed)',
  'account.email_verified': "The account's email address was verified through its link",
  'account.signed_in': 'A user signed in',
  'account.sign_in_failed': 'A sign-in attempt for the account failed',
  'account.locked': 'The account reached its ceiling of failed sign-ins; sign-in is paused and the owner was emailed',
  'account.signed_out': 'A user signed out',
  'account.password_reset_requested': "A password reset link was sent to the account's email",
  'account.password_reset': 'The password was reset through a reset link; every session ended',
  'account.password_changed': 'A user changed their password; every other session ended',
  'account.session_revoked': 'A user ended one of their sessions',
  'account.other_sessions_revoked': 'A user ended all their sessions but the current one',
  'account.totp_enabled': 'An authenticator app (TOTP) was confirmed as a second factor',
  'account.totp_disabled': 'The authenticator app (TOTP) was removed',
  'account.totp_code_replayed': 'A TOTP code that had already been used was presented again, and refused',
  'account.recovery_codes_generated': 'A new set of recovery codes was created (any previous set stopped working)',
  'account.recovery_code_used': 'A recovery code was used in place of a second factor (the user was emailed)',
  'account.passkey_added': 'A passkey was registered',
  'account.passkey_renamed': 'A passkey was renamed',
  'account.passkey_removed': 'A passkey was removed',
  'account.passkey_clone_suspected': "A passkey's signature counter did not advance (a possible cloned authenticator); the use was refused",
  'account.second_factor_requested': 'A sign-in had the right password; the second factor was asked for (no session yet)',
  'account.second_factor_failed': 'A second factor (TOTP code, recovery code or passkey) was wrong',
  'account.stepped_up': 'A signed-in user confirmed who they are again, for a sensitive action',
  'account.session_token_reused': 'A replaced session token was presented after its grace window (likely theft); the session was ended',
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

export function isAuditAction(value: string): value is AuditAction {
  return Object.hasOwn(AUDIT_ACTIONS, value);
}
