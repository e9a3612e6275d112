import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../server/errors.js';
import { SAFE_METHODS, type SessionCookies } from './session-guard.js';

/**
 * Routes that start a session: a cross-site post to one of them would sign the victim's browser into
 * an account the attacker chose ("login CSRF") or create one in their name. Every one must exist (the
 * app refuses to start otherwise), so that renaming a route cannot silently drop it from the list.
 */
export const SESSION_STARTING_ROUTES: ReadonlySet<string> = new Set([
  'POST /api/auth/sign-up',
  'POST /api/auth/sign-in',
  'POST /api/auth/sign-in/mfa',
  'POST /api/auth/passkey/sign-in',
]);

const NO_ORIGINS: ReadonlySet<string> = new Set();

/**
 * Whether a browser says the request comes from one of `allowedOrigins`. Fetch Metadata first
 * (`Sec-Fetch-Site`, sent by every current browser and not settable by a page): `same-origin`, or
 * `none` (typed or bookmarked by the user, never a page's doing), passes; `cross-site` and
 * `same-site` (a sibling subdomain is another origin) are refused. Where Fetch Metadata is missing,
 * the `Origin` header must be in the list; with neither, the request is refused (fail closed), as the
 * OWASP CSRF cheat sheet advises.
 *
 * `corsOrigins` (RAMPART_CORS_ORIGINS) are other origins trusted with credentialed CORS: their
 * requests are cross-origin, so a browser marks them `same-site` or `cross-site`, and they pass on
 * their exact `Origin`, which a page cannot set. Any other origin is still refused.
 */
export function comesFromAllowedOrigin(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  allowedOrigins: ReadonlySet<string>,
  corsOrigins: ReadonlySet<string> = NO_ORIGINS,
): boolean {
  const origin = headers.origin;
  if (typeof origin === 'string' && corsOrigins.has(origin)) return true;
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  return typeof origin === 'string' && allowedOrigins.has(origin);
}

/**
 * The first half of CSRF protection, for every state-changing request a browser could send on a
 * user's behalf: those carrying the session cookie, and those that start a session. Such a request
 * must come from Rampart's own origin (or one of `corsOrigins`), or it is refused in `onRequest`,
 * before its body is read. The second half is the session's CSRF token, which the session guard
 * requires of cookie requests on top of this. A request presenting an API key (`Authorization:
 * Bearer …`) to a route that does not start a session is left to the API-key guard: it carries no
 * ambient credential, a page of another site cannot add that header without a CORS preflight (which
 * Rampart grants to `corsOrigins` only), and with a session cookie as well it is refused as
 * MIXED_CREDENTIALS.
 *
 * Returns the check, for the app's one `onRequest` hook to call (the error to answer with, or
 * undefined); `app` gets the start-up check that every route of SESSION_STARTING_ROUTES exists.
 * Create it before any route is registered: routes registered earlier are not seen by `onRoute`.
 */
export function createOriginGuard(
  app: FastifyInstance,
  options: { allowedOrigins: ReadonlySet<string>; corsOrigins?: ReadonlySet<string>; cookies: SessionCookies },
): (request: FastifyRequest) => AppError | undefined {
  const { allowedOrigins, corsOrigins = NO_ORIGINS, cookies } = options;
  const registered = new Set<string>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registered.add(`${method} ${route.url}`);
  });
  app.addHook('onReady', async () => {
    const missing = [...SESSION_STARTING_ROUTES].filter((route) => !registered.has(route));
    if (missing.length > 0) throw new Error(`SESSION_STARTING_ROUTES names routes that do not exist: ${missing.join(', ')}`);
  });
  return (request) => {
    if (SAFE_METHODS.has(request.method)) return undefined;
    const isSessionStart = SESSION_STARTING_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`);
    if (!isSessionStart) {
      if (request.headers.authorization?.startsWith('Bearer ') === true) return undefined;
      if (cookies.readSessionToken(request) === undefined) return undefined;
    }
    if (comesFromAllowedOrigin(request.headers, allowedOrigins, corsOrigins)) return undefined;
    return new AppError('CROSS_SITE_REQUEST', {
      publicMessage: "Send it from this service's own pages; a client outside a browser sends the Origin header of the service's public URL.",
    });
  };
}
