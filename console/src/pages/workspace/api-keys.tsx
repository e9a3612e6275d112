import { useId, useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import type { ApiKey, ApiKeyScope } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { ListView } from '../../components/list-view';
import { Field } from '../../components/field';
import { Notice, Page } from '../../components/page';
import { OneTimeSecret } from '../../components/secret';
import { useAction, useResource } from '../../hooks';
import { can } from '../../permissions';
import { ConfirmButton } from '../../components/confirm-button';
import type { WorkspaceScreenProps } from './workspace-layout';

/** One entry per scope the API accepts: a scope added to the server fails to compile here until described. */
const SCOPE_DESCRIPTIONS: Record<ApiKeyScope, string> = {
  'workspace:read': 'Read the workspace (name, settings)',
  'members:read': 'List the members and their roles',
  'audit:read': 'Read the audit log and verify its chain',
};
const SCOPES: readonly ApiKeyScope[] = Object.keys(SCOPE_DESCRIPTIONS) as ApiKeyScope[];

const STATUS_LABELS: Record<ApiKey['status'], string> = { active: 'Active', expired: 'Expired', revoked: 'Revoked' };

/** A date as the reader's local time, or `ifNone` when there is none (never used, never expires). */
function dateOrElse(iso: string | null, ifNone: string): string {
  return iso === null ? ifNone : new Date(iso).toLocaleString();
}

export function ApiKeysPage({ workspace }: WorkspaceScreenProps) {
  const ws = workspace.id;
  const keys = useResource(() => unwrap(api.GET('/api/workspaces/{ws}/api-keys', { params: { path: { ws } } })), ws);
  const revoke = useAction();
  const [notice, setNotice] = useState<string>();

  const revokeKey = async (key: ApiKey) => {
    setNotice(undefined);
    const revoked = await revoke.run(() => unwrap(api.DELETE('/api/workspaces/{ws}/api-keys/{id}', { params: { path: { ws, id: key.id } } })));
    if (revoked !== undefined) {
      setNotice(`${key.name} was revoked: requests made with it are now refused.`);
      keys.reload();
    }
  };

  const mayRevoke = can(workspace.role, 'api_keys:revoke');
  return (
    <Page title="API keys">
      {notice !== undefined && <Notice>{notice}</Notice>}
      <ErrorNotice error={revoke.error} />
      <ListView resource={keys} items={(data) => data.apiKeys} empty="This workspace has no API keys yet.">
        {(list) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Scopes</th>
                <th scope="col">Requests per minute</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                {mayRevoke && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.map((key) => (
                <tr key={key.id}>
                  <td>{key.name}</td>
                  <td>
                    <code>{key.prefix}</code>
                  </td>
                  <td>{key.scopes.join(', ')}</td>
                  <td>{key.rateLimitPerMinute}</td>
                  <td>{new Date(key.createdAt).toLocaleString()}</td>
                  <td>{dateOrElse(key.expiresAt, 'Never')}</td>
                  <td>{dateOrElse(key.lastUsedAt, 'Never')}</td>
                  <td>
                    {STATUS_LABELS[key.status]}
                    {key.revokedAt !== null && ` (${new Date(key.revokedAt).toLocaleString()})`}
                  </td>
                  {mayRevoke && (
                    <td>
                      {key.status === 'active' && (
                        <ConfirmButton
                          label={`Revoke ${key.name}`}
                          confirmLabel="Confirm revoke"
                          question="Requests made with it will be refused."
                          disabled={revoke.isPending}
                          onConfirm={() => revokeKey(key)}
                        />
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListView>
      {can(workspace.role, 'api_keys:create') && <CreateKeyForm ws={ws} rateLimitMax={keys.data?.rateLimitMax} onCreated={keys.reload} />}
    </Page>
  );
}

/** The last moment of `date` (YYYY-MM-DD) in UTC: a key "expiring on" a day works through all of it. */
function endOfDayUtc(date: string): string {
  return `${date}T23:59:59.999Z`;
}

function CreateKeyForm({ ws, rateLimitMax, onCreated }: { ws: string; rateLimitMax: number | undefined; onCreated: () => void }) {
  const action = useAction();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>([]);
  const [expiresOn, setExpiresOn] = useState('');
  const [rateLimit, setRateLimit] = useState('');
  const [problem, setProblem] = useState<string>();
  const [createdKey, setCreatedKey] = useState<string>();
  const hintId = useId();

  const toggle = (scope: ApiKeyScope, isOn: boolean) =>
    setScopes((current) => (isOn ? SCOPES.filter((each) => each === scope || current.includes(each)) : current.filter((each) => each !== scope)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    action.clearError();
    if (scopes.length === 0) {
      setProblem('Choose at least one scope.');
      return;
    }
    if (expiresOn !== '' && Date.parse(endOfDayUtc(expiresOn)) <= Date.now()) {
      setProblem('The expiry date must be in the future.');
      return;
    }
    const created = await action.run(() =>
      unwrap(
        api.POST('/api/workspaces/{ws}/api-keys', {
          params: { path: { ws } },
          body: {
            name,
            scopes,
            ...(expiresOn === '' ? {} : { expiresAt: endOfDayUtc(expiresOn) }),
            ...(rateLimit === '' ? {} : { rateLimitPerMinute: Number(rateLimit) }),
          },
        }),
      ),
    );
    if (created !== undefined) {
      setCreatedKey(created.key);
      setName('');
      setScopes([]);
      setExpiresOn('');
      setRateLimit('');
      onCreated();
    }
  };

  return (
    <>
      <h2>Create an API key</h2>
      {createdKey !== undefined && (
        <div>
          <Notice>The API key was created.</Notice>
          <OneTimeSecret label="Your new API key" value={createdKey} />
          <p>Copy it now: it will not be shown again.</p>
          <button type="button" onClick={() => setCreatedKey(undefined)}>
            Done
          </button>
        </div>
      )}
      <form onSubmit={(event) => void submit(event)}>
        {problem !== undefined && <ErrorNotice error={new Error(problem)} />}
        <ErrorNotice error={action.error} />
        <Field label="Key name" name="name" value={name} onChange={setName} required maxLength={100} autoComplete="off" />
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.map((scope) => (
            <ScopeCheckbox key={scope} scope={scope} isChecked={scopes.includes(scope)} onChange={(isOn) => toggle(scope, isOn)} />
          ))}
        </fieldset>
        <Field
          label="Expires on"
          type="date"
          name="expiresOn"
          value={expiresOn}
          onChange={setExpiresOn}
          hint="Optional. The key works until the end of that day (UTC). Leave empty for a key that does not expire."
        />
        {/* No `max`: the server's RATE_LIMIT_TOO_HIGH names the workspace maximum, a browser bubble would not. */}
        <Field
          label="Requests per minute"
          type="number"
          name="rateLimitPerMinute"
          value={rateLimit}
          onChange={setRateLimit}
          min={1}
          step={1}
          inputMode="numeric"
          hint={rateLimitMax === undefined ? 'Optional.' : `Optional. At most ${rateLimitMax} in this workspace.`}
        />
        <p id={hintId} className="hint">
          If you signed in more than a few minutes ago, or without your second factor, creating a key first asks you to confirm it is you.
        </p>
        <div className="actions">
          <button type="submit" className="primary" disabled={action.isPending} aria-describedby={hintId}>
            Create API key
          </button>
        </div>
      </form>
    </>
  );
}

function ScopeCheckbox({ scope, isChecked, onChange }: { scope: ApiKeyScope; isChecked: boolean; onChange: (isOn: boolean) => void }) {
  const id = useId();
  return (
    <div>
      <label className="checkbox" htmlFor={id}>
        <input id={id} type="checkbox" name="scopes" value={scope} checked={isChecked} onChange={(event) => onChange(event.target.checked)} aria-describedby={`${id}-description`} />
        {scope}
      </label>
      <p id={`${id}-description`} className="hint">
        {SCOPE_DESCRIPTIONS[scope]}
      </p>
    </div>
  );
}
