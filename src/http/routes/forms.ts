import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.js';
import { recordEarlyAccessRequest } from '../../forms/early-access.js';
import { formProtectionFields, PUBLIC_FORMS, type FormGuard } from '../form-guard.js';
import type { RouteRateLimit } from '../route-rate-limit.js';
import { emailSchema, storableText } from '../schemas.js';

export interface FormRoutesOptions {
  database: Database;
  formGuard: FormGuard;
}

/** Three requests an hour from one address: enough for a person, too few to fill the table. */
const EARLY_ACCESS_RATE_LIMIT = { max: 3, windowSeconds: 60 * 60 } satisfies RouteRateLimit;

/** Optional free text of a public form: trimmed, storable by Postgres; empty means not given. */
const optionalText = (maxLength: number) =>
  storableText(maxLength)
    .transform((value) => (value === '' ? undefined : value))
    .optional();

const EARLY_ACCESS_ACCEPTED = {
  status: 'accepted' as const,
  message: 'Thank you: we will write to this address when there is a place for you.',
};

/** `/api/forms/:form/token` and `/api/early-access`: the public forms' bot protection and the early-access form. */
export const formRoutes: FastifyPluginAsyncZod<FormRoutesOptions> = async (app, { database, formGuard }) => {
  app.get(
    '/api/forms/:form/token',
    {
      schema: {
        tags: ['forms'],
        summary: 'A token to submit a public form with; fetch it when the form is shown (valid for an hour)',
        params: z.strictObject({ form: z.enum(PUBLIC_FORMS) }),
        response: { 200: z.object({ token: z.string() }) },
      },
    },
    // Cache-Control: no-store is on every response (security headers): a cached token would be stale.
    async (request) => ({ token: formGuard.issueToken(request.params.form) }),
  );

  app.post(
    '/api/early-access',
    {
      config: { rateLimit: EARLY_ACCESS_RATE_LIMIT },
      schema: {
        tags: ['forms'],
        summary: 'Ask for early access; the same answer whether or not the address has asked before',
        body: z.strictObject({
          email: emailSchema,
          name: optionalText(200),
          message: optionalText(2000),
          ...formProtectionFields('early-access'),
        }),
        response: { 202: z.object({ status: z.literal('accepted'), message: z.string() }) },
      },
    },
    async (request, reply) => {
      const { email, name, message } = request.body;
      if (formGuard.admit(request.log, 'early-access', request.body)) {
        await recordEarlyAccessRequest(database, { email, name, message });
      }
      return reply.code(202).send(EARLY_ACCESS_ACCEPTED);
    },
  );
};
