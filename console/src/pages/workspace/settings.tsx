import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Field } from '../../components/field';
import { Notice, Page } from '../../components/page';
import { useAction } from '../../hooks';
import { can } from '../../permissions';
import { navigate } from '../../router';
import type { WorkspaceScreenProps } from './workspace-layout';

export function WorkspaceSettingsPage({ workspace, reloadWorkspace }: WorkspaceScreenProps) {
  return (
    <Page title="Settings">
      {can(workspace.role, 'workspace:rename') && <RenameForm ws={workspace.id} current={workspace.name} onSaved={reloadWorkspace} />}
      <MfaPolicy ws={workspace.id} isRequired={workspace.mfaRequired} mayChange={can(workspace.role, 'workspace:set_mfa_policy')} onSaved={reloadWorkspace} />
      {can(workspace.role, 'workspace:delete') && <DeleteWorkspace ws={workspace.id} name={workspace.name} />}
    </Page>
  );
}

function RenameForm({ ws, current, onSaved }: { ws: string; current: string; onSaved: () => void }) {
  const action = useAction();
  const [name, setName] = useState(current);
  const [savedAs, setSavedAs] = useState<string>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const saved = await action.run(() => unwrap(api.PATCH('/api/workspaces/{ws}', { params: { path: { ws } }, body: { name } })));
    if (saved !== undefined) {
      setSavedAs(saved.name);
      setName(saved.name);
      onSaved();
    }
  };
  return (
    <>
      <h2>Name</h2>
      {savedAs !== undefined && <Notice>The workspace is now called {savedAs}.</Notice>}
      <form onSubmit={(event) => void submit(event)}>
        <ErrorNotice error={action.error} />
        <Field label="Workspace name" name="name" value={name} onChange={setName} required maxLength={100} autoComplete="off" />
        <div className="actions">
          <button type="submit" className="primary" disabled={action.isPending || name.trim() === current}>
            Rename workspace
          </button>
        </div>
      </form>
    </>
  );
}

function MfaPolicy({ ws, isRequired, mayChange, onSaved }: { ws: string; isRequired: boolean; mayChange: boolean; onSaved: () => void }) {
  const action = useAction();
  const [required, setRequired] = useState(isRequired);
  const [isSaved, setSaved] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const saved = await action.run(() => unwrap(api.PUT('/api/workspaces/{ws}/mfa-policy', { params: { path: { ws } }, body: { required } })));
    if (saved !== undefined) {
      setRequired(saved.mfaRequired);
      setSaved(true);
      onSaved();
    }
  };
  const policyDescription = isRequired ? 'Every member must use two-step verification to open this workspace.' : 'Two-step verification is not required of members.';
  if (!mayChange) {
    return (
      <>
        <h2>Two-step verification</h2>
        <p data-testid="mfa-policy">{policyDescription}</p>
      </>
    );
  }
  return (
    <>
      <h2>Two-step verification</h2>
      <p data-testid="mfa-policy">{policyDescription}</p>
      {isSaved && <Notice>The policy was saved.</Notice>}
      <form onSubmit={(event) => void submit(event)}>
        <ErrorNotice error={action.error} />
        <label className="checkbox">
          <input type="checkbox" name="required" checked={required} onChange={(event) => setRequired(event.target.checked)} />
          Require two-step verification for every member
        </label>
        <p className="hint">To turn it on you must be signed in with a second factor yourself. Members without one are asked to set it up.</p>
        <div className="actions">
          <button type="submit" className="primary" disabled={action.isPending}>
            Save policy
          </button>
        </div>
      </form>
    </>
  );
}

function DeleteWorkspace({ ws, name }: { ws: string; name: string }) {
  const action = useAction();
  const [typed, setTyped] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (typed !== name) return;
    const deleted = await action.run(() => unwrap(api.DELETE('/api/workspaces/{ws}', { params: { path: { ws } }, body: { confirmName: typed } })));
    if (deleted !== undefined) navigate('/workspaces');
  };
  return (
    <>
      <h2>Delete this workspace</h2>
      <p>
        Deleting the workspace takes it away from every member at once, and its API keys stop working. It is kept, unreachable, for a
        grace period, then purged for good. Nobody can open it in the meantime.
      </p>
      <form onSubmit={(event) => void submit(event)}>
        <ErrorNotice error={action.error} />
        <Field
          label="Type the workspace name to confirm"
          name="confirmName"
          value={typed}
          onChange={setTyped}
          autoComplete="off"
          spellCheck={false}
          hint={`Type “${name}” exactly.`}
        />
        <div className="actions">
          <button type="submit" className="danger" disabled={typed !== name || action.isPending}>
            Delete workspace
          </button>
        </div>
      </form>
    </>
  );
}
