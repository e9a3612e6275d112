import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { CONNECT_REFUSAL } from './error-handler.js';
import { AppError, toProblemDetails } from './errors.js';

/** What Node's HTTP parser reports (`clientError`); `code` says what went wrong. */
type ClientError = Error & { code?: string };

/**
 * Answers for requests that never reach Fastify's router, so that they too are problem+json with the
 * security headers and a request id, and never quote the request back:
 *
 * - `clientError`: Node's parser refused the bytes — a method it does not know (`TRACK`, used for
 *   Cross-Site Tracing like `TRACE`) is 501, headers too large 431, a request too slow 408, anything
 *   else 400. (Fastify's default answer is a plain JSON body without any of our headers.)
 * - `connect`: Node hands `CONNECT` to this event instead of the router, and without a listener it
 *   drops the connection silently. Rampart opens no tunnel: 501.
 *
 * The connection is closed after the answer: the parser cannot tell where a next request would start.
 *
 * @example
 * const answers = socketAnswers({ headers, logger });
 * const app = Fastify({ clientErrorHandler: answers.clientError });
 * app.server.on('connect', answers.connect);
 */
export function socketAnswers(options: { headers: Readonly<Record<string, string>>; logger: Logger }) {
  const { headers, logger } = options;
  const answer = (socket: Duplex, error: AppError, method: string | undefined) => {
    const requestId = randomUUID();
    logger.info({ requestId, method, code: error.code }, 'request rejected');
    const body = JSON.stringify(toProblemDetails(error, requestId));
    const fields = {
      ...headers,
      'x-request-id': requestId,
      'content-type': 'application/problem+json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    };
    const head = [`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`, ...Object.entries(fields).map(([name, value]) => `${name}: ${value}`)];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
  };
  return {
    clientError: (error: ClientError, socket: Duplex): void => {
      // A reset connection has no one left to answer.
      if (error.code === 'ECONNRESET' || !socket.writable) {
        socket.destroy();
        return;
      }
      answer(socket, clientErrorAnswer(error), undefined);
    },
    connect: (request: IncomingMessage, socket: Duplex): void => {
      answer(socket, new AppError('METHOD_NOT_IMPLEMENTED', { publicMessage: CONNECT_REFUSAL }), request.method);
    },
  };
}

function clientErrorAnswer(error: ClientError): AppError {
  switch (error.code) {
    case 'HPE_INVALID_METHOD':
      return new AppError('METHOD_NOT_IMPLEMENTED');
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('BAD_REQUEST', { status: 431 });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('BAD_REQUEST', { status: 408 });
    default:
      return new AppError('BAD_REQUEST');
  }
}
