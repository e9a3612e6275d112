import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import type { Member, Role } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { ListView } from '../../components/list-view';
import { SelectField } from '../../components/field';
import { Empty, Notice, Page } from '../../components/page';
import { useAction, useResource } from '../../hooks';
import { ASSIGNABLE_ROLES, can, mayManageMember, ROLE_LABELS } from '../../permissions';
import { navigate } from '../../router';
import { useMe } from '../../session';
import { ConfirmButton } from '../../components/confirm-button';
import type { WorkspaceScreenProps } from './workspace-layout';

/**
 * Who is in the workspace. A role select and a remove button appear only on the rows the actor may
 * manage (the server's own rule: below your role, to at most your role; the owner manages anyone),
 * never on the actor's own row: leaving has its own button.
 */
export function MembersPage({ workspace, reloadWorkspace }: WorkspaceScreenProps) {
  const ws = workspace.id;
  const members = useResource(() => unwrap(api.GET('/api/workspaces/{ws}/members', { params: { path: { ws } } })), ws);
  const action = useAction();
  const [notice, setNotice] = useState<string>();

  /** Runs a change, then re-reads the members; resolves to whether it succeeded. */
  const change = async (call: () => Promise<unknown>, success: string): Promise<boolean> => {
    setNotice(undefined);
    // `run` resolves to undefined only on failure (an empty answer is null).
    const done = (await action.run(call)) !== undefined;
    if (done) {
      setNotice(success);
      members.reload();
    }
    return done;
  };

  const list = members.data?.members ?? [];
  return (
    <Page title="Members">
      {notice !== undefined && <Notice>{notice}</Notice>}
      <ErrorNotice error={action.error} />
      <ListView resource={members} items={(data) => data.members} empty="This workspace has no members.">
        {(loaded) => <MembersTable workspace={workspace} members={loaded} change={change} isPending={action.isPending} />}
      </ListView>
      {can(workspace.role, 'ownership:transfer') && members.data !== undefined && (
        <TransferOwnership
          members={list}
          isPending={action.isPending}
          transfer={async (member) => {
            const done = await change(
              () => unwrap(api.POST('/api/workspaces/{ws}/transfer-ownership', { params: { path: { ws } }, body: { userId: member.userId } })),
              `${member.name} is now the owner. You are now an admin.`,
            );
            if (done) reloadWorkspace();
          }}
        />
      )}
      <LeaveWorkspace ws={ws} isOwner={workspace.role === 'owner'} />
    </Page>
  );
}

type Change = (call: () => Promise<unknown>, success: string) => Promise<boolean>;

