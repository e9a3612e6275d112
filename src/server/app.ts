import { randomUUID } from 'node:crypto';
import fastifyCors from '@fastify/cors';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createAccountServices, type BreachedPasswordCheck, type PasswordWorkQueue } from '../auth/index.js';
import { FORM_TOKEN_KEY_PURPOSE } from '../crypto/form-token.js';
import { deriveKey } from '../crypto/tokens.js';
import type { Database } from '../db/database.js';
import type { Migration } from '../db/migrate.js';
import { apiKeyEnvironmentFor } from '../api-keys/key-format.js';
import { ApiKeyHasher, pepperFrom } from '../api-keys/key-hasher.js';
import {
  closeRedis,
  connectRedis,
  DatabaseRateLimiter,
  RedisRateLimiter,
  whenRedisReady,
  type ApiKeyRateLimiter,
} from '../api-keys/rate-limiter.js';
import { createApiKeyGuard, type ApiKeyServices } from '../http/api-key-guard.js';
import { apiKeyRoutes } from '../http/routes/api-keys.js';
import { auditLogRoutes } from '../http/routes/audit-log.js';
import { devOutboxRoutes } from '../http/routes/dev-outbox.js';
import { authRoutes } from '../http/routes/auth.js';
import { formRoutes } from '../http/routes/forms.js';
import { healthRoutes } from '../http/routes/health.js';
import { securityTxtRoutes } from '../http/routes/security-txt.js';
import { meRoutes } from '../http/routes/me.js';
import { mfaAuthRoutes } from '../http/routes/mfa-auth.js';
import { mfaRoutes } from '../http/routes/mfa.js';
import { workspaceRoutes } from '../http/routes/workspaces.js';
import { corsOptions } from '../http/cors.js';
import { createOriginGuard } from '../http/origin-guard.js';
import { refuseRepeatedQueryParameters } from '../http/repeated-query-parameters.js';
import { FormGuard } from '../http/form-guard.js';
import { RouteCounters } from '../http/rate-limit-counters.js';
import { RouteRateLimits } from '../http/route-rate-limit.js';
import { createSessionGuard, SessionCookies, type SessionGuard } from '../http/session-guard.js';
import { createStepUpGuard, installStepUp, type StepUpGuard } from '../http/step-up-guard.js';
import { collectWorkspaceRoutes, WorkspaceAccess, type WorkspaceRoute } from '../http/workspace-guard.js';
import { MemoryOutbox, type Mailer } from '../mail/index.js';
import type { RampartConfig } from './config.js';
import { CONSOLE_BUILD_DIR, loadConsoleFiles, serveConsole } from './console.js';
import { AppError } from './errors.js';
import { installErrorHandling, sendProblem, toAppError } from './error-handler.js';
import { RequestLogController } from './request-logging.js';
import { securityHeaders } from './security-headers.js';
import { socketAnswers } from './socket-answers.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route under `/api/workspaces/:ws` with the action it declared (the attack matrix reads it). */
    workspaceRoutes: readonly WorkspaceRoute[];
    /** Enters a workspace with the permission check, for routes added next to Rampart's own. */
    workspaceAccess: WorkspaceAccess;
    /** The session guard (a `preValidation` hook: authentication before the body is judged), for routes added next to Rampart's own. */
    requireSession: SessionGuard;
    /** The step-up check (a pre-handler, after `requireSession`), for sensitive routes added next to Rampart's own. */
    requireRecentAuthentication: StepUpGuard;
  }
}

/** Bodies larger than this are refused with 413 before they are parsed. */
const BODY_LIMIT_BYTES = 100 * 1024;

