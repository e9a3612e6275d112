/**
 * Asking for a password reset link. The answer is the same for every address, registered or not, so
 * the form cannot be used to find out who has an account.
 */
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorNotice } from '../../components/error-notice';
import { Field } from '../../components/field';
import { Notice, Page } from '../../components/page';
import { useAction } from '../../hooks';
import { Link } from '../../router';
import { protectionFields, useFormToken } from './form-token';
import { Honeypot } from './honeypot';

export function ForgotPasswordPage() {
  const action = useAction();
  const formToken = useFormToken('password-reset', action.error);
  const [email, setEmail] = useState('');
  const [website, setWebsite] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = { email, ...protectionFields(formToken, website) };
    const answer = await action.run(() => unwrap(api.POST('/api/auth/password/forgot', { body })));
    if (answer !== undefined) setSentTo(email);
  };

  return (
    <Page title="Forgot your password">
      {sentTo !== null ? (
        <Notice>
          <p>
            If an account exists for <strong>{sentTo}</strong>, a link is on its way. Open it to choose a new password.
          </p>
        </Notice>
      ) : (
        <form onSubmit={(event) => void submit(event)}>
          <p>Enter the email address of your account, and we will send you a link to choose a new password.</p>
          <Field label="Email" type="email" name="email" value={email} onChange={setEmail} required autoComplete="email" />
          <Honeypot value={website} onChange={setWebsite} />
          <ErrorNotice error={action.error} />
          <div className="actions">
            <button type="submit" className="primary" disabled={action.isPending}>
              Send reset link
            </button>
          </div>
        </form>
      )}
      <p>
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </Page>
  );
}
