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
 * A plain-HTTP server that serves nothing: every request, whatever its method, is answered
 * `308 Permanent Redirect` to the same path on the HTTPS origin of `publicUrl`, with an empty body.
 * 308 rather than 301 because 301 lets a client turn a POST into a GET; 308 keeps the method, so one
 * rule holds for every route. A request target that is not a path is refused with 400 and no Location.
 *
 * @example
 * const server = createHttpsRedirectServer({ publicUrl: config.publicUrl });
 * server.listen(80);
 */
export function createHttpsRedirectServer(options: { publicUrl: string }): Server {
  const publicOrigin = new URL(options.publicUrl).origin;
  return createServer((request, response) => {
    const location = redirectLocation(publicOrigin, request.url ?? '');
    // The length is said, rather than left to chunked encoding: there is nothing to send.
    response.writeHead(location === undefined ? 400 : 308, { 'content-length': '0', ...(location === undefined ? {} : { location }) });
    response.end();
  });
}
