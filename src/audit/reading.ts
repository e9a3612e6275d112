import type { SqlExecutor } from '../db/driver.js';
import type { AuditAction } from './actions.js';
import type { JsonValue } from './canonical.js';

/** What a reader may narrow a workspace's log to; every field is optional and they combine with AND. */
export interface AuditEventFilter {
  actorType?: 'user' | 'api_key' | 'system' | 'super_admin';
  actorId?: string;
  action?: AuditAction;
  targetType?: string;
  targetId?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

/** One event as readers see it: every stored field, including the two hashes that chain it. */
export interface AuditEventView {
  seq: number;
  id: string;
  occurredAt: string;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string; id: string | null } | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: JsonValue;
  prevHash: string;
  hash: string;
}

interface EventRow {
  seq: string;
  id: string;
  occurred_at: Date;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: JsonValue;
  prev_hash: string;
  hash: string;
}

function toView(row: EventRow): AuditEventView {
  return {
    seq: Number(row.seq),
    id: row.id,
    occurredAt: row.occurred_at.toISOString(),
    actor: { type: row.actor_type, id: row.actor_id },
    action: row.action,
    target: row.target_type === null ? null : { type: row.target_type, id: row.target_id },
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The WHERE clause of a filtered read; `$1`–`$7` are `filterParams`. */
const FILTER_CONDITIONS = `e.workspace_id = rampart.current_workspace_id()
        AND ($1::text IS NULL OR e.actor_type = $1)
        AND ($2::uuid IS NULL OR e.actor_id = $2)
        AND ($3::text IS NULL OR e.action = $3)
        AND ($4::text IS NULL OR e.target_type = $4)
        AND ($5::text IS NULL OR e.target_id = $5)
        AND ($6::timestamptz IS NULL OR e.occurred_at >= $6)
        AND ($7::timestamptz IS NULL OR e.occurred_at < $7)`;

function filterParams(filter: AuditEventFilter): unknown[] {
  return [
    filter.actorType ?? null,
    filter.actorId ?? null,
    filter.action ?? null,
    filter.targetType ?? null,
    filter.targetId ?? null,
    filter.from ?? null,
    filter.to ?? null,
  ];
}

/**
 * A page of the log of the transaction's workspace, newest first: the events matching `filter` with
 * a sequence number below `beforeSeq` (the cursor of the previous page). Row-level security limits
 * the read to the workspace the transaction entered; the filter only narrows it further.
 */
export async function readWorkspaceEvents(
  tx: SqlExecutor,
  filter: AuditEventFilter,
  page: { beforeSeq?: number | undefined; limit: number },
): Promise<AuditEventView[]> {
  const { rows } = await tx.query<EventRow>(
    `SELECT e.seq::text AS seq, e.id, e.occurred_at, e.actor_type, e.actor_id, e.action, e.target_type, e.target_id,
            e.ip, e.user_agent, e.request_id, e.details, e.prev_hash, e.hash
       FROM rampart.audit_events e
      WHERE ${FILTER_CONDITIONS}
        AND ($8::bigint IS NULL OR e.seq < $8)
      ORDER BY e.seq DESC
      LIMIT $9`,
    [...filterParams(filter), page.beforeSeq ?? null, page.limit],
  );
  return rows.map(toView);
}

/** How many events match `filter`, counting no further than `ceiling` (a cheap "more than" test). */
export async function countWorkspaceEvents(tx: SqlExecutor, filter: AuditEventFilter, ceiling: number): Promise<number> {
  const { rows } = await tx.query<{ count: string }>(
    `SELECT count(*)::text AS count FROM (SELECT 1 FROM rampart.audit_events e WHERE ${FILTER_CONDITIONS} LIMIT $8) AS matching`,
    [...filterParams(filter), ceiling],
  );
  return Number(rows[0]!.count);
}

/** The columns of a CSV export, in order. */
const CSV_COLUMNS = [
  'seq',
  'id',
  'occurred_at',
  'actor_type',
  'actor_id',
  'action',
  'target_type',
  'target_id',
  'ip',
  'user_agent',
  'request_id',
  'details',
  'prev_hash',
  'hash',
] as const;

/**
 * One CSV cell, safe to open in a spreadsheet: a value that begins with a character a spreadsheet
 * reads as the start of a formula (`= + - @`, or a tab or carriage return that some strip first) is
 * prefixed with an apostrophe (OWASP, "CSV Injection"), and every cell is quoted.
 */
export function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  const neutralised = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${neutralised.replaceAll('"', '""')}"`;
}

function csvRow(event: AuditEventView): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string | number | null> = {
    seq: event.seq,
    id: event.id,
    occurred_at: event.occurredAt,
    actor_type: event.actor.type,
    actor_id: event.actor.id,
    action: event.action,
    target_type: event.target?.type ?? null,
    target_id: event.target?.id ?? null,
    ip: event.ip,
    user_agent: event.userAgent,
    request_id: event.requestId,
    details: JSON.stringify(event.details),
    prev_hash: event.prevHash,
    hash: event.hash,
  };
  return CSV_COLUMNS.map((column) => csvCell(values[column])).join(',');
}

export type ExportFormat = 'jsonl' | 'csv';

/** The export file: JSON Lines (one event per line) or CSV with a header row; CRLF line ends for CSV (RFC 4180). */
export function formatExport(events: readonly AuditEventView[], format: ExportFormat): string {
  if (format === 'jsonl') return events.map((event) => `${JSON.stringify(event)}\n`).join('');
  return [CSV_COLUMNS.join(','), ...events.map(csvRow)].map((line) => `${line}\r\n`).join('');
}
