import type { FastifyCorsOptions } from '@fastify/cors';

/** Every method a Rampart route answers (OPTIONS is the preflight itself). */
const API_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * The request headers a client of the API sets: JSON bodies, the session's CSRF token (the session
 * guard reads `X-CSRF-Token`) and an API key. Anything else a page asks to send is not granted.
 */
const CLIENT_HEADERS = ['content-type', 'x-csrf-token', 'authorization'];

/** Response headers a cross-origin client may read beyond the CORS-safelisted ones: when to retry, and the id to quote. */
const EXPOSED_HEADERS = ['retry-after', 'x-request-id'];

/**
 * Ten minutes: a browser asks again soon after the list changes, without a preflight before every
 * request. (Browsers cap it anyway: Chromium at two hours.)
 */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Options for `@fastify/cors` that grant credentialed CORS to exactly `origins` (RAMPART_CORS_ORIGINS,
 * already normalised). The `Origin` a request carries is looked up in a set; on a match the answer
 * names the allow-listed entry itself, otherwise the plugin adds no `Access-Control-*` header at
 * all and a preflight falls through to the ordinary 404/405. Nothing is ever reflected, so neither
 * `null` nor a look-alike origin can be granted. Register it only when `origins` is not empty.
 *
 * @example
 * if (config.corsOrigins.length > 0) await app.register(fastifyCors, corsOptions(config.corsOrigins));
 */
export function corsOptions(origins: readonly string[]): FastifyCorsOptions {
  const allowed: ReadonlySet<string> = new Set(origins);
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
    credentials: true,
    methods: API_METHODS,
    allowedHeaders: CLIENT_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    // An allowed origin's OPTIONS without Access-Control-Request-Method gets the same preflight answer
    // instead of the plugin's text/plain 400, so that every error stays problem+json.
    strictPreflight: false,
  };
}
