#!/usr/bin/env node
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { formatConfigProblems, parseConfig, type RampartConfig } from '../server/config.js';
import { errorMessage } from '../server/errors.js';
import { createLogger } from '../server/logger.js';
import { migrateDatabase, openConfiguredDatabase, startServer } from '../server/start.js';
import { ADMIN_USAGE, runAdminCommand } from './admin.js';
import { AUDIT_USAGE, runAuditCommand } from './audit.js';
import { EARLY_ACCESS_USAGE, runEarlyAccessCommand } from './early-access.js';
import { readEnvironment } from './environment.js';

const USAGE = `Usage: rampart <command>

Commands:
  start          migrate the database, then serve the API (stops cleanly on SIGTERM or SIGINT)
  migrate        apply pending database migrations and exit
  audit          verify the audit log's hash chains, or purge events past retention (rampart audit --help)
  admin          grant, revoke or list platform super-admins (rampart admin --help)
  early-access   list the early-access requests, or delete them by address or age (rampart early-access --help)
  help           show this text

Configuration comes from the environment and an optional .env file; see the README.`;

/** sysexits' EX_CONFIG: the process was started with a configuration it cannot use. */
const EXIT_CONFIG = 78;
/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

function loadConfigOrExit(): RampartConfig {
  const result = parseConfig(readEnvironment());
  if (!result.ok) {
    process.stderr.write(`${formatConfigProblems(result.problems)}\n`);
    process.exit(EXIT_CONFIG);
  }
  return result.config;
}

function stopOnSignals(app: FastifyInstance, logger: Logger): void {
  let isStopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (isStopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    isStopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const deadline = setTimeout(() => {
      logger.error('in-flight requests did not finish in time: exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    deadline.unref();
    app.close().then(
      () => {
        logger.info('shut down cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function main(argv: readonly string[]): Promise<number> {
  const command = argv[0] ?? 'help';
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command === 'audit' && (argv[1] === undefined || argv[1] === '--help')) {
    process.stdout.write(`${AUDIT_USAGE}\n`);
    return 0;
  }
  if (command === 'admin' && (argv[1] === undefined || argv[1] === '--help')) {
    process.stdout.write(`${ADMIN_USAGE}\n`);
    return 0;
  }
  if (command === 'early-access' && (argv[1] === undefined || argv[1] === '--help')) {
    process.stdout.write(`${EARLY_ACCESS_USAGE}\n`);
    return 0;
  }
  if (command !== 'start' && command !== 'migrate' && command !== 'audit' && command !== 'admin' && command !== 'early-access') {
    process.stderr.write(`rampart: unknown command "${command}"\n\n${USAGE}\n`);
    return 64;
  }

  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel });
  try {
    if (command === 'audit') return await runAuditCommand(argv.slice(1), config, logger);
    if (command === 'admin') return await runAdminCommand(argv.slice(1), config, logger);
    if (command === 'early-access') return await runEarlyAccessCommand(argv.slice(1), config, logger);
    if (command === 'start') {
      const { app } = await startServer(config, logger);
      stopOnSignals(app, logger);
      return -1; // keep running
    }
    const database = await openConfiguredDatabase(config, logger);
    try {
      await migrateDatabase(database, logger);
      logger.info('the database is up to date');
    } finally {
      await database.close();
    }
    return 0;
  } catch (error) {
    logger.fatal({ err: error }, 'rampart could not start');
    process.stderr.write(`rampart: ${errorMessage(error)}\n`);
    return 1;
  }
}

const exitCode = await main(process.argv.slice(2));
if (exitCode >= 0) process.exit(exitCode);
