import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { MemoryOutbox } from '../../mail/index.js';
import { isLoopbackHost } from '../../server/config.js';
import { AppError } from '../../server/errors.js';

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
 * requests from this machine addressed to PUBLIC_URL's host, so neither a development server
 * reachable from a network nor a rebinding page in the developer's browser gets everyone's links.
 */
export const devOutboxRoutes: FastifyPluginAsyncZod<{ outbox: MemoryOutbox; publicUrl: string }> = async (app, { outbox, publicUrl }) => {
  const publicHost = new URL(publicUrl).host;
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
      // The Host must be Rampart's own too: a page of another site whose name an attacker re-points at
      // 127.0.0.1 (DNS rebinding) reaches this machine from the developer's browser, under its own name.
      if (!isLoopbackHost(request.ip) || request.headers.host !== publicHost) throw new AppError('NOT_FOUND');
      const messages = outbox
        .messages()
        .toReversed()
        .map(({ id, to, subject, text, sentAt }) => ({ id, to, subject, text, sentAt: sentAt.toISOString() }));
      return { messages };
    },
  );
};
