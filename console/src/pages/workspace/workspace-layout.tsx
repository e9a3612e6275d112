/**
 * A workspace's screens share its header and tabs. The tabs a role cannot use are not shown (the
 * permission table decides, as on the server); a workspace the user cannot see is "not found".
 */
import { api, unwrap } from '../../api/client';
import type { Workspace } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { Loading } from '../../components/page';
import { useResource } from '../../hooks';
import { can, ROLE_LABELS, type Permission } from '../../permissions';
import { Link } from '../../router';
import { NotFoundPage } from '../not-found';
import { ApiKeysPage } from './api-keys';
import { AuditLogPage } from './audit-log';
import { InvitationsPage } from './invitations';
import { MembersPage } from './members';
import { WorkspaceSettingsPage } from './settings';

/** What a workspace screen receives: the workspace with the user's role, and a way to re-read it. */
export interface WorkspaceScreenProps {
  workspace: Workspace & { role: NonNullable<Workspace['role']> };
  reloadWorkspace: () => void;
}

const SECTIONS: { section: string; label: string; permission: Permission; render: (props: WorkspaceScreenProps) => React.ReactNode }[] = [
  { section: 'members', label: 'Members', permission: 'members:read', render: (props) => <MembersPage {...props} /> },
  { section: 'invitations', label: 'Invitations', permission: 'invitations:read', render: (props) => <InvitationsPage {...props} /> },
  { section: 'api-keys', label: 'API keys', permission: 'api_keys:read', render: (props) => <ApiKeysPage {...props} /> },
  { section: 'audit-log', label: 'Audit log', permission: 'audit:read', render: (props) => <AuditLogPage {...props} /> },
  { section: 'settings', label: 'Settings', permission: 'workspace:read', render: (props) => <WorkspaceSettingsPage {...props} /> },
];

export function WorkspaceRoutes({ workspaceId, section }: { workspaceId: string; section: string }) {
  const workspace = useResource(() => unwrap(api.GET('/api/workspaces/{ws}', { params: { path: { ws: workspaceId } } })), workspaceId);
  if (workspace.isLoading && workspace.data === undefined) return <Loading />;
  if (workspace.data === undefined || workspace.data.role === null) {
    return workspace.error ? <ErrorNotice error={workspace.error} /> : <NotFoundPage />;
  }
  const props: WorkspaceScreenProps = {
    workspace: { ...workspace.data, role: workspace.data.role },
    reloadWorkspace: workspace.reload,
  };
  const visible = SECTIONS.filter((entry) => can(props.workspace.role, entry.permission));
  const current = visible.find((entry) => entry.section === section);
  return (
    <div className="workspace">
      <div className="workspace-header">
        <p className="workspace-name">
          {props.workspace.name} <span className="role-badge">{ROLE_LABELS[props.workspace.role]}</span>
        </p>
        <nav aria-label="Workspace" className="tabs">
          {visible.map((entry) => (
            <Link key={entry.section} to={`/workspaces/${workspaceId}/${entry.section}`} aria-current={entry.section === section ? 'page' : undefined}>
              {entry.label}
            </Link>
          ))}
        </nav>
      </div>
      {current ? current.render(props) : <NotFoundPage />}
    </div>
  );
}
