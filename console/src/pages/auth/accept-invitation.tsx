/**
 * The page of the link in an invitation email. Accepting needs a session with the invited (and
 * verified) address, so a signed-out visitor is sent to sign in first and brought back here.
 */
import type { FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Loading, Page } from '../../components/page';
import { useAction } from '../../hooks';
import { Link, navigate, useLocation } from '../../router';
import { useSession } from '../../session';

export function AcceptInvitationPage() {
  const { pathname, search } = useLocation();
  const token = search.get('token');
  const { state } = useSession();
  const action = useAction();

  const accept = async (event: FormEvent) => {
    event.preventDefault();
    if (token === null) return;
    const answer = await action.run(() => unwrap(api.POST('/api/invitations/accept', { body: { token } })));
    if (answer !== undefined) navigate(`/workspaces/${encodeURIComponent(answer.workspace.id)}/members`);
  };

  if (token === null) {
    return (
      <Page title="Accept invitation">
        <p>This page needs the link from an invitation email. Open the link in the email, or ask the person who invited you to send a new one.</p>
      </Page>
    );
  }

  if (state.status === 'loading') {
    return (
      <Page title="Accept invitation">
        <Loading />
      </Page>
    );
  }

  if (state.status === 'signed-out') {
    const here = `${pathname}?${search.toString()}`;
    return (
      <Page title="Accept invitation">
        <p>Sign in (or create an account) with the invited email address to accept.</p>
        <p className="actions">
          <Link to={`/sign-in?next=${encodeURIComponent(here)}`}>Sign in</Link>
          <Link to={`/sign-up?next=${encodeURIComponent(here)}`}>Create an account</Link>
        </p>
      </Page>
    );
  }

  return (
    <Page title="Accept invitation">
      <form onSubmit={(event) => void accept(event)}>
        <p>
          You are signed in as <strong>{state.me.email}</strong>. The invitation must have been sent to this address.
        </p>
        <ErrorNotice error={action.error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={action.isPending}>
            Accept invitation
          </button>
        </div>
      </form>
    </Page>
  );
}
