import { useId, useState } from 'react';
import { saveFile } from '../save-file';

/**
 * A secret shown once (an API key, recovery codes): a labelled read-only field the person can select,
 * a copy button, and optionally a download as a text file. Nothing of it is kept after the screen closes.
 */
export function OneTimeSecret({ label, value, downloadName }: { label: string; value: string; downloadName?: string }) {
  const id = useId();
  const [isCopied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(value);
    setCopied(true);
  };
  return (
    <div className="secret">
      <label htmlFor={id} className="secret-label">
        {label}
      </label>
      <textarea id={id} readOnly value={value} rows={value.split('\n').length} spellCheck={false} autoComplete="off" data-secret />
      <div className="actions">
        <button type="button" onClick={() => void copy().catch(() => setCopied(false))}>
          {isCopied ? 'Copied' : 'Copy'}
        </button>
        {downloadName !== undefined && (
          <button type="button" onClick={() => saveFile(new Blob([`${value}\n`], { type: 'text/plain' }), downloadName)}>
            Download
          </button>
        )}
      </div>
    </div>
  );
}
