import { OneTimeSecret } from '../../components/secret';

/** A fresh set of recovery codes, shown this once: the server keeps only their hashes. */
export function NewRecoveryCodes({ codes, onSaved }: { codes: string[]; onSaved: () => void }) {
  return (
    <div className="new-recovery-codes">
      <OneTimeSecret label="Recovery codes" value={codes.join('\n')} downloadName="rampart-recovery-codes.txt" />
      <p>
        <strong>Save these codes somewhere safe now: they will not be shown again.</strong> Each code signs you in once if you
        lose your authenticator app or passkey. Any codes you had before no longer work.
      </p>
      <button type="button" className="primary" onClick={onSaved}>
        I have saved my recovery codes
      </button>
    </div>
  );
}
