/**
 * Rampart serving HTTPS itself (TLS_CERT_FILE, TLS_KEY_FILE), started as `rampart start` starts it,
 * and the plain-HTTP listener of HTTP_REDIRECT_PORT, which only ever redirects to PUBLIC_URL.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { createServer as createTcpServer, connect as connectTcp, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { parseConfig, type RampartConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { startServer } from '../../src/server/start.js';
import { createEmptyTestDatabase, TEST_DATABASE_KIND } from '../fixtures/database.js';
import { freePort } from '../fixtures/ports.js';

const PUBLIC_URL = 'https://auth.example.com';
const HSTS = 'max-age=63072000; includeSubDomains; preload';

let workDir: string;
let certificate: Buffer;
let privateKey: string;
const databases: { destroy(): Promise<void> }[] = [];

/**
 * A throw-away self-signed certificate for 127.0.0.1, made by the system's openssl: it is on every
 * Linux and macOS machine this runs on, whereas the npm generators add a dependency tree of ASN.1
 * libraries to the install for one test.
 */
function createSelfSignedCertificate(directory: string): { certFile: string; keyFile: string } {
  const certFile = path.join(directory, 'cert.pem');
  const keyFile = path.join(directory, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', keyFile, '-out', certFile],
    { stdio: 'pipe' },
  );
  return { certFile, keyFile };
}

/** The configuration `rampart start` would parse, on a database of its own and a scratch data directory. */
async function tlsConfig(env: Record<string, string>): Promise<RampartConfig> {
  const testDatabase = TEST_DATABASE_KIND === 'postgres' ? await createEmptyTestDatabase() : undefined;
  if (testDatabase) databases.push(testDatabase);
  const dataDir = await mkdtemp(path.join(workDir, 'data-'));
  const result = parseConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PUBLIC_URL,
    TLS_CERT_FILE: path.join(workDir, 'cert.pem'),
    TLS_KEY_FILE: path.join(workDir, 'key.pem'),
    RAMPART_DATA_DIR: dataDir,
    RAMPART_MASTER_KEY: randomBytes(32).toString('base64'),
    ...(testDatabase?.url ? { DATABASE_URL: testDatabase.url } : {}),
    ...env,
  });
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.config;
}

/** Whether a TCP connection to the port is accepted. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const portOf = (url: string) => Number(new URL(url).port);

/** The outcome of a TLS handshake restricted to one protocol version. */
function handshake(port: number, version: tls.SecureVersion): Promise<{ protocol: string | null } | { error: Error }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: certificate, minVersion: version, maxVersion: version });
    socket.once('secureConnect', () => {
      resolve({ protocol: socket.getProtocol() });
      socket.destroy();
    });
    socket.once('error', (error: Error) => resolve({ error }));
  });
}

interface PlainResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function plainRequest(
  port: number,
  options: { method: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, agent: false, method: options.method, path: options.path, headers: options.headers },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'rampart-tls-'));
  const files = createSelfSignedCertificate(workDir);
  certificate = await readFile(files.certFile);
  privateKey = await readFile(files.keyFile, 'utf8');
});
afterAll(async () => {
  await Promise.all(databases.map((database) => database.destroy()));
  await rm(workDir, { recursive: true, force: true });
});

