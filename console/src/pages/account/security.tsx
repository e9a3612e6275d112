import { useCallback, useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import type { MfaStatus } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { Field } from '../../components/field';
import { Loading, Notice, Page } from '../../components/page';
import { QrCode } from '../../components/qr-code';
import { useAction, useResource } from '../../hooks';
import { ConfirmButton } from '../../components/confirm-button';
import { normalizeCode } from '../auth/codes';
import { PasskeysSection } from './passkeys';
import { NewRecoveryCodes } from './recovery-codes';

export function SecurityPage() {
  const mfa = useResource(() => unwrap(api.GET('/api/me/mfa')), 'mfa');
  const passkeys = useResource(async () => (await unwrap(api.GET('/api/me/passkeys'))).passkeys, 'passkeys');
  const { reload: reloadMfa } = mfa;
  const { reload: reloadPasskeys } = passkeys;
  // Any factor change moves the other sections too (the recovery-code count, which methods exist).
  const reloadAll = useCallback(() => {
    reloadMfa();
    reloadPasskeys();
  }, [reloadMfa, reloadPasskeys]);

  return (
    <Page title="Security">
      <p>A second step at sign-in (an authenticator app or a passkey) keeps your account safe even if your password leaks.</p>
      {mfa.data === undefined && mfa.isLoading && <Loading />}
      <ErrorNotice error={mfa.error} />
      {mfa.data !== undefined && (
        <>
          <AuthenticatorSection status={mfa.data} onChange={reloadAll} />
          <RecoveryCodesSection status={mfa.data} onChange={reloadAll} />
        </>
      )}
      <PasskeysSection passkeys={passkeys} onChange={reloadAll} />
    </Page>
  );
}

function AuthenticatorSection({ status, onChange }: { status: MfaStatus; onChange: () => void }) {
  const action = useAction();
  const [enrollment, setEnrollment] = useState<{ secret: string; uri: string } | null>(null);
  const [code, setCode] = useState('');
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const start = async () => {
    setNotice(null);
    const started = await action.run(() => unwrap(api.POST('/api/me/mfa/totp', { body: {} })));
    if (started !== undefined) {
      setEnrollment(started);
      setCode('');
    }
  };

  const activate = async (event: FormEvent) => {
    event.preventDefault();
    const confirmed = await action.run(() => unwrap(api.POST('/api/me/mfa/totp/confirm', { body: { code: normalizeCode(code) } })));
    if (confirmed === undefined) return;
    setEnrollment(null);
    setCode('');
    setRecoveryCodes(confirmed.recoveryCodes);
    setNotice('Your authenticator app is set up. Sign-ins now ask for a code from it.');
    onChange();
  };

  const remove = async () => {
    setNotice(null);
    const removed = await action.run(() => unwrap(api.DELETE('/api/me/mfa/totp')));
    if (removed !== undefined) setNotice('The authenticator app was removed.');
    onChange();
  };

  return (
    <>
      <h2>Authenticator app</h2>
      <p>
        Status:{' '}
        {status.totp ? <span className="badge ok">On</span> : <span className="badge bad">Off</span>}
      </p>
      {notice !== null && (
        <Notice>
          <p>{notice}</p>
        </Notice>
      )}
      {recoveryCodes !== null && <NewRecoveryCodes codes={recoveryCodes} onSaved={() => setRecoveryCodes(null)} />}
      {status.totp ? (
        <div className="actions">
          <ConfirmButton label="Remove authenticator app" confirmLabel="Confirm remove authenticator app" onConfirm={() => remove()} disabled={action.isPending} />
        </div>
      ) : enrollment === null ? (
        <div className="actions">
          <button type="button" className="primary" onClick={() => void start()} disabled={action.isPending}>
            Set up an authenticator app
          </button>
        </div>
      ) : (
        <>
          <p>Scan this QR code with your authenticator app, or type the secret key into it by hand.</p>
          <QrCode value={enrollment.uri} label="QR code for your authenticator app" />
          <p>
            Secret key: <code data-testid="totp-secret">{enrollment.secret}</code>
          </p>
          <form onSubmit={(event) => void activate(event)}>
            <Field
              label="Code from the app"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              hint="The 6-digit code the app shows for Rampart."
              value={code}
              onChange={setCode}
              required
              autoFocus
            />
            <div className="actions">
              <button type="submit" className="primary" disabled={action.isPending}>
                Activate
              </button>
            </div>
          </form>
        </>
      )}
      <ErrorNotice error={action.error} />
    </>
  );
}

function RecoveryCodesSection({ status, onChange }: { status: MfaStatus; onChange: () => void }) {
  const action = useAction();
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const hasFactor = status.totp || status.passkeys > 0;

  const create = async () => {
    const created = await action.run(() => unwrap(api.POST('/api/me/mfa/recovery-codes', { body: {} })));
    if (created !== undefined) setRecoveryCodes(created.recoveryCodes);
    onChange();
  };

  return (
    <>
      <h2>Recovery codes</h2>
      {hasFactor ? (
        <>
          <p data-testid="recovery-codes-remaining">
            {status.recoveryCodesRemaining === 1 ? '1 unused recovery code left.' : `${status.recoveryCodesRemaining} unused recovery codes left.`}
          </p>
          <p className="hint">Creating new codes makes every earlier one stop working.</p>
          {recoveryCodes !== null && <NewRecoveryCodes codes={recoveryCodes} onSaved={() => setRecoveryCodes(null)} />}
          <div className="actions">
            <ConfirmButton
              label="Create new recovery codes"
              confirmLabel="Confirm new recovery codes"
              question="Your current recovery codes will stop working."
              onConfirm={() => create()}
              disabled={action.isPending}
            />
          </div>
          <ErrorNotice error={action.error} />
        </>
      ) : (
        <p>Recovery codes come with an authenticator app or a passkey: set up one of them first.</p>
      )}
    </>
  );
}
