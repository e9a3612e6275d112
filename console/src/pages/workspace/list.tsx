import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { ListView } from '../../components/list-view';
import { Field } from '../../components/field';
import { Page } from '../../components/page';
import { useAction, useResource } from '../../hooks';
import { ROLE_LABELS } from '../../permissions';
import { Link, navigate } from '../../router';

/** The workspaces the user belongs to, and the way to start a new one. */
export function WorkspacesPage() {
  const workspaces = useResource(() => unwrap(api.GET('/api/workspaces')), 'workspaces');
  return (
    <Page title="Workspaces">
      <ListView resource={workspaces} items={(data) => data.workspaces} empty="You are not in any workspace yet.">
        {(list) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Your role</th>
              </tr>
            </thead>
            <tbody>
              {list.map((workspace) => (
                <tr key={workspace.id}>
                  <td>
                    <Link to={`/workspaces/${workspace.id}/members`}>{workspace.name}</Link>
                  </td>
                  <td>{workspace.role === null ? '—' : ROLE_LABELS[workspace.role]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListView>
      <CreateWorkspaceForm />
    </Page>
  );
}

function CreateWorkspaceForm() {
  const action = useAction();
  const [name, setName] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const created = await action.run(() => unwrap(api.POST('/api/workspaces', { body: { name } })));
    if (created !== undefined) navigate(`/workspaces/${created.id}/members`);
  };
  return (
    <>
      <h2>Create a workspace</h2>
      <form onSubmit={(event) => void submit(event)}>
        <ErrorNotice error={action.error} />
        <Field label="Workspace name" name="name" value={name} onChange={setName} required maxLength={100} autoComplete="off" />
        <div className="actions">
          <button type="submit" className="primary" disabled={action.isPending}>
            Create workspace
          </button>
        </div>
      </form>
    </>
  );
}
