/**
 * Who is signed in. The session itself lives in an HttpOnly cookie the page cannot read; the console
 * only asks `GET /api/me`, and treats any UNAUTHENTICATED or SESSION_EXPIRED answer as "signed out",
 * wherever it comes from — so a session revoked from another device ends here at the next request,
 * or as soon as the tab is looked at again.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, unwrap } from './api/client';
import { ApiError } from './api/problem';
import type { Me } from './api/types';
import { useLocation } from './router';

export type SessionState = { status: 'loading' } | { status: 'signed-out'; reason?: 'expired' } | { status: 'signed-in'; me: Me };

interface SessionContextValue {
  state: SessionState;
  /** Reads `/api/me` again (after sign-in, a profile change, or when the tab comes back). */
  refresh: () => Promise<void>;
  /** The server said the session is over. */
  markSignedOut: (reason?: 'expired') => void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

/** Whether an error means the session is gone (rather than that one action failed). */
export function isSignedOutError(error: unknown): boolean {
  return error instanceof ApiError && (error.code === 'UNAUTHENTICATED' || error.code === 'SESSION_EXPIRED');
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  // Reads overlap (a navigation and a focus at once): only the latest one counts, and none started
  // before a sign-out may bring the signed-in state back.
  const latestRead = useRef(0);

  const refresh = useCallback(async () => {
    const read = ++latestRead.current;
    try {
      const me = await unwrap(api.GET('/api/me'));
      if (read === latestRead.current) setState({ status: 'signed-in', me });
    } catch (error) {
      if (read !== latestRead.current) return;
      // A session that just ended says so; a first load that fails for another reason shows sign-in.
      if (isSignedOutError(error)) setState((previous) => (previous.status === 'signed-in' ? { status: 'signed-out', reason: 'expired' } : { status: 'signed-out' }));
      else setState((previous) => (previous.status === 'loading' ? { status: 'signed-out' } : previous));
    }
  }, []);

  const markSignedOut = useCallback((reason?: 'expired') => {
    latestRead.current += 1;
    setState(reason === undefined ? { status: 'signed-out' } : { status: 'signed-out', reason });
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // A session revoked elsewhere (another device, a password reset) ends here at the next navigation,
  // not only at the next action: the screens render from this state without asking the server.
  const { pathname } = useLocation();
  const isSignedIn = state.status === 'signed-in';
  useEffect(() => {
    if (isSignedIn) void refresh();
    // On a change of address only: `isSignedIn` turning true means sign-in has just read /api/me.
  }, [pathname, refresh]);

  // A tab left open while the session was revoked elsewhere finds out when it is looked at again.
  useEffect(() => {
    const recheck = () => {
      if (document.visibilityState === 'visible' && state.status === 'signed-in') void refresh();
    };
    document.addEventListener('visibilitychange', recheck);
    window.addEventListener('focus', recheck);
    return () => {
      document.removeEventListener('visibilitychange', recheck);
      window.removeEventListener('focus', recheck);
    };
  }, [refresh, state.status]);

  const value = useMemo(() => ({ state, refresh, markSignedOut }), [state, refresh, markSignedOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (value === null) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The signed-in user; only for screens rendered behind the signed-in gate. */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useMe on a signed-out screen');
  return state.me;
}
