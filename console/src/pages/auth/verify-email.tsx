/**
 * The page of the link in a verification email. It waits for a click before verifying: mail scanners
 * open every link in a message, and a GET that verified would let them do it for the person.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Notice, Page } from '../../components/page';
import { useAction } from '../../hooks';
import { Link, useLocation } from '../../router';
import { useSession } from '../../session';

export function VerifyEmailPage() {
  const { search } = useLocation();
  // Read once, then dropped from the address bar, so the one-time token does not linger in the history.
  const [token] = useState(() => search.get('token'));
  useEffect(() => {
    window.history.replaceState(null, '', window.location.pathname);
  }, []);
  const { state, refresh } = useSession();
  const action = useAction();
  const [isVerified, setVerified] = useState(false);

  const verify = async (event: FormEvent) => {
    event.preventDefault();
    if (token === null) return;
    const answer = await action.run(() => unwrap(api.POST('/api/auth/verify-email', { body: { token } })));
    if (answer === undefined) return;
    setVerified(true);
    // A signed-in user's profile now says verified (and invitations can be accepted).
    await refresh();
  };

  if (token === null) {
    return (
      <Page title="Verify your email">
        <p>
          This page needs the link from your verification email. Open the link in the most recent email we sent you; if it is lost or has
          expired, send a new one from your profile once signed in.
        </p>
        <p>
          <Link to={state.status === 'signed-in' ? '/account' : '/sign-in'}>{state.status === 'signed-in' ? 'Go to your profile' : 'Sign in'}</Link>
        </p>
      </Page>
    );
  }

  return (
    <Page title="Verify your email">
      {isVerified ? (
        <>
          <Notice>
            <p>Your email address is verified.</p>
          </Notice>
          <p>
            <Link to={state.status === 'signed-in' ? '/workspaces' : '/sign-in'}>Continue</Link>
          </p>
        </>
      ) : (
        <form onSubmit={(event) => void verify(event)}>
          <p>Confirm that this email address is yours.</p>
          <ErrorNotice error={action.error} />
          <div className="actions">
            <button type="submit" className="primary" disabled={action.isPending}>
              Verify my email
            </button>
          </div>
        </form>
      )}
    </Page>
  );
}
