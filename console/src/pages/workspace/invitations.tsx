import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import type { Invitation, Role } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { ListView } from '../../components/list-view';
import { Field, SelectField } from '../../components/field';
import { Notice, Page } from '../../components/page';
import { useAction, useResource } from '../../hooks';
import { ASSIGNABLE_ROLES, can, hasRoleAtLeast, ROLE_LABELS } from '../../permissions';
import { ConfirmButton } from '../../components/confirm-button';
import type { WorkspaceScreenProps } from './workspace-layout';

type InvitableRole = Invitation['role'];

/** An invitation gives a role up to the inviter's own (an admin may invite admins); never ownership. */
function invitableRoles(actor: Role): InvitableRole[] {
  return ASSIGNABLE_ROLES.filter((role) => hasRoleAtLeast(actor, role));
}

export function InvitationsPage({ workspace }: WorkspaceScreenProps) {
  const ws = workspace.id;
  const invitations = useResource(() => unwrap(api.GET('/api/workspaces/{ws}/invitations', { params: { path: { ws } } })), ws);
  // Only to show who sent each invitation by name rather than by user id.
  const members = useResource(() => unwrap(api.GET('/api/workspaces/{ws}/members', { params: { path: { ws } } })), ws);
  // Undefined unless the members of this workspace are loaded: only then does an unknown id mean a former member.
  const loadedMembers = members.isLoading || members.error != null ? undefined : members.data?.members;
  const names = loadedMembers === undefined ? undefined : new Map(loadedMembers.map((member) => [member.userId, member.name]));
  const revoke = useAction();
  const [notice, setNotice] = useState<string>();

  const revokeInvitation = async (invitation: Invitation) => {
    setNotice(undefined);
    const revoked = await revoke.run(() => unwrap(api.DELETE('/api/workspaces/{ws}/invitations/{id}', { params: { path: { ws, id: invitation.id } } })));
    if (revoked !== undefined) {
      setNotice(`The invitation to ${invitation.email} was revoked.`);
      invitations.reload();
    }
  };

  return (
    <Page title="Invitations">
      {can(workspace.role, 'invitations:create') && <InviteForm ws={ws} actor={workspace.role} onSent={invitations.reload} />}
      <h2>Pending invitations</h2>
      {notice !== undefined && <Notice>{notice}</Notice>}
      <ErrorNotice error={revoke.error} />
      <ListView resource={invitations} items={(data) => data.invitations} empty="No invitations are waiting for an answer.">
        {(list) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Invited by</th>
                <th scope="col">Sent</th>
                <th scope="col">Expires</th>
                {can(workspace.role, 'invitations:revoke') && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.map((invitation) => (
                <tr key={invitation.id}>
                  <td>{invitation.email}</td>
                  <td>{ROLE_LABELS[invitation.role]}</td>
                  <td>{invitation.invitedBy === null || names === undefined ? '—' : (names.get(invitation.invitedBy) ?? 'A former member')}</td>
                  <td>{new Date(invitation.sentAt).toLocaleString()}</td>
                  <td>{new Date(invitation.expiresAt).toLocaleString()}</td>
                  {can(workspace.role, 'invitations:revoke') && (
                    <td>
                      <ConfirmButton
                        label={`Revoke invitation to ${invitation.email}`}
                        confirmLabel="Confirm revoke"
                        question="Its link will stop working."
                        disabled={revoke.isPending}
                        onConfirm={() => revokeInvitation(invitation)}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListView>
    </Page>
  );
}

function InviteForm({ ws, actor, onSent }: { ws: string; actor: Role; onSent: () => void }) {
  const roles = invitableRoles(actor);
  const action = useAction();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<InvitableRole>(roles.includes('member') ? 'member' : (roles.at(-1) ?? 'viewer'));
  const [sentTo, setSentTo] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSentTo(undefined);
    const sent = await action.run(() => unwrap(api.POST('/api/workspaces/{ws}/invitations', { params: { path: { ws } }, body: { email, role } })));
    if (sent !== undefined) {
      setSentTo(sent.email);
      setEmail('');
      onSent();
    }
  };
  return (
    <>
      <h2>Invite someone</h2>
      <form onSubmit={(event) => void submit(event)}>
        {sentTo !== undefined && <Notice>Invitation sent to {sentTo}.</Notice>}
        <ErrorNotice error={action.error} />
        <Field label="Email address" type="email" name="email" value={email} onChange={setEmail} required autoComplete="off" />
        <SelectField label="Role" name="role" value={role} onChange={setRole} options={roles.map((value) => ({ value, label: ROLE_LABELS[value] }))} />
        <p className="hint">Inviting an address again sends a new link; the previous one stops working.</p>
        <div className="actions">
          <button type="submit" className="primary" disabled={action.isPending}>
            Send invitation
          </button>
        </div>
      </form>
    </>
  );
}
