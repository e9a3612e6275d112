import { useEffect, useRef, useState } from 'react';

/**
 * A destructive button that asks twice, inline: the first click shows "Confirm …" and "Cancel" in its
 * place (no window.confirm, which headless browsers and some assistive setups handle badly).
 */
export function ConfirmButton({
  label,
  accessibleName,
  confirmLabel,
  onConfirm,
  disabled = false,
}: {
  label: string;
  /** A longer name when several such buttons share `label` on one screen (e.g. one per row). */
  accessibleName?: string;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
}) {
  const [isArmed, setArmed] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);

  // The first button disappears on click: keep keyboard focus on the choice that replaced it.
  useEffect(() => {
    if (isArmed) confirmRef.current?.focus();
  }, [isArmed]);

  if (!isArmed) {
    return (
      <button type="button" aria-label={accessibleName} onClick={() => setArmed(true)} disabled={disabled}>
        {label}
      </button>
    );
  }
  return (
    <span className="actions">
      <button
        ref={confirmRef}
        type="button"
        className="danger"
        disabled={disabled}
        onClick={() => {
          setArmed(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" onClick={() => setArmed(false)}>
        Cancel
      </button>
    </span>
  );
}
