/**
 * The step-up prompt. Sensitive actions (creating an API key, changing the MFA policy, deleting a
 * workspace...) answer STEP_UP_REQUIRED when the session's last authentication is too old; the console
 * then asks the person to confirm who they are — with their password, or with their second factor
 * when they have one — calls `POST /api/auth/step-up`, and retries the action once.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, unwrap } from './api/client';
import type { paths } from './api/schema';
import type { MfaStatus } from './api/types';
import { ErrorNotice } from './components/error-notice';
import { Field } from './components/field';
import { normalizeCode } from './pages/auth/codes';
import { assertPasskey } from './passkey-ceremonies';

interface StepUpContextValue {
  /** Shows the prompt; resolves true once the server accepted the confirmation, false if cancelled. */
  confirm: () => Promise<boolean>;
}

const StepUpContext = createContext<StepUpContextValue | null>(null);

export function useStepUp(): StepUpContextValue {
  const value = useContext(StepUpContext);
  if (value === null) throw new Error('useStepUp outside StepUpProvider');
  return value;
}

export function StepUpProvider({ children }: { children: ReactNode }) {
  // The waiting caller's resolve lives in a ref: a second `confirm()` must settle the first one
  // (as cancelled) rather than leave its action waiting forever.
  const pending = useRef<((confirmed: boolean) => void) | null>(null);
  const [isOpen, setOpen] = useState(false);
  const confirm = useCallback(
    () =>
      new Promise<boolean>((resolve) => {
        pending.current?.(false);
        pending.current = resolve;
        setOpen(true);
      }),
    [],
  );
  const finish = useCallback((confirmed: boolean) => {
    const resolve = pending.current;
    pending.current = null;
    setOpen(false);
    resolve?.(confirmed);
  }, []);
  // Every useAction depends on this value: a new object each render would re-create their `run`.
  const value = useMemo(() => ({ confirm }), [confirm]);
  return (
    <StepUpContext.Provider value={value}>
      {children}
      {isOpen && <StepUpDialog onDone={finish} />}
    </StepUpContext.Provider>
  );
}

type Method = 'password' | 'code' | 'recoveryCode';
type StepUpBody = NonNullable<paths['/api/auth/step-up']['post']['requestBody']>['content']['application/json'];

function StepUpDialog({ onDone }: { onDone: (confirmed: boolean) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  // What had focus when the prompt opened (the action's button): focus goes back there when it closes,
  // since the dialog is unmounted rather than closed and the browser would leave focus on the page body.
  const [opener] = useState(() => document.activeElement);
  const [mfa, setMfa] = useState<MfaStatus | null>(null);
  const [method, setMethod] = useState<Method | null>(null);
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [isBusy, setBusy] = useState(false);

  useEffect(() => {
    dialog.current?.showModal();
    unwrap(api.GET('/api/me/mfa'))
      .then((status) => {
        setMfa(status);
        setMethod(status.totp || status.passkeys > 0 ? (status.totp ? 'code' : 'recoveryCode') : 'password');
      })
      .catch(setError);
  }, []);

  useEffect(
    () => () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    },
    [opener],
  );

  const submit = async (body: StepUpBody) => {
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST('/api/auth/step-up', { body }));
      onDone(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (method === 'password') void submit({ password: value });
    else if (method === 'code') void submit({ code: normalizeCode(value) });
    else if (method === 'recoveryCode') void submit({ recoveryCode: value.trim() });
  };

  const confirmWithPasskey = async () => {
    setBusy(true);
    setError(null);
    try {
      const { options } = await unwrap(api.POST('/api/auth/step-up/passkey-options', { body: {} }));
      const passkey = await assertPasskey(options);
      await unwrap(api.POST('/api/auth/step-up', { body: { passkey } }));
      onDone(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const labels: Record<Method, string> = {
    password: 'Password',
    code: 'Code from your authenticator app',
    recoveryCode: 'Recovery code',
  };

  return (
    <dialog ref={dialog} aria-labelledby="step-up-title" onCancel={() => onDone(false)} className="dialog">
      <form onSubmit={onSubmit}>
        <h2 id="step-up-title">Confirm it is you</h2>
        <p>This action needs a recent confirmation of your identity.</p>
        {mfa === null && error === null && <p role="status">Loading…</p>}
        {method !== null && (
          <Field
            label={labels[method]}
            name="step-up-secret"
            type={method === 'password' ? 'password' : 'text'}
            autoComplete={method === 'password' ? 'current-password' : 'one-time-code'}
            value={value}
            onChange={setValue}
            required
            autoFocus
          />
        )}
        {mfa !== null && (mfa.totp || mfa.passkeys > 0) && (
          <div className="choices">
            {mfa.totp && method !== 'code' && (
              <button type="button" className="link" onClick={() => setMethod('code')}>
                Use your authenticator app
              </button>
            )}
            {method !== 'recoveryCode' && (
              <button type="button" className="link" onClick={() => setMethod('recoveryCode')}>
                Use a recovery code
              </button>
            )}
            {mfa.passkeys > 0 && (
              <button type="button" className="link" onClick={() => void confirmWithPasskey()} disabled={isBusy}>
                Use a passkey
              </button>
            )}
          </div>
        )}
        <ErrorNotice error={error} />
        <div className="actions">
          <button type="button" onClick={() => onDone(false)}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={isBusy || method === null}>
            Confirm
          </button>
        </div>
      </form>
    </dialog>
  );
}
