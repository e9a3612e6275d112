/**
 * Methods no Rampart route takes. Cross-Site Tracing (XST): a `TRACE` (or IIS's `TRACK`) answered by
 * echoing the request back hands a script the cookies and `Authorization` header it sent, HttpOnly
 * or not. `CONNECT` on an origin server that tunnels makes it an open proxy into the private network.
 * Each must be refused without echoing anything, as problem+json with the security headers — also
 * over a real connection, where Node's parser (not Fastify's router) sees `TRACK` and `CONNECT` first.
 */
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SECURITY_HEADERS } from '../../src/server/security-headers.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';

let t: TestApp;
let port: number;
beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(() => t.close());

/** Headers a tracing script would hope to read back. */
const SECRETS = { cookie: 'rampart_session=xst-cookie-secret', authorization: 'Bearer xst-bearer-secret', 'x-probe': 'xst-probe' };
const SECRET_PATTERN = /xst-cookie-secret|xst-bearer-secret|xst-probe/;

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `requestLine` and the secret headers over a fresh connection and reads until the server closes it. */
function sendRaw(requestLine: string): Promise<RawResponse> {
  const head = [requestLine, 'Host: 127.0.0.1', ...Object.entries(SECRETS).map(([name, value]) => `${name}: ${value}`), 'Connection: close'];
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${head.join('\r\n')}\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [headerBlock = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = headerBlock.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

function expectRefusal(response: RawResponse, status: number, code: string) {
  expect(response.status, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(response.body)).toMatchObject({ status, code, requestId: response.headers['x-request-id'] });
  for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) expect(response.headers[name], name).toBe(value);
  expect(response.body).not.toMatch(SECRET_PATTERN);
  expect(JSON.stringify(response.headers)).not.toMatch(SECRET_PATTERN);
  expect(response.headers['content-type']).not.toMatch(/message\/http/);
}

describe('Cross-Site Tracing', () => {
  it.each([
    ['a known path, with Allow', '/api/me', 405, 'METHOD_NOT_ALLOWED'],
    ['an unknown path', '/api/no-such-route', 404, 'NOT_FOUND'],
  ])('answers TRACE on %s without echoing the request, through inject and over a socket', async (_label, url, status, code) => {
    const injected = await t.app.inject({ method: 'TRACE', url, headers: SECRETS });
    expectRefusal({ status: injected.statusCode, headers: injected.headers as Record<string, string>, body: injected.body }, status, code);
    const overSocket = await sendRaw(`TRACE ${url} HTTP/1.1`);
    expectRefusal(overSocket, status, code);
    if (status === 405) {
      expect(injected.headers.allow).toBe('GET, HEAD');
      expect(overSocket.headers.allow).toBe('GET, HEAD');
    }
  });

  it.each([['/api/me'], ['/api/no-such-route']])(
    "answers TRACK on %s, a method Node's parser refuses before any route, with 501 and closes the connection",
    async (url) => {
      expectRefusal(await sendRaw(`TRACK ${url} HTTP/1.1`), 501, 'METHOD_NOT_IMPLEMENTED');
    },
  );
});

describe('CONNECT (Rampart is no proxy)', () => {
  it.each([['example.com:443'], ['127.0.0.1:22'], ['/api/me']])('refuses CONNECT %s over a socket with 501, opening no tunnel', async (target) => {
    const response = await sendRaw(`CONNECT ${target} HTTP/1.1`);
    expectRefusal(response, 501, 'METHOD_NOT_IMPLEMENTED');
    expect(response.headers.connection).toBe('close');
  });

  it('says the same to a CONNECT that reaches the router (inject)', async () => {
    const response = await t.app.inject({ method: 'CONNECT', url: '/api/me', headers: SECRETS });
    expectRefusal({ status: response.statusCode, headers: response.headers as Record<string, string>, body: response.body }, 501, 'METHOD_NOT_IMPLEMENTED');
  });
});

describe("a request Node's parser refuses", () => {
  it('is answered as problem+json with the security headers, not a bare JSON body', async () => {
    expectRefusal(await sendRaw('GET /api/me HTTP/9.9'), 400, 'BAD_REQUEST');
  });

  it('leaves the server answering the next connection', async () => {
    await sendRaw('TRACK / HTTP/1.1');
    const response = await fetch(`http://127.0.0.1:${port}/api/health/live`);
    expect(response.status).toBe(200);
  });
});
