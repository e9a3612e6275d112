import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import type { Passkey } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { Field } from '../../components/field';
import { Empty, Loading, Notice } from '../../components/page';
import { useAction, type Resource } from '../../hooks';
import { ConfirmButton } from '../../components/confirm-button';
import { createPasskey } from '../../passkey-ceremonies';
import { NewRecoveryCodes } from './recovery-codes';

/** The passkeys section of the Security screen: list, add, rename, remove. */
export function PasskeysSection({ passkeys, onChange }: { passkeys: Resource<Passkey[]>; onChange: () => void }) {
  const action = useAction();
  const [name, setName] = useState('This device');
  const [renaming, setRenaming] = useState<string | null>(null);
  const [newName, setNewName] = useState('');
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setNotice(null);
    // A step-up retry runs all of it again: the browser ceremony needs a fresh challenge anyway.
    const created = await action.run(async () => {
      const { options } = await unwrap(api.POST('/api/me/passkeys/registration-options', { body: {} }));
      const response = await createPasskey(options);
      return unwrap(api.POST('/api/me/passkeys', { body: { name: name.trim(), response } }));
    });
    if (created === undefined) return;
    setRecoveryCodes(created.recoveryCodes);
    setNotice(`Passkey "${created.passkey.name}" added.`);
    onChange();
  };

  const rename = async (event: FormEvent, passkey: Passkey) => {
    event.preventDefault();
    setNotice(null);
    const renamed = await action.run(() =>
      unwrap(api.PATCH('/api/me/passkeys/{id}', { params: { path: { id: passkey.id } }, body: { name: newName.trim() } })),
    );
    if (renamed === undefined) return;
    setRenaming(null);
    setNotice(`Passkey renamed to "${renamed.name}".`);
    onChange();
  };

  const remove = async (passkey: Passkey) => {
    setNotice(null);
    const removed = await action.run(() => unwrap(api.DELETE('/api/me/passkeys/{id}', { params: { path: { id: passkey.id } } })));
    if (removed !== undefined) setNotice(`Passkey "${passkey.name}" removed.`);
    onChange();
  };

  const startRename = (passkey: Passkey) => {
    action.clearError();
    setRenaming(passkey.id);
    setNewName(passkey.name);
  };

  const list = passkeys.data;
  return (
    <>
      <h2>Passkeys</h2>
      <p>A passkey signs you in with your device's fingerprint, face or screen lock, and cannot be phished.</p>
      {notice !== null && (
        <Notice>
          <p>{notice}</p>
        </Notice>
      )}
      {recoveryCodes !== null && <NewRecoveryCodes codes={recoveryCodes} onSaved={() => setRecoveryCodes(null)} />}
      {list === undefined && passkeys.isLoading && <Loading />}
      <ErrorNotice error={passkeys.error} />
      {list !== undefined && list.length === 0 && <Empty>No passkeys yet.</Empty>}
      {list !== undefined && list.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Added</th>
              <th scope="col">Last used</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.map((passkey) => (
              <tr key={passkey.id}>
                <td>
                  {renaming === passkey.id ? (
                    <form onSubmit={(event) => void rename(event, passkey)}>
                      <Field label={`New name for ${passkey.name}`} name="name" value={newName} onChange={setNewName} required maxLength={100} />
                      <div className="actions">
                        <button type="submit" className="primary" disabled={action.isPending}>
                          Save name
                        </button>
                        <button type="button" onClick={() => setRenaming(null)}>
                          Cancel
                        </button>
                      </div>
                    </form>
                  ) : (
                    passkey.name
                  )}
                </td>
                <td>{passkey.deviceType === 'multiDevice' ? 'Synced' : 'This device only'}</td>
                <td>
                  <time dateTime={passkey.createdAt}>{new Date(passkey.createdAt).toLocaleString()}</time>
                </td>
                <td>
                  {passkey.lastUsedAt === null ? 'Never' : <time dateTime={passkey.lastUsedAt}>{new Date(passkey.lastUsedAt).toLocaleString()}</time>}
                </td>
                <td>
                  <div className="actions">
                    {renaming !== passkey.id && (
                      <button type="button" aria-label={`Rename passkey ${passkey.name}`} onClick={() => startRename(passkey)}>
                        Rename
                      </button>
                    )}
                    <ConfirmButton
                      label="Remove"
                      accessibleName={`Remove passkey ${passkey.name}`}
                      confirmLabel={`Confirm remove passkey ${passkey.name}`}
                      onConfirm={() => remove(passkey)}
                      disabled={action.isPending}
                    />
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={(event) => void add(event)}>
        <Field label="Passkey name" name="passkeyName" hint="To tell your passkeys apart, e.g. the device it is on." value={name} onChange={setName} required maxLength={100} />
        <div className="actions">
          <button type="submit" className="primary" disabled={action.isPending}>
            Add a passkey
          </button>
        </div>
      </form>
      <ErrorNotice error={action.error} />
    </>
  );
}
