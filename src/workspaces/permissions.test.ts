import { describe, expect, it } from 'vitest';
import { hasRoleAtLeast, mayManageMember, PERMISSIONS, ROLES, roleRank, type Role } from './permissions.js';

describe('the role model', () => {
  it('orders owner > admin > manager > member > viewer', () => {
    expect(ROLES.map(roleRank)).toEqual([5, 4, 3, 2, 1]);
    expect(hasRoleAtLeast('manager', 'member')).toBe(true);
    expect(hasRoleAtLeast('member', 'manager')).toBe(false);
  });

  it('needs Manager for destructive content actions, Admin for membership, Owner for ownership and deletion', () => {
    expect(PERMISSIONS['content:delete'].minimumRole).toBe('manager');
    for (const action of ['members:change_role', 'members:remove', 'invitations:create', 'invitations:revoke'] as const) {
      expect(PERMISSIONS[action].minimumRole, action).toBe('admin');
    }
    expect(PERMISSIONS['ownership:transfer'].minimumRole).toBe('owner');
    expect(PERMISSIONS['workspace:delete'].minimumRole).toBe('owner');
  });

  const cases: [actor: Role, target: Role, newRole: Role | undefined, allowed: boolean][] = [
    ['admin', 'member', 'admin', true], // up to one's own role
    ['admin', 'viewer', undefined, true], // removal of someone below
    ['admin', 'admin', 'member', false], // someone at one's own level (oneself included)
    ['admin', 'owner', 'admin', false], // someone above
    ['manager', 'member', 'admin', false], // a role above one's own
    ['owner', 'admin', 'viewer', true], // the owner is exempt
  ];
  it.each(cases)('lets %s change %s to %s: %s', (actor, target, newRole, allowed) => {
    expect(mayManageMember(actor, target, newRole)).toBe(allowed);
  });
});
