import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { publicLink, type AccountServices } from '../../auth/account-services.js';
import { invitationMessage } from '../../mail/index.js';
import { AppError } from '../../server/errors.js';
import {
  acceptInvitation,
  ASSIGNABLE_ROLES,
  changeMemberRole,
  createWorkspace,
  deleteWorkspace,
  issueInvitation,
  leaveWorkspace,
  listInvitations,
  listMembers,
  listWorkspacesOfUser,
  readWorkspace,
  removeMember,
  revokeInvitation,
  renameWorkspace,
  ROLES,
  setWorkspaceMfaPolicy,
  transferOwnership,
  type Invitation,
  type MembershipChange,
  type Role,
  type WorkspaceSummary,
} from '../../workspaces/index.js';
import { emailSchema, tokenSchema } from '../schemas.js';
import { requestOrigin, type SessionGuard } from '../session-guard.js';
import { requirePermission, type WorkspaceAccess } from '../workspace-guard.js';

export interface WorkspaceRoutesOptions {
  services: AccountServices;
  requireSession: SessionGuard;
  access: WorkspaceAccess;
}

/**
 * A workspace name: trimmed, 1 to 100 characters of single-line text — no control characters (line
 * breaks included), no line or paragraph separators, no bidirectional overrides (which make a name
 * in an email read differently from what it is), no lone surrogates. The migration's check refuses
 * the same set.
 */
const workspaceNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((value) => value.isWellFormed() && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u.test(value), {
    error: 'must be single-line text without control characters',
  });

const roleSchema = z.enum(ROLES);
const assignableRoleSchema = z.enum(ASSIGNABLE_ROLES, { error: `must be one of ${ASSIGNABLE_ROLES.join(', ')} (ownership moves by transfer)` });

/** Workspace routes read nothing from the query string: any parameter there is refused, not ignored. */
const noQuery = z.strictObject({});
const workspaceParams = z.strictObject({ ws: z.uuid() });
const memberParams = z.strictObject({ ws: z.uuid(), userId: z.uuid() });
const invitationParams = z.strictObject({ ws: z.uuid(), id: z.uuid() });

const workspaceSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  /** Null for a platform super-admin's read-only access. */
  role: roleSchema.nullable(),
  /** Members must have signed in with a second factor to use it (else 403 MFA_REQUIRED). */
  mfaRequired: z.boolean(),
  createdAt: z.iso.datetime(),
});

function toWorkspaceBody(workspace: WorkspaceSummary, role: Role | null): z.infer<typeof workspaceSchema> {
  return { id: workspace.id, name: workspace.name, role, mfaRequired: workspace.mfaRequired, createdAt: workspace.createdAt.toISOString() };
}
const memberSchema = z.object({
  userId: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  joinedAt: z.iso.datetime(),
});
const invitationSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  role: assignableRoleSchema,
  invitedBy: z.uuid().nullable(),
  createdAt: z.iso.datetime(),
  sentAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});

function toInvitationBody(invitation: Invitation): z.infer<typeof invitationSchema> {
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    invitedBy: invitation.invitedBy,
    createdAt: invitation.createdAt.toISOString(),
    sentAt: invitation.sentAt.toISOString(),
    expiresAt: invitation.expiresAt.toISOString(),
  };
}

/** The answer for a refused membership change; nothing was changed. */
function throwUnlessChanged(result: MembershipChange): void {
  if (result.status === 'changed') return;
  if (result.status === 'not_found') throw new AppError('NOT_FOUND', { publicMessage: 'No such member.' });
  if (result.status === 'last_owner') throw new AppError('LAST_OWNER');
  throw new AppError('ROLE_NOT_ALLOWED');
}

/**
 * `/api/workspaces…` and `/api/invitations/accept`. Every route needs a session; every route under
 * `/api/workspaces/:ws` declares its action of the permission table and does its work through
 * `WorkspaceAccess`, which loads the caller's role in the statement that enters the workspace and
 * checks it before any work.
 */
