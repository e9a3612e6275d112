import { useState } from 'react';

/**
 * A secret shown once (an API key, recovery codes): readable text the person can select, a copy
 * button, and optionally a download as a text file. Nothing of it is kept after the screen closes.
 */
export function OneTimeSecret({ label, value, downloadName }: { label: string; value: string; downloadName?: string }) {
  const [isCopied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(value);
    setCopied(true);
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([`${value}\n`], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = downloadName ?? 'secret.txt';
    link.click();
    URL.revokeObjectURL(url);
  };
  return (
    <div className="secret">
      <p className="secret-label">{label}</p>
      <pre tabIndex={0} aria-label={label} data-secret>
        {value}
      </pre>
      <div className="actions">
        <button type="button" onClick={() => void copy().catch(() => setCopied(false))}>
          {isCopied ? 'Copied' : 'Copy'}
        </button>
        {downloadName !== undefined && (
          <button type="button" onClick={download}>
            Download
          </button>
        )}
      </div>
    </div>
  );
}
