import { hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto';
import type { OwnerSqlExecutor, SqlExecutor } from '../db/driver.js';
import type { AuditAction } from './actions.js';
import { canonicalJson, hmacHex, sha256Hex, type JsonValue } from './canonical.js';

/** Who did it. Never a free string: a user, an API key, Rampart itself, or a platform super-admin. */
export type AuditActor =
  | { type: 'user'; id: string }
  | { type: 'api_key'; id: string }
  | { type: 'super_admin'; id: string }
  | { type: 'system' };

/** Which log: a workspace's, or a user's own account log (sign-ins and other account events). */
export type AuditScope = { workspaceId: string } | { userId: string };

export interface AuditEventInput {
  action: AuditAction;
  actor: AuditActor;
  scope: AuditScope;
  target?: { type: string; id: string };
  /** Where the request came from; taken from the HTTP request by the caller. */
  origin?: { ip?: string; userAgent?: string; requestId?: string };
  /** A few facts about the action. Never a secret: keys that name one are refused. */
  details?: { [key: string]: JsonValue };
}

export interface RecordedAuditEvent {
  id: string;
  seq: number;
  hash: string;
}

export type ChainVerification =
  | { ok: true; events: number; head: { seq: number; hash: string } }
  | { ok: false; events: number; firstBadEvent: { seq: number; id: string } | null; reason: string };

/** The previous hash of a chain's first event. */
export const GENESIS_HASH = '0'.repeat(64);
const FORM_VERSION = 'rampart.audit.v1';
const MAX_DETAILS_BYTES = 4_096;
const SECRET_DETAIL_KEYS = new Set(['password', 'secret', 'token', 'key', 'apikey', 'code', 'recoverycode', 'mfatoken', 'otp']);

const CHAINS = {
  workspace: { events: 'rampart.audit_events', heads: 'rampart.audit_chain_heads', owner: 'workspace_id' },
  account: { events: 'rampart.account_audit_events', heads: 'rampart.account_audit_chain_heads', owner: 'user_id' },
} as const;
type ChainKind = keyof typeof CHAINS;

function chainOf(scope: AuditScope): { kind: ChainKind; ownerId: string } {
  return 'workspaceId' in scope ? { kind: 'workspace', ownerId: scope.workspaceId } : { kind: 'account', ownerId: scope.userId };
}

function assertNoSecrets(value: JsonValue, path: string): void {
  if (Array.isArray(value)) value.forEach((item, index) => assertNoSecrets(item, `${path}[${index}]`));
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (SECRET_DETAIL_KEYS.has(key.toLowerCase())) throw new TypeError(`audit details must not hold secrets (${path}.${key})`);
      assertNoSecrets(inner, `${path}.${key}`);
    }
  } else if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`audit details must be JSON (${path} is not a finite number)`);
  }
}

interface StoredEvent {
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

/**
 * Every stored field of an event, in the order of its canonical form. The insert, the read-back and
 * the hash are all built from this one list, so a column cannot be stored without being hashed.
 */
const EVENT_FIELDS = [
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
] as const satisfies readonly (keyof StoredEvent)[];

type EventFields = Omit<StoredEvent, 'hash' | 'seq'> & { seq: number };

/** The text an event's hash is taken over: the chain, then every stored field in a fixed order. */
function canonicalEvent(kind: ChainKind, ownerId: string, event: EventFields): string {
  const values = EVENT_FIELDS.map((field) =>
    field === 'occurred_at' ? event.occurred_at.toISOString() : event[field],
  );
  return canonicalJson([FORM_VERSION, kind, ownerId, ...values]);
}

const SELECT_EVENT_FIELDS = EVENT_FIELDS.map((field) => (field === 'seq' ? 'e.seq::text AS seq' : `e.${field}`)).join(', ');

interface StoredHead {
  seq: string;
  hash: string;
  signature: string;
  checkpoint_seq: string;
  checkpoint_hash: string;
  checkpoint_signature: string | null;
}

const sameHex = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * The audit log: records events into hash chains and verifies them. One instance per process, made
 * from the master key (which signs chain heads).
 *
 * @example
 * const auditLog = AuditLog.fromMasterKey(masterKey);
 * await database.withTenant({ workspaceId, userId }, async (tx) => {
 *   await renameWorkspace(tx, name);
 *   await auditLog.record(tx, { action: 'workspace.renamed', actor: { type: 'user', id: userId }, scope: { workspaceId } });
 * });
 */
export class AuditLog {
  private constructor(private readonly headKey: Buffer) {}

