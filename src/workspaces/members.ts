import type { AuditLog } from '../audit/index.js';
import type { SqlExecutor } from '../db/driver.js';
import { recordWorkspaceEvent, type MemberActor } from './actor.js';
import { mayManageMember, type AssignableRole, type Role } from './permissions.js';

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: Date;
}

/**
 * Why a membership change was refused: the target is not a member (`not_found`), the actor's role
 * does not reach that far (`not_allowed`: a role above their own, or someone at or above it), or the
 * workspace would be left without an owner (`last_owner`).
 */
export type MembershipRefusal = 'not_found' | 'not_allowed' | 'last_owner';
export type MembershipChange = { status: 'changed' } | { status: MembershipRefusal };

/** The members of the context's workspace, with their accounts' names and addresses. */
export async function listMembers(tx: SqlExecutor): Promise<Member[]> {
  const { rows } = await tx.query<{ user_id: string; email: string; name: string; role: Role; created_at: Date }>(
    `SELECT m.user_id, u.email, u.name, m.role, m.created_at
       FROM rampart.memberships m JOIN rampart.users u ON u.id = m.user_id
      ORDER BY m.created_at, m.user_id`,
  );
  return rows.map((row) => ({ userId: row.user_id, email: row.email, name: row.name, role: row.role, joinedAt: row.created_at }));
}

/** Whether anyone but `userId` owns the context's workspace. */
async function hasAnotherOwner(tx: SqlExecutor, userId: string): Promise<boolean> {
  const { rows } = await tx.query(`SELECT 1 FROM rampart.memberships WHERE role = 'owner' AND user_id <> $1 LIMIT 1`, [userId]);
  return rows.length > 0;
}

/**
 * Why the actor may not change or remove the target (to `newRole`, when given), if they may not: not
 * a member, beyond the actor's reach, or the workspace's last owner losing ownership.
 */
async function refusalOfChange(
  tx: SqlExecutor,
  options: { actor: MemberActor; targetUserId: string; targetRole: Role | null; newRole?: Role },
): Promise<MembershipRefusal | undefined> {
  const { actor, targetUserId, targetRole, newRole } = options;
  if (targetRole === null) return 'not_found';
  if (!mayManageMember(actor.role, targetRole, newRole)) return 'not_allowed';
  if (targetRole === 'owner' && newRole !== 'owner' && !(await hasAnotherOwner(tx, targetUserId))) return 'last_owner';
  return undefined;
}

/**
 * Gives a member another role. `targetRole` is the target's current role as loaded (and locked) when
 * the workspace was entered, null when not a member. Changing one's own role is refused like changing
 * anyone at one's own level; the owner may not step down this way while no one else owns the workspace.
 */
export async function changeMemberRole(
  tx: SqlExecutor,
  auditLog: AuditLog,
  options: { actor: MemberActor; targetUserId: string; targetRole: Role | null; newRole: AssignableRole },
): Promise<MembershipChange> {
  const { actor, targetUserId, targetRole, newRole } = options;
  const refusal = await refusalOfChange(tx, options);
  if (refusal !== undefined) return { status: refusal };
  if (targetRole === newRole) return { status: 'changed' };
  await tx.query('UPDATE rampart.memberships SET role = $1, updated_at = now() WHERE user_id = $2', [newRole, targetUserId]);
  await recordWorkspaceEvent(auditLog, tx, actor, {
    action: 'member.role_changed',
    target: { type: 'user', id: targetUserId },
    details: { from: targetRole, to: newRole },
  });
  return { status: 'changed' };
}

/** Removes another member (below the actor's role; the owner may remove anyone but the last owner). */
export async function removeMember(
  tx: SqlExecutor,
  auditLog: AuditLog,
  options: { actor: MemberActor; targetUserId: string; targetRole: Role | null },
): Promise<MembershipChange> {
  const { actor, targetUserId, targetRole } = options;
  const refusal = await refusalOfChange(tx, options);
  if (refusal !== undefined) return { status: refusal };
  await tx.query('DELETE FROM rampart.memberships WHERE user_id = $1', [targetUserId]);
  await recordWorkspaceEvent(auditLog, tx, actor, {
    action: 'member.removed',
    target: { type: 'user', id: targetUserId },
    details: { role: targetRole },
  });
  return { status: 'changed' };
}

/** The actor leaves the workspace; its last owner cannot (transfer ownership first, or delete it). */
export async function leaveWorkspace(tx: SqlExecutor, auditLog: AuditLog, actor: MemberActor): Promise<MembershipChange> {
  if (actor.role === 'owner' && !(await hasAnotherOwner(tx, actor.userId))) return { status: 'last_owner' };
  await recordWorkspaceEvent(auditLog, tx, actor, {
    action: 'member.left',
    target: { type: 'user', id: actor.userId },
    details: { role: actor.role },
  });
  await tx.query('DELETE FROM rampart.memberships WHERE user_id = $1', [actor.userId]);
  return { status: 'changed' };
}

/** Makes another member the owner; the previous owner becomes an admin. */
export async function transferOwnership(
  tx: SqlExecutor,
  auditLog: AuditLog,
  options: { actor: MemberActor; targetUserId: string; targetRole: Role | null },
): Promise<MembershipChange> {
  const { actor, targetUserId, targetRole } = options;
  if (targetRole === null) return { status: 'not_found' };
  if (targetUserId === actor.userId || actor.role !== 'owner') return { status: 'not_allowed' };
  await tx.query(
    `UPDATE rampart.memberships SET role = CASE WHEN user_id = $1 THEN 'owner' ELSE 'admin' END, updated_at = now()
      WHERE user_id IN ($1, $2)`,
    [targetUserId, actor.userId],
  );
  await recordWorkspaceEvent(auditLog, tx, actor, {
    action: 'workspace.ownership_transferred',
    target: { type: 'user', id: targetUserId },
    details: { previousRole: targetRole },
  });
  return { status: 'changed' };
}
