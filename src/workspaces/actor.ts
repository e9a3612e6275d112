import type { AuditAction, AuditActor, AuditLog, JsonValue } from '../audit/index.js';
import { auditOrigin, type RequestOrigin } from '../auth/account-services.js';
import type { SqlExecutor } from '../db/driver.js';
import type { Role } from './permissions.js';

/**
 * Who acts inside a workspace, as established by entering it (`Database.withWorkspace`): a member
 * with their role, or a platform super-admin without a membership (`role: null`, read-only).
 */
export interface WorkspaceActor {
  workspaceId: string;
  userId: string;
  role: Role | null;
  origin: RequestOrigin;
  /** Set when the request was authenticated by an API key: the key is the audit actor, `userId` its creator. */
  apiKeyId?: string;
}

/** A member acting with a role (every action but the super-admin's read-only access). */
export type MemberActor = WorkspaceActor & { role: Role };

export function auditActorOf(actor: WorkspaceActor): AuditActor {
  if (actor.apiKeyId !== undefined) return { type: 'api_key', id: actor.apiKeyId };
  return actor.role === null ? { type: 'super_admin', id: actor.userId } : { type: 'user', id: actor.userId };
}

/** Records an event in the workspace's log, inside the action's transaction (context: that workspace). */
export async function recordWorkspaceEvent(
  auditLog: AuditLog,
  tx: SqlExecutor,
  actor: WorkspaceActor,
  event: { action: AuditAction; target?: { type: string; id: string }; details?: { [key: string]: JsonValue } },
): Promise<void> {
  await auditLog.record(tx, {
    action: event.action,
    actor: auditActorOf(actor),
    scope: { workspaceId: actor.workspaceId },
    origin: auditOrigin(actor.origin),
    ...(event.target === undefined ? {} : { target: event.target }),
    ...(event.details === undefined ? {} : { details: event.details }),
  });
}
