import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AUDIT_ACTIONS, type AuditAction } from '../../audit/index.js';
import { countWorkspaceEvents, formatExport, readWorkspaceEvents, type AuditEventFilter, type AuditEventView } from '../../audit/reading.js';
import type { AccountServices } from '../../auth/account-services.js';
import { AppError } from '../../server/errors.js';
import { exactStorableText } from '../schemas.js';
import { recordWorkspaceEvent } from '../../workspaces/index.js';
import type { SessionGuard } from '../session-guard.js';
import { requirePermission, type WorkspaceAccess } from '../workspace-guard.js';

export interface AuditLogRoutesOptions {
  services: AccountServices;
  requireSession: SessionGuard;
  access: WorkspaceAccess;
}

/** An export holds at most this many events; a larger one is refused (narrow the time range). */
export const EXPORT_MAX_EVENTS = 100_000;
const EXPORT_BATCH = 1_000;

const auditActions = Object.keys(AUDIT_ACTIONS) as [AuditAction, ...AuditAction[]];

/** The filters both the list and the export take; they combine with AND. */
const filterFields = {
  actorType: z.enum(['user', 'api_key', 'system', 'super_admin']).optional(),
  actorId: z.uuid().optional(),
  action: z.enum(auditActions, { error: 'must be an action of the audit catalogue' }).optional(),
  // Compared with stored text as given; a NUL would fail inside Postgres instead of here.
  targetType: exactStorableText(1, 100).optional(),
  targetId: exactStorableText(1, 200).optional(),
  /** Inclusive, ISO 8601 with an offset. */
  from: z.iso.datetime({ offset: true }).optional(),
  /** Exclusive, ISO 8601 with an offset. */
  to: z.iso.datetime({ offset: true }).optional(),
};

const isOrderedRange = (query: { from?: string | undefined; to?: string | undefined }) =>
  query.from === undefined || query.to === undefined || Date.parse(query.from) < Date.parse(query.to);
const invertedRange = { error: '`from` must be before `to`', path: ['to'] };

/** The cursor is the sequence number of the last event of the previous page: events below it come next. */
const cursorSchema = z
  .string()
  .regex(/^[1-9]\d{0,15}$/, { error: 'must be the nextCursor of a previous page' })
  .refine((value) => Number(value) <= Number.MAX_SAFE_INTEGER, { error: 'must be the nextCursor of a previous page' });

const listQuery = z
  .strictObject({ ...filterFields, cursor: cursorSchema.optional(), limit: z.coerce.number().int().min(1).max(100).default(50) })
  .refine(isOrderedRange, invertedRange);
const exportQuery = z.strictObject({ ...filterFields, format: z.enum(['jsonl', 'csv']) }).refine(isOrderedRange, invertedRange);
const workspaceParams = z.strictObject({ ws: z.uuid() });
const noQuery = z.strictObject({});

const eventSchema = z.object({
  seq: z.number().int(),
  id: z.uuid(),
  occurredAt: z.iso.datetime(),
  actor: z.object({ type: z.string(), id: z.string().nullable() }),
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  details: z.unknown(),
  prevHash: z.string(),
  hash: z.string(),
});

function filterOf(query: z.infer<typeof exportQuery> | z.infer<typeof listQuery>): AuditEventFilter {
  return {
    ...(query.actorType === undefined ? {} : { actorType: query.actorType }),
    ...(query.actorId === undefined ? {} : { actorId: query.actorId.toLowerCase() }),
    ...(query.action === undefined ? {} : { action: query.action }),
    ...(query.targetType === undefined ? {} : { targetType: query.targetType }),
    ...(query.targetId === undefined ? {} : { targetId: query.targetId }),
    ...(query.from === undefined ? {} : { from: new Date(query.from) }),
    ...(query.to === undefined ? {} : { to: new Date(query.to) }),
  };
}

/** The filters that were given, as the export's audit event records them. */
function definedEntries(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

const EXPORT_CONTENT_TYPES = { jsonl: 'application/jsonl; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

/**
 * `GET /api/workspaces/:ws/audit-log` (filters, cursor, newest first), `…/audit-log/verify` (walks
 * the hash chain) and `…/audit-log/export` (JSON Lines or CSV). Owners and admins only, as the
 * permission table says; reading is not itself recorded, exporting is, in the export's transaction.
 */
export const auditLogRoutes: FastifyPluginAsyncZod<AuditLogRoutesOptions> = async (app, { services, requireSession, access }) => {
  app.addHook('preValidation', requireSession);
  const { auditLog } = services;

  app.get(
    '/api/workspaces/:ws/audit-log',
    {
      ...requirePermission('audit:read'),
      schema: {
        tags: ['audit'],
        summary: "The workspace's audit log, newest first; pass `nextCursor` back as `cursor` for the next page",
        params: workspaceParams,
        querystring: listQuery,
        response: { 200: z.object({ events: z.array(eventSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await access.asReader(request, (tx) =>
        readWorkspaceEvents(tx, filterOf(request.query), { beforeSeq: cursor === undefined ? undefined : Number(cursor), limit: limit + 1 }),
      );
      const events = rows.slice(0, limit);
      return { events, nextCursor: rows.length > limit ? String(events[events.length - 1]!.seq) : null };
    },
  );

  app.get(
    '/api/workspaces/:ws/audit-log/verify',
    {
      ...requirePermission('audit:read'),
      schema: {
        tags: ['audit'],
        summary: "Walk the workspace's hash chain and report the first event that does not check out",
        params: workspaceParams,
        querystring: noQuery,
        response: {
          200: z.object({
            ok: z.boolean(),
            events: z.number().int(),
            head: z.object({ seq: z.number().int(), hash: z.string() }).optional(),
            firstBadEvent: z.object({ seq: z.number().int(), id: z.string() }).nullable().optional(),
            reason: z.string().optional(),
          }),
        },
      },
    },
    (request) => access.asReader(request, (tx, actor) => auditLog.verify(tx, { workspaceId: actor.workspaceId })),
  );

  app.get(
    '/api/workspaces/:ws/audit-log/export',
    {
      ...requirePermission('audit:export'),
      schema: {
        tags: ['audit'],
        summary: `Export the matching events, oldest last, as JSON Lines or CSV (at most ${EXPORT_MAX_EVENTS}); the export is recorded`,
        params: workspaceParams,
        querystring: exportQuery,
      },
    },
    async (request, reply) => {
      const { format, ...filterQuery } = request.query;
      const filter = filterOf(request.query);
      const events = await access.asMember(request, async (tx, actor) => {
        if ((await countWorkspaceEvents(tx, filter, EXPORT_MAX_EVENTS + 1)) > EXPORT_MAX_EVENTS) {
          throw new AppError('EXPORT_TOO_LARGE', { publicMessage: `More than ${EXPORT_MAX_EVENTS} events match; narrow the time range.` });
        }
        const collected: AuditEventView[] = [];
        for (;;) {
          const batch = await readWorkspaceEvents(tx, filter, { beforeSeq: collected.at(-1)?.seq, limit: EXPORT_BATCH });
          collected.push(...batch);
          if (batch.length < EXPORT_BATCH) break;
        }
        await recordWorkspaceEvent(auditLog, tx, actor, {
          action: 'audit.exported',
          details: { format, events: collected.length, filter: definedEntries(filterQuery) },
        });
        return collected;
      });
      const fileName = `audit-log-${request.params.ws.toLowerCase()}.${format}`;
      return reply
        .header('content-type', EXPORT_CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="${fileName}"`)
        .send(formatExport(events, format));
    },
  );
};
