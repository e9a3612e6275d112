/**
 * The two ways a screen talks to the API: reading (`useResource`) and acting (`useAction`). Both route
 * a "signed out" answer to the session, and an action answered STEP_UP_REQUIRED goes through the
 * step-up prompt and is retried once.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api/problem';
import { isSignedOutError, useSession } from './session';
import { useStepUp } from './step-up';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  isLoading: boolean;
  reload: () => void;
}

/**
 * Loads once per change of `key`, and again on `reload()`. What was loaded for another key is never
 * returned (a workspace's data under another workspace's address); a reload of the same key keeps
 * showing the previous data until the new answer arrives.
 */
export function useResource<T>(load: () => Promise<T>, key: string): Resource<T> {
  const { markSignedOut } = useSession();
  const [loaded, setLoaded] = useState<{ key: string; data?: T; error: unknown }>({ key, error: null });
  const [isLoading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let isCurrent = true;
    setLoading(true);
    loadRef
      .current()
      .then((data) => {
        if (isCurrent) setLoaded({ key, data, error: null });
      })
      .catch((caught: unknown) => {
        if (!isCurrent) return;
        if (isSignedOutError(caught)) markSignedOut('expired');
        setLoaded((previous) => (previous.key === key ? { ...previous, error: caught } : { key, error: caught }));
      })
      .finally(() => {
        if (isCurrent) setLoading(false);
      });
    return () => {
      isCurrent = false;
    };
  }, [key, generation, markSignedOut]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  const isThisKey = loaded.key === key;
  return { data: isThisKey ? loaded.data : undefined, error: isThisKey ? loaded.error : null, isLoading: isLoading || !isThisKey, reload };
}

export interface Action {
  /** Runs the call; resolves to its result, or undefined when it failed (the error is in `error`). */
  run: <T>(call: () => Promise<T>) => Promise<T | undefined>;
  error: unknown;
  isPending: boolean;
  clearError: () => void;
}

export function useAction(): Action {
  const { markSignedOut } = useSession();
  const stepUp = useStepUp();
  const [error, setError] = useState<unknown>(null);
  const [isPending, setPending] = useState(false);

  const run = useCallback(
    async <T,>(call: () => Promise<T>): Promise<T | undefined> => {
      setPending(true);
      setError(null);
      try {
        try {
          return await call();
        } catch (caught) {
          if (!(caught instanceof ApiError && caught.code === 'STEP_UP_REQUIRED')) throw caught;
          if (!(await stepUp.confirm())) throw caught;
          return await call();
        }
      } catch (caught) {
        if (isSignedOutError(caught)) markSignedOut('expired');
        setError(caught);
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [markSignedOut, stepUp],
  );
  const clearError = useCallback(() => setError(null), []);
  return { run, error, isPending, clearError };
}
