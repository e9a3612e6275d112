/**
 * The role model and the permission table: the single source of truth for who may do what inside a
 * workspace. Every workspace route names one action of this table (`requirePermission`), the attack
 * matrix in `test/security/workspace-matrix.security.test.ts` is generated from it, and
 * `docs/security.md` prints it (a test keeps the two equal).
 */

/** Highest first. A role includes every right of the roles below it. */
export const ROLES = ['owner', 'admin', 'manager', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** The roles an invitation or a role change may give: ownership moves only by an explicit transfer. */
export const ASSIGNABLE_ROLES = ['admin', 'manager', 'member', 'viewer'] as const satisfies readonly Role[];
export type AssignableRole = (typeof ASSIGNABLE_ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** 5 for owner down to 1 for viewer: a larger rank is a higher role. */
export function roleRank(role: Role): number {
  return ROLES.length - ROLES.indexOf(role);
}

/** Whether `role` is at least `minimum`. */
export function hasRoleAtLeast(role: Role, minimum: Role): boolean {
  return roleRank(role) >= roleRank(minimum);
}

interface PermissionRule {
  /** The lowest role allowed to perform the action. */
  minimumRole: Role;
  /** What the action covers, as `docs/security.md` shows it. */
  description: string;
  /**
   * Whether a platform super-admin who is not a member may perform it (read-only support access);
   * every such use is recorded in the workspace's log and in the platform log.
   */
  isOpenToPlatformAdmin?: true;
}

/**
 * Action → minimum role. Reading is open to every member; workspace content is written by Members
 * and deleted by Managers (the library's own routes use the `content:*` actions); membership and
 * settings need an Admin; ownership and deletion of the workspace need the Owner.
 */
export const PERMISSIONS = {
  'workspace:read': { minimumRole: 'viewer', description: 'See the workspace and your role in it', isOpenToPlatformAdmin: true },
  'members:read': { minimumRole: 'viewer', description: 'List the members and their roles', isOpenToPlatformAdmin: true },
  'members:leave': { minimumRole: 'viewer', description: 'Leave the workspace (not its last owner)' },
  'content:read': { minimumRole: 'viewer', description: 'Read workspace content (routes of the embedding app)' },
  'content:write': { minimumRole: 'member', description: 'Create and edit workspace content' },
  'content:delete': { minimumRole: 'manager', description: 'Delete workspace content (destructive)' },
  'workspace:rename': { minimumRole: 'admin', description: 'Rename the workspace' },
  'members:change_role': { minimumRole: 'admin', description: 'Change the role of a member below your own, to at most your own' },
  'members:remove': { minimumRole: 'admin', description: 'Remove a member below your own role' },
  'invitations:read': { minimumRole: 'admin', description: 'List pending invitations', isOpenToPlatformAdmin: true },
  'invitations:create': { minimumRole: 'admin', description: 'Invite by email, with a role up to your own; send again' },
  'invitations:revoke': { minimumRole: 'admin', description: 'Revoke a pending invitation' },
  'api_keys:read': { minimumRole: 'admin', description: 'List the API keys (never the keys themselves)' },
  'api_keys:create': { minimumRole: 'admin', description: 'Create an API key with scopes your role allows (after a step-up)' },
  'api_keys:revoke': { minimumRole: 'admin', description: 'Revoke an API key' },
  'api_keys:set_rate_limit_max': { minimumRole: 'admin', description: 'Set the most requests per minute any key of the workspace may be given' },
  'audit:read': { minimumRole: 'admin', description: 'Read the workspace audit log and verify its hash chain', isOpenToPlatformAdmin: true },
  'audit:export': { minimumRole: 'admin', description: 'Export the workspace audit log as JSON Lines or CSV (the export is itself recorded)' },
  'workspace:set_mfa_policy': { minimumRole: 'owner', description: 'Require a second factor of every member (only with one yourself)' },
  'ownership:transfer': { minimumRole: 'owner', description: 'Transfer ownership to a member (the owner becomes an admin)' },
  'workspace:delete': { minimumRole: 'owner', description: 'Delete the workspace (typed confirmation, 30-day grace period)' },
} as const satisfies Record<string, PermissionRule>;

export type Permission = keyof typeof PERMISSIONS;

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && Object.hasOwn(PERMISSIONS, value);
}

export function minimumRoleFor(action: Permission): Role {
  return PERMISSIONS[action].minimumRole;
}

export function isOpenToPlatformAdmin(action: Permission): boolean {
  const rule: PermissionRule = PERMISSIONS[action];
  return rule.isOpenToPlatformAdmin === true;
}

/**
 * The rules of role changes, beyond the permission to make them: nobody gives a role above their
 * own, or changes (or removes) someone at or above their own — except the Owner, who may change
 * anyone. Whether the change leaves the workspace without an owner is checked separately.
 */
export function mayManageMember(actor: Role, target: Role, newRole?: Role): boolean {
  if (actor === 'owner') return true;
  if (roleRank(target) >= roleRank(actor)) return false;
  return newRole === undefined || roleRank(newRole) <= roleRank(actor);
}

/** The permission table as the Markdown table `docs/security.md` carries. */
export function permissionTableMarkdown(): string {
  const header = ['| action | minimum role | what it allows | platform super-admin |', '|---|---|---|---|'];
  const rows = Object.entries(PERMISSIONS).map(([action, rule]: [string, PermissionRule]) =>
    `| \`${action}\` | ${rule.minimumRole} | ${rule.description} | ${rule.isOpenToPlatformAdmin ? 'yes, audited' : 'no'} |`,
  );
  return [...header, ...rows].join('\n');
}
