/**
 * Workspaces, their members and invitations, and the permission table that says who may do what.
 *
 * @example
 * import { createWorkspace, PERMISSIONS } from './workspaces/index.js';
 */
export { auditActorOf, recordWorkspaceEvent, type MemberActor, type WorkspaceActor } from './actor.js';
export {
  acceptInvitation,
  INVITATION_LIFETIME_DAYS,
  issueInvitation,
  listInvitations,
  revokeInvitation,
  type Invitation,
  type InvitationAcceptance,
  type InvitationIssue,
} from './invitations.js';
export {
  changeMemberRole,
  leaveWorkspace,
  listMembers,
  removeMember,
  transferOwnership,
  type Member,
  type MembershipChange,
  type MembershipRefusal,
} from './members.js';
export {
  ASSIGNABLE_ROLES,
  hasRoleAtLeast,
  isOpenToPlatformAdmin,
  isPermission,
  isRole,
  mayManageMember,
  minimumRoleFor,
  permissionTableMarkdown,
  PERMISSIONS,
  ROLES,
  roleRank,
  type AssignableRole,
  type Permission,
  type Role,
} from './permissions.js';
export {
  createWorkspace,
  deleteWorkspace,
  listWorkspacesOfUser,
  readWorkspace,
  renameWorkspace,
  setWorkspaceMfaPolicy,
  WORKSPACE_DELETION_GRACE_DAYS,
  type WorkspaceDeletion,
  type WorkspaceSummary,
} from './workspaces.js';
