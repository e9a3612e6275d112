import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAccountEvent, type AccountServices } from '../../auth/account-services.js';
import { changePassword } from '../../auth/passwords.js';
import { resendVerificationEmail } from '../../auth/sign-up.js';
import { deleteOtherSessions, deleteSession, listSessions } from '../../sessions/sessions.js';
import { AppError } from '../../server/errors.js';
import { passwordProblem, passwordSchema, toUserBody, tooManyAttempts, userSchema } from '../schemas.js';
import { refuseWhenPasswordWorkIsFull } from '../password-work-guard.js';
import { requestOrigin, type SessionCookies, type SessionGuard } from '../session-guard.js';

export interface MeRoutesOptions {
  services: AccountServices;
  cookies: SessionCookies;
  requireSession: SessionGuard;
}

const sessionSchema = z.object({
  id: z.uuid(),
  createdAt: z.iso.datetime(),
  lastSeenAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  current: z.boolean(),
});

const securityEventSchema = z.object({
  id: z.uuid(),
  seq: z.number().int(),
  occurredAt: z.iso.datetime(),
  action: z.string(),
  actorType: z.string(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

/** `/api/me/*`: the signed-in user's own account, password and sessions. Every route needs a session. */
export const meRoutes: FastifyPluginAsyncZod<MeRoutesOptions> = async (app, { services, cookies, requireSession }) => {
  app.addHook('preValidation', requireSession);

  app.get(
    '/api/me',
    { schema: { tags: ['me'], summary: 'The signed-in user', response: { 200: userSchema } } },
    (request) => toUserBody(request.auth!.user),
  );

  app.post(
    '/api/me/password',
    {
      onRequest: refuseWhenPasswordWorkIsFull(services.passwordWork),
      schema: {
        tags: ['me'],
        summary: 'Change the password (needs the current one); ends every other session',
        body: z.strictObject({ currentPassword: passwordSchema, newPassword: passwordSchema }),
      },
    },
    async (request, reply) => {
      const result = await changePassword(
        services,
        { userId: request.auth!.user.id, authLevel: request.auth!.session.authLevel, ...request.body },
        requestOrigin(request),
      );
      if (result.status === 'throttled') throw tooManyAttempts(result.retryAfterSeconds);
      if (result.status === 'wrong_current_password') throw new AppError('INVALID_CURRENT_PASSWORD');
      if (result.status === 'rejected') throw passwordProblem(result.reason);
      cookies.set(reply, result);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/me/email-verification',
    {
      schema: {
        tags: ['me'],
        summary: 'Email a new verification link (the previous one stops working)',
        response: { 202: z.object({ status: z.literal('sent') }) },
      },
    },
    async (request, reply) => {
      const isSent = await resendVerificationEmail(services, request.auth!.user);
      if (!isSent) throw new AppError('EMAIL_ALREADY_VERIFIED');
      return reply.code(202).send({ status: 'sent' as const });
    },
  );

  app.get(
    '/api/me/sessions',
    { schema: { tags: ['me'], summary: 'The user\'s active sessions', response: { 200: z.object({ sessions: z.array(sessionSchema) }) } } },
    async (request) => {
      const { user, session: current } = request.auth!;
      const sessions = await services.database.withTenant({ userId: user.id }, (tx) =>
        listSessions(tx, { userId: user.id, policy: services.sessionPolicy }),
      );
      return {
        sessions: sessions.map((session) => ({
          id: session.id,
          createdAt: session.createdAt.toISOString(),
          lastSeenAt: session.lastSeenAt.toISOString(),
          expiresAt: session.expiresAt.toISOString(),
          ip: session.ip,
          userAgent: session.userAgent,
          current: session.id === current.id,
        })),
      };
    },
  );

  app.delete(
    '/api/me/sessions/:id',
    { schema: { tags: ['me'], summary: 'End one of the user\'s sessions', params: z.strictObject({ id: z.uuid() }) } },
    async (request, reply) => {
      const { user, session: current } = request.auth!;
      const sessionId = request.params.id.toLowerCase();
      const isDeleted = await services.database.withTenant({ userId: user.id }, async (tx) => {
        if (!(await deleteSession(tx, { userId: user.id, sessionId }))) return false;
        await recordAccountEvent(services, tx, {
          userId: user.id,
          action: 'account.session_revoked',
          origin: requestOrigin(request),
          details: { sessionId },
        });
        return true;
      });
      if (!isDeleted) throw new AppError('NOT_FOUND', { publicMessage: 'No such session.' });
      if (sessionId === current.id) cookies.clear(reply);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/me/sessions/revoke-others',
    {
      schema: {
        tags: ['me'],
        summary: 'End every session but the current one',
        response: { 200: z.object({ revoked: z.number().int() }) },
      },
    },
    async (request) => {
      const { user, session } = request.auth!;
      const revoked = await services.database.withTenant({ userId: user.id }, async (tx) => {
        const count = await deleteOtherSessions(tx, { userId: user.id, keepSessionId: session.id });
        await recordAccountEvent(services, tx, {
          userId: user.id,
          action: 'account.other_sessions_revoked',
          origin: requestOrigin(request),
          details: { count },
        });
        return count;
      });
      return { revoked };
    },
  );

  app.get(
    '/api/me/security-log',
    {
      schema: {
        tags: ['me'],
        summary: 'The user\'s own account log (sign-ins, password and session changes), newest first',
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(100).default(50),
          before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
        }),
        response: { 200: z.object({ events: z.array(securityEventSchema), nextBefore: z.number().int().nullable() }) },
      },
    },
    async (request) => {
      const { user } = request.auth!;
      const { limit, before } = request.query;
      const rows = await services.database.withTenant({ userId: user.id }, async (tx) => {
        const result = await tx.query<{
          id: string;
          seq: string;
          occurred_at: Date;
          action: string;
          actor_type: string;
          ip: string | null;
          user_agent: string | null;
          details: Record<string, unknown>;
        }>(
          `SELECT id, seq::text AS seq, occurred_at, action, actor_type, ip, user_agent, details
             FROM rampart.account_audit_events
            WHERE user_id = $1 AND ($2::bigint IS NULL OR seq < $2)
            ORDER BY seq DESC LIMIT $3`,
          [user.id, before ?? null, limit + 1],
        );
        return result.rows;
      });
      const page = rows.slice(0, limit);
      return {
        events: page.map((row) => ({
          id: row.id,
          seq: Number(row.seq),
          occurredAt: row.occurred_at.toISOString(),
          action: row.action,
          actorType: row.actor_type,
          ip: row.ip,
          userAgent: row.user_agent,
          details: row.details,
        })),
        nextBefore: rows.length > limit ? Number(page[page.length - 1]!.seq) : null,
      };
    },
  );
};
