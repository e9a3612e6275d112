import type { Logger } from 'pino';
import { AuditLog } from '../audit/index.js';
import type { Database } from '../db/database.js';
import { verifyAgainstDummyHash } from '../crypto/password-hash.js';
import { createMailer, type Mailer } from '../mail/index.js';
import { mfaSettingsFrom } from '../mfa/settings.js';
import type { RampartConfig } from '../server/config.js';
import { BackgroundTasks } from '../server/background-tasks.js';
import { sessionPolicyFromConfig } from '../sessions/sessions.js';
import type { AccountServices } from './account-services.js';
import { createBreachedPasswordCheck, type BreachedPasswordCheck } from './breached-passwords.js';
import { PasswordWorkQueue } from './password-work-queue.js';

export { emailLookupKey, type AccountServices, type RequestOrigin } from './account-services.js';
export type { BreachedPasswordCheck } from './breached-passwords.js';
export { PasswordWorkQueue } from './password-work-queue.js';

/** A warning at most this often while the breach service stays unreachable, not one per sign-up. */
const UNAVAILABLE_WARNING_INTERVAL_MS = 60_000;

/**
 * Builds the services the account flows share, from the configuration. Tests (and embedders) may
 * pass their own mailer, breach check or password queue.
 *
 * @example
 * const services = createAccountServices({ config, database, masterKey, logger });
 */
export function createAccountServices(options: {
  config: RampartConfig;
  database: Database;
  masterKey: Buffer;
  logger: Logger;
  mailer?: Mailer | undefined;
  isBreached?: BreachedPasswordCheck | undefined;
  passwordWork?: PasswordWorkQueue | undefined;
}): AccountServices {
  const { config, logger } = options;
  let lastWarningAt = 0;
  const isBreached =
    options.isBreached ??
    createBreachedPasswordCheck({
      apiUrl: config.hibpApiUrl,
      onUnavailable: (reason) => {
        if (Date.now() - lastWarningAt < UNAVAILABLE_WARNING_INTERVAL_MS) return;
        lastWarningAt = Date.now();
        logger.warn({ reason }, 'the breached-password service is unreachable: only the bundled common-password list is checked');
      },
    });
  const background = new BackgroundTasks(logger);
  // The first dummy verification also computes the dummy hash: done now, it cannot make the first
  // sign-in with an unknown email slower than one with a known email.
  background.run('prepare the dummy password hash', () => verifyAgainstDummyHash('prepare'));
  return {
    database: options.database,
    auditLog: AuditLog.fromMasterKey(options.masterKey),
    mailer: options.mailer ?? createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, logger }),
    logger,
    background,
    publicUrl: config.publicUrl,
    sessionPolicy: sessionPolicyFromConfig(config.sessions),
    passwordWork: options.passwordWork ?? new PasswordWorkQueue(),
    isBreached,
    mfa: mfaSettingsFrom(config, options.masterKey),
  };
}
