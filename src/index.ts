/**
 * Rampart as a library: build the app, open the database, run tenant-scoped transactions.
 *
 * @example
 * import { createApp, openDatabase, loadMigrations, applyMigrations, parseConfig, createLogger } from 'rampart';
 */
export { createApp, type CreateAppOptions } from './server/app.js';
export { createMailer, MemoryOutbox, type Mailer, type MailMessage } from './mail/index.js';
export type { BreachedPasswordCheck } from './auth/index.js';
export { parseConfig, formatConfigProblems, type RampartConfig, type ConfigResult } from './server/config.js';
export { AppError, ERROR_CATALOG, type ErrorCode, type ProblemDetails } from './server/errors.js';
export { createLogger, redactUrl } from './server/logger.js';
export { startServer, migrateDatabase, StartupError } from './server/start.js';
export { Database, openDatabase, APP_ROLE, type TenantContext, type DatabaseTarget } from './db/database.js';
export type { SqlExecutor, QueryResult } from './db/driver.js';
export { applyMigrations, loadMigrations, readMigrationStatus, MigrationError, type Migration } from './db/migrate.js';
export { findSchemaViolations } from './db/schema-check.js';
export {
  AuditLog,
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditActor,
  type AuditEventInput,
  type AuditScope,
  type ChainVerification,
} from './audit/index.js';
