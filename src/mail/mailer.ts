import { randomUUID } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { Logger } from 'pino';

/**
 * One email, ready to send: the recipient plus the rendered parts from `messages.ts`.
 *
 * @example
 * const message: MailMessage = { to: 'ann@example.com', ...passwordResetMessage({ name: 'Ann', link }) };
 */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Where Rampart hands its account emails: an SMTP relay in production, an in-memory outbox otherwise.
 * `send` resolves once the relay (or the outbox) has accepted the message; `close` releases the
 * connection so the process can exit.
 *
 * @example
 * await mailer.send({ to: 'ann@example.com', ...verifyEmailMessage({ name: 'Ann', link }) });
 * await mailer.close();
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Parameters an operator can put in the SMTP URL that lower transport security. They stay possible
 * (a relay on a private network may need them) but never silently when the relay is remote.
 */
function weakenedTransportSettings(url: URL): string[] {
  const weakened: string[] = [];
  if (url.searchParams.get('ignoreTLS') === 'true') weakened.push('ignoreTLS');
  if (url.searchParams.get('tls.rejectUnauthorized') === 'false') weakened.push('tls.rejectUnauthorized');
  return weakened;
}

/**
 * A mailer that relays through the SMTP server of `smtpUrl` (`smtp://` or `smtps://`, credentials
 * in the URL's user info). Plain `smtp://` still upgrades with STARTTLS whenever the server offers
 * it, and certificates are verified. Each message opens its own connection, so no idle connection
 * to the relay outlives the rare account emails that need it.
 *
 * @example
 * const mailer = createSmtpMailer({ smtpUrl: 'smtps://user:pass@smtp.example.com', from: 'Rampart <no-reply@example.com>' });
 * await mailer.send({ to: 'ann@example.com', subject: 'Hello', text: 'Hi', html: '<p>Hi</p>' });
 */
export function createSmtpMailer(options: { smtpUrl: string; from: string; logger?: Logger | undefined }): Mailer {
  let url: URL;
  try {
    url = new URL(options.smtpUrl);
  } catch {
    // The URL usually carries the relay password, so it never goes into the error message.
    throw new TypeError('SMTP_URL is not a valid URL');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new TypeError('SMTP_URL must start with smtp:// or smtps://');
  }
  const weakened = weakenedTransportSettings(url);
  if (weakened.length > 0 && !LOOPBACK_HOSTS.has(url.hostname)) {
    options.logger?.warn({ host: url.hostname, settings: weakened }, 'SMTP_URL lowers transport security for a remote mail server');
  }

  const transport = createTransport(options.smtpUrl);
  const from = options.from;
  return {
    async send(message) {
      await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text, html: message.html });
    },
    async close() {
      transport.close();
    },
  };
}

/**
 * A message kept by the {@link MemoryOutbox}, with the id and time it was accepted.
 *
 * @example
 * const last: OutboxMessage | undefined = outbox.messages().at(-1);
 */
export interface OutboxMessage extends MailMessage {
  readonly id: string;
  readonly sentAt: Date;
}

/**
 * The mailer used when no SMTP_URL is configured (development and tests): it keeps the last 100
 * messages in memory, newest last, and logs the recipient and subject of each. The log line never
 * carries the body, because the body holds the one-time link the message exists to deliver.
 *
 * The outbox lives in process memory, not in a database table, on purpose: a table would store live
 * reset and verification links in plain form, against the rule that no bearer secret is stored.
 * Losing the outbox on restart only costs a developer a resend.
 *
 * @example
 * const outbox = new MemoryOutbox({ logger });
 * await outbox.send({ to: 'ann@example.com', subject: 'Hello', text: 'Hi', html: '<p>Hi</p>' });
 * outbox.messages().at(-1)?.subject; // 'Hello'
 */
export class MemoryOutbox implements Mailer {
  static readonly CAPACITY = 100;

  readonly #logger: Logger | undefined;
  #messages: OutboxMessage[] = [];

  constructor(options: { logger?: Logger | undefined } = {}) {
    this.#logger = options.logger;
  }

  async send(message: MailMessage): Promise<void> {
    const kept: OutboxMessage = Object.freeze({
      id: randomUUID(),
      sentAt: new Date(),
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
    this.#messages.push(kept);
    if (this.#messages.length > MemoryOutbox.CAPACITY) {
      this.#messages = this.#messages.slice(-MemoryOutbox.CAPACITY);
    }
    this.#logger?.info({ to: message.to, subject: message.subject }, 'email placed in the development outbox');
  }

  /** A snapshot, oldest first: later sends do not change an array already returned. */
  messages(): readonly OutboxMessage[] {
    return [...this.#messages];
  }

  async close(): Promise<void> {
    // Nothing to release; the messages stay readable after close for tests that inspect them.
  }
}

/**
 * Picks the mailer for the configuration: SMTP when `smtpUrl` (SMTP_URL) is set, otherwise a
 * {@link MemoryOutbox}. Callers that show the development outbox check `instanceof MemoryOutbox`.
 *
 * @example
 * const mailer = createMailer({ smtpUrl: process.env.SMTP_URL, from: 'Rampart <no-reply@example.com>', logger });
 * if (mailer instanceof MemoryOutbox) logger.info('emails go to the development outbox');
 */
export function createMailer(options: { smtpUrl?: string | undefined; from: string; logger?: Logger | undefined }): Mailer {
  if (options.smtpUrl !== undefined && options.smtpUrl !== '') {
    return createSmtpMailer({ smtpUrl: options.smtpUrl, from: options.from, logger: options.logger });
  }
  return new MemoryOutbox({ logger: options.logger });
}
