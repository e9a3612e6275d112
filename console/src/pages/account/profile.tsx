import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Field, NewPasswordField } from '../../components/field';
import { Notice, Page } from '../../components/page';
import { useAction } from '../../hooks';
import { useMe } from '../../session';

export function ProfilePage() {
  const me = useMe();
  return (
    <Page title="Profile">
      <dl className="account-facts">
        <dt>Name</dt>
        <dd>{me.name}</dd>
        <dt>Email</dt>
        <dd>
          {me.email}{' '}
          {me.emailVerified ? <span className="badge ok">Verified</span> : <span className="badge bad">Not verified</span>}
        </dd>
      </dl>
      {!me.emailVerified && <ResendVerification email={me.email} />}
      <ChangePassword />
    </Page>
  );
}

function ResendVerification({ email }: { email: string }) {
  const action = useAction();
  const [isSent, setSent] = useState(false);
  const send = async () => {
    setSent(false);
    const result = await action.run(() => unwrap(api.POST('/api/me/email-verification')));
    if (result !== undefined) setSent(true);
  };
  return (
    <div>
      <p>Some actions stay closed until you confirm your email address with the link we sent you.</p>
      <button type="button" onClick={() => void send()} disabled={action.isPending}>
        Send a new verification email
      </button>
      <ErrorNotice error={action.error} />
      {isSent && (
        <Notice>
          <p>We sent a new verification link to {email}. Links sent before no longer work.</p>
        </Notice>
      )}
    </div>
  );
}

function ChangePassword() {
  const action = useAction();
  const [currentPassword, setCurrentPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [isChanged, setChanged] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setChanged(false);
    const result = await action.run(() => unwrap(api.POST('/api/me/password', { body: { currentPassword, newPassword } })));
    if (result !== undefined) {
      setCurrentPassword('');
      setNewPassword('');
      setChanged(true);
    }
  };

  return (
    <>
      <h2>Change password</h2>
      <form onSubmit={(event) => void submit(event)}>
        <Field
          label="Current password"
          type="password"
          name="currentPassword"
          autoComplete="current-password"
          value={currentPassword}
          onChange={setCurrentPassword}
          required
        />
        <NewPasswordField label="New password" name="newPassword" value={newPassword} onChange={setNewPassword} />
        <ErrorNotice error={action.error} />
        {isChanged && (
          <Notice>
            <p>Your password was changed. Your other sessions were signed out; this one stays signed in.</p>
          </Notice>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={action.isPending}>
            Change password
          </button>
        </div>
      </form>
    </>
  );
}
