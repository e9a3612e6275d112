/**
 * Every action Rampart records in an audit log, in one place. A capability adds its actions here;
 * `docs/security.md` lists them (a test keeps the two in step). Names are `area.verb_object`, past
 * tense of what happened, stable once released: compliance exports and alerts match on them.
 */
export const AUDIT_ACTIONS = {
  // The audit log itself
  'audit.exported': 'A workspace audit log was exported (JSON Lines or CSV)',
  'audit.purged': 'Events older than the retention period were removed, leaving a signed checkpoint',
  // Workspaces (issue 5 records these)
  'workspace.created': 'A workspace was created',
  'workspace.renamed': 'A workspace was renamed',
  'workspace.deleted': 'A workspace was scheduled for deletion',
  // Accounts (issue 4 records these in the user's own account log)
  'account.signed_in': 'A user signed in',
  'account.sign_in_failed': 'A sign-in attempt for the account failed',
  'account.password_changed': 'A user changed their password',
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

export function isAuditAction(value: string): value is AuditAction {
  return Object.hasOwn(AUDIT_ACTIONS, value);
}
