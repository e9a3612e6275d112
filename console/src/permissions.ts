/**
 * The role table the server enforces, imported from the server's own source (it has no imports of its
 * own): the console hides what a role cannot do from the same table the API checks, so the two cannot
 * drift. Hiding is for people; the API stays the enforcement point.
 */
import { ASSIGNABLE_ROLES, hasRoleAtLeast, mayManageMember, minimumRoleFor, ROLES, type Permission, type Role } from '../../src/workspaces/permissions';

export { ASSIGNABLE_ROLES, hasRoleAtLeast, mayManageMember, ROLES, type Permission, type Role };

/** Whether `role` may perform `action` in its workspace. */
export function can(role: Role | null, action: Permission): boolean {
  return role !== null && hasRoleAtLeast(role, minimumRoleFor(action));
}

export const ROLE_LABELS: Record<Role, string> = {
  owner: 'Owner',
  admin: 'Admin',
  manager: 'Manager',
  member: 'Member',
  viewer: 'Viewer',
};
