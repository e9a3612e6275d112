import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { MemoryOutbox } from '../../mail/index.js';
import { AppError } from '../../server/errors.js';

/** An address of this machine: the outbox is for the developer at it, not for the network. */
function isLoopbackAddress(ip: string): boolean {
  return ip === '::1' || /^(::ffff:)?127\./.test(ip);
}

const outboxMessage = z.object({
  id: z.string(),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  sentAt: z.iso.datetime(),
});

/**
 * `GET /api/dev/outbox`: the emails of the development outbox, newest first, for the console's
 * outbox page. Registered only outside production and only when no SMTP relay is configured (the
 * outbox is then where verification, reset and invitation links go); even then it answers only
 * requests from this machine, so a development server reachable from a network does not hand
 * everyone's links to it.
 */
export const devOutboxRoutes: FastifyPluginAsyncZod<{ outbox: MemoryOutbox }> = async (app, { outbox }) => {
  app.get(
    '/api/dev/outbox',
    {
      schema: {
        tags: ['development'],
        summary: 'Development only (no SMTP_URL, not production, from this machine): the emails Rampart would have sent, newest first',
        response: { 200: z.object({ messages: z.array(outboxMessage) }) },
      },
    },
    async (request) => {
      if (!isLoopbackAddress(request.ip)) throw new AppError('NOT_FOUND');
      const messages = outbox
        .messages()
        .toReversed()
        .map(({ id, to, subject, text, sentAt }) => ({ id, to, subject, text, sentAt: sentAt.toISOString() }));
      return { messages };
    },
  );
};
