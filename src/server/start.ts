import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { APP_ROLE, openDatabase, type Database } from '../db/database.js';
import { applyMigrations, loadMigrations, type Migration } from '../db/migrate.js';
import { findSchemaViolations } from '../db/schema-check.js';
import { createApp, type CreateAppOptions } from './app.js';
import { hostForUrl, isLoopbackHost, type RampartConfig } from './config.js';
import { errorMessage } from './errors.js';
import { createHttpsRedirectServer } from './https-redirect.js';
import { resolveMasterKey } from './secrets.js';

/** A failure that stops start-up; its message is one line naming what to fix. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** Opens the configured database: the embedded one in the data directory, or a pool to DATABASE_URL. */
export function openConfiguredDatabase(config: RampartConfig, logger: Logger): Promise<Database> {
  return openDatabase(
    config.database.kind === 'embedded'
      ? { kind: 'embedded', dataDir: config.database.dataDir }
      : { kind: 'postgres', url: config.database.url },
    { onIdleError: (error) => logger.warn({ err: error }, 'an idle database connection failed') },
  );
}

/**
 * Brings the database to this version's schema, then refuses to go on if the schema breaks a
 * tenancy rule — so a faulty migration can never serve traffic.
 */
export async function migrateDatabase(database: Database, logger: Logger): Promise<Migration[]> {
  const migrations = await loadMigrations();
  const applied = await applyMigrations(database, migrations);
  if (applied.length > 0) logger.info({ migrations: applied }, `applied ${applied.length} migration(s)`);
  const violations = await database.transactionAsOwner((tx) => findSchemaViolations(tx));
  if (violations.length > 0) {
    throw new StartupError(`the database schema breaks the tenancy rules: ${violations.join('; ')}`);
  }
  // Every request switches to rampart_app; find out now, not on the first request, if it cannot.
  try {
    await database.withTenant({}, (tx) => tx.query('SELECT 1'));
  } catch (error) {
    throw new StartupError(
      `requests cannot run as ${APP_ROLE}: ${errorMessage(error)} (see "Deploying on a real PostgreSQL" in the README)`,
    );
  }
  return migrations;
}

async function readTls(config: RampartConfig): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (config.tls === undefined) return undefined;
  const read = async (file: string, variable: string) => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new StartupError(`${variable} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}: ${file})`);
    }
  };
  return { cert: await read(config.tls.certFile, 'TLS_CERT_FILE'), key: await read(config.tls.keyFile, 'TLS_KEY_FILE') };
}

/** The port a listening server is bound to (the one the system chose when `requested` was 0). */
function boundPort(server: Pick<Server, 'address'>, requested: number): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : requested;
}

/** Resolves with the port once the server listens; a failure (EADDRINUSE, EACCES) rejects instead. */
function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(boundPort(server, port));
    });
  });
}

/** Closes the redirect listener, if it was ever opened, and calls `done` once it has. */
function closeRedirectServer(server: Server, done: () => void): void {
  if (!server.listening) return done();
  server.close(() => done());
  // A redirect is answered at once: cutting a connection loses nothing, while waiting for an idle or
  // slow client would hold up the shutdown.
  server.closeAllConnections();
}

/**
 * Everything `rampart start` does before serving: secrets, database, migrations, the schema check,
 * the app, and listening — on PORT, and on HTTP_REDIRECT_PORT when set (closed with the app). On any
 * failure what was opened is closed again — nothing is half-started.
 */
export async function startServer(
  config: RampartConfig,
  logger: Logger,
  /** @internal For `bench/hardening.mjs`: parts of the hardening stack left out (see `CreateAppOptions`). */
  appOptions: Pick<CreateAppOptions, 'withoutHardening' | 'limitRouteRates'> = {},
): Promise<{ app: FastifyInstance; url: string; httpRedirectUrl: string | undefined }> {
  const tls = await readTls(config);
  const masterKey = await resolveMasterKey(config);
  if (masterKey.source === 'generated') {
    logger.warn({ file: masterKey.file }, 'generated a development master key (set RAMPART_MASTER_KEY in production)');
  }
  if (config.nodeEnv !== 'production' && !isLoopbackHost(config.host)) {
    logger.warn(
      { host: config.host },
      `development mode on an address other machines can reach: set NODE_ENV=production for a deployment`,
    );
  }
  if (config.database.kind === 'embedded') {
    logger.info({ dataDir: config.database.dataDir }, 'using the embedded database (PGlite)');
    if (config.nodeEnv === 'production') {
      logger.warn('the embedded database is allowed in production by RAMPART_ALLOW_EMBEDDED_DATABASE: run one process only');
    }
  }

  const database = await openConfiguredDatabase(config, logger);
  let app: FastifyInstance | undefined;
  let httpRedirectUrl: string | undefined;
  try {
    const migrations = await migrateDatabase(database, logger);
    app = await createApp({ ...appOptions, config, database, migrations, logger, masterKey: masterKey.key, ...(tls ? { tls } : {}) });
    const redirect =
      config.httpRedirectPort === undefined
        ? undefined
        : {
            port: config.httpRedirectPort,
            server: createHttpsRedirectServer({
              publicUrl: config.publicUrl,
              // Logged, never thrown: a failed accept loses one connection, not the HTTPS API with it.
              onError: (error) => logger.warn({ err: error }, 'the plain-HTTP redirect listener reported an error; it keeps serving'),
            }),
          };
    // Registered before listening (Fastify takes no hooks afterwards), so that a failure below
    // closes it along with the app.
    if (redirect) app.addHook('onClose', (_instance, done) => closeRedirectServer(redirect.server, done));
    await app.listen({ port: config.port, host: config.host });
    if (redirect) {
      const redirectPort = await listenOn(redirect.server, redirect.port, config.host);
      httpRedirectUrl = `http://${hostForUrl(config.host)}:${redirectPort}`;
    }
  } catch (error) {
    if (app) await app.close();
    else await database.close();
    throw error;
  }
  const port = boundPort(app.server, config.port);
  const url = `${tls ? 'https' : 'http'}://${hostForUrl(config.host)}:${port}`;
  logger.info({ url, publicUrl: config.publicUrl }, `Rampart is listening on ${url}`);
  if (app.hasRoute({ method: 'GET', url: '/' })) {
    const consoleUrl = new URL('/', config.publicUrl);
    // PORT=0 asks the system for a port: the default PUBLIC_URL could only name it once bound.
    if (consoleUrl.port === '0') consoleUrl.port = String(port);
    logger.info({ consoleUrl: consoleUrl.href }, `the console is at ${consoleUrl.href}`);
  }
  if (httpRedirectUrl !== undefined) {
    logger.info({ url: httpRedirectUrl, publicUrl: config.publicUrl }, `redirecting plain HTTP on ${httpRedirectUrl} to ${config.publicUrl}`);
  }
  return { app, url, httpRedirectUrl };
}
