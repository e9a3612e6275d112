import { hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto';
import type { OwnerSqlExecutor, SqlExecutor } from '../db/driver.js';
import type { AuditAction } from './actions.js';
import { canonicalJson, hmacHex, sha256Hex, type JsonValue } from './canonical.js';
import { assertStorableDetails, canonicalUuid, storableText } from './event-input.js';

/** Who did it. Never a free string: a user, an API key, Rampart itself, or a platform super-admin. */
export type AuditActor =
  | { type: 'user'; id: string }
  | { type: 'api_key'; id: string }
  | { type: 'super_admin'; id: string }
  | { type: 'system' };

/**
 * Which log: a workspace's, a user's own account log (sign-ins and other account events), or the
 * platform log (the super-admin flag: every grant, revocation and use).
 */
export type AuditScope = { workspaceId: string } | { userId: string } | { platform: true };

/** The platform log is one chain; its owner id is fixed. */
export const PLATFORM_CHAIN_ID = '00000000-0000-0000-0000-000000000000';

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
const HEX_256 = /^[0-9a-f]{64}$/;

const CHAINS = {
  workspace: { events: 'rampart.audit_events', heads: 'rampart.audit_chain_heads', owner: 'workspace_id' },
  account: { events: 'rampart.account_audit_events', heads: 'rampart.account_audit_chain_heads', owner: 'user_id' },
  platform: { events: 'rampart.platform_audit_events', heads: 'rampart.platform_audit_chain_heads', owner: 'chain_id' },
} as const;
type ChainKind = keyof typeof CHAINS;

interface ChainRef {
  kind: ChainKind;
  ownerId: string;
  chain: (typeof CHAINS)[ChainKind];
}

function chainOf(scope: AuditScope): ChainRef {
  if ('workspaceId' in scope) {
    return { kind: 'workspace', ownerId: canonicalUuid(scope.workspaceId, 'scope.workspaceId'), chain: CHAINS.workspace };
  }
  if ('userId' in scope) return { kind: 'account', ownerId: canonicalUuid(scope.userId, 'scope.userId'), chain: CHAINS.account };
  return { kind: 'platform', ownerId: PLATFORM_CHAIN_ID, chain: CHAINS.platform };
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

/** Compares two SHA-256 hex strings in constant time; anything that is not one (a tampered row) is unequal. */
const sameHex = (a: string, b: string) =>
  HEX_256.test(a) && HEX_256.test(b) && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));

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
    const details: unknown = input.details ?? {};
    assertStorableDetails(details, 'details');
    if (Buffer.byteLength(JSON.stringify(details)) > MAX_DETAILS_BYTES) {
      throw new TypeError(`audit details must stay under ${MAX_DETAILS_BYTES} bytes`);
    }
    const { kind, ownerId, chain } = chainOf(input.scope);
    const actorId = input.actor.type === 'system' ? null : canonicalUuid(input.actor.id, 'actor.id');
    // The user agent comes from the client: cut it to the column's limit, by whole characters.
    const userAgent = input.origin?.userAgent === undefined ? undefined : [...input.origin.userAgent].slice(0, 512).join('');

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
      occurred_at: new Date(), // milliseconds: what the hash covers, and what the column keeps
      actor_type: input.actor.type,
      actor_id: actorId,
      action: input.action,
      target_type: storableText(input.target?.type, 'target.type', 100),
      target_id: storableText(input.target?.id, 'target.id', 200),
      ip: storableText(input.origin?.ip, 'origin.ip', 64),
      user_agent: storableText(userAgent, 'origin.userAgent', 512),
      request_id: storableText(input.origin?.requestId, 'origin.requestId', 100),
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

  private async readHead(tx: SqlExecutor, { chain, ownerId }: ChainRef): Promise<StoredHead | undefined> {
    const { rows } = await tx.query<StoredHead>(
      `SELECT seq::text AS seq, hash, signature, checkpoint_seq::text AS checkpoint_seq, checkpoint_hash, checkpoint_signature
         FROM ${chain.heads} WHERE ${chain.owner} = $1`,
      [ownerId],
    );
    return rows[0];
  }

  /**
   * Walks a chain from its start — the first event, or the signed checkpoint a retention purge left —
   * up to its head, and reports the first event that does not check out: one whose content was
   * altered, or which does not follow the event before it (an event deleted, reordered or inserted).
   * The head must carry a valid signature and point at the last event; an event past the head that
   * the head never covered was not recorded through the chain. Writers may keep appending meanwhile:
   * the walk stops at the head it read first.
   *
   * Runs in the chain's own context (`withTenant({ workspaceId })`, or `{ userId }` for an account
   * log); asking for another chain is a programming error, not an empty chain.
   */
  async verify(tx: SqlExecutor, scope: AuditScope): Promise<ChainVerification> {
    const target = chainOf(scope);
    const { kind, ownerId, chain } = target;
    // The platform log has no tenant of its own: a super-admin's context (or a BYPASSRLS owner) reads it.
    if (kind !== 'platform') {
      const { rows: context } = await tx.query<{ owner: string | null }>(
        `SELECT rampart.${kind === 'workspace' ? 'current_workspace_id' : 'current_user_id'}()::text AS owner`,
      );
      if (context[0]?.owner !== ownerId) throw new TypeError(`verify ${kind} ${ownerId} inside its own tenant context`);
    }

    const broken = (events: number, reason: string, at: { seq: number; id: string } | null = null): ChainVerification => ({
      ok: false,
      events,
      firstBadEvent: at,
      reason,
    });
    const head = await this.readHead(tx, target);
    const headSeq = Number(head?.seq ?? 0);
    const checkpointSeq = Number(head?.checkpoint_seq ?? 0);
    const checkpointHash = head?.checkpoint_hash ?? GENESIS_HASH;
    if (head !== undefined && !sameHex(head.signature, this.signHead(kind, ownerId, headSeq, head.hash))) {
      return broken(0, 'the chain head signature is invalid');
    }
    const isGenesis = checkpointSeq === 0 && checkpointHash === GENESIS_HASH;
    if (!isGenesis && !sameHex(head?.checkpoint_signature ?? '', this.signCheckpoint(kind, ownerId, checkpointSeq, checkpointHash))) {
      return broken(0, 'the retention checkpoint signature is invalid');
    }

    const batchSize = 1_000;
    let expectedSeq = checkpointSeq + 1;
    let previousHash = checkpointHash;
    let count = 0;
    let from = 1; // the first batch starts at 1, so that an event put back behind the checkpoint shows
    while (expectedSeq <= headSeq) {
      const { rows } = await tx.query<StoredEvent>(
        `SELECT ${SELECT_EVENT_FIELDS}, e.hash
           FROM ${chain.events} AS e WHERE e.${chain.owner} = $1 AND e.seq >= $2 AND e.seq <= $3
          ORDER BY e.seq LIMIT $4`, // e.seq is the bigint; the text alias would sort '10' before '2'
        [ownerId, from, headSeq, batchSize],
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
      from = expectedSeq;
    }

    if (head === undefined) {
      const { rows } = await tx.query(`SELECT 1 FROM ${chain.events} WHERE ${chain.owner} = $1 LIMIT 1`, [ownerId]);
      return rows.length === 0 ? { ok: true, events: 0, head: { seq: 0, hash: GENESIS_HASH } } : broken(0, 'the chain head is missing');
    }
    if (expectedSeq <= headSeq) return broken(count, `events ${expectedSeq} to ${headSeq} were removed`);
    if (!sameHex(head.hash, previousHash)) return broken(count, 'the chain head does not match the last event');

    // An event past the head is either being committed right now (its head update commits with it,
    // so a fresh look at the head covers it) or was written around the chain.
    const { rows: beyond } = await tx.query<{ seq: string; id: string }>(
      `SELECT seq::text AS seq, id FROM ${chain.events} AS e WHERE e.${chain.owner} = $1 AND e.seq > $2 ORDER BY e.seq DESC LIMIT 1`,
      [ownerId, headSeq],
    );
    const newest = beyond[0];
    if (newest !== undefined) {
      const latestHead = await this.readHead(tx, target);
      if (Number(latestHead?.seq ?? 0) < Number(newest.seq)) {
        return broken(count, `event ${headSeq + 1} and later were not recorded through the chain`, null);
      }
    }
    return { ok: true, events: count, head: { seq: headSeq, hash: head.hash } };
  }

  /**
   * The retention purge, as the owner (`database.transactionAsOwner`): verifies the chain, then
   * removes its oldest events — the unbroken run of those recorded before `before` — moves the signed
   * checkpoint to the last one removed, and records `audit.purged`, so the chain still verifies from
   * the checkpoint on. A broken chain is not purged: that would sign over the evidence.
   *
   * @returns how many events were removed.
   */
  async purge(tx: OwnerSqlExecutor, scope: AuditScope, before: Date): Promise<number> {
    const { kind, ownerId, chain } = chainOf(scope);
    // The chain's own context: verify requires it, and an owner without BYPASSRLS passes the same policies.
    await tx.query(`SELECT set_config('rampart.workspace_id', $1, true), set_config('rampart.user_id', $2, true)`, [
      kind === 'workspace' ? ownerId : '',
      kind === 'account' ? ownerId : '',
    ]);
    const { rows: locked } = await tx.query(`SELECT 1 FROM ${chain.heads} WHERE ${chain.owner} = $1 FOR UPDATE`, [ownerId]);
    if (locked.length === 0) return 0;
    const verification = await this.verify(tx, scope);
    if (!verification.ok) throw new Error(`refusing to purge a broken chain (${kind} ${ownerId}): ${verification.reason}`);

    const { rows } = await tx.query<{ through: string | null }>(
      `SELECT (coalesce(min(e.seq) FILTER (WHERE e.occurred_at >= $2), max(e.seq) + 1) - 1)::text AS through
         FROM ${chain.events} AS e WHERE e.${chain.owner} = $1`,
      [ownerId, before],
    );
    const throughSeq = Number(rows[0]?.through ?? 0);
    const { rows: last } = await tx.query<{ hash: string }>(
      `SELECT hash FROM ${chain.events} WHERE ${chain.owner} = $1 AND seq = $2`,
      [ownerId, throughSeq],
    );
    if (last[0] === undefined) return 0; // nothing old enough (or only what an earlier purge left)

    await tx.query(`SELECT set_config('rampart.audit_purge', 'on', true)`);
    const { rowCount } = await tx.query(`DELETE FROM ${chain.events} WHERE ${chain.owner} = $1 AND seq <= $2`, [
      ownerId,
      throughSeq,
    ]);
    await tx.query(`SELECT set_config('rampart.audit_purge', 'off', true)`);
    await tx.query(
      `UPDATE ${chain.heads} SET checkpoint_seq = $2, checkpoint_hash = $3, checkpoint_signature = $4 WHERE ${chain.owner} = $1`,
      [ownerId, throughSeq, last[0].hash, this.signCheckpoint(kind, ownerId, throughSeq, last[0].hash)],
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
