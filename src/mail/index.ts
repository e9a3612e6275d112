/**
 * Account emails: the mailer (SMTP or the development outbox) and the messages Rampart sends.
 *
 * @example
 * import { createMailer, passwordResetMessage } from './mail/index.js';
 * const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, logger });
 * await mailer.send({ to: user.email, ...passwordResetMessage({ name: user.name, link }) });
 */
export { createMailer, createSmtpMailer, MemoryOutbox, type Mailer, type MailMessage, type OutboxMessage } from './mailer.js';
export {
  accountLockedMessage,
  invitationMessage,
  passwordChangedMessage,
  passwordResetMessage,
  recoveryCodeUsedMessage,
  secondFactorFailedMessage,
  securityFactorChangedMessage,
  signUpAttemptMessage,
  verifyEmailMessage,
  type FactorChange,
  type MessageContent,
  type MessageOptions,
} from './messages.js';
