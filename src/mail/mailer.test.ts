import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractLinks, startSmtpServer, type TestSmtpServer } from '../../test/fixtures/smtp-server.js';
import { createLogger } from '../server/logger.js';
import { createMailer, createSmtpMailer, MemoryOutbox, type MailMessage } from './mailer.js';
import { passwordResetMessage } from './messages.js';

const FROM = 'Rampart <no-reply@rampart.example>';
/** The length of 32 random bytes in base64url, with both of its non-alphanumeric characters. */
const LONG_TOKEN = 'q3J_x-9Zk2LmN0pQrS4tUvWxYz_-AbCdEfGhIjKlMn5';

function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

function message(overrides: Partial<MailMessage> = {}): MailMessage {
  return { to: 'ann@example.com', subject: 'Hello', text: 'Hi Ann\n', html: '<p>Hi Ann</p>\n', ...overrides };
}

describe('SMTP mailer', () => {
  let smtp: TestSmtpServer;

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });

  afterAll(async () => {
    await smtp.close();
  });

  it('delivers the recipient, subject, text and html unchanged', async () => {
    const mailer = createSmtpMailer({ smtpUrl: smtp.url, from: FROM });
    const link = 'https://app.example.com/reset-password?token=abc_DEF-123';
    await mailer.send({
      to: 'first@example.com',
      subject: 'Reset your password',
      text: `Open this link:\n${link}\n`,
      html: `<p>Open this link:<br><a href="${link}">${link}</a></p>\n`,
    });
    await mailer.close();

    const mail = await smtp.waitForMail((received) => received.envelopeTo.includes('first@example.com'));
    expect(mail.envelopeTo).toEqual(['first@example.com']);
    expect(mail.envelopeFrom).toBe('no-reply@rampart.example');
    expect(mail.to).toBe('first@example.com');
    expect(mail.from).toBe(FROM);
    expect(mail.subject).toBe('Reset your password');
    expect(mail.text).toBe(`Open this link:\n${link}\n`);
    expect(mail.html).toBe(`<p>Open this link:<br><a href="${link}">${link}</a></p>\n`);
    expect(extractLinks(mail.text)).toEqual([link]);
    expect(extractLinks(mail.html)).toEqual([link, link]);
  });

  it('keeps a long token intact although quoted-printable wraps the lines around it', async () => {
    const mailer = createSmtpMailer({ smtpUrl: smtp.url, from: FROM });
    const link = `https://app.example.com/reset-password?token=${LONG_TOKEN}`;
    await mailer.send({ to: 'second@example.com', ...passwordResetMessage({ name: 'Zoë Ångström', link }) });
    await mailer.close();

    const mail = await smtp.waitForMail((received) => received.envelopeTo.includes('second@example.com'));
    // The link is longer than a 76-character line, so the wire form is wrapped: the parts must undo it.
    expect(mail.raw).not.toContain(link);
    expect(extractLinks(mail.text)).toEqual([link]);
    expect(extractLinks(mail.html)).toEqual([link, link]);
    expect(mail.text).toContain('Hello Zoë Ångström,');
    expect(mail.subject).toBe('Reset your Rampart password');
  });

  it('rejects a send the server cannot take', async () => {
    const closed = await startSmtpServer();
    await closed.close();
    const mailer = createSmtpMailer({ smtpUrl: closed.url, from: FROM });
    await expect(mailer.send(message())).rejects.toThrow();
    await mailer.close();
  });

  it('refuses a URL that is not SMTP without echoing it', () => {
    expect(() => createSmtpMailer({ smtpUrl: 'https://user:hunter2@mail.example.com', from: FROM })).toThrow(TypeError);
    expect(() => createSmtpMailer({ smtpUrl: 'not a url hunter2', from: FROM })).toThrow(/^SMTP_URL is not a valid URL$/);
  });

  it('warns, without the credentials, when the URL turns TLS protections off for a remote server', () => {
    const { logger, lines } = capturedLogger();
    createSmtpMailer({ smtpUrl: 'smtp://user:hunter2@relay.example.com:587?ignoreTLS=true', from: FROM, logger });
    createSmtpMailer({ smtpUrl: 'smtp://127.0.0.1:2525?ignoreTLS=true', from: FROM, logger });
    createSmtpMailer({ smtpUrl: 'smtps://user:hunter2@relay.example.com', from: FROM, logger });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, host: 'relay.example.com', settings: ['ignoreTLS'] });
    expect(lines[0]).not.toContain('hunter2');
  });
});

describe('development outbox', () => {
  it('keeps each message with an id and the time it was accepted, newest last', async () => {
    const outbox = new MemoryOutbox();
    const before = Date.now();
    await outbox.send(message({ subject: 'first' }));
    await outbox.send(message({ subject: 'second' }));

    const kept = outbox.messages();
    expect(kept.map((m) => m.subject)).toEqual(['first', 'second']);
    expect(kept[0]).toMatchObject({ to: 'ann@example.com', text: 'Hi Ann\n', html: '<p>Hi Ann</p>\n' });
    expect(kept[0]!.id).not.toBe(kept[1]!.id);
    expect(kept[1]!.sentAt.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('keeps only the last 100 messages', async () => {
    const outbox = new MemoryOutbox();
    for (let i = 0; i < 105; i++) await outbox.send(message({ subject: `message ${i}` }));

    const kept = outbox.messages();
    expect(kept).toHaveLength(100);
    expect(kept[0]!.subject).toBe('message 5');
    expect(kept.at(-1)!.subject).toBe('message 104');
  });

  it('hands out snapshots that later sends do not change', async () => {
    const outbox = new MemoryOutbox();
    await outbox.send(message());
    const snapshot = outbox.messages();
    await outbox.send(message());
    expect(snapshot).toHaveLength(1);
    expect(outbox.messages()).toHaveLength(2);
  });

  it('logs the recipient and subject but never the body that holds the link', async () => {
    const { logger, lines } = capturedLogger();
    const outbox = new MemoryOutbox({ logger });
    const link = `https://app.example.com/reset-password?token=${LONG_TOKEN}`;
    await outbox.send({ to: 'ann@example.com', ...passwordResetMessage({ name: 'Ann', link }) });

    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 30,
      to: 'ann@example.com',
      subject: 'Reset your Rampart password',
      msg: 'email placed in the development outbox',
    });
    for (const line of lines) {
      expect(line).not.toContain(LONG_TOKEN);
      expect(line).not.toContain('reset-password');
    }
  });
});

describe('createMailer', () => {
  it('uses the development outbox when no SMTP URL is configured', () => {
    expect(createMailer({ from: FROM })).toBeInstanceOf(MemoryOutbox);
    expect(createMailer({ smtpUrl: undefined, from: FROM })).toBeInstanceOf(MemoryOutbox);
    expect(createMailer({ smtpUrl: '', from: FROM })).toBeInstanceOf(MemoryOutbox);
  });

  it('uses SMTP when an SMTP URL is configured', async () => {
    const smtp = await startSmtpServer();
    const mailer = createMailer({ smtpUrl: smtp.url, from: FROM });
    expect(mailer).not.toBeInstanceOf(MemoryOutbox);
    await mailer.send(message({ to: 'third@example.com' }));
    await mailer.close();
    await expect(smtp.waitForMail((mail) => mail.to === 'third@example.com')).resolves.toMatchObject({ subject: 'Hello' });
    await smtp.close();
  });
});