export interface CreateAppOptions {
  config: RampartConfig;
  database: Database;
  migrations: readonly Migration[];
  logger: Logger;
  /** RAMPART_MASTER_KEY (or the generated development key): signs audit heads, derives the CSRF key. */
  masterKey: Buffer;
  /** Replaces the mailer the configuration selects (SMTP or the development outbox). */
  mailer?: Mailer;
  /** Replaces the breached-password lookup the configuration selects. */
  isBreached?: BreachedPasswordCheck;
  /** Replaces the default password queue (hashes on all cores but one, 32 requests waiting). */
  passwordWork?: PasswordWorkQueue;
  /** PEM certificate and key: Rampart then serves HTTPS itself, TLS 1.3 only. */
  tls?: { cert: Buffer; key: Buffer };
  /** Close the database when the app closes (the app owns it). Default true. */
  closeDatabaseOnClose?: boolean;
  /**
   * Count requests against the per-route limits. Default true; turn it off only where something in
   * front of Rampart already limits every route (or in tests that make more requests than a person).
   */
  limitRouteRates?: boolean;
  /**
   * @internal For `bench/hardening.mjs` only: serves without the security headers, the origin check
   * and the per-route limits, to measure what they cost. Never for serving anyone.
   */
  withoutHardening?: boolean;
  /**
   * Where the built web console is (default `dist/console` of this package); null serves the API
   * alone. Without a build there (`npm run build` makes it) there is no console either.
   */
  consoleDirectory?: string | null;
}

/**
 * Builds the Rampart HTTP application: request ids, one log line per request, security headers,
 * problem+json errors, Zod-validated routes and their OpenAPI document. It does not listen; the CLI
 * (or a test with `app.inject`) decides that.
 *
 * @example
 * const app = await createApp({ config, database, migrations, logger });
 * await app.listen({ port: config.port, host: config.host });
 */
