import { useEffect, useRef, useState } from 'react';

/**
 * A destructive button that asks twice, inline: the first click shows the question with a confirm
 * and a cancel button in its place (no `window.confirm`, which headless browsers and some assistive
 * tools handle badly). Focus follows the swap, so a keyboard user is never left on a button that vanished.
 */
export function ConfirmButton({
  label,
  accessibleName,
  confirmLabel,
  question,
  onConfirm,
  disabled = false,
}: {
  label: string;
  /** A longer name when several such buttons share `label` on one screen (one per row); the row's confirm label should name it too. */
  accessibleName?: string;
  confirmLabel: string;
  /** Said next to the confirm button: what will happen. */
  question?: string;
  onConfirm: () => unknown;
  disabled?: boolean;
}) {
  const [isAsking, setAsking] = useState(false);
  const firstRef = useRef<HTMLButtonElement>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const hasAsked = useRef(false);

  useEffect(() => {
    if (isAsking) confirmRef.current?.focus();
    else if (hasAsked.current) firstRef.current?.focus();
    hasAsked.current ||= isAsking;
  }, [isAsking]);

  if (!isAsking) {
    return (
      <button type="button" ref={firstRef} aria-label={accessibleName} onClick={() => setAsking(true)} disabled={disabled}>
        {label}
      </button>
    );
  }
  const confirm = async () => {
    await onConfirm();
    setAsking(false);
  };
  return (
    <span className="actions">
      {question !== undefined && <span>{question}</span>}
      <button type="button" ref={confirmRef} className="danger" onClick={() => void confirm()} disabled={disabled}>
        {confirmLabel}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
