import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/index.js';
import type { RequestOrigin } from '../auth/account-services.js';
import type { Database } from '../db/database.js';
import type { SqlExecutor } from '../db/driver.js';
import { recordWorkspaceEvent, type MemberActor, type WorkspaceActor } from './actor.js';
import type { Role } from './permissions.js';

/** How long a deleted workspace is kept, unreachable, before the purge may remove it. */
export const WORKSPACE_DELETION_GRACE_DAYS = 30;

export interface WorkspaceSummary {
  id: string;
  name: string;
  /** Members must have signed in with a second factor to use the workspace. */
  mfaRequired: boolean;
  createdAt: Date;
}

/**
 * Creates a workspace with its creator as the Owner, and records it in the new workspace's log.
 *
 * @example
 * const workspace = await createWorkspace(database, auditLog, { userId, name: 'Acme', origin });
 */
export async function createWorkspace(
  database: Database,
  auditLog: AuditLog,
  options: { userId: string; name: string; origin: RequestOrigin },
): Promise<WorkspaceSummary> {
  const workspaceId = randomUUID();
  return database.withTenant({ workspaceId, userId: options.userId }, async (tx) => {
    const { rows } = await tx.query<{ created_at: Date }>(
      'INSERT INTO rampart.workspaces (workspace_id, name) VALUES ($1, $2) RETURNING created_at',
      [workspaceId, options.name],
    );
    await tx.query(`INSERT INTO rampart.memberships (workspace_id, user_id, role) VALUES ($1, $2, 'owner')`, [
      workspaceId,
      options.userId,
    ]);
    const actor: MemberActor = { workspaceId, userId: options.userId, role: 'owner', origin: options.origin };
    await recordWorkspaceEvent(auditLog, tx, actor, {
      action: 'workspace.created',
      target: { type: 'workspace', id: workspaceId },
      details: { name: options.name },
    });
    return { id: workspaceId, name: options.name, mfaRequired: false, createdAt: rows[0]!.created_at };
  });
}

/** The workspaces a user belongs to (deleted ones excluded), oldest first, with their role. */
export async function listWorkspacesOfUser(database: Database, userId: string): Promise<(WorkspaceSummary & { role: Role })[]> {
  return database.withTenant({ userId }, async (tx) => {
    // RLS: in the account context a user sees only their own memberships and those workspaces.
    const { rows } = await tx.query<{ id: string; name: string; role: Role; mfa_required: boolean; created_at: Date }>(
      `SELECT w.workspace_id AS id, w.name, m.role, w.mfa_required, w.created_at
         FROM rampart.memberships m JOIN rampart.workspaces w ON w.workspace_id = m.workspace_id
        WHERE m.user_id = $1 AND w.deleted_at IS NULL
        ORDER BY w.created_at, w.workspace_id`,
      [userId],
    );
    return rows.map((row) => ({ id: row.id, name: row.name, role: row.role, mfaRequired: row.mfa_required, createdAt: row.created_at }));
  });
}

/**
 * The workspace of the transaction's context (RLS shows no other). `forUpdate` holds it until the
 * transaction ends, so a rename or deletion judges the name it then changes.
 */
export async function readWorkspace(tx: SqlExecutor, options: { forUpdate?: boolean } = {}): Promise<WorkspaceSummary> {
  const { rows } = await tx.query<{ id: string; name: string; mfa_required: boolean; created_at: Date }>(
    `SELECT workspace_id AS id, name, mfa_required, created_at FROM rampart.workspaces${options.forUpdate === true ? ' FOR UPDATE' : ''}`,
  );
  const row = rows[0]!;
  return { id: row.id, name: row.name, mfaRequired: row.mfa_required, createdAt: row.created_at };
}

export async function renameWorkspace(
  tx: SqlExecutor,
  auditLog: AuditLog,
  options: { actor: WorkspaceActor; name: string },
): Promise<WorkspaceSummary> {
  const before = await readWorkspace(tx, { forUpdate: true });
  if (before.name === options.name) return before;
  await tx.query('UPDATE rampart.workspaces SET name = $1, updated_at = now()', [options.name]);
  await recordWorkspaceEvent(auditLog, tx, options.actor, {
    action: 'workspace.renamed',
    target: { type: 'workspace', id: before.id },
    details: { from: before.name, to: options.name },
  });
  return { ...before, name: options.name };
}

/**
 * Turns the requirement of a second factor for the workspace's members on or off. Whoever turns it
 * on must be signed in with a second factor themselves (the route checks it before calling).
 */
export async function setWorkspaceMfaPolicy(
  tx: SqlExecutor,
  auditLog: AuditLog,
  options: { actor: WorkspaceActor; required: boolean },
): Promise<WorkspaceSummary> {
  const before = await readWorkspace(tx, { forUpdate: true });
  if (before.mfaRequired === options.required) return before;
  await tx.query('UPDATE rampart.workspaces SET mfa_required = $1, updated_at = now()', [options.required]);
  await recordWorkspaceEvent(auditLog, tx, options.actor, {
    action: 'workspace.mfa_policy_changed',
    target: { type: 'workspace', id: before.id },
    details: { required: options.required },
  });
  return { ...before, mfaRequired: options.required };
}

export type WorkspaceDeletion =
  | { status: 'deleted'; deletedAt: Date; purgeAfter: Date }
  | { status: 'confirmation_mismatch' }
  /** A concurrent request deleted it first. */
  | { status: 'already_deleted' };

/**
 * Soft-deletes the workspace of the context: from now on no route reaches it, and after the grace
 * period the purge may remove it. The caller must type the workspace's name back, exactly.
 */
export async function deleteWorkspace(
  tx: SqlExecutor,
  auditLog: AuditLog,
  options: { actor: WorkspaceActor; confirmName: string },
): Promise<WorkspaceDeletion> {
  const workspace = await readWorkspace(tx, { forUpdate: true });
  if (workspace.name !== options.confirmName) return { status: 'confirmation_mismatch' };
  const { rows } = await tx.query<{ deleted_at: Date; purge_after: Date }>(
    `UPDATE rampart.workspaces
        SET deleted_at = now(), purge_after = now() + make_interval(days => $1), updated_at = now()
      WHERE deleted_at IS NULL
      RETURNING deleted_at, purge_after`,
    [WORKSPACE_DELETION_GRACE_DAYS],
  );
  const row = rows[0];
  if (row === undefined) return { status: 'already_deleted' };
  await recordWorkspaceEvent(auditLog, tx, options.actor, {
    action: 'workspace.deleted',
    target: { type: 'workspace', id: workspace.id },
    details: { name: workspace.name, purgeAfter: row.purge_after.toISOString() },
  });
  return { status: 'deleted', deletedAt: row.deleted_at, purgeAfter: row.purge_after };
}