describe('HTTPS served by Rampart, with the plain-HTTP redirect listener', () => {
  let app: FastifyInstance;
  let isClosed = false;
  let httpsPort: number;
  let redirectPort: number;
  const logs: string[] = [];

  beforeAll(async () => {
    const config = await tlsConfig({ PORT: '0', HTTP_REDIRECT_PORT: '0' });
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(chunk.toString('utf8'));
        callback();
      },
    });
    const started = await startServer(config, createLogger({ level: 'info', destination }));
    app = started.app;
    httpsPort = portOf(started.url);
    redirectPort = portOf(started.httpRedirectUrl!);
    expect(started.url).toBe(`https://127.0.0.1:${httpsPort}`);
  });
  afterAll(async () => {
    if (!isClosed) await app.close();
  });

  it('a TLS 1.2 downgrade is refused: the handshake fails', async () => {
    const outcome = await handshake(httpsPort, 'TLSv1.2');
    expect(outcome).toHaveProperty('error');
    expect((outcome as { error: Error }).error.message).toMatch(/protocol version|unsupported protocol/i);
  });

  it('negotiates TLS 1.3', async () => {
    expect(await handshake(httpsPort, 'TLSv1.3')).toEqual({ protocol: 'TLSv1.3' });
  });

  it('serves the API over HTTPS with HSTS, so a browser never tries plain HTTP again (SSL stripping)', async () => {
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: httpsPort, path: '/api/health/live', ca: certificate, agent: false }, resolve).on('error', reject);
    });
    response.resume();
    expect(response.statusCode).toBe(200);
    expect(response.headers['strict-transport-security']).toBe(HSTS);
  });

  it.each([
    ['GET', '/api/me?x=1', undefined],
    ['HEAD', '/api/me?x=1', undefined],
    ['POST', '/api/auth/sign-in', JSON.stringify({ email: 'owner@example.com', password: 'correct horse battery staple' })],
    ['DELETE', '/api/workspaces/00000000-0000-4000-8000-000000000000', undefined],
  ])('answers %s %s over plain HTTP with 308 to PUBLIC_URL and no API response (plain-HTTP access)', async (method, target, body) => {
    const response = await plainRequest(redirectPort, {
      method,
      path: target,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body }),
    });
    expect(response.status).toBe(308);
    expect(response.headers.location).toBe(`${PUBLIC_URL}${target}`);
    expect(response.body).toBe('');
    expect(response.headers['content-type']).toBeUndefined();
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('takes the Location from PUBLIC_URL, never from a Host header of evil.example (open redirect)', async () => {
    const response = await plainRequest(redirectPort, { method: 'GET', path: '/api/me?x=1', headers: { host: 'evil.example' } });
    expect(response.status).toBe(308);
    expect(response.headers.location).toBe(`${PUBLIC_URL}/api/me?x=1`);
  });

  it.each([
    ['GET', 'http://evil.example/api/me?x=1'],
    ['OPTIONS', '*'],
  ])('answers %s %s, a request target that is not a path, with 400 and no Location (open redirect)', async (method, target) => {
    const response = await plainRequest(redirectPort, { method, path: target, headers: { host: 'evil.example' } });
    expect(response.status).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.body).toBe('');
  });

  it('answers with no header but the redirect itself: no banner naming the server or its version (fingerprinting)', async () => {
    const redirect = await plainRequest(redirectPort, { method: 'GET', path: '/' });
    // `connection: close` answers the test client's own (it uses no keep-alive agent).
    expect(Object.keys(redirect.headers).sort()).toEqual(['connection', 'content-length', 'date', 'location']);
  });

  it('logs both addresses, and never the private key', () => {
    const text = logs.join('');
    expect(text).toContain(`Rampart is listening on https://127.0.0.1:${httpsPort}`);
    expect(text).toContain(`redirecting plain HTTP on http://127.0.0.1:${redirectPort} to ${PUBLIC_URL}`);
    const keyBody = privateKey.split('\n').filter((line) => line && !line.startsWith('-----')).join('');
    expect(text).not.toContain(keyBody.slice(0, 40));
    expect(text).not.toContain('PRIVATE KEY');
  });

  it('closes the redirect listener with the app', async () => {
    expect(await isListening(redirectPort)).toBe(true);
    await app.close();
    isClosed = true;
    expect(await isListening(httpsPort)).toBe(false);
    expect(await isListening(redirectPort)).toBe(false);
  });
});

describe('the redirect listener at start-up', () => {
  it('leaves nothing listening and the database closed when its port is taken', async () => {
    const occupant = createTcpServer();
    await new Promise<void>((resolve) => occupant.listen(0, '127.0.0.1', resolve));
    const takenPort = (occupant.address() as AddressInfo).port;
    const httpsPort = await freePort();
    const config = await tlsConfig({ PORT: String(httpsPort), HTTP_REDIRECT_PORT: String(takenPort) });
    try {
      await expect(startServer(config, createLogger({ level: 'silent' }))).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(await isListening(httpsPort)).toBe(false);
      // The embedded database is locked while open: opening it again proves start-up closed it.
      if (config.database.kind === 'embedded') {
        const database = await openDatabase({ kind: 'embedded', dataDir: config.database.dataDir });
        await database.close();
      }
    } finally {
      await new Promise((resolve) => occupant.close(resolve));
    }
  });

  it('refuses HTTP_REDIRECT_PORT without TLS: it would send users to an HTTPS nobody serves', () => {
    const result = parseConfig({ NODE_ENV: 'test', PORT: '8443', HTTP_REDIRECT_PORT: '8080', PUBLIC_URL });
    expect(result).toEqual({
      ok: false,
      problems: ['HTTP_REDIRECT_PORT needs TLS_CERT_FILE and TLS_KEY_FILE: it redirects to the HTTPS that Rampart serves itself'],
    });
  });
});
