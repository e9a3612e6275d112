import type { DatabaseDriver, OwnerSqlExecutor, SqlExecutor } from './driver.js';
import { openEmbeddedDriver } from './embedded-driver.js';
import { openPostgresDriver } from './postgres-driver.js';
import { isUuid } from './uuid.js';

/** The role every request runs as: not superuser, no BYPASSRLS, owns nothing (see the first migration). */
export const APP_ROLE = 'rampart_app';

/**
 * Who a transaction acts for. Postgres' row-level security policies read these two values; an
 * absent value means "none", and every policy fails closed on "none".
 *
 * - `{ workspaceId, userId }`: a request inside one workspace — sees that workspace's rows only.
 * - `{ userId }`: an account-level request — sees the user's own row and own memberships.
 * - `{ lookupKey }`: a request before authentication — reaches only the rows keyed by what it holds:
 *   the account of the email it typed, the session or one-time token whose hash it presents.
 * - `{}`: no one — sees no tenant row at all.
 */
export interface TenantContext {
  workspaceId?: string | null;
  userId?: string | null;
  /** A lower-cased email, or the SHA-256 (hex) of a presented token. */
  lookupKey?: string | null;
}

function assertOptionalUuid(value: string | null | undefined, name: string): void {
  if (value != null && !isUuid(value)) {
    throw new TypeError(`${name} must be a UUID`);
  }
}

/** How `withWorkspace` holds the memberships it reads until the transaction ends. */
export type WorkspaceLock = 'none' | 'share' | 'update';

/** What entering a workspace learns about the caller, in the same statement. */
export interface WorkspaceAccessRow {
  /** The caller's role there, or null when not a member. */
  role: string | null;
  /** The role of `otherUserId` there, or null when not a member (or not asked). */
  otherRole: string | null;
  /** False when the workspace does not exist or has been deleted. */
  isWorkspaceActive: boolean;
  /** The workspace requires its members to have signed in with a second factor. */
  requiresMfa: boolean;
  isPlatformAdmin: boolean;
}

/** The functions of the migrations that enter the tenant context themselves (see `callContextFunction`). */
export type ContextFunction =
  | 'rampart.session_by_token_hash'
  | 'rampart.api_key_authenticate'
  | 'rampart.rate_limits_consume'
  | 'rampart.rate_limits_clear_expired';

/**
 * Wraps an executor so that it refuses to run anything once its transaction is over. Without this, a
 * query that a caller forgot to await could run after COMMIT, outside the transaction — on a pool,
 * on a connection already handed to another request, and as the owner role rather than the app role.
 */
function guardUntilFinished(tx: OwnerSqlExecutor): { executor: OwnerSqlExecutor; finish: () => void } {
  let isFinished = false;
  const refuse = () => Promise.reject(new Error('A query was issued after its transaction had ended'));
  return {
    executor: {
      query: (text, params) => (isFinished ? refuse() : tx.query(text, params)),
      exec: (script) => (isFinished ? refuse() : tx.exec(script)),
    },
    finish: () => {
      isFinished = true;
    },
  };
}

/**
 * Rampart's database: one of the two drivers plus the only two ways to open a transaction.
 *
 * @example
 * const rows = await database.withTenant({ workspaceId, userId }, (tx) =>
 *   tx.query('SELECT user_id, role FROM rampart.memberships'), // RLS limits this to workspaceId
 * );
 */
export class Database {
  private closing: Promise<void> | undefined;

  constructor(private readonly driver: DatabaseDriver) {}

  get kind(): DatabaseDriver['kind'] {
    return this.driver.kind;
  }

  /**
   * Runs `fn` in one transaction as the app role with the tenant context set — the only way request
   * code should touch the database. The role and the settings are transaction-local
   * (`set_config(…, true)`, the function form of `SET LOCAL`), so nothing survives COMMIT or ROLLBACK
   * into the next use of a pooled connection; all three settings are always written, so a value left on
   * the connection by anything else is overwritten, never inherited.
   */
  async withTenant<T>(context: TenantContext, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    assertOptionalUuid(context.workspaceId, 'workspaceId');
    assertOptionalUuid(context.userId, 'userId');
    return this.transactionAsOwner(async (tx) => {
      await tx.query(
        `SELECT set_config('role', '${APP_ROLE}', true),
                set_config('rampart.workspace_id', $1, true),
                set_config('rampart.user_id', $2, true),
                set_config('rampart.lookup_key', $3, true)`,
        [context.workspaceId ?? '', context.userId ?? '', context.lookupKey ?? ''],
      );
      // Request code gets `query` only: one parameterised statement per call, no scripts.
      return fn({ query: (text, params) => tx.query(text, params) });
    });
  }

