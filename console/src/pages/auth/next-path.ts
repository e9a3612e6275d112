/** Where the console goes after sign-in when no (acceptable) `next` was given. */
export const DEFAULT_AFTER_SIGN_IN = '/workspaces';

/**
 * The `next` query parameter as a path of this console, or the default. Only a same-origin path is
 * followed: `//evil.example`, `/\evil.example` and absolute URLs would turn the sign-in page into an
 * open redirect, which phishing links use to borrow a trusted address.
 */
export function safeNextPath(next: string | null): string {
  if (next === null || !next.startsWith('/') || next.startsWith('//')) return DEFAULT_AFTER_SIGN_IN;
  // The URL parser also undoes the tricks a prefix check misses (backslashes, tabs and newlines inside the scheme-relative part).
  const url = new URL(next, window.location.origin);
  if (url.origin !== window.location.origin) return DEFAULT_AFTER_SIGN_IN;
  return url.pathname + url.search + url.hash;
}
