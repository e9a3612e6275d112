/**
 * The frame around every screen: a skip link, the header with the workspace switcher and the account
 * menu for a signed-in user, and the main landmark the screens render into.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, unwrap } from '../api/client';
import type { Workspace } from '../api/types';
import { useAction } from '../hooks';
import { ErrorNotice } from './error-notice';
import { Link, matchPath, navigate, useLocation } from '../router';
import { useSession } from '../session';

export function Layout({ children }: { children: ReactNode }) {
  const { state } = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <Link to="/" className="brand">
          Rampart
        </Link>
        {state.status === 'signed-in' && <SignedInNavigation name={state.me.name} />}
      </header>
      <main id="main" tabIndex={-1}>
        {state.status === 'signed-out' && state.reason === 'expired' && (
          <div role="alert" className="notice error">
            <p>Your session has ended. Sign in again to continue.</p>
          </div>
        )}
        {children}
      </main>
      <DevelopmentFooter />
    </>
  );
}

function SignedInNavigation({ name }: { name: string }) {
  const { markSignedOut } = useSession();
  const action = useAction();
  // Signed out only once the server ended the session: on a shared computer a console that merely
  // looked signed out would leave the session to the next person.
  const signOut = async () => {
    const ended = await action.run(() => unwrap(api.POST('/api/auth/sign-out')));
    if (ended === undefined) return;
    markSignedOut();
    navigate('/sign-in');
  };
  return (
    <>
      <WorkspaceSwitcher />
      <nav aria-label="Account" className="account-nav">
        <Link to="/workspaces">Workspaces</Link>
        <Link to="/account">Profile</Link>
        <Link to="/account/security">Security</Link>
        <Link to="/account/sessions">Sessions</Link>
        <Link to="/account/security-log">Security log</Link>
        <span className="user-name">{name}</span>
        <button type="button" onClick={() => void signOut()} disabled={action.isPending}>
          Sign out
        </button>
      </nav>
      {action.error !== null && (
        <div className="top-bar-error">
          <ErrorNotice error={action.error} />
        </div>
      )}
    </>
  );
}

/**
 * The user's workspaces, to jump between. A choice is opened with the button, not on change: with
 * the keyboard, every arrow press in a select is a change (WCAG 3.2.2, no change of context on input).
 */
function WorkspaceSwitcher() {
  const { pathname } = useLocation();
  const current = matchPath('/workspaces/:ws', pathname) ?? matchPath('/workspaces/:ws/:section', pathname);
  const currentId = current?.ws ?? '';
  const [workspaces, setWorkspaces] = useState<Workspace[]>([]);
  const [chosen, setChosen] = useState(currentId);
  useEffect(() => setChosen(currentId), [currentId]);
  // Read again on every change of address, so a workspace created, renamed or left is listed.
  useEffect(() => {
    let isCurrent = true;
    unwrap(api.GET('/api/workspaces'))
      .then(({ workspaces: list }) => isCurrent && setWorkspaces(list))
      .catch(() => isCurrent && setWorkspaces([]));
    return () => {
      isCurrent = false;
    };
  }, [pathname]);
  if (workspaces.length === 0) return null;
  const open = (event: FormEvent) => {
    event.preventDefault();
    if (chosen !== '' && chosen !== currentId) navigate(`/workspaces/${chosen}/members`);
  };
  return (
    <form className="switcher" onSubmit={open}>
      <label htmlFor="workspace-switcher">Workspace</label>
      <select id="workspace-switcher" value={chosen} onChange={(event) => setChosen(event.target.value)}>
        <option value="">Choose…</option>
        {workspaces.map((workspace) => (
          <option key={workspace.id} value={workspace.id}>
            {workspace.name}
          </option>
        ))}
      </select>
      <button type="submit">Open</button>
    </form>
  );
}

/** In development (no SMTP relay) the emails Rampart sends wait in an outbox the console can show. */
function DevelopmentFooter() {
  const [hasOutbox, setHasOutbox] = useState(false);
  useEffect(() => {
    unwrap(api.GET('/api/dev/outbox'))
      .then(() => setHasOutbox(true))
      .catch(() => setHasOutbox(false));
  }, []);
  if (!hasOutbox) return null;
  return (
    <footer className="dev-footer">
      Development mode: emails are not sent. <Link to="/dev/outbox">Open the outbox</Link>
    </footer>
  );
}