export const workspaceRoutes: FastifyPluginAsyncZod<WorkspaceRoutesOptions> = async (app, { services, requireSession, access }) => {
  app.addHook('preValidation', requireSession);
  const { auditLog, database } = services;

  app.get(
    '/api/workspaces',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'The workspaces the user belongs to, with their role',
        querystring: noQuery,
        response: { 200: z.object({ workspaces: z.array(workspaceSchema) }) },
      },
    },
    async (request) => {
      const workspaces = await listWorkspacesOfUser(database, request.auth!.user.id);
      return { workspaces: workspaces.map((workspace) => toWorkspaceBody(workspace, workspace.role)) };
    },
  );

  app.post(
    '/api/workspaces',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Create a workspace; the creator becomes its owner (needs a verified email)',
        body: z.strictObject({ name: workspaceNameSchema }),
        response: { 201: workspaceSchema },
      },
    },
    async (request, reply) => {
      const { user } = request.auth!;
      if (!user.emailVerified) throw new AppError('EMAIL_NOT_VERIFIED');
      const workspace = await createWorkspace(database, auditLog, { userId: user.id, name: request.body.name, origin: requestOrigin(request) });
      return reply.code(201).send(toWorkspaceBody(workspace, 'owner'));
    },
  );

  app.get(
    '/api/workspaces/:ws',
    {
      ...requirePermission('workspace:read'),
      schema: { tags: ['workspaces'], summary: 'A workspace and your role in it', params: workspaceParams, querystring: noQuery, response: { 200: workspaceSchema } },
    },
    (request) => {
      // With an API key, the statement that authenticated it has read the workspace already: the
      // key's read costs one round trip in all.
      const key = request.apiKey;
      if (key !== null) return toWorkspaceBody(key.workspace, key.creatorRole);
      return access.asReader(request, async (tx, actor) => {
        const workspace = await readWorkspace(tx);
        return toWorkspaceBody(workspace, actor.role);
      });
    },
  );

  app.patch(
    '/api/workspaces/:ws',
    {
      ...requirePermission('workspace:rename'),
      schema: {
        tags: ['workspaces'],
        summary: 'Rename the workspace',
        params: workspaceParams,
        querystring: noQuery,
        body: z.strictObject({ name: workspaceNameSchema }),
        response: { 200: workspaceSchema },
      },
    },
    (request) =>
      access.asMember(request, async (tx, actor) => {
        const workspace = await renameWorkspace(tx, auditLog, { actor, name: request.body.name });
        return toWorkspaceBody(workspace, actor.role);
      }),
  );

  app.delete(
    '/api/workspaces/:ws',
    {
      ...requirePermission('workspace:delete'),
      schema: {
        tags: ['workspaces'],
        summary: 'Delete the workspace (type its name to confirm); purged after a grace period',
        params: workspaceParams,
        querystring: noQuery,
        body: z.strictObject({ confirmName: z.string().max(200) }),
        response: { 200: z.object({ id: z.uuid(), deletedAt: z.iso.datetime(), purgeAfter: z.iso.datetime() }) },
      },
    },
    async (request) => {
      const result = await access.asMember(request, (tx, actor) => deleteWorkspace(tx, auditLog, { actor, confirmName: request.body.confirmName }));
      if (result.status === 'confirmation_mismatch') {
        throw new AppError('CONFIRMATION_MISMATCH', { publicMessage: 'Type the workspace name exactly to delete it.' });
      }
      if (result.status === 'already_deleted') throw new AppError('NOT_FOUND', { publicMessage: 'No such workspace.' });
      return { id: request.params.ws.toLowerCase(), deletedAt: result.deletedAt.toISOString(), purgeAfter: result.purgeAfter.toISOString() };
    },
  );

  app.get(
    '/api/workspaces/:ws/members',
    {
      ...requirePermission('members:read'),
      schema: {
        tags: ['members'],
        summary: 'The members of the workspace',
        params: workspaceParams,
        querystring: noQuery,
        response: { 200: z.object({ members: z.array(memberSchema) }) },
      },
    },
    async (request) => {
      const members = await access.asReader(request, (tx) => listMembers(tx));
      return { members: members.map((m) => ({ ...m, joinedAt: m.joinedAt.toISOString() })) };
    },
  );

  app.patch(
    '/api/workspaces/:ws/members/:userId',
    {
      ...requirePermission('members:change_role'),
      schema: {
        tags: ['members'],
        summary: 'Change a member\'s role (below your own, to at most your own)',
        params: memberParams,
        querystring: noQuery,
        body: z.strictObject({ role: assignableRoleSchema }),
        response: { 200: z.object({ userId: z.uuid(), role: assignableRoleSchema }) },
      },
    },
    async (request) => {
      const targetUserId = request.params.userId.toLowerCase();
      const result = await access.asMember(
        request,
        (tx, actor, targetRole) => changeMemberRole(tx, auditLog, { actor, targetUserId, targetRole, newRole: request.body.role }),
        { otherUserId: targetUserId, lock: 'update' },
      );
      throwUnlessChanged(result);
      return { userId: targetUserId, role: request.body.role };
    },
  );

  app.delete(
    '/api/workspaces/:ws/members/:userId',
    {
      ...requirePermission('members:remove'),
      schema: { tags: ['members'], summary: 'Remove a member, or leave (your own user id)', params: memberParams, querystring: noQuery },
    },
    async (request, reply) => {
      const targetUserId = request.params.userId.toLowerCase();
      const isLeaving = targetUserId === request.auth!.user.id;
      const result = isLeaving
        ? await access.asMember(request, (tx, actor) => leaveWorkspace(tx, auditLog, actor), { action: 'members:leave', lock: 'update' })
        : await access.asMember(
            request,
            (tx, actor, targetRole) => removeMember(tx, auditLog, { actor, targetUserId, targetRole }),
            { otherUserId: targetUserId, lock: 'update' },
          );
      throwUnlessChanged(result);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/workspaces/:ws/transfer-ownership',
    {
      ...requirePermission('ownership:transfer'),
      schema: {
        tags: ['members'],
        summary: 'Make another member the owner; you become an admin',
        params: workspaceParams,
        querystring: noQuery,
        body: z.strictObject({ userId: z.uuid() }),
        response: { 200: z.object({ ownerId: z.uuid() }) },
      },
    },
    async (request) => {
      const targetUserId = request.body.userId.toLowerCase();
      const result = await access.asMember(
        request,
        (tx, actor, targetRole) => transferOwnership(tx, auditLog, { actor, targetUserId, targetRole }),
        { otherUserId: targetUserId, lock: 'update' },
      );
      throwUnlessChanged(result);
      return { ownerId: targetUserId };
    },
  );

  app.post(
    '/api/workspaces/:ws/invitations',
    {
      // Each invitation sends an email to an address the inviter chooses: a cap per member.
      config: { ...requirePermission('invitations:create').config, rateLimit: { max: 30, windowSeconds: 3600 } },
      schema: {
        tags: ['invitations'],
        summary: 'Invite someone by email with a role up to your own; inviting again sends a new link',
        params: workspaceParams,
        querystring: noQuery,
        body: z.strictObject({ email: emailSchema, role: assignableRoleSchema }),
        response: { 201: invitationSchema },
      },
    },
    async (request, reply) => {
      const { user } = request.auth!;
      const outcome = await access.asMember(request, async (tx, actor) => {
        const issued = await issueInvitation(tx, auditLog, { actor, email: request.body.email, role: request.body.role });
        return issued.status === 'issued' ? { ...issued, workspaceName: (await readWorkspace(tx)).name } : issued;
      });
      if (outcome.status === 'role_too_high') throw new AppError('ROLE_NOT_ALLOWED', { publicMessage: 'You cannot invite with a role above your own.' });
      if (outcome.status === 'already_member') throw new AppError('ALREADY_MEMBER');
      const message = invitationMessage({
        inviterName: user.name,
        workspaceName: outcome.workspaceName,
        role: outcome.invitation.role,
        link: publicLink(services, '/invitations/accept', outcome.token),
      });
      services.background.run('send an invitation email', () => services.mailer.send({ to: outcome.invitation.email, ...message }));
      return reply.code(201).send(toInvitationBody(outcome.invitation));
    },
  );

  app.get(
    '/api/workspaces/:ws/invitations',
    {
      ...requirePermission('invitations:read'),
      schema: {
        tags: ['invitations'],
        summary: 'Pending invitations, newest first',
        params: workspaceParams,
        querystring: noQuery,
        response: { 200: z.object({ invitations: z.array(invitationSchema) }) },
      },
    },
    async (request) => {
      const invitations = await access.asReader(request, (tx) => listInvitations(tx));
      return { invitations: invitations.map(toInvitationBody) };
    },
  );

  app.delete(
    '/api/workspaces/:ws/invitations/:id',
    {
      ...requirePermission('invitations:revoke'),
      schema: { tags: ['invitations'], summary: 'Revoke a pending invitation', params: invitationParams, querystring: noQuery },
    },
    async (request, reply) => {
      const invitationId = request.params.id.toLowerCase();
      const isRevoked = await access.asMember(request, (tx, actor) => revokeInvitation(tx, auditLog, { actor, invitationId }));
      if (!isRevoked) throw new AppError('NOT_FOUND', { publicMessage: 'No such invitation.' });
      return reply.code(204).send();
    },
  );

  app.put(
    '/api/workspaces/:ws/mfa-policy',
    {
      ...requirePermission('workspace:set_mfa_policy'),
      schema: {
        tags: ['workspaces'],
        summary: 'Require (or stop requiring) a second factor of every member; only an owner signed in with one may turn it on',
        params: workspaceParams,
        querystring: noQuery,
        body: z.strictObject({ required: z.boolean() }),
        response: { 200: workspaceSchema },
      },
    },
    (request) =>
      access.asMember(request, async (tx, actor) => {
        // The owner must not lock the workspace behind a factor they do not use themselves.
        if (request.body.required && request.auth!.session.authLevel !== 'multi_factor') {
          throw new AppError('MFA_REQUIRED', { publicMessage: 'Set up a second factor and sign in with it before requiring one of your members.' });
        }
        const workspace = await setWorkspaceMfaPolicy(tx, auditLog, { actor, required: request.body.required });
        return toWorkspaceBody(workspace, actor.role);
      }),
  );

  app.post(
    '/api/invitations/accept',
    {
      config: { rateLimit: { max: 20, windowSeconds: 60 } },
      schema: {
        tags: ['invitations'],
        summary: 'Accept an invitation sent to your (verified) email address',
        querystring: noQuery,
        body: z.strictObject({ token: tokenSchema }),
        response: { 200: z.object({ workspace: workspaceSchema.omit({ createdAt: true, mfaRequired: true }) }) },
      },
    },
    async (request) => {
      const { user } = request.auth!;
      const result = await acceptInvitation(database, auditLog, { user, token: request.body.token, origin: requestOrigin(request) });
      if (result.status === 'invalid') throw new AppError('INVALID_TOKEN');
      if (result.status === 'email_not_verified') throw new AppError('EMAIL_NOT_VERIFIED');
      if (result.status === 'email_mismatch') throw new AppError('INVITATION_EMAIL_MISMATCH');
      if (result.status === 'already_member') throw new AppError('ALREADY_MEMBER');
      return { workspace: result.workspace };
    },
  );
};
