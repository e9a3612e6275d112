import { useEffect, useRef, type ReactNode } from 'react';

/** Whether a screen has been shown since the page loaded: the first one keeps the browser's focus. */
let hasShownAScreen = false;

/**
 * A screen: its heading, and the document title that tabs and screen readers announce. When the
 * console moves to another screen without a page load, focus goes to the new heading, so a screen
 * reader says where the person now is and the keyboard starts from the top of the new screen.
 */
export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Rampart`;
    if (hasShownAScreen) heading.current?.focus({ preventScroll: true });
    hasShownAScreen = true;
  }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-header">
        <h1 id="page-title" ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions}
      </header>
      {children}
    </section>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p role="status" className="loading">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** A success message, announced politely. */
export function Notice({ children }: { children: ReactNode }) {
  return (
    <div role="status" className="notice success">
      {children}
    </div>
  );
}
