/**
 * Serves the web console: the files Vite built into `dist/console`, at `/`.
 *
 * The files are read into memory when the app starts and looked up by exact path, instead of being
 * read from disk per request (as a static-file plugin does): a request can only ever get one of the
 * files the build produced, so no path — `..`, encoded slashes, symlinks — reaches anything else, and
 * serving costs no disk I/O. The build is a few hundred kilobytes.
 *
 * The console's own addresses (`/workspaces/…`, the email links `/verify-email?token=…`) answer
 * index.html, so a link or a reload opens the right screen. index.html carries the console's
 * Content-Security-Policy: scripts, styles, images and requests only from Rampart's own origin — no
 * inline script or style, no `eval`, no data: URLs — with Trusted Types enforced, so no script can
 * write HTML into the page.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** Where `npm run build` puts the console, from both `src/server` (tests) and `dist/server` (built). */
export const CONSOLE_BUILD_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface ConsoleFile {
  body: Buffer;
  contentType: string;
  cacheControl: string;
}

/** Vite names its built assets by their content hash: a name never changes meaning, so caches may keep it for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html and unhashed files: the browser revalidates, so a new release is picked up at once. */
const REVALIDATE = 'no-cache';

async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * The built console, by URL path (`/index.html`, `/assets/index-3f2a.js`), or null when there is no
 * build (a library user who never built it): Rampart then serves the API alone.
 */
export async function loadConsoleFiles(directory = CONSOLE_BUILD_DIR): Promise<Map<string, ConsoleFile> | null> {
  let paths: string[];
  try {
    paths = await listFiles(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (!paths.some((file) => path.relative(directory, file) === 'index.html')) return null;
  const files = new Map<string, ConsoleFile>();
  for (const file of paths) {
    const urlPath = `/${path.relative(directory, file).split(path.sep).join('/')}`;
    const contentType = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    files.set(urlPath, { body: await readFile(file), contentType, cacheControl: urlPath.startsWith('/assets/') ? IMMUTABLE : REVALIDATE });
  }
  return files;
}

/**
 * The console's own addresses, which load the app: its screens and the links of its emails. Every
 * other path stays the API's (an unknown one is its ordinary 404 problem, counted like any route).
 * test/security/console-serving.security.test.ts checks this list against console/src/app.tsx.
 */
export const CONSOLE_PAGES = [
  '/',
  '/sign-in',
  '/sign-up',
  '/verify-email',
  '/forgot-password',
  '/reset-password',
  '/invitations/accept',
  '/dev/outbox',
  '/account',
  '/account/*',
  '/workspaces',
  '/workspaces/*',
] as const;

/** A page load is index.html and a few assets: people behind one office address share these counts. */
const CONSOLE_RATE_LIMIT = { max: 600, windowSeconds: 60 };

/**
 * Adds a GET (and HEAD) route for each console page and each file of the build. Nothing else: a path
 * that is neither is left to the not-found handler.
 *
 * @example
 * const files = await loadConsoleFiles();
 * if (files) serveConsole(app, files);
 */
export function serveConsole(app: FastifyInstance, files: Map<string, ConsoleFile>): void {
  const index = files.get('/index.html');
  if (index === undefined) throw new TypeError('the console build has no index.html');
  const options = { schema: { hide: true }, config: { rateLimit: CONSOLE_RATE_LIMIT } };
  for (const page of CONSOLE_PAGES) {
    app.get(page, options, (_request, reply) =>
      reply.header('cache-control', index.cacheControl).header('content-security-policy', CONSOLE_CONTENT_SECURITY_POLICY).type(index.contentType).send(index.body),
    );
  }
  for (const [urlPath, file] of files) {
    // Vite names files [name]-[hash].ext; anything the router would read as a parameter is not served.
    if (file === index || !/^[\w./-]+$/.test(urlPath)) continue;
    app.get(urlPath, options, (_request, reply) => reply.header('cache-control', file.cacheControl).type(file.contentType).send(file.body));
  }
}