export async function createApp(options: CreateAppOptions): Promise<FastifyInstance> {
  const { config, database, logger } = options;
  const isHttps = options.tls !== undefined || config.publicUrl.startsWith('https:');
  const isHardened = options.withoutHardening !== true;
  if (!isHardened) logger.warn('serving WITHOUT security headers, origin check or rate limits (benchmark mode)');
  const headers = isHardened ? securityHeaders({ isHttps }) : {};
  const putResponseHeaders = (request: FastifyRequest, reply: FastifyReply) => {
    void reply.headers(headers);
    void reply.header('x-request-id', request.id);
  };
  const answers = socketAnswers({ headers, logger });
  const tlsOptions = options.tls
    ? { https: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.3' as const } }
    : {};
  const app = Fastify({
    ...tlsOptions,
    loggerInstance: logger,
    // A fresh id for every request; a client-supplied id is not trusted (it would let anyone forge
    // log correlation). The id is returned in X-Request-Id and in every problem body.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    logController: new RequestLogController(),
    bodyLimit: BODY_LIMIT_BYTES,
    // Fastify accepts a hop count here (proxy-addr semantics) though its types omit it.
    trustProxy: config.trustProxy as boolean | string[],
    // During shutdown new requests get our own 503 problem (below) instead of Fastify's plain body.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
    // Bytes Node's parser refuses (an unknown method such as TRACK, oversized headers) never reach a
    // hook: they get a problem with the security headers too, instead of Fastify's bare JSON.
    clientErrorHandler: answers.clientError,
    // A URL Fastify cannot route (bad percent-encoding, an over-long parameter) fails before any hook
    // runs: answer it like every other error, headers included.
    frameworkErrors: (error, request, reply) => {
      putResponseHeaders(request, reply);
      void sendProblem(reply, request, toAppError(error));
    },
  }) as unknown as FastifyInstance;

  installErrorHandling(app);
  app.server.on('connect', answers.connect);
  // Before any route: every workspace route must declare its action, and the list feeds the tests.
  app.decorate('workspaceRoutes', collectWorkspaceRoutes(app));
  // A query parameter given twice is refused, never read as its first or last value (parameter pollution).
  app.setValidatorCompiler(refuseRepeatedQueryParameters(validatorCompiler));
  app.setSerializerCompiler(serializerCompiler);
  // JSON is the only body the API accepts; Fastify's default text/plain parser would let a
  // cross-site "simple" form post reach a route.
  app.removeContentTypeParser('text/plain');

  // The security headers and the request id go on in onRequest, the first hook of every request
  // (404s included); Fastify keeps them when the reply later turns into an error. One callback-style
  // hook, no onSend: on the hot path every extra hook and promise is measurable.
  // The same hook refuses cross-site state-changing requests, before their body is read.
  const cookies = new SessionCookies({ isHttps, csrfKey: deriveKey(options.masterKey, 'rampart csrf v1') });
  const checkOrigin = createOriginGuard(app, {
    allowedOrigins: new Set([new URL(config.publicUrl).origin]),
    corsOrigins: new Set(config.corsOrigins),
    cookies,
  });
  const refuseCrossSite = isHardened ? checkOrigin : () => undefined;
  // One Redis connection per instance, for every limiter that shares its counts through it.
  const redis = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, logger);
  if (redis !== undefined) {
    app.addHook('onReady', async () => {
      if (!(await whenRedisReady(redis, 3_000))) {
        logger.warn('Redis is unreachable: until it answers, each instance counts rate limits on its own');
      }
    });
    app.addHook('onClose', () => closeRedis(redis));
  }
  const limitsRoutes = isHardened && options.limitRouteRates !== false;
  if (isHardened && !limitsRoutes) logger.warn('per-route rate limits are off (limitRouteRates: false)');
  const counters = limitsRoutes ? { shared: routeCounters(redis, database), perInstance: RouteCounters.inMemory() } : undefined;
  const rateLimits = new RouteRateLimits(counters, {
    defaultLimit: { max: config.rateLimitPerMinute, windowSeconds: 60 },
    cookies,
    keySecret: deriveKey(options.masterKey, 'rampart rate-limit keys v1'),
  });
  rateLimits.install(app);
  // Only on errors: a deferred request that failed before its guard (its body) is still counted.
  if (limitsRoutes) app.addHook('onError', (request, _reply, _error, done) => void rateLimits.countIfStillPending(request).then(() => done()));
  let isClosing = false;
  app.addHook('onRequest', (request, reply, done) => {
    putResponseHeaders(request, reply);
    if (isClosing) {
      void reply.header('connection', 'close');
      return done(new AppError('SERVICE_UNAVAILABLE', { publicMessage: 'The server is shutting down; retry shortly.' }));
    }
    const crossSite = refuseCrossSite(request);
    if (crossSite !== undefined) return done(crossSite);
    rateLimits.onRequest.call(app, request, reply, done);
  });
  // Closing stops new connections and waits for in-flight requests. A kept-alive connection whose
  // request finishes becomes idle and would hold the shutdown open: close those as they appear.
  let idleSweep: NodeJS.Timeout | undefined;
  app.addHook('preClose', (done) => {
    isClosing = true;
    idleSweep = setInterval(() => app.server.closeIdleConnections(), 50);
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearInterval(idleSweep);
    done();
  });
  // CORS is off unless RAMPART_CORS_ORIGINS names origins: then only those get Access-Control-*
  // headers. Its hook runs after the one above, so preflight answers carry the security headers too.
  if (config.corsOrigins.length > 0) await app.register(fastifyCors, corsOptions(config.corsOrigins));
  const services = createAccountServices({
    config,
    database,
    masterKey: options.masterKey,
    logger,
    mailer: options.mailer,
    isBreached: options.isBreached,
    passwordWork: options.passwordWork,
  });
  // Before any route: the routes of the step-up table get the check after their session guard.
  const requireRecentAuthentication = createStepUpGuard(services);
  installStepUp(app, requireRecentAuthentication);
  // One hook, so the order is certain: emails and audit writes still running after their response
  // finish before the mailer and the database close.
  app.addHook('onClose', async () => {
    try {
      await services.background.drain();
      await services.mailer.close();
    } finally {
      if (options.closeDatabaseOnClose !== false) await database.close();
    }
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Rampart API',
        version: '0.1.0',
        description: 'Accounts, workspaces, roles and tenant isolation for multi-tenant SaaS.',
      },
      servers: [{ url: config.publicUrl }],
    },
    transform: jsonSchemaTransform,
  });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  await typed.register(healthRoutes, { database, migrations: options.migrations });
  await app.register(securityTxtRoutes, { config });
  app.decorateRequest('auth', null);
  app.decorateRequest('apiKey', null);
  const apiKeys = apiKeyServices(config, options.masterKey, redis);
  const requireSession = createSessionGuard(services, cookies, { bearer: createApiKeyGuard(services, apiKeys), rateLimits });
  const formGuard = new FormGuard({ key: deriveKey(options.masterKey, FORM_TOKEN_KEY_PURPOSE), minFillSeconds: config.formMinFillSeconds });
  await typed.register(authRoutes, { services, cookies, requireSession, formGuard });
  await typed.register(formRoutes, { database, formGuard });
  await typed.register(meRoutes, { services, cookies, requireSession });
  await typed.register(mfaAuthRoutes, { services, cookies, requireSession });
  await typed.register(mfaRoutes, { services, requireSession });
  const workspaceAccess = new WorkspaceAccess(services);
  app.decorate('workspaceAccess', workspaceAccess);
  app.decorate('requireSession', requireSession);
  app.decorate('requireRecentAuthentication', requireRecentAuthentication);
  await typed.register(workspaceRoutes, { services, requireSession, access: workspaceAccess });
  await typed.register(auditLogRoutes, { services, requireSession, access: workspaceAccess });
  await typed.register(apiKeyRoutes, { services, apiKeys, requireSession, access: workspaceAccess });
  typed.get('/api/openapi.json', { schema: { hide: true } }, (_request, reply) => reply.send(app.swagger()));
  if (config.nodeEnv !== 'production' && services.mailer instanceof MemoryOutbox) {
    await typed.register(devOutboxRoutes, { outbox: services.mailer, publicUrl: config.publicUrl });
  }
  const consoleFiles = options.consoleDirectory === null ? null : await loadConsoleFiles(options.consoleDirectory ?? CONSOLE_BUILD_DIR);
  if (consoleFiles !== null) serveConsole(app, consoleFiles);
  else if (options.consoleDirectory !== null) logger.warn('no web console build found: serving the API alone (`npm run build` builds the console)');

  return app;
}

