import { createServer, type Server } from 'node:http';

/**
 * Where a plain-HTTP request is sent: the same path and query on the public HTTPS origin, or
 * `undefined` when the request target is not a path (absolute-form `http://host/…`, `*`, CONNECT's
 * `host:port`). The host always comes from the configuration, never from the request — a Location
 * built from the Host header would redirect anywhere an attacker names (an open redirect).
 *
 * @example
 * redirectLocation('https://app.example.com', '/api/me?x=1'); // 'https://app.example.com/api/me?x=1'
 * redirectLocation('https://app.example.com', 'http://evil.example/'); // undefined
 */
export function redirectLocation(publicOrigin: string, requestTarget: string): string | undefined {
  // Parsed as one string, so `//evil.example/x` stays a path on the public host, and whatever bytes
  // the target holds come out percent-encoded: a header value that cannot inject a line.
  const candidate = `${publicOrigin}${requestTarget}`;
  if (!requestTarget.startsWith('/') || !URL.canParse(candidate)) return undefined;
  const location = new URL(candidate);
  return location.origin === publicOrigin ? location.href : undefined;
}

/**
 * The redirect listener's socket limits. It answers every request at once with a few bytes, so a
 * client gets 10 s to send its request line and headers (and its whole request: the body is never
 * read) and 1 s of keep-alive after the answer; a slow or silent client cannot hold a socket open
 * for minutes. Node checks these deadlines every `connectionsCheckingInterval`, not on the
 * millisecond: 1 s keeps a stalled socket from living up to the default 30 s past its deadline.
 */
export const REDIRECT_SERVER_TIMEOUTS = {
  headersTimeout: 10_000,
  requestTimeout: 10_000,
  keepAliveTimeout: 1_000,
  connectionsCheckingInterval: 1_000,
} as const;

/**
 * A plain-HTTP server that serves nothing: every request, whatever its method, is answered
 * `308 Permanent Redirect` to the same path on the HTTPS origin of `publicUrl`, with an empty body.
 * 308 rather than 301 because 301 lets a client turn a POST into a GET; 308 keeps the method, so one
 * rule holds for every route. A request target that is not a path is refused with 400 and no Location.
 *
 * From the moment it listens, an 'error' the server emits (EMFILE when accepting a connection with
 * no descriptor left, say) goes to `onError` and the server keeps serving: an 'error' event with no
 * listener would end the process, and with it the HTTPS API. A failure to start listening
 * (EADDRINUSE) is the caller's to handle, as with any server.
 *
 * @example
 * const server = createHttpsRedirectServer({
 *   publicUrl: config.publicUrl,
 *   onError: (error) => logger.warn({ err: error }, 'the HTTP redirect listener failed to accept a connection'),
 * });
 * server.listen(80);
 */
export function createHttpsRedirectServer(options: { publicUrl: string; onError: (error: Error) => void }): Server {
  const publicOrigin = new URL(options.publicUrl).origin;
  const server = createServer(REDIRECT_SERVER_TIMEOUTS, (request, response) => {
    const location = redirectLocation(publicOrigin, request.url ?? '');
    // The length is said, rather than left to chunked encoding: there is nothing to send.
    response.writeHead(location === undefined ? 400 : 308, { 'content-length': '0', ...(location === undefined ? {} : { location }) });
    response.end();
  });
  // Registered before any listen() call, so it runs before the caller's own 'listening' callback; once.
  server.once('listening', () => server.on('error', options.onError));
  return server;
}
