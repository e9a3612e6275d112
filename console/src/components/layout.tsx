/**
 * The frame around every screen: a skip link, the header with the workspace switcher and the account
 * menu for a signed-in user, and the main landmark the screens render into.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { api, unwrap } from '../api/client';
import type { Workspace } from '../api/types';
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
  const signOut = async () => {
    await api.POST('/api/auth/sign-out').catch(() => undefined);
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
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </nav>
    </>
  );
}

/** The workspaces of the user, to jump between; it follows the workspace of the current address. */
function WorkspaceSwitcher() {
  const { pathname } = useLocation();
  const [workspaces, setWorkspaces] = useState<Workspace[]>([]);
  const current = matchPath('/workspaces/:ws', pathname) ?? matchPath('/workspaces/:ws/:section', pathname);
  useEffect(() => {
    unwrap(api.GET('/api/workspaces'))
      .then(({ workspaces: list }) => setWorkspaces(list))
      .catch(() => setWorkspaces([]));
  }, [pathname]);
  if (workspaces.length === 0) return null;
  return (
    <label className="switcher">
      <span>Workspace</span>
      <select value={current?.ws ?? ''} onChange={(event) => event.target.value && navigate(`/workspaces/${event.target.value}/members`)}>
        <option value="">Choose…</option>
        {workspaces.map((workspace) => (
          <option key={workspace.id} value={workspace.id}>
            {workspace.name}
          </option>
        ))}
      </select>
    </label>
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
