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

/** Loads once per change of `key`, and again on `reload()`. */
export function useResource<T>(load: () => Promise<T>, key: string): Resource<T> {
  const { markSignedOut } = useSession();
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [isLoading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let isCurrent = true;
    setLoading(true);
    loadRef
      .current()
      .then((value) => {
        if (!isCurrent) return;
        setData(value);
        setError(null);
      })
      .catch((caught: unknown) => {
        if (!isCurrent) return;
        if (isSignedOutError(caught)) markSignedOut('expired');
        setError(caught);
      })
      .finally(() => {
        if (isCurrent) setLoading(false);
      });
    return () => {
      isCurrent = false;
    };
  }, [key, generation, markSignedOut]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { data, error, isLoading, reload };
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