  /**
   * Like `withTenant({ workspaceId, userId })`, but the statement that enters the context also returns
   * the caller's membership of that workspace (and, with `otherUserId`, another member's), so the
   * permission check costs no round trip of its own. `lock` holds the membership still until the
   * transaction ends: `'share'` for writes (a role change waits for them), `'update'` for membership
   * changes (both rows, in id order). `fn` decides what the membership allows; what it throws rolls
   * the transaction back.
   *
   * @example
   * await database.withWorkspace({ workspaceId, userId, lock: 'share' }, async (tx, access) => {
   *   if (access.role === null) throw new AppError('NOT_FOUND');
   *   …
   * });
   */
  async withWorkspace<T>(
    options: { workspaceId: string; userId: string; lock: WorkspaceLock; otherUserId?: string | undefined },
    fn: (tx: SqlExecutor, access: WorkspaceAccessRow) => Promise<T>,
  ): Promise<T> {
    assertOptionalUuid(options.workspaceId, 'workspaceId');
    assertOptionalUuid(options.userId, 'userId');
    assertOptionalUuid(options.otherUserId, 'otherUserId');
    return this.transactionAsOwner(async (tx) => {
      const { rows } = await tx.query<{
        role: string | null;
        other_role: string | null;
        workspace_is_active: boolean;
        requires_mfa: boolean;
        is_platform_admin: boolean;
      }>('SELECT * FROM rampart.enter_workspace_context($1, $2, $3, $4)', [
        options.workspaceId,
        options.userId,
        options.lock,
        options.otherUserId ?? '',
      ]);
      const row = rows[0]!;
      const access: WorkspaceAccessRow = {
        role: row.role,
        otherRole: row.other_role,
        isWorkspaceActive: row.workspace_is_active,
        requiresMfa: row.requires_mfa,
        isPlatformAdmin: row.is_platform_admin,
      };
      return fn({ query: (text, params) => tx.query(text, params) }, access);
    });
  }

  /**
   * Calls one of the database functions that enter the tenant context themselves (their first step
   * is `rampart.enter_app_context`, the same role switch and settings as `withTenant`), as a single
   * prepared statement: one round trip instead of four, and plans the server keeps per connection.
   * The statement is its own transaction, so the context ends with it. For the read every signed-in
   * request makes.
   *
   * @example
   * const rows = await database.callContextFunction('rampart.session_by_token_hash', [tokenHash, 28800, 3600, 60, 300]);
   */
  async callContextFunction<Row>(name: ContextFunction, args: readonly unknown[]): Promise<Row[]> {
    const placeholders = args.map((_, index) => `$${index + 1}`).join(', ');
    const { rows } = await this.driver.queryPrepared<Row>(
      `${name}/${args.length}`,
      `SELECT * FROM ${name}(${placeholders})`,
      args,
    );
    return rows;
  }

  /**
   * Runs `fn` in one transaction as the connecting role, which owns the schema and is not bound by
   * row-level security. For migrations, the CLI and tests — never for request handling.
   */
  async transactionAsOwner<T>(fn: (tx: OwnerSqlExecutor) => Promise<T>): Promise<T> {
    return this.driver.transaction(async (tx) => {
      const guarded = guardUntilFinished(tx);
      try {
        return await fn(guarded.executor);
      } finally {
        guarded.finish();
      }
    });
  }

  /** Closes the connections. Safe to call more than once: later calls wait for the first. */
  close(): Promise<void> {
    this.closing ??= this.driver.close();
    return this.closing;
  }
}

/**
 * Continues a transaction opened with a lookup key as the user that key led to: once a presented
 * one-time token (or a verified password) has identified the account, the rest of the transaction
 * may act on that account's rows — and no longer on whatever else the key matched.
 *
 * @example
 * await database.withTenant({ lookupKey: hashToken(token) }, async (tx) => {
 *   const { rows } = await tx.query('DELETE FROM rampart.account_tokens WHERE token_hash = $1 RETURNING user_id', [hash]);
 *   await continueAsUser(tx, rows[0].user_id);
 * });
 */
export async function continueAsUser(tx: SqlExecutor, userId: string): Promise<void> {
  assertOptionalUuid(userId, 'userId');
  await tx.query(`SELECT set_config('rampart.user_id', $1, true), set_config('rampart.lookup_key', '', true)`, [userId]);
}

/**
 * Continues a transaction opened with a lookup key inside the workspace that key led to (an
 * invitation's): from here the transaction reaches that workspace's rows, and no longer whatever
 * else the key matched.
 *
 * @example
 * await continueInWorkspace(tx, invitation.workspace_id);
 */
export async function continueInWorkspace(tx: SqlExecutor, workspaceId: string): Promise<void> {
  assertOptionalUuid(workspaceId, 'workspaceId');
  await tx.query(`SELECT set_config('rampart.workspace_id', $1, true), set_config('rampart.lookup_key', '', true)`, [workspaceId]);
}

export type DatabaseTarget = { kind: 'embedded'; dataDir?: string } | { kind: 'postgres'; url: string };

export interface OpenDatabaseOptions {
  poolSize?: number;
  onIdleError?: (error: Error) => void;
}

/**
 * Opens the embedded database (a directory, or in memory when `dataDir` is omitted) or a pool to a
 * Postgres server.
 */
export async function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): Promise<Database> {
  if (target.kind === 'embedded') return new Database(await openEmbeddedDriver(target.dataDir));
  return new Database(
    openPostgresDriver({
      url: target.url,
      ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
      ...(options.onIdleError === undefined ? {} : { onIdleError: options.onIdleError }),
    }),
  );
}
