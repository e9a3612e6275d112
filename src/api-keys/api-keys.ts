import type { AuditLog } from '../audit/index.js';
import type { Database } from '../db/database.js';
import type { SqlExecutor } from '../db/driver.js';
import { recordWorkspaceEvent, type MemberActor, type WorkspaceSummary } from '../workspaces/index.js';
import { generateApiKey, type ApiKeyEnvironment } from './key-format.js';
import { ApiKeyHasher } from './key-hasher.js';
import type { ApiKeyScope } from './scopes.js';

/** A key as lists show it: never the key itself, nor its hash. */
export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  rateLimitPerMinute: number;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  rate_limit_per_minute: number;
  created_by: string | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const SUMMARY_COLUMNS = 'id, name, prefix, scopes, rate_limit_per_minute, created_by, created_at, expires_at, revoked_at, last_used_at';

function toSummary(row: ApiKeyRow): ApiKeySummary {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    rateLimitPerMinute: row.rate_limit_per_minute,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/** Requests per minute a key gets when its creator names no figure. */
export const DEFAULT_API_KEY_RATE_LIMIT = 60;

export type ApiKeyCreation =
  | { status: 'created'; key: string; summary: ApiKeySummary }
  | { status: 'rate_limit_too_high'; maximum: number };

/**
 * Creates a key in the transaction's workspace for `actor` (whose role the caller has checked the
 * scopes against) and records it. The key is returned once, here; only its HMAC is stored.
 */
export async function createApiKey(
  tx: SqlExecutor,
  auditLog: AuditLog,
  options: {
    actor: MemberActor;
    hasher: ApiKeyHasher;
    environment: ApiKeyEnvironment;
    name: string;
    scopes: readonly ApiKeyScope[];
    expiresAt: Date | undefined;
    rateLimitPerMinute: number | undefined;
  },
): Promise<ApiKeyCreation> {
  const maximum = await readApiKeyRateLimitMax(tx);
  const rateLimit = options.rateLimitPerMinute ?? Math.min(DEFAULT_API_KEY_RATE_LIMIT, maximum);
  if (rateLimit > maximum) return { status: 'rate_limit_too_high', maximum };

  const { key, displayPrefix } = generateApiKey(options.environment);
  const { hash, pepperId } = options.hasher.hash(key);
  const { rows } = await tx.query<ApiKeyRow>(
    `INSERT INTO rampart.api_keys (name, prefix, key_hash, pepper_id, scopes, rate_limit_per_minute, created_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${SUMMARY_COLUMNS}`,
    [options.name, displayPrefix, hash, pepperId, [...new Set(options.scopes)], rateLimit, options.actor.userId, options.expiresAt ?? null],
  );
  const summary = toSummary(rows[0]!);
  await recordWorkspaceEvent(auditLog, tx, options.actor, {
    action: 'api_key.created',
    target: { type: 'api_key', id: summary.id },
    details: {
      name: summary.name,
      prefix: summary.prefix,
      scopes: summary.scopes,
      rateLimitPerMinute: rateLimit,
      expiresAt: summary.expiresAt?.toISOString() ?? null,
    },
  });
  return { status: 'created', key, summary };
}

/** The most requests per minute any key of the transaction's workspace may be given. */
export async function readApiKeyRateLimitMax(tx: SqlExecutor, options: { forUpdate?: boolean } = {}): Promise<number> {
  const { rows } = await tx.query<{ maximum: number }>(
    `SELECT api_key_rate_limit_max AS maximum FROM rampart.workspaces${options.forUpdate === true ? ' FOR UPDATE' : ''}`,
  );
  return rows[0]!.maximum;
}

/** Highest per-key limit a workspace may allow: the column's CHECK bound, and the request schema's. */
export const API_KEY_RATE_LIMIT_CEILING = 100_000;

/**
 * Sets the workspace's maximum per-key limit. Keys given more before keep their figure in the row
 * but are held to the new maximum from their next request (the authenticating statement takes the
 * lower of the two); new keys cannot be given more.
 */
export async function setApiKeyRateLimitMax(
  tx: SqlExecutor,
  auditLog: AuditLog,
  options: { actor: MemberActor; maximum: number },
): Promise<number> {
  const before = await readApiKeyRateLimitMax(tx, { forUpdate: true });
  if (before === options.maximum) return before;
  await tx.query('UPDATE rampart.workspaces SET api_key_rate_limit_max = $1, updated_at = now()', [options.maximum]);
  await recordWorkspaceEvent(auditLog, tx, options.actor, {
    action: 'api_key.rate_limit_max_changed',
    target: { type: 'workspace', id: options.actor.workspaceId },
    details: { from: before, to: options.maximum },
  });
  return options.maximum;
}

/** Every key of the transaction's workspace, newest first, revoked and expired ones included. */
export async function listApiKeys(tx: SqlExecutor): Promise<ApiKeySummary[]> {
  const { rows } = await tx.query<ApiKeyRow>(`SELECT ${SUMMARY_COLUMNS} FROM rampart.api_keys ORDER BY created_at DESC, id`);
  return rows.map(toSummary);
}

/**
 * Revokes a key of the transaction's workspace: the next request made with it, on any instance, is
 * refused (nothing caches a key). False when there is no such key or it was already revoked.
 */
export async function revokeApiKey(tx: SqlExecutor, auditLog: AuditLog, options: { actor: MemberActor; keyId: string }): Promise<boolean> {
  const { rows } = await tx.query<{ name: string; prefix: string }>(
    'UPDATE rampart.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING name, prefix',
    [options.keyId],
  );
  const revoked = rows[0];
  if (revoked === undefined) return false;
  await recordWorkspaceEvent(auditLog, tx, options.actor, {
    action: 'api_key.revoked',
    target: { type: 'api_key', id: options.keyId },
    details: { name: revoked.name, prefix: revoked.prefix },
  });
  return true;
}

/** What the authenticating statement learned about a presented key (see `rampart.api_key_authenticate`). */
export interface ApiKeyLookup {
  id: string;
  workspaceId: string;
  name: string;
  scopes: string[];
  /** The key's own limit, lowered to the workspace's maximum if that has since been lowered. */
  rateLimitPerMinute: number;
  createdBy: string | null;
  /** The creator's role in the workspace now; null once they left or were removed. */
  creatorRole: string | null;
  isRevoked: boolean;
  isExpired: boolean;
  /** Requests counted in the current window (0 when the database does not count them). */
  requestsUsed: number;
  windowResetSeconds: number;
  workspace: WorkspaceSummary & { isActive: boolean };
}

interface LookupRow {
  id: string;
  workspace_id: string;
  key_hash: string;
  name: string;
  scopes: string[];
  rate_limit_per_minute: number;
  created_by: string | null;
  creator_role: string | null;
  is_revoked: boolean;
  is_expired: boolean;
  requests_used: number;
  window_reset_seconds: number;
  workspace_is_active: boolean;
  workspace_name: string;
  workspace_mfa_required: boolean;
  workspace_created_at: Date;
}

/** The fixed window of the per-key limit. */
export const RATE_LIMIT_WINDOW_SECONDS = 60;
/** "Last used" is written at most this often per key. */
export const LAST_USED_PRECISION_SECONDS = 60;

/**
 * Finds the key a request presents, in one statement; `countUsage` also counts the request in the
 * key's window (the database limiter). Undefined when no key has that hash under any pepper.
 */
export async function lookUpApiKey(
  database: Database,
  options: { key: string; hasher: ApiKeyHasher; countUsage: boolean },
): Promise<ApiKeyLookup | undefined> {
  const candidates = options.hasher.candidates(options.key);
  const rows = await database.callContextFunction<LookupRow>('rampart.api_key_authenticate', [
    candidates.map((candidate) => candidate.hash),
    options.hasher.current.id,
    options.countUsage,
    RATE_LIMIT_WINDOW_SECONDS,
    LAST_USED_PRECISION_SECONDS,
  ]);
  const row = rows[0];
  if (row === undefined || !ApiKeyHasher.matches(candidates, row.key_hash)) return undefined;
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    scopes: row.scopes,
    rateLimitPerMinute: row.rate_limit_per_minute,
    createdBy: row.created_by,
    creatorRole: row.creator_role,
    isRevoked: row.is_revoked,
    isExpired: row.is_expired,
    requestsUsed: row.requests_used,
    windowResetSeconds: row.window_reset_seconds,
    workspace: {
      id: row.workspace_id,
      name: row.workspace_name,
      mfaRequired: row.workspace_mfa_required,
      createdAt: row.workspace_created_at,
      isActive: row.workspace_is_active,
    },
  };
}
