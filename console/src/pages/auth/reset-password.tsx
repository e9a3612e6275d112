/** Choosing a new password with the token of a reset link. The server ends every session of the account. */
import { useEffect, useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { NewPasswordField } from '../../components/field';
import { Notice, Page } from '../../components/page';
import { useAction } from '../../hooks';
import { Link, useLocation } from '../../router';
import { useSession } from '../../session';

export function ResetPasswordPage() {
  const { search } = useLocation();
  // Read once, then dropped from the address bar: a reset token left in the history (or a screenshot,
  // or a shared screen) would let someone else set the password while it is valid.
  const [token] = useState(() => search.get('token'));
  useEffect(() => {
    window.history.replaceState(null, '', window.location.pathname);
  }, []);
  const { refresh } = useSession();
  const action = useAction();
  const [password, setPassword] = useState('');
  const [isDone, setDone] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (token === null) return;
    const answer = await action.run(() => unwrap(api.POST('/api/auth/password/reset', { body: { token, password } })));
    if (answer === undefined) return;
    setPassword('');
    setDone(true);
    // Had this browser a session, it is gone too: read it again so the sign-in link below is not bounced.
    await refresh();
  };

  if (token === null) {
    return (
      <Page title="Choose a new password">
        <p>This page needs the link from a password reset email. Open the link in the email, or ask for a new one.</p>
        <p>
          <Link to="/forgot-password">Ask for a new reset link</Link>
        </p>
      </Page>
    );
  }

  return (
    <Page title="Choose a new password">
      {isDone ? (
        <>
          <Notice>
            <p>Your password is changed. Every session of your account was ended, on all devices: sign in again with your new password.</p>
          </Notice>
          <p>
            <Link to="/sign-in">Sign in</Link>
          </p>
        </>
      ) : (
        <>
          <form onSubmit={(event) => void submit(event)}>
            <NewPasswordField label="New password" name="new-password" value={password} onChange={setPassword} />
            <ErrorNotice error={action.error} />
            <div className="actions">
              <button type="submit" className="primary" disabled={action.isPending}>
                Set new password
              </button>
            </div>
          </form>
          <p>
            Link expired? <Link to="/forgot-password">Ask for a new reset link</Link>
          </p>
        </>
      )}
    </Page>
  );
}