function MembersTable({
  workspace,
  members,
  change,
  isPending,
}: {
  workspace: WorkspaceScreenProps['workspace'];
  members: readonly Member[];
  change: Change;
  isPending: boolean;
}) {
  const me = useMe();
  const actor = workspace.role;
  const mayManage = (member: Member) => member.userId !== me.id && mayManageMember(actor, member.role);
  const mayRemove = can(actor, 'members:remove');
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Email</th>
          <th scope="col">Role</th>
          <th scope="col">Joined</th>
          {mayRemove && <th scope="col">Actions</th>}
        </tr>
      </thead>
      <tbody>
        {members.map((member) => (
          <tr key={member.userId}>
            <td>
              {member.name}
              {member.userId === me.id && ' (you)'}
            </td>
            <td>{member.email}</td>
            <td>
              {can(actor, 'members:change_role') && mayManage(member) ? (
                <RoleEditor
                  // A new role (saved here or changed elsewhere) starts a new editor, so its draft follows it.
                  key={`${member.userId}:${member.role}`}
                  actor={actor}
                  member={member}
                  isPending={isPending}
                  save={(role) =>
                    change(
                      () => unwrap(api.PATCH('/api/workspaces/{ws}/members/{userId}', { params: { path: { ws: workspace.id, userId: member.userId } }, body: { role } })),
                      `${member.name} is now ${ROLE_LABELS[role]}.`,
                    )
                  }
                />
              ) : (
                ROLE_LABELS[member.role]
              )}
            </td>
            <td>{new Date(member.joinedAt).toLocaleString()}</td>
            {mayRemove && (
              <td>
                {mayManage(member) && (
                  <ConfirmButton
                    label={`Remove ${member.name}`}
                    confirmLabel="Confirm removal"
                    question={`Remove ${member.name} from ${workspace.name}?`}
                    disabled={isPending}
                    onConfirm={() =>
                      change(
                        () => unwrap(api.DELETE('/api/workspaces/{ws}/members/{userId}', { params: { path: { ws: workspace.id, userId: member.userId } } })),
                        `${member.name} was removed from the workspace.`,
                      )
                    }
                  />
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

type AssignableRole = (typeof ASSIGNABLE_ROLES)[number];

function isAssignable(role: Role): role is AssignableRole {
  return (ASSIGNABLE_ROLES as readonly Role[]).includes(role);
}

/**
 * The select changes a draft; "Save role" (shown once the draft differs, so there is one per page at
 * a time) sends it — moving through the options with the keyboard never changes anyone's role.
 */
function RoleEditor({ actor, member, isPending, save }: { actor: Role; member: Member; isPending: boolean; save: (role: AssignableRole) => Promise<boolean> }) {
  const [draft, setDraft] = useState<Role>(member.role);
  const choices: Role[] = ASSIGNABLE_ROLES.filter((role) => mayManageMember(actor, member.role, role));
  // The current role stays listed (an owner's row shows "Owner") even when it cannot be given.
  const options = (choices.includes(member.role) ? choices : [member.role, ...choices]).map((role) => ({ value: role, label: ROLE_LABELS[role] }));
  const submit = async () => {
    if (isAssignable(draft) && !(await save(draft))) setDraft(member.role);
  };
  return (
    <span className="actions">
      <select aria-label={`Role of ${member.name}`} value={draft} onChange={(event) => setDraft(event.target.value as Role)}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {draft !== member.role && isAssignable(draft) && (
        <button type="button" className="primary" onClick={() => void submit()} disabled={isPending}>
          Save role
        </button>
      )}
    </span>
  );
}

function TransferOwnership({ members, isPending, transfer }: { members: Member[]; isPending: boolean; transfer: (member: Member) => Promise<void> }) {
  const me = useMe();
  const others = members.filter((member) => member.userId !== me.id);
  const [userId, setUserId] = useState('');
  const [isAsking, setAsking] = useState(false);
  const chosen = others.find((member) => member.userId === userId);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (chosen) setAsking(true);
  };
  const confirm = async () => {
    if (!chosen) return;
    await transfer(chosen);
    setAsking(false);
    setUserId('');
  };
  return (
    <>
      <h2>Transfer ownership</h2>
      {others.length === 0 ? (
        <Empty>There is nobody else to make the owner yet. Invite someone first.</Empty>
      ) : (
        <form onSubmit={submit}>
          <p className="hint">The new owner gets every right over the workspace; you become an admin.</p>
          <SelectField
            label="New owner"
            name="userId"
            value={userId}
            onChange={(value) => {
              setUserId(value);
              setAsking(false);
            }}
            options={[{ value: '', label: 'Choose a member…' }, ...others.map((member) => ({ value: member.userId, label: `${member.name} (${member.email})` }))]}
          />
          {isAsking && chosen ? (
            <div className="actions">
              <span>Make {chosen.name} the owner of this workspace?</span>
              <button type="button" className="danger" onClick={() => void confirm()} disabled={isPending} autoFocus>
                Confirm transfer
              </button>
              <button type="button" onClick={() => setAsking(false)}>
                Cancel
              </button>
            </div>
          ) : (
            <div className="actions">
              <button type="submit" disabled={chosen === undefined || isPending}>
                Transfer ownership
              </button>
            </div>
          )}
        </form>
      )}
    </>
  );
}

/** Everyone may leave; the last owner is refused by the server (LAST_OWNER), which says what to do. */
function LeaveWorkspace({ ws, isOwner }: { ws: string; isOwner: boolean }) {
  const me = useMe();
  const action = useAction();
  const leave = async () => {
    const left = await action.run(() => unwrap(api.DELETE('/api/workspaces/{ws}/members/{userId}', { params: { path: { ws, userId: me.id } } })));
    if (left !== undefined) navigate('/workspaces');
  };
  return (
    <>
      <h2>Leave this workspace</h2>
      {isOwner && <p className="hint">As the owner, transfer ownership to another member before you leave.</p>}
      <ErrorNotice error={action.error} />
      <div className="actions">
        <ConfirmButton label="Leave workspace" confirmLabel="Confirm leaving" question="You will lose access until someone invites you again." disabled={action.isPending} onConfirm={leave} />
      </div>
    </>
  );
}
