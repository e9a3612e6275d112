import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, toProblemDetails } from './errors.js';

const METHODS: readonly HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const CATCH_ALL_URLS: ReadonlySet<string> = new Set(['*', '/*']);

/**
 * Over a socket Node hands CONNECT to the server's `connect` event (see socket-answers.ts), never to
 * the router; this says the same to one that reaches the router anyway (`app.inject`, a wrapper).
 */
export const CONNECT_REFUSAL = 'Rampart is not a proxy: CONNECT opens no tunnel.';

/** Fastify's own client errors, mapped to our stable codes. */
const FASTIFY_ERROR_CODES: Record<string, AppError['code']> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_BAD_URL: 'MALFORMED_URL',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_ASYNC_CONSTRAINT: 'NOT_FOUND',
};

/** Turns anything thrown into an AppError. Unknown errors become INTERNAL_ERROR and keep the original as `cause`. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const location = (error as FastifyError).validationContext ?? 'body';
    return new AppError('VALIDATION_FAILED', {
      publicMessage: `The request ${location} is invalid.`,
      extensions: {
        errors: error.validation.map((issue) => ({
          in: location,
          path: issue.instancePath || '/',
          message: issue.message,
        })),
      },
    });
  }
  const fastifyError = error as Partial<FastifyError> | undefined;
  const mapped = fastifyError?.code === undefined ? undefined : FASTIFY_ERROR_CODES[fastifyError.code];
  if (mapped !== undefined) return new AppError(mapped, { cause: error });
  // The body parser reports JSON syntax errors (and prototype-poisoning attempts) as a SyntaxError.
  if (error instanceof SyntaxError && fastifyError?.statusCode === 400) {
    return new AppError('MALFORMED_JSON', { cause: error });
  }
  // Any other error that Fastify or Node already classed as the client's (a body cut off by a client
  // that went away, a header too large, …) stays a 4xx: a client must not be able to produce 5xx.
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError('BAD_REQUEST', { status, cause: error });
  }
  return new AppError('INTERNAL_ERROR', { cause: error });
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  if (error.headers !== undefined) void reply.headers(error.headers);
  return reply
    .code(error.status)
    .type('application/problem+json; charset=utf-8')
    .send(toProblemDetails(error, request.id));
}

/**
 * Installs the one error handler and the not-found handler. Every error leaves as
 * `application/problem+json` with a stable `code` and the request id — never a stack trace, an SQL
 * message or the text of an unexpected exception, which are logged instead.
 *
 * A path that exists under another method answers 405 with `Allow`; Fastify itself would say 404,
 * so the known routes are mirrored into a second router that only answers "which methods match".
 */
export function installErrorHandling(app: FastifyInstance): void {
  const knownRoutes = FindMyWay();
  app.addHook('onRoute', (route) => {
    // A catch-all (the CORS preflight's `OPTIONS *`) says nothing about which methods a path has.
    if (CATCH_ALL_URLS.has(route.url)) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (METHODS.includes(method as HTTPMethod) && !knownRoutes.hasRoute(method as HTTPMethod, route.url)) {
        knownRoutes.on(method as HTTPMethod, route.url, () => undefined);
      }
    }
  });

  app.setErrorHandler((rawError, request, reply) => {
    const error = toAppError(rawError);
    if (error.status >= 500) {
      request.log.error({ err: error.cause ?? error, code: error.code }, 'request failed');
    } else {
      // Only the code: a parser's message can quote the body it choked on, password included.
      request.log.info({ code: error.code }, 'request rejected');
    }
    return sendProblem(reply, request, error);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '/';
    const allowed = METHODS.filter((method) => knownRoutes.find(method, path) !== null);
    const error =
      request.method === 'CONNECT'
        ? new AppError('METHOD_NOT_IMPLEMENTED', { publicMessage: CONNECT_REFUSAL })
        : allowed.length > 0
          ? new AppError('METHOD_NOT_ALLOWED', { headers: { allow: allowed.join(', ') } })
          : new AppError('NOT_FOUND');
    return sendProblem(reply, request, error);
  });
}
