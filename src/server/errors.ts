/**
 * The catalogue of every error code Rampart can answer with.
 *
 * Clients switch on `code`, so a code never changes meaning once shipped. Each one is documented in
 * `docs/errors.md`; `errors.test.ts` fails when the two drift apart.
 */
export const ERROR_CATALOG = {
  VALIDATION_FAILED: { status: 400, title: 'The request does not match the expected shape' },
  MALFORMED_JSON: { status: 400, title: 'The request body is not valid JSON' },
  MALFORMED_URL: { status: 400, title: 'The request URL is not valid' },
  BAD_REQUEST: { status: 400, title: 'The request could not be processed' },
  INVALID_TOKEN: { status: 400, title: 'The link is invalid, already used or expired' },
  FORM_TOKEN_INVALID: { status: 400, title: 'The form has expired; reload it and submit again' },
  PASSWORD_TOO_SHORT: { status: 400, title: 'The password is too short' },
  PASSWORD_TOO_LONG: { status: 400, title: 'The password is too long' },
  PASSWORD_TOO_COMMON: { status: 400, title: 'The password is too common or too easy to guess' },
  PASSWORD_BREACHED: { status: 400, title: 'The password has appeared in a data breach' },
  INVALID_CURRENT_PASSWORD: { status: 400, title: 'The current password is not correct' },
  INVALID_SECOND_FACTOR: { status: 400, title: 'The code, recovery code or passkey was not accepted' },
  SECOND_FACTOR_REQUIRED: { status: 400, title: 'This account has a second factor: confirm with it, not with the password' },
  PASSKEY_REJECTED: { status: 400, title: 'The passkey could not be registered' },
  UNAUTHENTICATED: { status: 401, title: 'Sign-in required' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid email or password' },
  SESSION_EXPIRED: { status: 401, title: 'The session has expired' },
  INVALID_API_KEY: { status: 401, title: 'The API key is not valid' },
  INVALID_MFA_TOKEN: { status: 401, title: 'The sign-in has expired or was already completed; sign in again' },
  EXPORT_TOO_LARGE: { status: 400, title: 'The export would hold too many events; narrow the time range' },
  MIXED_CREDENTIALS: { status: 400, title: 'Send a session cookie or an API key, not both' },
  RATE_LIMIT_TOO_HIGH: { status: 400, title: "The rate limit is above the workspace's maximum for a key" },
  CONFIRMATION_MISMATCH: { status: 400, title: 'The typed confirmation does not match' },
  CSRF_TOKEN_INVALID: { status: 403, title: 'The request is missing a valid CSRF token' },
  CROSS_SITE_REQUEST: { status: 403, title: "The request does not come from Rampart's own origin" },
  EMAIL_NOT_VERIFIED: { status: 403, title: 'Verify your email address first' },
  STEP_UP_REQUIRED: { status: 403, title: 'Confirm it is you again before this action' },
  MFA_REQUIRED: { status: 403, title: 'Multi-factor authentication is required for this' },
  INSUFFICIENT_SCOPE: { status: 403, title: 'The API key does not allow this action' },
  INSUFFICIENT_ROLE: { status: 403, title: 'Your role in this workspace does not allow this action' },
  ROLE_NOT_ALLOWED: { status: 403, title: 'You cannot give this role or change this member' },
  INVITATION_EMAIL_MISMATCH: { status: 403, title: 'The invitation was sent to another email address' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  EMAIL_ALREADY_VERIFIED: { status: 409, title: 'The email address is already verified' },
  ALREADY_MEMBER: { status: 409, title: 'That person is already a member of this workspace' },
  LAST_OWNER: { status: 409, title: 'A workspace must keep an owner' },
  TOTP_ALREADY_ENABLED: { status: 409, title: 'An authenticator app is already set up; remove it first' },
  MFA_NOT_ENABLED: { status: 409, title: 'Set up a second factor first' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  URI_TOO_LONG: { status: 414, title: 'A path segment of the URL is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  RATE_LIMITED: { status: 429, title: 'Too many requests; retry after the time in Retry-After' },
  TOO_MANY_ATTEMPTS: { status: 429, title: 'Too many attempts; try again later' },
  INTERNAL_ERROR: { status: 500, title: 'Internal server error' },
  METHOD_NOT_IMPLEMENTED: { status: 501, title: 'The server does not implement this method' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'The service is shutting down or not ready' },
  SERVICE_DEGRADED: { status: 503, title: 'One or more readiness checks failed' },
  SERVICE_BUSY: { status: 503, title: 'The server is busy; retry shortly' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface AppErrorOptions {
  /** Overrides the catalogue status; rarely needed. */
  status?: number;
  /** A sentence safe to show the client. Never include secrets, SQL or internal identifiers. */
  publicMessage?: string;
  /** The underlying error: logged (with redaction), never sent to the client. */
  cause?: unknown;
  /** Extra RFC 9457 extension members, e.g. the list of validation issues. */
  extensions?: Record<string, unknown>;
  /** Extra response headers, e.g. `Allow` on a 405. */
  headers?: Record<string, string>;
}

/**
 * An error that crosses the HTTP boundary as an `application/problem+json` answer.
 *
 * @example
 * throw new AppError('NOT_FOUND', { publicMessage: 'No such workspace.' });
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly publicMessage: string | undefined;
  readonly extensions: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    super(options.publicMessage ?? ERROR_CATALOG[code].title, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? ERROR_CATALOG[code].status;
    this.publicMessage = options.publicMessage;
    this.extensions = options.extensions;
    this.headers = options.headers;
  }
}

/** The RFC 9457 body every error answer carries. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  requestId: string;
  [extension: string]: unknown;
}

/**
 * Builds the problem body for an AppError. `type` is a URN rather than a URL so that it stays stable
 * wherever Rampart is deployed; `docs/errors.md` explains each code.
 */
export function toProblemDetails(error: AppError, requestId: string): ProblemDetails {
  return {
    ...error.extensions,
    type: `urn:rampart:error:${error.code}`,
    title: ERROR_CATALOG[error.code].title,
    status: error.status,
    code: error.code,
    ...(error.publicMessage === undefined ? {} : { detail: error.publicMessage }),
    requestId,
  };
}

/** The message of anything thrown, for a log line or an operator's terminal (never for a client). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
