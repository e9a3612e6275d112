/**
 * Creating an account. The server answers 202 whether or not the address is already registered (so
 * the form cannot be used to find out who has an account); the email tells the person what comes next.
 */
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Field, NewPasswordField } from '../../components/field';
import { Page } from '../../components/page';
import { useAction } from '../../hooks';
import { Link, useLocation } from '../../router';
import { protectionFields, useFormToken } from './form-token';
import { Honeypot } from './honeypot';
import { safeNextPath } from './next-path';

export function SignUpPage() {
  const { search } = useLocation();
  const next = search.get('next');
  // Someone sent here from an invitation link goes back to it after signing in.
  const signInPath = next === null ? '/sign-in' : `/sign-in?next=${encodeURIComponent(safeNextPath(next))}`;
  const action = useAction();
  const formToken = useFormToken('sign-up', action.error);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [website, setWebsite] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = { email, password, name, ...protectionFields(formToken, website) };
    const answer = await action.run(() => unwrap(api.POST('/api/auth/sign-up', { body })));
    if (answer === undefined) return;
    setPassword('');
    setSentTo(email);
  };

  if (sentTo !== null) {
    return (
      <Page title="Create your account">
        <h2>Check your email</h2>
        <p>
          We sent a message to <strong>{sentTo}</strong>. Follow the link in it to verify your address, then sign in.
        </p>
        <p>
          <Link to={signInPath}>Sign in</Link>
        </p>
      </Page>
    );
  }

  return (
    <Page title="Create your account">
      <form onSubmit={(event) => void submit(event)}>
        <Field label="Name" name="name" value={name} onChange={setName} required autoComplete="name" />
        <Field label="Email" type="email" name="email" value={email} onChange={setEmail} required autoComplete="email" />
        <NewPasswordField label="Password" name="password" value={password} onChange={setPassword} />
        <Honeypot value={website} onChange={setWebsite} />
        <ErrorNotice error={action.error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={action.isPending}>
            Create account
          </button>
        </div>
      </form>
      <p>
        Already have an account? <Link to={signInPath}>Sign in</Link>
      </p>
    </Page>
  );
}
