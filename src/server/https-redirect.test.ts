import { request as httpRequest, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHttpsRedirectServer, redirectLocation } from './https-redirect.js';

const ORIGIN = 'https://app.example.com';

describe('redirectLocation', () => {
  it.each([
    ['/', 'https://app.example.com/'],
    ['/api/me?x=1&y=%2F', 'https://app.example.com/api/me?x=1&y=%2F'],
    // Each of these would name another host if resolved against the public URL instead of appended to it.
    ['//evil.example/x', 'https://app.example.com//evil.example/x'],
    ['/\\evil.example/x', 'https://app.example.com//evil.example/x'],
    ['/@evil.example', 'https://app.example.com/@evil.example'],
    // Raw bytes and line breaks come out percent-encoded or dropped: no header can be injected.
    ['/caf\u00e9?q=\u00e9', 'https://app.example.com/caf%C3%A9?q=%C3%A9'],
    ['/a\r\nset-cookie: x=1', 'https://app.example.com/aset-cookie:%20x=1'],
  ])('keeps %j on the public origin (open redirect)', (target, expected) => {
    const location = redirectLocation(ORIGIN, target);
    expect(location).toBe(expected);
    expect(new URL(location!).origin).toBe(ORIGIN);
  });

  it.each([['http://evil.example/api/me'], ['https://evil.example/'], ['*'], ['evil.example:443'], ['']])(
    'refuses the request target %j, which is not a path (open redirect through absolute-form)',
    (target) => {
      expect(redirectLocation(ORIGIN, target)).toBeUndefined();
    },
  );
});

describe('createHttpsRedirectServer', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  /** A redirect server listening on a free loopback port. */
  async function listening(onError: (error: Error) => void): Promise<{ server: Server; port: number }> {
    const server = createHttpsRedirectServer({ publicUrl: ORIGIN, onError });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as AddressInfo).port };
  }

  const statusOf = (port: number) =>
    new Promise<number | undefined>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: '/x', agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on('error', reject).end();
    });

  it('gives slow clients seconds, not minutes: headers and request within 10 s, 1 s of keep-alive (socket exhaustion)', () => {
    const server = createHttpsRedirectServer({ publicUrl: ORIGIN, onError: () => {} });
    expect(server.headersTimeout).toBeLessThanOrEqual(10_000);
    expect(server.requestTimeout).toBeLessThanOrEqual(10_000);
    expect(server.requestTimeout).toBeGreaterThan(0);
    expect(server.keepAliveTimeout).toBeLessThanOrEqual(1_000);
  });

  it('closes a kept-alive connection about a second after answering (socket exhaustion)', async () => {
    const { port } = await listening(() => {});
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const startedAt = Date.now();
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 308 /);
    expect(Date.now() - startedAt).toBeLessThan(4_000);
  });

  it('hands an error emitted after it started listening to onError and keeps serving (an unhandled error would end the process)', async () => {
    const onError = vi.fn();
    const { server, port } = await listening(onError);
    const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
    expect(() => server.emit('error', emfile)).not.toThrow();
    expect(onError).toHaveBeenCalledExactlyOnceWith(emfile);
    expect(await statusOf(port)).toBe(308);
  });

  it('leaves a failure to listen to the caller, not to onError', async () => {
    const occupant = createTcpServer();
    await new Promise<void>((resolve) => occupant.listen(0, '127.0.0.1', resolve));
    const onError = vi.fn();
    const server = createHttpsRedirectServer({ publicUrl: ORIGIN, onError });
    try {
      const failure = await new Promise<NodeJS.ErrnoException>((resolve) => {
        server.once('error', resolve);
        server.listen((occupant.address() as AddressInfo).port, '127.0.0.1');
      });
      expect(failure.code).toBe('EADDRINUSE');
      expect(onError).not.toHaveBeenCalled();
    } finally {
      await new Promise((resolve) => occupant.close(resolve));
    }
  });
});
