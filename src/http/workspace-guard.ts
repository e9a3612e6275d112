import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditOrigin, type AccountServices } from '../auth/account-services.js';
import type { SqlExecutor } from '../db/driver.js';
import type { WorkspaceLock } from '../db/database.js';
import { isUuid } from '../db/uuid.js';
import { AppError } from '../server/errors.js';
import {
  hasRoleAtLeast,
  isOpenToPlatformAdmin,
  isPermission,
  isRole,
  minimumRoleFor,
  recordWorkspaceEvent,
  type MemberActor,
  type Permission,
  type Role,
  type WorkspaceActor,
} from '../workspaces/index.js';
import { requestOrigin } from './session-guard.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The action of the permission table a workspace route performs (see `requirePermission`). */
    permission?: Permission;
  }
}

/** Every route under this prefix acts inside the workspace its path names. */
export const WORKSPACE_ROUTE_PREFIX = '/api/workspaces/:ws';
/** Any route with a parameter right after `/api/workspaces/` is a workspace route, whatever its name. */
const WORKSPACE_ROUTE_PATTERN = /^\/api\/workspaces\/:/;

/**
 * Declares the action of the permission table a workspace route performs. The route's handler enters
 * the workspace through `WorkspaceAccess`, which checks the caller's role against that action in the
 * same statement that loads it; a route under `/api/workspaces/:ws` without a declared action is
 * refused when it is registered (`collectWorkspaceRoutes`).
 *
 * @example
 * app.get('/api/workspaces/:ws/members', { ...requirePermission('members:read'), schema }, (request) =>
 *   access.asMember(request, (tx) => listMembers(tx)));
 */
export function requirePermission(action: Permission): { config: { permission: Permission } } {
  return { config: { permission: action } };
}

export interface WorkspaceRoute {
  method: string;
  url: string;
  permission: Permission;
}

/**
 * Registers an `onRoute` hook that refuses any workspace route which does not declare its action, and
 * returns the list of workspace routes (filled as they are registered): the attack matrix is
 * generated from it, so a new route is covered without a new test.
 */
export function collectWorkspaceRoutes(app: FastifyInstance): readonly WorkspaceRoute[] {
  const routes: WorkspaceRoute[] = [];
  app.addHook('onRoute', (route) => {
    if (!WORKSPACE_ROUTE_PATTERN.test(route.url)) return;
    if (route.url !== WORKSPACE_ROUTE_PREFIX && !route.url.startsWith(`${WORKSPACE_ROUTE_PREFIX}/`)) {
      throw new Error(`${route.url}: a workspace route names its workspace parameter :ws`);
    }
    const permission = route.config?.permission;
    if (!isPermission(permission)) {
      throw new Error(`${String(route.method)} ${route.url} must declare its action with requirePermission(…)`);
    }
    for (const method of [route.method].flat()) {
      // Fastify adds a HEAD route for every GET; it runs the GET's handler.
      if (method !== 'HEAD') routes.push({ method, url: route.url, permission });
    }
  });
  return routes;
}

/** The workspace of the route's path, in canonical form; anything but a UUID names no workspace. */
function workspaceIdOf(request: FastifyRequest): string {
  const { ws } = request.params as { ws?: unknown };
  if (typeof ws !== 'string' || !isUuid(ws)) throw new AppError('NOT_FOUND', { publicMessage: 'No such workspace.' });
  return ws.toLowerCase();
}

function declaredPermission(request: FastifyRequest): Permission {
  const permission = request.routeOptions.config.permission;
  if (permission === undefined) throw new TypeError(`${request.routeOptions.url} declares no permission`);
  return permission;
}

/**
 * The answer of a workspace that requires MFA to a member whose session has no second factor: after
 * the membership check (a non-member still gets 404 and learns nothing of the policy), before the
 * role check. Enrolling a factor, or stepping up with one, lifts it.
 */
function mfaRequired(): AppError {
  return new AppError('MFA_REQUIRED', {
    publicMessage: 'This workspace requires a second factor: set up an authenticator app or a passkey, or confirm with yours (POST /api/auth/step-up).',
  });
}

export interface EnterOptions {
  /** Another member whose role is loaded (and, with lock 'update', locked) with the caller's. */
  otherUserId?: string;
  /** Default: 'none' for GET and HEAD, 'share' for every other method. */
  lock?: WorkspaceLock;
  /** An action other than the route's own, when one route performs two (leaving vs removing). */
  action?: Permission;
}

/**
 * Entering a workspace: one transaction whose first statement sets the context and loads the
 * caller's membership (and, when asked, another member's), then the permission check, then the
 * route's work. A workspace the caller does not belong to — another tenant's, a deleted or a
 * nonexistent one — is 404 whatever it holds; a member whose role is below the action's is 403.
 */
export class WorkspaceAccess {
  constructor(private readonly services: AccountServices) {}

