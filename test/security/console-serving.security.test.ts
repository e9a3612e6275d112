/**
 * How the server hands out the web console. Attacks and mistakes this stops:
 * - script injection into the console (XSS): the page's CSP allows scripts and styles only as files
 *   from Rampart's own origin — no inline script or style, no eval, no data: URLs — and enforces
 *   Trusted Types, and the real build's index.html has no inline script or style to need an exception;
 * - path traversal: only files of the build are ever served, whatever `..` or encoding the path holds;
 * - the console shadowing the API: a path that is not the console's stays the API's 404 problem, even to a browser;
 * - a stale console after a release (index.html is revalidated; only hashed assets are cached for good);
 * - the development outbox leaking sign-in links: it exists only without SMTP outside production,
 *   and answers only requests from this machine for Rampart's own host (not a DNS-rebinding page).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_BUILD_DIR, CONSOLE_CONTENT_SECURITY_POLICY } from '../../src/server/console.js';
import { API_SECURITY_HEADERS } from '../../src/server/security-headers.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { startSmtpServer } from '../fixtures/smtp-server.js';

/** What a browser sends when it loads a page. */
const HTML = { accept: 'text/html,application/xhtml+xml' };

describe('the console build', () => {
  it('index.html loads every script and style from a file, so the CSP needs no inline exception', async () => {
    const html = await readFile(path.join(CONSOLE_BUILD_DIR, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/assets\/[^"]+\.js"/);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/);
    expect(html).not.toMatch(/data:/);
  });
});

describe('serving the console', () => {
  let t: TestApp;
  /** Holds the stand-in build (`console/`) and, beside it, a file that must stay out of reach. */
  let root: string;

  beforeAll(async () => {
    // A stand-in build, so the file list below is exact.
    root = await mkdtemp(path.join(tmpdir(), 'rampart-console-'));
    const buildDir = path.join(root, 'console');
    await mkdir(path.join(buildDir, 'assets'), { recursive: true });
    await writeFile(path.join(buildDir, 'index.html'), '<!doctype html><script type="module" src="/assets/app-1a2b3c.js"></script>');
    await writeFile(path.join(buildDir, 'assets', 'app-1a2b3c.js'), 'export {};');
    await writeFile(path.join(buildDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(path.join(root, 'rampart-console-secret.txt'), 'not for the web');
    t = await createTestApp({ consoleDirectory: buildDir });
  });
  afterAll(async () => {
    await t?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('answers / with index.html under the console CSP: own-origin scripts and styles only, Trusted Types enforced', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = response.headers['content-security-policy'];
    expect(csp).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|data:|blob:|\*/);
    for (const name of ['x-content-type-options', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy']) {
      expect(response.headers[name], name).toBe(API_SECURITY_HEADERS[name]);
    }
    expect(response.headers['cache-control']).toBe('no-cache');
  });

  it('answers each address of the console with index.html, so a link or a reload opens its screen', async () => {
    for (const url of ['/workspaces/9b2f/members', '/verify-email?token=abc', '/account/security', '/sign-in?next=%2Faccount']) {
      const page = await t.app.inject({ method: 'GET', url });
      expect(page.statusCode, url).toBe(200);
      expect(page.body, url).toContain('/assets/app-1a2b3c.js');
      expect(page.headers['content-security-policy'], url).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
    }
  });

  it('serves an address for every screen of console/src/app.tsx', async () => {
    const app = await readFile(new URL('../../console/src/app.tsx', import.meta.url), 'utf8');
    const screens = [...app.matchAll(/^ {2}'(\/[a-z/-]*)': \(\) =>/gm)].map((match) => match[1]!);
    expect(screens.length).toBeGreaterThan(5);
    for (const screen of [...screens, '/workspaces/4f1c/audit-log']) {
      const page = await t.app.inject({ method: 'GET', url: screen });
      expect(page.statusCode, screen).toBe(200);
    }
  });

  it('leaves every other path to the API: an unknown one is its 404 problem, even for a browser', async () => {
    for (const url of ['/nope', '/wp-admin/setup.php', '/index.html', '/assets/missing.js']) {
      const response = await t.app.inject({ method: 'GET', url, headers: HTML });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type'], url).toContain('application/problem+json');
    }
  });

  it('serves hashed assets for good and other files with revalidation, under the API CSP', async () => {
    const script = await t.app.inject({ method: 'GET', url: '/assets/app-1a2b3c.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.headers['content-security-policy']).toBe(API_SECURITY_HEADERS['content-security-policy']);
    const icon = await t.app.inject({ method: 'HEAD', url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('never serves a file outside the build, whatever the path (attack: path traversal)', async () => {
    const attempts = [
      '/../rampart-console-secret.txt',
      '/assets/../../rampart-console-secret.txt',
      '/%2e%2e/rampart-console-secret.txt',
      '/..%2frampart-console-secret.txt',
      '/assets/..%2f..%2frampart-console-secret.txt',
      '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/assets/app-1a2b3c.js%00.html',
      '//etc/passwd',
    ];
    for (const url of attempts) {
      for (const headers of [{}, HTML]) {
        const response = await t.app.inject({ method: 'GET', url, headers });
        expect(response.body, url).not.toContain('not for the web');
        expect(response.body, url).not.toContain('root:');
        expect([400, 404], url).toContain(response.statusCode);
      }
    }
  });

  it('leaves /api/ to the API: an unknown API path is a 404 problem even for a browser, a wrong method a 405', async () => {
    const unknown = await t.app.inject({ method: 'GET', url: '/api/no-such-route', headers: HTML });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    const wrongMethod = await t.app.inject({ method: 'GET', url: '/api/auth/sign-out', headers: HTML });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    const wellKnown = await t.app.inject({ method: 'GET', url: '/.well-known/change-password', headers: HTML });
    expect(wellKnown.statusCode).toBe(404);
  });

  it('serves the API alone when there is no console build', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'rampart-no-console-'));
    const bare = await createTestApp({ consoleDirectory: empty });
    try {
      const response = await bare.app.inject({ method: 'GET', url: '/', headers: HTML });
      expect(response.statusCode).toBe(404);
      expect(bare.logs.some((line) => String(line.msg).includes('no web console build'))).toBe(true);
    } finally {
      await bare.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('the development outbox', () => {
  it('shows the emails sent, newest first, only to a request from this machine for its own host (attack: DNS rebinding)', async () => {
    const t = await createTestApp({ consoleDirectory: null });
    try {
      await t.outbox.send({ to: 'ann@example.com', subject: 'First', text: 'one', html: '<p>one</p>' });
      await t.outbox.send({ to: 'bob@example.com', subject: 'Second', text: 'two', html: '<p>two</p>' });
      const own = { host: new URL(t.config.publicUrl).host };
      const local = await t.app.inject({ method: 'GET', url: '/api/dev/outbox', remoteAddress: '127.0.0.1', headers: own });
      expect(local.statusCode).toBe(200);
      const { messages } = local.json<{ messages: { to: string; subject: string; text: string }[] }>();
      expect(messages.map((message) => message.subject)).toEqual(['Second', 'First']);
      expect(messages[0]).toMatchObject({ to: 'bob@example.com', text: 'two' });
      for (const remoteAddress of ['203.0.113.9', '10.0.0.2', '2001:db8::1']) {
        const remote = await t.app.inject({ method: 'GET', url: '/api/dev/outbox', remoteAddress, headers: own });
        expect(remote.statusCode, remoteAddress).toBe(404);
        expect(remote.body).not.toContain('ann@example.com');
      }
      // From this machine, but for another site's name: a page whose DNS was re-pointed at 127.0.0.1.
      const rebound = await t.app.inject({ method: 'GET', url: '/api/dev/outbox', remoteAddress: '127.0.0.1', headers: { host: 'attacker.example:3000' } });
      expect(rebound.statusCode).toBe(404);
      expect(rebound.body).not.toContain('ann@example.com');
    } finally {
      await t.close();
    }
  });

  it('does not exist when emails go out by SMTP', async () => {
    const smtp = await startSmtpServer();
    const t = await createTestApp({ consoleDirectory: null, env: { SMTP_URL: smtp.url } });
    try {
      const response = await t.app.inject({ method: 'GET', url: '/api/dev/outbox', remoteAddress: '127.0.0.1', headers: { host: new URL(t.config.publicUrl).host } });
      expect(response.statusCode).toBe(404);
    } finally {
      await t.close();
      await smtp.close();
    }
  });
});
