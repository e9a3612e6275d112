import type { Database } from '../db/database.js';

export interface EarlyAccessRequest {
  email: string;
  name?: string | undefined;
  message?: string | undefined;
}

/**
 * Stores a request of the early-access form. Every request adds a row, a repeated address included,
 * so that the answer and its timing are the same whether or not the address has asked before; the
 * operator reads them (as the owner), requests cannot.
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
