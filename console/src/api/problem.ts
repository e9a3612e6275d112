/**
 * Errors from the API, as people read them. The server answers every failure with an RFC 9457 problem
 * carrying a stable `code` (docs/errors.md); the console words each code for the person in front of it
 * and always keeps the request id, which support matches against the server log.
 */
export interface Problem {
  status: number;
  code: string;
  title: string;
  detail?: string;
  requestId?: string;
  /** VALIDATION_FAILED: one entry per field that did not match. */
  errors?: { in: string; path: string; message: string }[];
}

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly problem: Problem,
    options?: ErrorOptions,
  ) {
    super(problem.detail ?? problem.title, options);
  }

  get code(): string {
    return this.problem.code;
  }

  get status(): number {
    return this.problem.status;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The problem of a failed answer; a body that is not one (a proxy's HTML page) still gives a usable error. */
export function problemFrom(body: unknown, response: Response): Problem {
  const requestId = response.headers.get('x-request-id') ?? undefined;
  if (isRecord(body) && typeof body.code === 'string') {
    return {
      status: typeof body.status === 'number' ? body.status : response.status,
      code: body.code,
      title: typeof body.title === 'string' ? body.title : response.statusText,
      ...(typeof body.detail === 'string' ? { detail: body.detail } : {}),
      ...(typeof body.requestId === 'string' ? { requestId: body.requestId } : requestId ? { requestId } : {}),
      ...(Array.isArray(body.errors) ? { errors: body.errors as Problem['errors'] & object } : {}),
    };
  }
  return { status: response.status, code: 'UNEXPECTED_RESPONSE', title: response.statusText, ...(requestId ? { requestId } : {}) };
}

/** Plain words for each code a person can meet in the console. Codes missing here show the server's own text. */
const MESSAGES: Record<string, string> = {
  NETWORK_ERROR: 'The server could not be reached. Check your connection and try again.',
  UNEXPECTED_RESPONSE: 'The server gave an answer the console does not understand. Try again in a moment.',
  VALIDATION_FAILED: 'Some of the information entered is not valid.',
  FORM_TOKEN_INVALID: 'This form has expired. Reload the page and submit it again.',
  INVALID_TOKEN: 'This link is no longer valid: it was already used, replaced by a newer one, or has expired.',
  EXPORT_TOO_LARGE: 'Too many events match. Narrow the time range and export in parts.',
  MIXED_CREDENTIALS: 'The request carried both a session and an API key.',
  RATE_LIMIT_TOO_HIGH: 'That rate limit is above the most this workspace allows for one key.',
  CONFIRMATION_MISMATCH: 'The name typed does not match the workspace name exactly. Nothing was deleted.',
  PASSWORD_TOO_SHORT: 'The password must have at least 12 characters.',
  PASSWORD_TOO_LONG: 'The password must have at most 128 characters.',
  PASSWORD_TOO_COMMON: 'This password is too easy to guess. Choose a longer, less common one.',
  PASSWORD_BREACHED: 'This password has appeared in a data breach. Choose another one.',
  INVALID_CURRENT_PASSWORD: 'The current password is not correct.',
  INVALID_SECOND_FACTOR: 'That code is not correct, has expired, or was already used.',
  SECOND_FACTOR_REQUIRED: 'Confirm with your authenticator code, a recovery code or a passkey instead of your password.',
  PASSKEY_REJECTED: 'The passkey could not be registered. It may already be registered on this account.',
  UNAUTHENTICATED: 'You are signed out. Sign in again to continue.',
  INVALID_CREDENTIALS: 'The email or password is not correct.',
  SESSION_EXPIRED: 'Your session has expired. Sign in again to continue.',
  INVALID_API_KEY: 'The API key is not valid.',
  INVALID_MFA_TOKEN: 'This sign-in took too long or was already completed. Start again.',
  EMAIL_NOT_VERIFIED: 'Verify your email address first: use the link we sent you, or send a new one from your profile.',
  STEP_UP_REQUIRED: 'Confirm it is you before doing this.',
  MFA_REQUIRED: 'This workspace requires two-step verification. Set up an authenticator app or a passkey, then sign in again.',
  INSUFFICIENT_SCOPE: 'The API key has no scope that allows this.',
  INSUFFICIENT_ROLE: 'Your role in this workspace does not allow this.',
  ROLE_NOT_ALLOWED: 'You cannot give a role above your own, or change someone at or above your role.',
  INVITATION_EMAIL_MISMATCH: 'This invitation was sent to another email address. Sign in with the invited address.',
  CROSS_SITE_REQUEST: 'The request was refused because it did not come from this site.',
  CSRF_TOKEN_INVALID: 'Your session changed in another tab. Reload the page and try again.',
  NOT_FOUND: 'Not found: it does not exist, or you do not have access to it.',
  EMAIL_ALREADY_VERIFIED: 'Your email address is already verified.',
  ALREADY_MEMBER: 'That person is already a member of this workspace.',
  LAST_OWNER: 'A workspace needs an owner. Transfer ownership to another member first.',
  TOTP_ALREADY_ENABLED: 'An authenticator app is already set up. Remove it first to set up another.',
  MFA_NOT_ENABLED: 'Set up an authenticator app or a passkey first.',
  PAYLOAD_TOO_LARGE: 'What was sent is too large.',
  RATE_LIMITED: 'Too many requests. Wait a moment and try again.',
  TOO_MANY_ATTEMPTS: 'Too many failed attempts. Wait a few minutes and try again.',
  INTERNAL_ERROR: 'Something went wrong on the server. Try again; if it keeps happening, contact support with the request id.',
  SERVICE_UNAVAILABLE: 'The server is restarting. Try again in a moment.',
  SERVICE_BUSY: 'The server is busy. Try again in a moment.',
};

/** The sentence to show a person for this problem. */
export function describeProblem(problem: Problem): string {
  return MESSAGES[problem.code] ?? problem.detail ?? problem.title;
}

/** The field-level details of a validation failure, as "field: message" lines. */
export function fieldProblems(problem: Problem): string[] {
  return (problem.errors ?? []).map((issue) => `${issue.path.replace(/^\//, '') || issue.in}: ${issue.message}`);
}