/**
 * The API-key hasher and rate limiter of the configuration. Without RAMPART_API_KEY_PEPPER the pepper
 * is derived from the master key; once one is set, the derived pepper stays among the previous ones,
 * so keys created before still verify (and are rewritten under the new pepper when used).
 */
function apiKeyServices(config: RampartConfig, masterKey: Buffer, redis: Redis | undefined): ApiKeyServices {
  const derived = pepperFrom(deriveKey(masterKey, 'rampart api-key pepper v1'));
  const { current, previous } = config.apiKeyPeppers;
  const hasher =
    current === undefined
      ? new ApiKeyHasher(derived, previous.map(pepperFrom))
      : new ApiKeyHasher(pepperFrom(current), [...previous.map(pepperFrom), derived]);
  const limiter: ApiKeyRateLimiter = redis === undefined ? new DatabaseRateLimiter() : new RedisRateLimiter(redis);
  return { hasher, limiter, environment: apiKeyEnvironmentFor(config.nodeEnv) };
}

/**
 * Where the per-route counts live: Redis when configured, else the Postgres server (shared by every
 * instance), else — on the embedded database, which one process alone may open — that process's memory.
 */
function routeCounters(redis: Redis | undefined, database: Database): RouteCounters {
  if (redis !== undefined) return RouteCounters.inRedis(redis);
  return database.kind === 'embedded' ? RouteCounters.inMemory() : RouteCounters.inPostgres(database);
}