  /** Derives the head-signing key, so the master key itself never signs anything directly. */
  static fromMasterKey(masterKey: Buffer): AuditLog {
    return new AuditLog(Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'rampart audit-log chain heads v1', 32)));
  }

  private signHead(kind: ChainKind, ownerId: string, seq: number, hash: string): string {
    return hmacHex(this.headKey, canonicalJson([FORM_VERSION, 'head', kind, ownerId, seq, hash]));
  }

  /**
   * Appends an event to its chain inside the caller's transaction: if the action rolls back, so does
   * its event, and if the event cannot be written the action fails with it. Appends to one chain
   * queue on the chain's head row; other chains are not blocked. The transaction's tenant context
   * must be the event's workspace (or, for an account event, its user) — RLS refuses anything else.
   */
  async record(tx: SqlExecutor, input: AuditEventInput): Promise<RecordedAuditEvent> {
    const details = input.details ?? {};
    assertNoSecrets(details, 'details');
    if (Buffer.byteLength(JSON.stringify(details)) > MAX_DETAILS_BYTES) {
      throw new TypeError(`audit details must stay under ${MAX_DETAILS_BYTES} bytes`);
    }
    const { kind, ownerId } = chainOf(input.scope);
    const chain = CHAINS[kind];

    // Creates the head at the first event and in every case locks it until COMMIT: the append queue.
    const { rows } = await tx.query<{ seq: string; hash: string }>(
      `INSERT INTO ${chain.heads} (${chain.owner}, seq, hash, signature) VALUES ($1, 0, $2, $3)
       ON CONFLICT (${chain.owner}) DO UPDATE SET seq = ${chain.heads}.seq
       RETURNING seq::text AS seq, hash`,
      [ownerId, GENESIS_HASH, this.signHead(kind, ownerId, 0, GENESIS_HASH)],
    );
    const head = rows[0]!;
    const event: EventFields = {
      seq: Number(head.seq) + 1,
      id: randomUUID(),
      occurred_at: new Date(),
      actor_type: input.actor.type,
      actor_id: input.actor.type === 'system' ? null : input.actor.id,
      action: input.action,
      target_type: input.target?.type ?? null,
      target_id: input.target?.id ?? null,
      ip: input.origin?.ip ?? null,
      user_agent: input.origin?.userAgent?.slice(0, 512) ?? null,
      request_id: input.origin?.requestId ?? null,
      details,
      prev_hash: head.hash,
    };
    const hash = sha256Hex(canonicalEvent(kind, ownerId, event));
    // $1 the chain owner, then the fields, then the hash and the head's new signature.
    const hashParam = EVENT_FIELDS.length + 2;
    const fieldParams = EVENT_FIELDS.map((_, index) => `$${index + 2}`).join(', ');
    await tx.query(
      `WITH appended AS (
         INSERT INTO ${chain.events} (${chain.owner}, ${EVENT_FIELDS.join(', ')}, hash)
         VALUES ($1, ${fieldParams}, $${hashParam})
       )
       UPDATE ${chain.heads} SET seq = $2, hash = $${hashParam}, signature = $${hashParam + 1} WHERE ${chain.owner} = $1`,
      [ownerId, ...EVENT_FIELDS.map((field) => event[field]), hash, this.signHead(kind, ownerId, event.seq, hash)],
    );
    return { id: event.id, seq: event.seq, hash };
  }

  private signCheckpoint(kind: ChainKind, ownerId: string, seq: number, hash: string): string {
    return hmacHex(this.headKey, canonicalJson([FORM_VERSION, 'checkpoint', kind, ownerId, seq, hash]));
  }

  /**
   * Walks a chain from its start — the first event, or the signed checkpoint a retention purge left —
   * and reports the first event that does not check out: one whose content was altered, or which
   * does not follow the event before it (an event deleted, reordered or inserted). At the end the head
   * must be validly signed and point at the last event; otherwise the newest events were removed or
   * forged ones appended. Reads through `tx`, so RLS limits it to the caller's own chain.
   */
  async verify(tx: SqlExecutor, scope: AuditScope): Promise<ChainVerification> {
    const { kind, ownerId } = chainOf(scope);
    const chain = CHAINS[kind];
    const { rows: heads } = await tx.query<StoredHead>(
      `SELECT seq::text AS seq, hash, signature, checkpoint_seq::text AS checkpoint_seq, checkpoint_hash, checkpoint_signature
         FROM ${chain.heads} WHERE ${chain.owner} = $1`,
      [ownerId],
    );
    const head = heads[0];
    const checkpointSeq = Number(head?.checkpoint_seq ?? 0);
    const broken = (events: number, reason: string, at: { seq: number; id: string } | null = null): ChainVerification => ({
      ok: false,
      events,
      firstBadEvent: at,
      reason,
    });
    if (
      head !== undefined &&
      checkpointSeq > 0 &&
      !sameHex(head.checkpoint_signature ?? '', this.signCheckpoint(kind, ownerId, checkpointSeq, head.checkpoint_hash))
    ) {
      return broken(0, 'the retention checkpoint signature is invalid');
    }

    const batchSize = 1_000;
    let expectedSeq = checkpointSeq + 1;
    let previousHash = head?.checkpoint_hash ?? GENESIS_HASH;
    let count = 0;
    for (;;) {
      const { rows } = await tx.query<StoredEvent>(
        `SELECT ${SELECT_EVENT_FIELDS}, e.hash
           FROM ${chain.events} AS e WHERE e.${chain.owner} = $1 AND e.seq >= $2
          ORDER BY e.seq LIMIT $3`, // e.seq is the bigint; the text alias would sort '10' before '2'
        [ownerId, count === 0 ? 1 : expectedSeq, batchSize],
      );
      for (const row of rows) {
        const seq = Number(row.seq);
        const at = { seq, id: row.id };
        if (seq !== expectedSeq) {
          return broken(count, seq < expectedSeq ? 'is older than the retention checkpoint' : `event ${expectedSeq} is missing`, at);
        }
        if (!sameHex(row.prev_hash, previousHash)) return broken(count, 'does not follow the event before it', at);
        if (!sameHex(sha256Hex(canonicalEvent(kind, ownerId, { ...row, seq })), row.hash)) {
          return broken(count, 'was altered after it was recorded', at);
        }
        previousHash = row.hash;
        expectedSeq += 1;
        count += 1;
      }
      if (rows.length < batchSize) break;
    }

    const lastSeq = expectedSeq - 1;
    if (head === undefined) {
      return count === 0 ? { ok: true, events: 0, head: { seq: 0, hash: GENESIS_HASH } } : broken(count, 'the chain head is missing');
    }
    const headSeq = Number(head.seq);
    if (!sameHex(head.signature, this.signHead(kind, ownerId, headSeq, head.hash))) {
      return broken(count, 'the chain head signature is invalid');
    }
    if (headSeq !== lastSeq || !sameHex(head.hash, previousHash)) {
      return broken(
        count,
        headSeq > lastSeq ? `events ${lastSeq + 1} to ${headSeq} were removed` : `event ${headSeq + 1} and later were not recorded through the chain`,
      );
    }
    return { ok: true, events: count, head: { seq: lastSeq, hash: previousHash } };
  }

  /**
   * The retention purge, as the owner (`database.transactionAsOwner`): removes the chain's events
   * recorded before `before`, moves its signed checkpoint to the last removed event, and records an
   * `audit.purged` event — so the chain still verifies, from the checkpoint on.
   *
   * @returns how many events were removed.
   */
  async purge(tx: OwnerSqlExecutor, scope: AuditScope, before: Date): Promise<number> {
    const { kind, ownerId } = chainOf(scope);
    const chain = CHAINS[kind];
    // The chain's context, so that an owner without BYPASSRLS passes the same policies.
    await tx.query(`SELECT set_config('rampart.workspace_id', $1, true), set_config('rampart.user_id', $2, true)`, [
      kind === 'workspace' ? ownerId : '',
      kind === 'account' ? ownerId : '',
    ]);
    const { rows: heads } = await tx.query<{ seq: string }>(
      `SELECT seq::text AS seq FROM ${chain.heads} WHERE ${chain.owner} = $1 FOR UPDATE`,
      [ownerId],
    );
    if (heads[0] === undefined) return 0;
    const { rows: last } = await tx.query<{ seq: string; hash: string }>(
      `SELECT seq::text AS seq, hash FROM ${chain.events} AS e
        WHERE e.${chain.owner} = $1 AND e.occurred_at < $2 ORDER BY e.seq DESC LIMIT 1`,
      [ownerId, before],
    );
    const through = last[0];
    if (through === undefined) return 0;
    const throughSeq = Number(through.seq);

    await tx.query(`SELECT set_config('rampart.audit_purge', 'on', true)`);
    const { rowCount } = await tx.query(`DELETE FROM ${chain.events} WHERE ${chain.owner} = $1 AND seq <= $2`, [
      ownerId,
      throughSeq,
    ]);
    await tx.query(`SELECT set_config('rampart.audit_purge', 'off', true)`);
    await tx.query(
      `UPDATE ${chain.heads} SET checkpoint_seq = $2, checkpoint_hash = $3, checkpoint_signature = $4 WHERE ${chain.owner} = $1`,
      [ownerId, throughSeq, through.hash, this.signCheckpoint(kind, ownerId, throughSeq, through.hash)],
    );
    await this.record(tx, {
      action: 'audit.purged',
      actor: { type: 'system' },
      scope,
      details: { before: before.toISOString(), throughSeq, removed: rowCount },
    });
    return rowCount;
  }
}
