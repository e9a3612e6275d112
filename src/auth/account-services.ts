import type { Logger } from 'pino';
import type { AuditAction, AuditLog } from '../audit/index.js';
import type { JsonValue } from '../audit/canonical.js';
import type { Database } from '../db/database.js';
import type { SqlExecutor } from '../db/driver.js';
import type { Mailer } from '../mail/index.js';
import type { MfaSettings } from '../mfa/settings.js';
import type { BackgroundTasks } from '../server/background-tasks.js';
import { storableUserAgent, type SessionPolicy } from '../sessions/sessions.js';
import type { BreachedPasswordCheck } from './breached-passwords.js';
import type { PasswordWorkQueue } from './password-work-queue.js';

/** What the account flows need, made once per app. */
export interface AccountServices {
  database: Database;
  auditLog: AuditLog;
  mailer: Mailer;
  logger: Logger;
  background: BackgroundTasks;
  /** Links in emails are built from this, never from the request's Host header. */
  publicUrl: string;
  sessionPolicy: SessionPolicy;
  passwordWork: PasswordWorkQueue;
  isBreached: BreachedPasswordCheck;
  mfa: MfaSettings;
}

/** Where a request came from, for the audit log and the session list. */
export interface RequestOrigin {
  ip: string;
  userAgent?: string;
  requestId: string;
}

/**
 * The key an account is looked up by: the address as typed, trimmed and lower-cased. Addresses are
 * ASCII (the request schema says so), where JavaScript's and Postgres' lower-casing agree.
 */
export function emailLookupKey(email: string): string {
  return email.trim().toLowerCase();
}

/** A request's origin as an audit event stores it: the client's user agent made storable. */
export function auditOrigin(origin: RequestOrigin): { ip: string; requestId: string; userAgent?: string } {
  return {
    ip: origin.ip,
    requestId: origin.requestId,
    ...(origin.userAgent === undefined ? {} : { userAgent: storableUserAgent(origin.userAgent) }),
  };
}

/** Records an event in the user's own account log, inside the caller's transaction (context: that user). */
export async function recordAccountEvent(
  services: Pick<AccountServices, 'auditLog'>,
  tx: SqlExecutor,
  event: { userId: string; action: AuditAction; origin: RequestOrigin; details?: { [key: string]: JsonValue } },
): Promise<void> {
  await services.auditLog.record(tx, {
    action: event.action,
    actor: { type: 'user', id: event.userId },
    scope: { userId: event.userId },
    target: { type: 'user', id: event.userId },
    origin: auditOrigin(event.origin),
    ...(event.details === undefined ? {} : { details: event.details }),
  });
}

/** A page of the console (`/reset-password?token=…`, `/sign-in`) under the public URL. */
export function publicLink(services: Pick<AccountServices, 'publicUrl'>, path: string, token?: string): string {
  const url = new URL(`${services.publicUrl}${path}`);
  if (token !== undefined) url.searchParams.set('token', token);
  return url.toString();
}
