/**
 * Sign-in: email and password, then — for an account with two-step verification — a second step with
 * an authenticator code, a recovery code or a passkey; or a passkey alone, without a password.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import type { paths } from '../../api/schema';
import { ErrorNotice } from '../../components/error-notice';
import { Field } from '../../components/field';
import { Page } from '../../components/page';
import { useAction } from '../../hooks';
import { Link, navigate, useLocation } from '../../router';
import { assertPasskey } from '../../passkey-ceremonies';
import { useSession } from '../../session';
import { normalizeCode } from './codes';
import { safeNextPath } from './next-path';

type SignInAnswer = paths['/api/auth/sign-in']['post']['responses'][200]['content']['application/json'];
type MfaChallenge = Extract<SignInAnswer, { mfaRequired: true }>;

/** A refused passkey is INVALID_CREDENTIALS too, but there was no email or password to be wrong. */
const PASSKEY_WORDING = { INVALID_CREDENTIALS: 'This passkey is not registered to an account here, or was removed.' };

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
        <PasswordStep onChallenge={setChallenge} onSignedIn={finish} next={search.get('next')} />
      ) : (
        <SecondStep challenge={challenge} onSignedIn={finish} onRestart={() => setChallenge(null)} />
      )}
    </Page>
  );
}

function PasswordStep({
  onChallenge,
  onSignedIn,
  next,
}: {
  onChallenge: (challenge: MfaChallenge) => void;
  onSignedIn: () => Promise<void>;
  /** Passed on to sign-up, whose "Sign in" link brings it back (an invitation waiting to be accepted). */
  next: string | null;
}) {
  const action = useAction();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [isPasskeyAttempt, setPasskeyAttempt] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPasskeyAttempt(false);
    const answer = await action.run(() => unwrap(api.POST('/api/auth/sign-in', { body: { email, password } })));
    if (answer === undefined) return;
    if ('mfaRequired' in answer) onChallenge(answer);
    else await onSignedIn();
  };

  const signInWithPasskey = async () => {
    setPasskeyAttempt(true);
    const answer = await action.run(async () => {
      const { options } = await unwrap(api.POST('/api/auth/passkey/options', { body: {} }));
      const response = await assertPasskey(options);
      return unwrap(api.POST('/api/auth/passkey/sign-in', { body: { response } }));
    });
    if (answer !== undefined) await onSignedIn();
  };

  return (
    <>
      <form onSubmit={(event) => void submit(event)}>
        <Field label="Email" type="email" name="email" value={email} onChange={setEmail} required autoComplete="username" />
        <Field label="Password" type="password" name="password" value={password} onChange={setPassword} required autoComplete="current-password" />
        <ErrorNotice error={action.error} wording={isPasskeyAttempt ? PASSKEY_WORDING : {}} />
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
        New to Rampart? <Link to={next === null ? '/sign-up' : `/sign-up?next=${encodeURIComponent(safeNextPath(next))}`}>Create an account</Link>
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
    const body = mode === 'code' ? { mfaToken, code: normalizeCode(value) } : { mfaToken, recoveryCode: value.trim() };
    const answer = await action.run(() => unwrap(api.POST('/api/auth/sign-in/mfa', { body })));
    if (answer !== undefined) await onSignedIn();
  };

  const confirmWithPasskey = async (options: NonNullable<MfaChallenge['passkeyOptions']>) => {
    const answer = await action.run(async () => {
      const passkey = await assertPasskey(options);
      return unwrap(api.POST('/api/auth/sign-in/mfa', { body: { mfaToken: challenge.mfaToken, passkey } }));
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
