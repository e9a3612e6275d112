import type { AuditLog } from '../audit/index.js';
import { emailLookupKey, type RequestOrigin } from '../auth/account-services.js';
import { continueInWorkspace, type Database } from '../db/database.js';
import type { SqlExecutor } from '../db/driver.js';
import { generateToken, hashToken, isTokenShaped } from '../crypto/tokens.js';
import { recordWorkspaceEvent, type MemberActor } from './actor.js';
import { hasRoleAtLeast, type AssignableRole, type Role } from './permissions.js';

/** How long an invitation link works. */
export const INVITATION_LIFETIME_DAYS = 7;

export interface Invitation {
  id: string;
  email: string;
  role: AssignableRole;
  invitedBy: string | null;
  createdAt: Date;
  sentAt: Date;
  expiresAt: Date;
}

export type InvitationIssue =
  | { status: 'issued'; invitation: Invitation; token: string }
  | { status: 'role_too_high' }
  | { status: 'already_member' };

interface InvitationRow {
  id: string;
  email: string;
  role: AssignableRole;
  invited_by: string | null;
  created_at: Date;
  sent_at: Date;
  expires_at: Date;
}

const INVITATION_COLUMNS = 'id, email, role, invited_by, created_at, sent_at, expires_at';

function toInvitation(row: InvitationRow): Invitation {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    invitedBy: row.invited_by,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    expiresAt: row.expires_at,
  };
}

/**
 * Invites an address into the context's workspace with a role up to the inviter's own. Inviting the
 * same address again replaces the pending invitation's token (the old link stops working), role and
 * expiry. Returns the token to email: it is stored only as its hash.
 */
export async function issueInvitation(
  tx: SqlExecutor,
  auditLog: AuditLog,
  options: { actor: MemberActor; email: string; role: AssignableRole },
): Promise<InvitationIssue> {
  const { actor, role } = options;
  if (!hasRoleAtLeast(actor.role, role)) return { status: 'role_too_high' };
  const email = emailLookupKey(options.email);
  const { rows: members } = await tx.query(
    'SELECT 1 FROM rampart.memberships m JOIN rampart.users u ON u.id = m.user_id WHERE lower(u.email) = $1',
    [email],
  );
  if (members.length > 0) return { status: 'already_member' };
  const token = generateToken();
  const { rows } = await tx.query<InvitationRow>(
    `INSERT INTO rampart.invitations (email, role, token_hash, invited_by, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(days => $5))
     ON CONFLICT (workspace_id, email) DO UPDATE
       SET role = excluded.role, token_hash = excluded.token_hash, invited_by = excluded.invited_by,
           sent_at = now(), expires_at = excluded.expires_at
     RETURNING ${INVITATION_COLUMNS}`,
    [email, role, hashToken(token), actor.userId, INVITATION_LIFETIME_DAYS],
  );
  const invitation = toInvitation(rows[0]!);
  const isResent = invitation.createdAt.getTime() !== invitation.sentAt.getTime();
  await recordWorkspaceEvent(auditLog, tx, actor, {
    action: isResent ? 'invitation.resent' : 'invitation.created',
    target: { type: 'invitation', id: invitation.id },
    details: { email, role },
  });
  return { status: 'issued', invitation, token };
}

/** The context workspace's pending invitations (expired ones included, marked by `expiresAt`), newest first. */
export async function listInvitations(tx: SqlExecutor): Promise<Invitation[]> {
  const { rows } = await tx.query<InvitationRow>(
    `SELECT ${INVITATION_COLUMNS} FROM rampart.invitations ORDER BY sent_at DESC, id`,
  );
  return rows.map(toInvitation);
}

/** Revokes a pending invitation of the context's workspace; false when there is no such invitation there. */
export async function revokeInvitation(
  tx: SqlExecutor,
  auditLog: AuditLog,
  options: { actor: MemberActor; invitationId: string },
): Promise<boolean> {
  const { rows } = await tx.query<{ email: string; role: string }>(
    'DELETE FROM rampart.invitations WHERE id = $1 RETURNING email, role',
    [options.invitationId],
  );
  const revoked = rows[0];
  if (revoked === undefined) return false;
  await recordWorkspaceEvent(auditLog, tx, options.actor, {
    action: 'invitation.revoked',
    target: { type: 'invitation', id: options.invitationId },
    details: { email: revoked.email, role: revoked.role },
  });
  return true;
}

