import type { Logger } from 'pino';
import { AuditLog, type AuditScope } from '../audit/index.js';
import type { Database } from '../db/database.js';
import { isUuid } from '../db/uuid.js';
import type { RampartConfig } from '../server/config.js';
import { errorMessage } from '../server/errors.js';
import { resolveMasterKey } from '../server/secrets.js';
import { openConfiguredDatabase } from '../server/start.js';

export const AUDIT_USAGE = `Usage:
  rampart audit verify [--workspace ID]   walk every audit chain (or one workspace's) and report the first broken link
  rampart audit purge [--workspace ID]    remove events older than RAMPART_AUDIT_RETENTION_DAYS, leaving signed checkpoints

Without --workspace, every workspace and account chain and the platform log: that needs an owner with BYPASSRLS.`;

/** Exit codes: 0 every chain verifies (or was purged), 2 a chain is broken, 64 usage error. */
const EXIT_BROKEN = 2;
const EXIT_USAGE = 64;

const describe = (scope: AuditScope) =>
  'workspaceId' in scope ? `workspace ${scope.workspaceId}` : 'userId' in scope ? `account ${scope.userId}` : 'platform log';

/**
 * Every chain in the database. Reading across workspaces needs an owner that row-level security does
 * not bind (superuser or BYPASSRLS); with any other owner the list would be silently incomplete, so
 * it is refused instead.
 */
async function listChains(database: Database): Promise<AuditScope[]> {
  return database.transactionAsOwner(async (tx) => {
    const { rows: owner } = await tx.query<{ unbound: boolean }>(
      'SELECT rolsuper OR rolbypassrls AS unbound FROM pg_roles WHERE rolname = current_user',
    );
    if (owner[0]?.unbound !== true) {
      throw new Error('listing every chain needs a database owner with BYPASSRLS; name one with --workspace ID');
    }
    // Every workspace and user, not only those with a head: a chain whose head was removed still shows.
    const { rows: workspaces } = await tx.query<{ id: string }>(
      `SELECT workspace_id AS id FROM rampart.workspaces
        UNION SELECT workspace_id FROM rampart.audit_chain_heads
        UNION SELECT DISTINCT workspace_id FROM rampart.audit_events ORDER BY id`,
    );
    const { rows: users } = await tx.query<{ id: string }>(
      `SELECT id FROM rampart.users
        UNION SELECT user_id FROM rampart.account_audit_chain_heads
        UNION SELECT DISTINCT user_id FROM rampart.account_audit_events ORDER BY id`,
    );
    return [...workspaces.map((r) => ({ workspaceId: r.id })), ...users.map((r) => ({ userId: r.id })), { platform: true }];
  });
}

function parseWorkspaceOption(args: readonly string[]): { workspaceId?: string } | 'invalid' {
  if (args.length === 0) return {};
  if (args.length === 2 && args[0] === '--workspace' && isUuid(args[1] ?? '')) return { workspaceId: args[1]!.toLowerCase() };
  return 'invalid';
}

/**
 * Verifies one chain in its own context, as requests would read it. The platform log has no tenant:
 * only an owner that row-level security does not bind reads it whole (listing every chain needs one).
 */
function verifyChain(database: Database, auditLog: AuditLog, scope: AuditScope) {
  if ('workspaceId' in scope) return database.withTenant({ workspaceId: scope.workspaceId }, (tx) => auditLog.verify(tx, scope));
  if ('userId' in scope) return database.withTenant({ userId: scope.userId }, (tx) => auditLog.verify(tx, scope));
  return database.transactionAsOwner((tx) => auditLog.verify(tx, scope));
}

/** `rampart audit …`: prints one line per chain on stdout and returns the exit code. */
export async function runAuditCommand(args: readonly string[], config: RampartConfig, logger: Logger): Promise<number> {
  const [subcommand, ...rest] = args;
  const options = parseWorkspaceOption(rest);
  if ((subcommand !== 'verify' && subcommand !== 'purge') || options === 'invalid') {
    process.stderr.write(`${AUDIT_USAGE}\n`);
    return EXIT_USAGE;
  }
  const auditLog = AuditLog.fromMasterKey((await resolveMasterKey(config)).key);
  const database = await openConfiguredDatabase(config, logger);
  try {
    const chains = options.workspaceId === undefined ? await listChains(database) : [{ workspaceId: options.workspaceId }];
    if (subcommand === 'purge') {
      const before = new Date(Date.now() - config.auditRetentionDays * 86_400_000);
      let removed = 0;
      let refused = 0;
      for (const scope of chains) {
        try {
          removed += await database.transactionAsOwner((tx) => auditLog.purge(tx, scope, before));
        } catch (error) {
          // A broken chain keeps its evidence; the others are still purged.
          refused += 1;
          process.stdout.write(`${describe(scope)}: not purged: ${errorMessage(error)}\n`);
        }
      }
      process.stdout.write(
        `removed ${removed} event(s) recorded before ${before.toISOString()} from ${chains.length - refused} chain(s)\n`,
      );
      return refused === 0 ? 0 : EXIT_BROKEN;
    }
    let isEveryChainWhole = true;
    for (const scope of chains) {
      // A chain so damaged that reading it fails is reported like any other broken chain, and the
      // walk goes on to the next one.
      const result = await verifyChain(database, auditLog, scope).catch(
        (error: unknown) =>
          ({ ok: false, events: 0, firstBadEvent: null, reason: `could not be read (${errorMessage(error)})` }) as const,
      );
      if (result.ok) {
        process.stdout.write(`${describe(scope)}: ok, ${result.events} event(s), head ${result.head.seq} ${result.head.hash}\n`);
      } else {
        isEveryChainWhole = false;
        const at = result.firstBadEvent ? `event ${result.firstBadEvent.seq} (${result.firstBadEvent.id}) ` : '';
        process.stdout.write(`${describe(scope)}: BROKEN: ${at}${result.reason}\n`);
      }
    }
    if (chains.length === 0) process.stdout.write('no audit chains yet\n');
    return isEveryChainWhole ? 0 : EXIT_BROKEN;
  } finally {
    await database.close();
  }
}
