import type { FastifyRequest } from 'fastify';
import { pino, type Logger, type DestinationStream } from 'pino';

/** Field names that hold credentials, wherever a log call might pass an object containing them. */
const SECRET_FIELDS = ['password', 'newPassword', 'currentPassword', 'token', 'secret', 'code', 'recoveryCode', 'mfaToken', 'key', 'apiKey', 'masterKey', 'connectionString'];
/** Objects a log call may carry that could contain such fields (a request body, a parsed input, …). */
const CONTAINERS = ['body', 'query', 'params', 'input', 'details', 'user', 'config', 'data'];

/**
 * Paths pino censors in every log line. Request bodies and headers are never logged whole (see the
 * `req` serializer), but a log call that passes one still cannot leak a credential. The paths are
 * spelled out rather than written as `*.password`: pino's leading wildcards cost about 7 µs a line,
 * which on the hot path is a third of the whole request.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  // Postgres puts row values in an error's detail ("Key (email)=(…) already exists"): personal data.
  'err.detail',
  // PGlite attaches the failed statement's parameters to its errors: they can hold password hashes.
  'err.params',
  'err.cause.params',
  ...SECRET_FIELDS.filter((field) => field !== 'code' && field !== 'key'),
  ...CONTAINERS.flatMap((container) => SECRET_FIELDS.map((field) => `${container}.${field}`)),
];

/** Query-string keys whose values never reach a log line (e.g. the token of an email link). */
const SECRET_QUERY_KEYS = /^(token|code|key|secret|password|mfa_?token|recovery_?code)$/i;

/** The request URL with secret query values replaced, so a link clicked from an email is logged safely. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const params = new URLSearchParams(url.slice(queryStart + 1));
  for (const key of new Set(params.keys())) {
    if (SECRET_QUERY_KEYS.test(key)) params.set(key, '[redacted]');
  }
  return `${url.slice(0, queryStart)}?${params.toString()}`;
}

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      serializers: {
        // Whatever is logged as `req` is reduced to these three fields: headers and bodies never pass.
        req: (request: Partial<FastifyRequest>) => ({
          method: request.method,
          url: typeof request.url === 'string' ? redactUrl(request.url) : undefined,
          remoteAddress: request.ip,
        }),
        err: pino.stdSerializers.err,
      },
    },
    options.destination,
  );
}