export type InvitationAcceptance =
  | { status: 'accepted'; workspace: { id: string; name: string; role: Role } }
  /** Unknown, malformed, used, revoked, expired, or its workspace deleted: one answer for all. */
  | { status: 'invalid' }
  | { status: 'email_not_verified' }
  | { status: 'email_mismatch' }
  | { status: 'already_member' };

/**
 * Accepts an invitation for the signed-in user: the invitation is bound to the address it was sent
 * to, and that address must be the user's, verified. Single use: the invitation is deleted as the
 * membership is created, in one transaction.
 */
export async function acceptInvitation(
  database: Database,
  auditLog: AuditLog,
  options: { user: { id: string; email: string; emailVerified: boolean }; token: string; origin: RequestOrigin },
): Promise<InvitationAcceptance> {
  const { user, token } = options;
  if (!isTokenShaped(token)) return { status: 'invalid' };
  const tokenHash = hashToken(token);
  // The lookup key opens the one invitation whose token was presented; the rest of the transaction
  // then acts inside that invitation's workspace.
  return database.withTenant({ userId: user.id, lookupKey: tokenHash }, async (tx): Promise<InvitationAcceptance> => {
    const { rows } = await tx.query<{ workspace_id: string; id: string; email: string; invited_by: string | null; is_expired: boolean }>(
      `SELECT workspace_id, id, email, invited_by, expires_at <= now() AS is_expired
         FROM rampart.invitations WHERE token_hash = $1`,
      [tokenHash],
    );
    const invitation = rows[0];
    if (invitation === undefined || invitation.is_expired) return { status: 'invalid' as const };
    if (!user.emailVerified) return { status: 'email_not_verified' as const };
    if (invitation.email !== emailLookupKey(user.email)) return { status: 'email_mismatch' as const };

    await continueInWorkspace(tx, invitation.workspace_id);
    const { rows: workspaces } = await tx.query<{ name: string }>(
      'SELECT name FROM rampart.workspaces WHERE deleted_at IS NULL',
    );
    const workspace = workspaces[0];
    if (workspace === undefined) return { status: 'invalid' as const };
    const { rows: existing } = await tx.query('SELECT 1 FROM rampart.memberships WHERE user_id = $1', [user.id]);
    if (existing.length > 0) return { status: 'already_member' as const };

    // Consumed first, and only as presented: of two requests accepting the same link at once, the
    // second waits on this row and then finds it gone; a link replaced meanwhile (sent again) no
    // longer matches. The role is the one of the row consumed.
    const { rows: consumed } = await tx.query<{ role: AssignableRole }>(
      'DELETE FROM rampart.invitations WHERE id = $1 AND token_hash = $2 AND expires_at > now() RETURNING role',
      [invitation.id, tokenHash],
    );
    const role = consumed[0]?.role;
    if (role === undefined) return { status: 'invalid' };
    // The invitation is worth what its sender still is: an inviter since removed, or demoted below
    // the role they offered, cannot bring anyone in (no way back in for a removed admin). Such an
    // invitation is void: it stays consumed.
    const { rows: inviter } = await tx.query<{ role: Role }>('SELECT role FROM rampart.memberships WHERE user_id = $1', [
      invitation.invited_by,
    ]);
    if (inviter[0] === undefined || !hasRoleAtLeast(inviter[0].role, role)) return { status: 'invalid' };
    await tx.query('INSERT INTO rampart.memberships (user_id, role) VALUES ($1, $2)', [user.id, role]);
    const actor: MemberActor = { workspaceId: invitation.workspace_id, userId: user.id, role, origin: options.origin };
    await recordWorkspaceEvent(auditLog, tx, actor, {
      action: 'member.joined',
      target: { type: 'invitation', id: invitation.id },
      details: { role, invitedBy: invitation.invited_by },
    });
    return { status: 'accepted' as const, workspace: { id: invitation.workspace_id, name: workspace.name, role } };
  });
}
