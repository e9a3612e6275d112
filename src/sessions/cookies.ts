/**
 * The two cookies of a signed-in browser, named and flagged as the brief fixes them. Over HTTPS the
 * `__Host-` prefix makes the browser refuse them unless they are Secure, host-only and Path=/, so a
 * sibling subdomain cannot plant or overwrite them; plain-HTTP development drops the prefix and Secure,
 * which browsers would otherwise refuse.
 *
 * Written here rather than with a cookie library: Rampart only reads its own two cookies, whose values
 * are base64url, and writes them with fixed attributes — a few lines, no parsing edge case to inherit.
 */
export interface CookieNames {
  session: string;
  csrf: string;
}

export function cookieNames(isHttps: boolean): CookieNames {
  return isHttps
    ? { session: '__Host-rampart_session', csrf: '__Host-rampart_csrf' }
    : { session: 'rampart_session', csrf: 'rampart_csrf' };
}

/**
 * The value of one cookie from a `Cookie` header, or undefined. When a name appears more than once
 * (a cookie planted for a parent path or domain) the first is taken, as browsers send the most
 * specific first; a planted one cannot be a valid session anyway.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator === -1) continue;
    if (pair.slice(0, separator).trim() === name) return pair.slice(separator + 1).trim();
  }
  return undefined;
}

interface CookieOptions {
  isHttps: boolean;
  /** Whether page scripts may read it: only the CSRF cookie, which the client echoes in a header. */
  isReadableByScript: boolean;
  maxAgeSeconds: number;
}

/** A `Set-Cookie` value. Values are base64url (or empty), so they need no encoding. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const attributes = [`${name}=${value}`, 'Path=/', `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`, 'SameSite=Lax'];
  if (!options.isReadableByScript) attributes.push('HttpOnly');
  if (options.isHttps) attributes.push('Secure');
  return attributes.join('; ');
}
