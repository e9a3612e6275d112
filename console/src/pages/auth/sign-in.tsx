/**
 * Sign-in: email and password, then — for an account with two-step verification — a second step with
 * an authenticator code, a recovery code or a passkey; or a passkey alone, without a password.
 */
import { startAuthentication } from '@simplewebauthn/browser';
import { useEffect, useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import type { paths } from '../../api/schema';
import { ErrorNotice } from '../../components/error-notice';
import { Field } from '../../components/field';
import { Page } from '../../components/page';
import { useAction } from '../../hooks';
import { Link, navigate, useLocation } from '../../router';
import { useSession } from '../../session';
import { safeNextPath } from './next-path';

type SignInAnswer = paths['/api/auth/sign-in']['post']['responses'][200]['content']['application/json'];
type MfaChallenge = Extract<SignInAnswer, { mfaRequired: true }>;

export function SignInPage() {
  const { search } = useLocation();
  const { state, refresh } = useSession();
  const target = safeNextPath(search.get('next'));
  const [challenge, setChallenge] = useState<MfaChallenge | null>(null);

  // Someone already signed in (an old bookmark, the back button) has nothing to do here.
  useEffect(() => {
    if (state.status === 'signed-in') navigate(target, { replace: true });
  }, [state.status, target]);

  const finish = async () => {
    await refresh();
    navigate(target, { replace: true });
  };

  return (
    <Page title="Sign in">
      {challenge === null ? (
        <PasswordStep onChallenge={setChallenge} onSignedIn={finish} />
      ) : (
        <SecondStep challenge={challenge} onSignedIn={finish} onRestart={() => setChallenge(null)} />
      )}
    </Page>
  );
}

function PasswordStep({ onChallenge, onSignedIn }: { onChallenge: (challenge: MfaChallenge) => void; onSignedIn: () => Promise<void> }) {
  const action = useAction();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await action.run(() => unwrap(api.POST('/api/auth/sign-in', { body: { email, password } })));
    if (answer === undefined) return;
    if ('mfaRequired' in answer) onChallenge(answer);
    else await onSignedIn();
  };

  const signInWithPasskey = async () => {
    const answer = await action.run(async () => {
      const { options } = await unwrap(api.POST('/api/auth/passkey/options', { body: {} }));
      const response = await startAuthentication({ optionsJSON: options as never });
      return unwrap(api.POST('/api/auth/passkey/sign-in', { body: { response: response as never } }));
    });
    if (answer !== undefined) await onSignedIn();
  };

  return (
    <>
      <form onSubmit={(event) => void submit(event)}>
        <Field label="Email" type="email" name="email" value={email} onChange={setEmail} required autoComplete="username" />
        <Field label="Password" type="password" name="password" value={password} onChange={setPassword} required autoComplete="current-password" />
        <ErrorNotice error={action.error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={action.isPending}>
            Sign in
          </button>
          <Link to="/forgot-password">Forgot your password?</Link>
        </div>
      </form>
      <p>Or, without a password:</p>
      <div className="actions">
        <button type="button" onClick={() => void signInWithPasskey()} disabled={action.isPending}>
          Sign in with a passkey
        </button>
      </div>
      <p>
        New to Rampart? <Link to="/sign-up">Create an account</Link>
      </p>
    </>
  );
}

type Mode = 'code' | 'recoveryCode';

function SecondStep({ challenge, onSignedIn, onRestart }: { challenge: MfaChallenge; onSignedIn: () => Promise<void>; onRestart: () => void }) {
  const action = useAction();
  const hasTotp = challenge.methods.includes('totp');
  const passkeyOptions = challenge.methods.includes('passkey') ? challenge.passkeyOptions : undefined;
  const [mode, setMode] = useState<Mode>(hasTotp ? 'code' : 'recoveryCode');
  const [value, setValue] = useState('');

  const switchTo = (next: Mode) => {
    setMode(next);
    setValue('');
    action.clearError();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const { mfaToken } = challenge;
    // Codes are often typed or pasted with spaces ("123 456"); the server compares them without.
    const body = mode === 'code' ? { mfaToken, code: value.replace(/\s/g, '') } : { mfaToken, recoveryCode: value.trim() };
    const answer = await action.run(() => unwrap(api.POST('/api/auth/sign-in/mfa', { body })));
    if (answer !== undefined) await onSignedIn();
  };

  const confirmWithPasskey = async (options: NonNullable<MfaChallenge['passkeyOptions']>) => {
    const answer = await action.run(async () => {
      const passkey = await startAuthentication({ optionsJSON: options as never });
      return unwrap(api.POST('/api/auth/sign-in/mfa', { body: { mfaToken: challenge.mfaToken, passkey: passkey as never } }));
    });
    if (answer !== undefined) await onSignedIn();
  };

  return (
    <form onSubmit={(event) => void submit(event)}>
      <h2>Two-step verification</h2>
      {mode === 'code' ? (
        <p>Enter the code your authenticator app shows for Rampart.</p>
      ) : (
        <p>Enter one of the recovery codes you saved when you set up two-step verification. Each code works once.</p>
      )}
      <Field
        key={mode}
        label={mode === 'code' ? 'Authentication code' : 'Recovery code'}
        name={mode === 'code' ? 'code' : 'recovery-code'}
        inputMode={mode === 'code' ? 'numeric' : 'text'}
        autoComplete="one-time-code"
        value={value}
        onChange={setValue}
        required
        autoFocus
      />
      <ErrorNotice error={action.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={action.isPending}>
          Verify
        </button>
        <button type="button" onClick={onRestart}>
          Start over
        </button>
      </div>
      <div className="choices">
        {mode === 'code' ? (
          <button type="button" className="link" onClick={() => switchTo('recoveryCode')}>
            Use a recovery code
          </button>
        ) : (
          hasTotp && (
            <button type="button" className="link" onClick={() => switchTo('code')}>
              Use your authenticator app
            </button>
          )
        )}
        {passkeyOptions !== undefined && (
          <button type="button" className="link" onClick={() => void confirmWithPasskey(passkeyOptions)} disabled={action.isPending}>
            Use a passkey
          </button>
        )}
      </div>
    </form>
  );
}
