import type { Database } from '../db/database.js';
import type { OwnerSqlExecutor } from '../db/driver.js';

export interface EarlyAccessRequest {
  email: string;
  name?: string | undefined;
  message?: string | undefined;
}

/**
 * Stores a request of the early-access form. Every request adds a row, a repeated address included,
 * so that the answer and its timing are the same whether or not the address has asked before; the
 * operator reads and deletes them (as the owner: `listEarlyAccessRequests`,
 * `deleteEarlyAccessRequests`), requests cannot.
 *
 * @example
 * await recordEarlyAccessRequest(services.database, { email, name, message });
 */
export async function recordEarlyAccessRequest(database: Database, request: EarlyAccessRequest): Promise<void> {
  await database.withTenant({}, (tx) =>
    tx.query('INSERT INTO rampart.early_access_requests (email, name, message) VALUES ($1, $2, $3)', [
      request.email,
      request.name ?? null,
      request.message ?? null,
    ]),
  );
}

/** A stored early-access request, as the operator reads it. */
export interface StoredEarlyAccessRequest {
  id: string;
  email: string;
  name: string | null;
  message: string | null;
  createdAt: Date;
}

/**
 * Whether the connecting role reads and deletes every request: a superuser or BYPASSRLS role, or one
 * the owner's SELECT and DELETE policies name (the role that ran migration 0010). Any other role would
 * see no row — a false "none", or "deleted 0" for an address that is still stored — so it is refused.
 */
async function assertOwnerReachesRequests(tx: OwnerSqlExecutor): Promise<void> {
  const { rows } = await tx.query<{ reaches: boolean }>(
    `SELECT r.rolsuper OR r.rolbypassrls OR coalesce((
              SELECT bool_or(p.polcmd IN ('r', '*')) AND bool_or(p.polcmd IN ('d', '*'))
                FROM pg_policy p
               WHERE p.polrelid = 'rampart.early_access_requests'::regclass
                 AND EXISTS (SELECT 1 FROM unnest(p.polroles) AS role_oid
                              WHERE role_oid = 0 OR pg_has_role(current_user, role_oid, 'USAGE'))), false) AS reaches
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  if (rows[0]?.reaches !== true) {
    throw new Error(
      'the early-access requests can be read and deleted only as the role that ran the migrations (or one with BYPASSRLS)',
    );
  }
}

/**
 * Every early-access request, oldest first, read as the owner (requests may only insert).
 *
 * @example
 * for (const request of await listEarlyAccessRequests(database)) console.log(request.email);
 */
export async function listEarlyAccessRequests(database: Database): Promise<StoredEarlyAccessRequest[]> {
  return database.transactionAsOwner(async (tx) => {
    await assertOwnerReachesRequests(tx);
    const { rows } = await tx.query<{ id: string; email: string; name: string | null; message: string | null; created_at: Date }>(
      'SELECT id, email, name, message, created_at FROM rampart.early_access_requests ORDER BY created_at, id',
    );
    return rows.map((row) => ({ id: row.id, email: row.email, name: row.name, message: row.message, createdAt: row.created_at }));
  });
}

/**
 * Deletes, as the owner, every request of one address (its case ignored: a deletion request names
 * the person, not the spelling) or every request made before a moment (retention), and returns how
 * many rows went.
 *
 * @example
 * await deleteEarlyAccessRequests(database, { email: 'ada@example.com' }); // 2
 * await deleteEarlyAccessRequests(database, { before: new Date('2025-01-01T00:00:00Z') });
 */
export async function deleteEarlyAccessRequests(
  database: Database,
  selection: { email: string } | { before: Date },
): Promise<number> {
  return database.transactionAsOwner(async (tx) => {
    await assertOwnerReachesRequests(tx);
    const { rowCount } =
      'email' in selection
        ? await tx.query('DELETE FROM rampart.early_access_requests WHERE lower(email) = lower($1)', [selection.email])
        : await tx.query('DELETE FROM rampart.early_access_requests WHERE created_at < $1', [selection.before]);
    return rowCount;
  });
}
