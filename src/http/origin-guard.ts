import type { onRequestHookHandler } from 'fastify';
import { AppError } from '../server/errors.js';
import type { SessionCookies } from './session-guard.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Routes that start a session: a cross-site post to one of them would sign the victim's browser into
 * an account the attacker chose ("login CSRF") or create one in their name.
 */
export const SESSION_STARTING_ROUTES: ReadonlySet<string> = new Set([
  '/api/auth/sign-up',
  '/api/auth/sign-in',
  '/api/auth/sign-in/mfa',
  '/api/auth/passkey/sign-in',
]);

/**
 * Whether a browser says the request comes from one of `allowedOrigins`. Fetch Metadata first
 * (`Sec-Fetch-Site`, sent by every current browser and not settable by a page); where it is missing
 * or only says "same-site", the `Origin` header must be in the list; with neither, the request is
 * refused (fail closed), as the OWASP CSRF cheat sheet advises.
 */
export function comesFromAllowedOrigin(headers: Readonly<Record<string, string | string[] | undefined>>, allowedOrigins: ReadonlySet<string>): boolean {
  const site = headers['sec-fetch-site'];
  if (site === 'same-origin' || site === 'none') return true;
  if (site === 'cross-site') return false;
  const origin = headers.origin;
  return typeof origin === 'string' && allowedOrigins.has(origin);
}

/**
 * The first half of CSRF protection, for every state-changing request a browser could send on a
 * user's behalf: those carrying the session cookie, and those that start a session. Such a request
 * must come from Rampart's own origin, or it is refused before its body is read. The second half is
 * the session's CSRF token, which the session guard requires of cookie requests on top of this.
 * Requests with `Authorization` (API keys) carry no ambient credential and are not concerned: a page
 * of another site cannot set that header without a CORS preflight, which Rampart never grants.
 */
export function createOriginGuard(options: { allowedOrigins: ReadonlySet<string>; cookies: SessionCookies }): onRequestHookHandler {
  const { allowedOrigins, cookies } = options;
  return (request, _reply, done) => {
    if (SAFE_METHODS.has(request.method) || request.headers.authorization !== undefined) return done();
    const isSessionStart = SESSION_STARTING_ROUTES.has(request.routeOptions.url ?? '');
    if (!isSessionStart && cookies.readSessionToken(request) === undefined) return done();
    if (comesFromAllowedOrigin(request.headers, allowedOrigins)) return done();
    done(new AppError('CROSS_SITE_REQUEST'));
  };
}
