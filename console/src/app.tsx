/**
 * The console's routes. Signed-out screens (sign-in, sign-up, the email links) are open to anyone;
 * every other screen waits for the session and sends a signed-out visitor to sign-in, remembering
 * where they were going.
 */
import { Component, useEffect, type ReactNode } from 'react';
import { Layout } from './components/layout';
import { Loading } from './components/page';
import { AcceptInvitationPage } from './pages/auth/accept-invitation';
import { ForgotPasswordPage } from './pages/auth/forgot-password';
import { OutboxPage } from './pages/auth/outbox';
import { ResetPasswordPage } from './pages/auth/reset-password';
import { SignInPage } from './pages/auth/sign-in';
import { SignUpPage } from './pages/auth/sign-up';
import { VerifyEmailPage } from './pages/auth/verify-email';
import { ProfilePage } from './pages/account/profile';
import { SecurityLogPage } from './pages/account/security-log';
import { SecurityPage } from './pages/account/security';
import { SessionsPage } from './pages/account/sessions';
import { NotFoundPage } from './pages/not-found';
import { WorkspacesPage } from './pages/workspace/list';
import { WorkspaceRoutes } from './pages/workspace/workspace-layout';
import { matchPath, navigate, useLocation } from './router';
import { SessionProvider, useSession } from './session';
import { StepUpProvider } from './step-up';

export function App() {
  return (
    <SessionProvider>
      <StepUpProvider>
        <Layout>
          <ScreenErrorBoundary>
            <Routes />
          </ScreenErrorBoundary>
        </Layout>
      </StepUpProvider>
    </SessionProvider>
  );
}

/**
 * A screen that throws while rendering shows a way out instead of a blank page; the next navigation
 * tries again.
 */
class ScreenErrorBoundary extends Component<{ children: ReactNode }, { failedAt: string | null }> {
  override state = { failedAt: null as string | null };

  static getDerivedStateFromError(): { failedAt: string } {
    return { failedAt: window.location.pathname + window.location.search };
  }

  override render() {
    if (this.state.failedAt !== null && this.state.failedAt === window.location.pathname + window.location.search) {
      return (
        <div role="alert" className="notice error">
          <p>This screen could not be shown.</p>
          <p>
            <a href="/workspaces">Go to your workspaces</a>
          </p>
        </div>
      );
    }
    return this.props.children;
  }
}

/** Screens anyone may open. */
const PUBLIC_ROUTES: Record<string, () => ReactNode> = {
  '/sign-in': () => <SignInPage />,
  '/sign-up': () => <SignUpPage />,
  '/verify-email': () => <VerifyEmailPage />,
  '/forgot-password': () => <ForgotPasswordPage />,
  '/reset-password': () => <ResetPasswordPage />,
  '/invitations/accept': () => <AcceptInvitationPage />,
  '/dev/outbox': () => <OutboxPage />,
};

/** Screens for a signed-in user. */
const ACCOUNT_ROUTES: Record<string, () => ReactNode> = {
  '/account': () => <ProfilePage />,
  '/account/security': () => <SecurityPage />,
  '/account/sessions': () => <SessionsPage />,
  '/account/security-log': () => <SecurityLogPage />,
  '/workspaces': () => <WorkspacesPage />,
};

function Routes() {
  const { pathname, search } = useLocation();
  const { state } = useSession();
  const path = pathname.replace(/\/+$/, '') || '/';

  const publicRoute = PUBLIC_ROUTES[path];
  if (publicRoute) return publicRoute();
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'signed-out') return <RedirectToSignIn next={pathname + (search.size > 0 ? `?${search}` : '')} />;

  if (path === '/') return <Redirect to="/workspaces" />;
  const accountRoute = ACCOUNT_ROUTES[path];
  if (accountRoute) return accountRoute();
  const workspace = matchPath('/workspaces/:ws', path) ?? matchPath('/workspaces/:ws/:section', path);
  // Keyed by workspace: no form state of one workspace's screen carries over to another's.
  if (workspace?.ws) return <WorkspaceRoutes key={workspace.ws} workspaceId={workspace.ws} section={workspace.section ?? 'members'} />;
  return <NotFoundPage />;
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function RedirectToSignIn({ next }: { next: string }) {
  const target = next === '/' ? '/sign-in' : `/sign-in?next=${encodeURIComponent(next)}`;
  return <Redirect to={target} />;
}