  /** Runs `fn` as a member whose role allows the route's action. */
  asMember<T>(
    request: FastifyRequest,
    fn: (tx: SqlExecutor, actor: MemberActor, otherRole: Role | null) => Promise<T>,
    options: EnterOptions = {},
  ): Promise<T> {
    return this.enter(request, options, false, (tx, actor, otherRole) => fn(tx, actor as MemberActor, otherRole));
  }

  /**
   * Runs `fn` as a member whose role allows the route's action, or as a platform super-admin who is
   * not a member when the action is open to one (reads only); that use is recorded in the
   * workspace's log and in the platform log, in this transaction.
   */
  asReader<T>(request: FastifyRequest, fn: (tx: SqlExecutor, actor: WorkspaceActor) => Promise<T>, options: EnterOptions = {}): Promise<T> {
    return this.enter(request, options, true, (tx, actor) => fn(tx, actor));
  }

  private enter<T>(
    request: FastifyRequest,
    options: EnterOptions,
    isPlatformAdminWelcome: boolean,
    fn: (tx: SqlExecutor, actor: WorkspaceActor, otherRole: Role | null) => Promise<T>,
  ): Promise<T> {
    if (request.apiKey !== null) return this.enterWithApiKey(request, options, fn);
    const auth = request.auth;
    if (auth === null) throw new TypeError('enter a workspace after the session guard');
    const action = options.action ?? declaredPermission(request);
    const workspaceId = workspaceIdOf(request);
    const isRead = request.method === 'GET' || request.method === 'HEAD';
    const { database, auditLog } = this.services;
    return database.withWorkspace(
      { workspaceId, userId: auth.user.id, lock: options.lock ?? (isRead ? 'none' : 'share'), otherUserId: options.otherUserId },
      async (tx, access) => {
        const origin = requestOrigin(request);
        const otherRole = isRole(access.otherRole) ? access.otherRole : null;
        if (!access.isWorkspaceActive) throw new AppError('NOT_FOUND', { publicMessage: 'No such workspace.' });
        const isMfaMissing = access.requiresMfa && auth.session.authLevel !== 'multi_factor';
        if (isRole(access.role)) {
          if (isMfaMissing) throw mfaRequired();
          if (!hasRoleAtLeast(access.role, minimumRoleFor(action))) throw new AppError('INSUFFICIENT_ROLE');
          return fn(tx, { workspaceId, userId: auth.user.id, role: access.role, origin }, otherRole);
        }
        if (!(isPlatformAdminWelcome && access.isPlatformAdmin && isOpenToPlatformAdmin(action))) {
          throw new AppError('NOT_FOUND', { publicMessage: 'No such workspace.' });
        }
        if (isMfaMissing) throw mfaRequired();
        const actor: WorkspaceActor = { workspaceId, userId: auth.user.id, role: null, origin };
        // The workspace's chain first, then the platform's: always in this order, so two such
        // transactions never wait on each other's heads.
        const details = { action, route: `${request.method} ${request.routeOptions.url ?? ''}` };
        await recordWorkspaceEvent(auditLog, tx, actor, { action: 'platform.workspace_accessed', details });
        await auditLog.record(tx, {
          action: 'platform.workspace_accessed',
          actor: { type: 'super_admin', id: auth.user.id },
          scope: { platform: true },
          target: { type: 'workspace', id: workspaceId },
          origin: auditOrigin(origin),
          details,
        });
        return fn(tx, actor, otherRole);
      },
    );
  }

  /**
   * Entering with an API key (already checked for its workspace and scopes by the key guard): the
   * transaction loads — and, for writes, holds — the creator's membership, as for the creator's own
   * requests, so a removal or demotion committed meanwhile is not outrun. The key is the audit actor.
   */
  private enterWithApiKey<T>(
    request: FastifyRequest,
    options: EnterOptions,
    fn: (tx: SqlExecutor, actor: WorkspaceActor, otherRole: Role | null) => Promise<T>,
  ): Promise<T> {
    const key = request.apiKey!;
    const action = options.action ?? declaredPermission(request);
    const isRead = request.method === 'GET' || request.method === 'HEAD';
    return this.services.database.withWorkspace(
      { workspaceId: key.workspaceId, userId: key.createdBy, lock: options.lock ?? (isRead ? 'none' : 'share'), otherUserId: options.otherUserId },
      async (tx, access) => {
        if (!access.isWorkspaceActive || !isRole(access.role)) throw new AppError('INVALID_API_KEY');
        if (!hasRoleAtLeast(access.role, minimumRoleFor(action))) {
          throw new AppError('INSUFFICIENT_SCOPE', { publicMessage: `The member who created this key no longer has a role that allows ${action}.` });
        }
        const actor: MemberActor = { workspaceId: key.workspaceId, userId: key.createdBy, role: access.role, origin: requestOrigin(request), apiKeyId: key.id };
        return fn(tx, actor, isRole(access.otherRole) ? access.otherRole : null);
      },
    );
  }

}
