import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { issueFormToken, readFormToken } from '../crypto/form-token.js';
import { AppError } from '../server/errors.js';

/** The public forms a bot could fill in: the console asks for a token from `GET /api/forms/:form/token` first. */
export const PUBLIC_FORMS = ['sign-up', 'password-reset', 'early-access'] as const;
export type PublicForm = (typeof PUBLIC_FORMS)[number];

/**
 * Whether a submission of the form must carry a form token. Sign-up and password reset are part of
 * the public API (`{email, password, name}` → 202), called by SDKs and outside checks that never show
 * a form, so for them the token is optional: without one there is no fill-time check, but the honeypot
 * and the routes' per-address rate limits still apply. Early access exists only as a browser form.
 */
export const FORM_TOKEN_REQUIRED: Readonly<Record<PublicForm, boolean>> = {
  'sign-up': false,
  'password-reset': false,
  'early-access': true,
};

/** A form left open longer than this has to be reloaded: an old token is no proof of anything recent. */
export const FORM_TOKEN_LIFETIME_SECONDS = 60 * 60;

/**
 * The two fields the body of `form` carries beside its own: `formToken`, required or optional as
 * FORM_TOKEN_REQUIRED says, and `website`, the honeypot: the console renders it out of sight and out
 * of the tab order, so people leave it empty, while a bot filling every field by its name finds one it
 * cannot resist.
 *
 * @example
 * body: z.strictObject({ email: emailSchema, ...formProtectionFields('password-reset') }),
 */
export function formProtectionFields(form: PublicForm) {
  const formToken = z.string().max(200);
  return {
    formToken: FORM_TOKEN_REQUIRED[form]
      ? formToken.describe('The token of GET /api/forms/{form}/token, fetched when the form was shown')
      : formToken
          .optional()
          .describe('The token of GET /api/forms/{form}/token, fetched when the form was shown; an API client may leave it out'),
    website: z.string().max(2000).optional().describe('Leave empty: a field hidden from people, which only bots fill in'),
  };
}

export interface ProtectedSubmission {
  formToken?: string | undefined;
  website?: string | undefined;
}

/**
 * Bot protection for public forms: a signed token proves when the form was shown, and a hidden field
 * catches bots that fill in everything. A token that is forged, altered, for another form or expired
 * is refused (400 FORM_TOKEN_INVALID), and so is a missing one where FORM_TOKEN_REQUIRED says so; a
 * submission that looks automated — honeypot filled, or sent sooner than a person could have filled the
 * form — is answered like any other but dropped, so its sender learns nothing to adapt to. The server
 * keeps no record of tokens, so a token can be reused as often as its sender likes within its hour:
 * what bounds that reuse is the routes' per-address rate limits, not this guard.
 *
 * @example
 * if (!formGuard.admit(request.log, 'early-access', request.body)) return reply.code(202).send(ACCEPTED);
 */
export class FormGuard {
  readonly #key: Buffer;
  readonly #minFillMs: number;

  /** `key`: derived from the master key with FORM_TOKEN_KEY_PURPOSE, once, at start-up. */
  constructor(options: { key: Buffer; minFillSeconds: number }) {
    this.#key = options.key;
    this.#minFillMs = options.minFillSeconds * 1000;
  }

  /** A token for `form`, issued now. */
  issueToken(form: PublicForm): string {
    return issueFormToken(this.#key, form, Date.now());
  }

  /**
   * Whether to act on a submission of `form`: true for what looks like a person; false for one to
   * drop silently (logged with the form and the reason, never the submitted values). Throws
   * FORM_TOKEN_INVALID for a token that is forged, altered, for another form, or expired, and for a
   * missing one where the form requires it. Without a token there is no fill time to check; the
   * honeypot still is.
   */
  admit(log: FastifyBaseLogger, form: PublicForm, submission: ProtectedSubmission): boolean {
    let isTooFast = false;
    if (submission.formToken !== undefined || FORM_TOKEN_REQUIRED[form]) {
      const issuedAtMs = readFormToken(this.#key, submission.formToken ?? '', form);
      const ageMs = issuedAtMs === null ? Number.NaN : Date.now() - issuedAtMs;
      if (!(ageMs <= FORM_TOKEN_LIFETIME_SECONDS * 1000)) {
        throw new AppError('FORM_TOKEN_INVALID');
      }
      isTooFast = ageMs < this.#minFillMs;
    }
    const isHoneypotFilled = (submission.website ?? '').trim() !== '';
    const reason = isHoneypotFilled ? 'honeypot' : isTooFast ? 'too_fast' : undefined;
    if (reason === undefined) return true;
    log.info({ form, reason }, 'dropped a form submission that looks automated');
    return false;
  }
}
