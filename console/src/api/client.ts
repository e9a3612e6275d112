/**
 * The console's only way to the server: the typed client generated from `/api/openapi.json`
 * (`schema.d.ts`, kept in step with the server by test/docs/console-api-types.test.ts), same-origin,
 * with the CSRF token echoed on every state-changing request.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import { ApiError, problemFrom } from './problem';
import type { paths } from './schema';

/** The readable CSRF cookie sign-in sets: `__Host-` prefixed over HTTPS, plain in development. */
const CSRF_COOKIES = ['__Host-rampart_csrf', 'rampart_csrf'];

function csrfToken(): string | undefined {
  const cookies = new Map<string, string>();
  for (const pair of document.cookie.split(';')) {
    const separator = pair.indexOf('=');
    if (separator > 0) cookies.set(pair.slice(0, separator).trim(), pair.slice(separator + 1).trim());
  }
  for (const name of CSRF_COOKIES) {
    const value = cookies.get(name);
    if (value) return value;
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const sendCsrfToken: Middleware = {
  onRequest({ request }) {
    if (SAFE_METHODS.has(request.method)) return request;
    const token = csrfToken();
    if (token !== undefined) request.headers.set('X-CSRF-Token', token);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });
api.use(sendCsrfToken);

/** What every openapi-fetch call resolves to, whatever its route. */
interface FetchOutcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The body of a successful answer (null when it has none), or an {@link ApiError} carrying the server's problem (or a
 * NETWORK_ERROR when no answer came at all).
 *
 * @example
 * const me = await unwrap(api.GET('/api/me'));
 */
export async function unwrap<T>(call: Promise<FetchOutcome<T>>): Promise<T> {
  let outcome: FetchOutcome<T>;
  try {
    outcome = await call;
  } catch (cause) {
    throw new ApiError({ status: 0, code: 'NETWORK_ERROR', title: 'The server could not be reached.' }, { cause });
  }
  // An empty answer (204) is null, never undefined: `useAction` keeps undefined for "it failed".
  if (outcome.response.ok) return (outcome.data ?? null) as T;
  throw new ApiError(problemFrom(outcome.error, outcome.response));
}
