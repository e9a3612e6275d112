import type { Logger } from 'pino';
import { AuditLog } from '../audit/index.js';
import { emailLookupKey } from '../auth/account-services.js';
import { continueAsUser, type Database } from '../db/database.js';
import type { OwnerSqlExecutor } from '../db/driver.js';
import type { RampartConfig } from '../server/config.js';
import { resolveMasterKey } from '../server/secrets.js';
import { openConfiguredDatabase } from '../server/start.js';

export const ADMIN_USAGE = `Usage:
  rampart admin grant EMAIL    make the account of EMAIL a platform super-admin
  rampart admin revoke EMAIL   remove the flag
  rampart admin list           list the platform super-admins

A platform super-admin may read any workspace's details, members and invitations without being a
member (support access) — nothing else. Every use is recorded in that workspace's audit log and in
the platform log; every grant and revocation in the platform log and the user's account log. The flag
is set only here, never through the API.`;

const EXIT_USAGE = 64;
const EXIT_NOT_FOUND = 67; // sysexits' EX_NOUSER

export type PlatformAdminChange = 'granted' | 'revoked' | 'unchanged' | 'no_such_user';

/** Finds the account of an email as the owner, inside the tenant context its policies expect. */
async function enterAsAccountOf(tx: OwnerSqlExecutor, email: string): Promise<string | undefined> {
  const lookupKey = emailLookupKey(email);
  await tx.query(`SELECT set_config('rampart.lookup_key', $1, true), set_config('rampart.workspace_id', '', true)`, [lookupKey]);
  const { rows } = await tx.query<{ id: string }>('SELECT id FROM rampart.users WHERE lower(email) = $1', [lookupKey]);
  const userId = rows[0]?.id;
  if (userId !== undefined) await continueAsUser(tx, userId);
  return userId;
}

/**
 * Sets or clears the platform super-admin flag of an account, with its events: in the user's own
 * account log, then in the platform log (recorded while the user holds the flag: only a super-admin's
 * transaction may write the platform log).
 *
 * @example
 * await setPlatformAdmin(database, auditLog, { email: 'ops@example.com', isAdmin: true });
 */
export async function setPlatformAdmin(
  database: Database,
  auditLog: AuditLog,
  options: { email: string; isAdmin: boolean },
): Promise<PlatformAdminChange> {
  return database.transactionAsOwner(async (tx) => {
    const userId = await enterAsAccountOf(tx, options.email);
    if (userId === undefined) return 'no_such_user';
    const { rows } = await tx.query('SELECT 1 FROM rampart.platform_admins WHERE user_id = $1', [userId]);
    if ((rows.length > 0) === options.isAdmin) return 'unchanged';
    const action = options.isAdmin ? 'platform.admin_granted' : 'platform.admin_revoked';
    const event = { action, actor: { type: 'system' }, target: { type: 'user', id: userId }, origin: { ip: 'cli' } } as const;
    if (options.isAdmin) await tx.query('INSERT INTO rampart.platform_admins (user_id) VALUES ($1)', [userId]);
    await auditLog.record(tx, { ...event, scope: { userId } });
    await auditLog.record(tx, { ...event, scope: { platform: true } });
    if (!options.isAdmin) await tx.query('DELETE FROM rampart.platform_admins WHERE user_id = $1', [userId]);
    return options.isAdmin ? 'granted' : 'revoked';
  });
}

/**
 * The super-admins' addresses. Reading every account needs an owner RLS does not bind; with any
 * other owner the list would come back empty — a false "none" — so it is refused instead.
 */
async function listPlatformAdmins(database: Database): Promise<{ email: string; grantedAt: Date }[]> {
  return database.transactionAsOwner(async (tx) => {
    const { rows: owner } = await tx.query<{ unbound: boolean }>(
      'SELECT rolsuper OR rolbypassrls AS unbound FROM pg_roles WHERE rolname = current_user',
    );
    if (owner[0]?.unbound !== true) throw new Error('listing the platform super-admins needs a database owner with BYPASSRLS');
    const { rows } = await tx.query<{ email: string; granted_at: Date }>(
      `SELECT u.email, a.granted_at FROM rampart.platform_admins a JOIN rampart.users u ON u.id = a.user_id ORDER BY a.granted_at`,
    );
    return rows.map((row) => ({ email: row.email, grantedAt: row.granted_at }));
  });
}

/** `rampart admin …`: prints what it did on stdout and returns the exit code. */
export async function runAdminCommand(args: readonly string[], config: RampartConfig, logger: Logger): Promise<number> {
  const [subcommand, email, ...rest] = args;
  const isChange = (subcommand === 'grant' || subcommand === 'revoke') && email !== undefined && rest.length === 0;
  const isList = subcommand === 'list' && email === undefined;
  if (!isChange && !isList) {
    process.stderr.write(`${ADMIN_USAGE}\n`);
    return EXIT_USAGE;
  }
  const database = await openConfiguredDatabase(config, logger);
  try {
    if (isList) {
      const admins = await listPlatformAdmins(database);
      for (const admin of admins) process.stdout.write(`${admin.email}\tsince ${admin.grantedAt.toISOString()}\n`);
      if (admins.length === 0) process.stdout.write('no platform super-admins\n');
      return 0;
    }
    const auditLog = AuditLog.fromMasterKey((await resolveMasterKey(config)).key);
    const result = await setPlatformAdmin(database, auditLog, { email: email!, isAdmin: subcommand === 'grant' });
    if (result === 'no_such_user') {
      process.stderr.write(`rampart: no account has the email ${JSON.stringify(email)}\n`);
      return EXIT_NOT_FOUND;
    }
    const said = { granted: 'is now a platform super-admin', revoked: 'is no longer a platform super-admin', unchanged: 'unchanged' };
    process.stdout.write(`${email}: ${said[result]}\n`);
    return 0;
  } finally {
    await database.close();
  }
}
