/**
 * The rendered parts of an account email; the caller adds the recipient to make a `MailMessage`.
 *
 * @example
 * const content: MessageContent = passwordChangedMessage({ name: 'Ann', resetLink: 'https://app.example.com/forgot-password' });
 */
export interface MessageContent {
  subject: string;
  text: string;
  html: string;
}

/**
 * Options every message takes: the product name shown to the recipient (default `Rampart`), for
 * teams that run Rampart under their own brand.
 *
 * @example
 * verifyEmailMessage({ name: 'Ann', link, appName: 'Acme' });
 */
export interface MessageOptions {
  appName?: string | undefined;
}

/**
 * Escapes the five characters that can change the meaning of HTML text or of a quoted attribute
 * value, so that interpolated names and links stay data.
 *
 * @example
 * escapeHtml('<b>"Tom & Jerry"</b>'); // '&lt;b&gt;&quot;Tom &amp; Jerry&quot;&lt;/b&gt;'
 */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const DEFAULT_APP_NAME = 'Rampart';
/** Long enough for real names; short enough that a name cannot carry a paragraph of spam. */
const MAX_NAME_LENGTH = 80;
/** Query keys that mark a link as carrying a credential (the same set the logger redacts). */
const SECRET_QUERY_KEYS = /^(token|code|key|secret|password|mfa_?token|recovery_?code)$/i;

/**
 * Anyone can sign up with someone else's address and choose the name that goes into the
 * verification email. Line breaks and control characters are flattened so such a name cannot
 * pose as extra paragraphs of the message, and its length is capped.
 */
function displayName(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  const flat = name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  // Counted in code points so that the cut never splits a surrogate pair.
  const chars = Array.from(flat);
  return chars.length > MAX_NAME_LENGTH ? `${chars.slice(0, MAX_NAME_LENGTH - 1).join('')}…` : flat;
}

/**
 * Links come from the configured public URL, but a wrong configuration or a caller bug must not
 * put a `javascript:` or `data:` URL in front of a user. The canonical form is returned, so what
 * the message shows is what the URL parser understood.
 */
function httpLink(link: string, label: string): string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new TypeError(`${label} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`${label} must be an http(s) URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError(`${label} must not contain credentials`);
  }
  return url.href;
}

/**
 * A link to an ordinary page (sign-in, forgot password). A message holds no secret but the one it
 * exists to deliver, so a page link that carries a credential is refused.
 */
function pageLink(link: string, label: string): string {
  const href = httpLink(link, label);
  for (const key of new URL(href).searchParams.keys()) {
    if (SECRET_QUERY_KEYS.test(key)) throw new TypeError(`${label} must be a plain page link, not one carrying a credential`);
  }
  return href;
}

/** RFC 3339 in UTC, to the second: unambiguous for a reader in any time zone. */
function formatUtc(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new TypeError('unlockAt is not a valid date');
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** One paragraph of a message: plain-text pieces and links, rendered once as text and once as HTML. */
type Paragraph = readonly (string | { href: string })[];

function render(subject: string, name: string, paragraphs: readonly Paragraph[]): MessageContent {
  const cleanName = displayName(name);
  const greeting = cleanName === '' ? 'Hello,' : `Hello ${cleanName},`;
  const all: Paragraph[] = [[greeting], ...paragraphs];
  // Links stand on their own line in the text part so that mail clients can detect them whole.
  const text = all
    .map((paragraph) => paragraph.map((piece) => (typeof piece === 'string' ? piece : `\n${piece.href}`)).join(''))
    .join('\n\n');
  const body = all
    .map((paragraph) => {
      const inner = paragraph
        .map((piece) => {
          if (typeof piece === 'string') return escapeHtml(piece);
          const href = escapeHtml(piece.href);
          return `<br><a href="${href}">${href}</a>`;
        })
        .join('');
      return `<p>${inner}</p>`;
    })
    .join('\n');
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><title>' + escapeHtml(subject) + '</title></head>',
    '<body>',
    body,
    '</body>',
    '</html>',
  ].join('\n');
  return { subject, text: `${text}\n`, html: `${html}\n` };
}

function appNameOf(options: MessageOptions): string {
  const name = displayName(options.appName ?? DEFAULT_APP_NAME);
  return name === '' ? DEFAULT_APP_NAME : name;
}

/**
 * The email that confirms an address after sign-up. `link` is the one-time verification link
 * (`${PUBLIC_URL}/verify-email?token=…`), valid 24 hours.
 *
 * @example
 * const content = verifyEmailMessage({ name: 'Ann', link: `${publicUrl}/verify-email?token=${token}` });
 * await mailer.send({ to: 'ann@example.com', ...content });
 */
export function verifyEmailMessage(input: { name: string; link: string } & MessageOptions): MessageContent {
  const app = appNameOf(input);
  const link = httpLink(input.link, 'link');
  return render(`Confirm your email address for ${app}`, input.name, [
    [`Please confirm your email address for your ${app} account by opening this link:`, { href: link }],
    ['The link is valid for 24 hours and works once.'],
    [`If you did not create a ${app} account, you can ignore this email.`],
  ]);
}

/**
 * The email that lets a user choose a new password. `link` is the one-time reset link
 * (`${PUBLIC_URL}/reset-password?token=…`), valid 30 minutes.
 *
 * @example
 * const content = passwordResetMessage({ name: 'Ann', link: `${publicUrl}/reset-password?token=${token}` });
 * await mailer.send({ to: 'ann@example.com', ...content });
 */
export function passwordResetMessage(input: { name: string; link: string } & MessageOptions): MessageContent {
  const app = appNameOf(input);
  const link = httpLink(input.link, 'link');
  return render(`Reset your ${app} password`, input.name, [
    [`Someone asked to reset the password of your ${app} account. To choose a new password, open this link:`, { href: link }],
    ['The link is valid for 30 minutes and works once.'],
    ['If you did not ask for this, ignore this email; your password is unchanged.'],
  ]);
}

/**
 * The email sent instead of a second account when someone signs up with an address that already
 * has one, so that sign-up answers the same for new and existing addresses. Both links are plain
 * pages (sign-in and forgot-password), never tokens.
 *
 * @example
 * const content = signUpAttemptMessage({ name: 'Ann', signInLink: `${publicUrl}/sign-in`, resetLink: `${publicUrl}/forgot-password` });
 * await mailer.send({ to: 'ann@example.com', ...content });
 */
export function signUpAttemptMessage(input: { name: string; signInLink: string; resetLink: string } & MessageOptions): MessageContent {
  const app = appNameOf(input);
  const signInLink = pageLink(input.signInLink, 'signInLink');
  const resetLink = pageLink(input.resetLink, 'resetLink');
  return render(`Someone tried to sign up for ${app} with your email address`, input.name, [
    [`Someone, possibly you, tried to create a ${app} account with this email address. This address already has an account, so no new account was created.`],
    ['To sign in, go to:', { href: signInLink }],
    ['If you forgot your password, you can reset it here:', { href: resetLink }],
    ['If this was not you, you can ignore this email; nothing about your account has changed.'],
  ]);
}

/**
 * The email sent when an account reaches the sign-in failure limit (counted across all sources,
 * not per address). `resetLink` is the forgot-password page, not a token; `unlockAt` is shown in
 * UTC.
 *
 * @example
 * const content = accountLockedMessage({ name: 'Ann', resetLink: `${publicUrl}/forgot-password`, unlockAt: new Date(Date.now() + 15 * 60_000) });
 * await mailer.send({ to: 'ann@example.com', ...content });
 */
export function accountLockedMessage(input: { name: string; resetLink: string; unlockAt: Date } & MessageOptions): MessageContent {
  const app = appNameOf(input);
  const resetLink = pageLink(input.resetLink, 'resetLink');
  const unlockAt = formatUtc(input.unlockAt);
  return render(`Sign-in to your ${app} account is paused`, input.name, [
    [`There have been too many failed attempts to sign in to your ${app} account. To protect it, sign-in is paused until ${unlockAt}.`],
    ['If these attempts were not yours, someone may be trying to guess your password. Consider resetting it:', { href: resetLink }],
  ]);
}

/**
 * The email that tells a user their password was changed or reset, so that a takeover does not go
 * unnoticed. `resetLink` is the forgot-password page, not a token.
 *
 * @example
 * const content = passwordChangedMessage({ name: 'Ann', resetLink: `${publicUrl}/forgot-password` });
 * await mailer.send({ to: 'ann@example.com', ...content });
 */
export function passwordChangedMessage(input: { name: string; resetLink: string } & MessageOptions): MessageContent {
  const app = appNameOf(input);
  const resetLink = pageLink(input.resetLink, 'resetLink');
  return render(`Your ${app} password was changed`, input.name, [
    [`The password of your ${app} account was just changed.`],
    ['If you did this, no action is needed. If you did not, reset your password now:', { href: resetLink }],
  ]);
}

/**
 * The invitation to join a workspace. `link` is the one-time invitation link
 * (`${PUBLIC_URL}/invitations/accept?token=…`), valid 7 days. The inviter's and the workspace's
 * names come from users, so both are flattened and capped like every name in a message.
 *
 * @example
 * const content = invitationMessage({ inviterName: 'Ann', workspaceName: 'Acme', role: 'member', link });
 * await mailer.send({ to: 'bob@example.com', ...content });
 */
export function invitationMessage(
  input: { inviterName: string; workspaceName: string; role: string; link: string } & MessageOptions,
): MessageContent {
  const app = appNameOf(input);
  const link = httpLink(input.link, 'link');
  const inviter = displayName(input.inviterName) || 'A member';
  const workspace = displayName(input.workspaceName);
  return render(`${inviter} invited you to ${workspace} on ${app}`, '', [
    [`${inviter} invited you to join the workspace "${workspace}" on ${app} as ${displayName(input.role)}. To accept, open this link while signed in with this email address:`, { href: link }],
    ['The link is valid for 7 days and works once.'],
    ['If you did not expect this invitation, you can ignore this email.'],
  ]);
}

/** The factor changes a user is told about by email (see `securityFactorChangedMessage`). */
export type FactorChange =
  | 'totp_enabled'
  | 'totp_disabled'
  | 'passkey_added'
  | 'passkey_removed'
  | 'recovery_codes_regenerated';

const FACTOR_CHANGE_SENTENCES: Record<FactorChange, string> = {
  totp_enabled: 'An authenticator app was set up as a second factor for your account.',
  totp_disabled: 'The authenticator app was removed from your account.',
  passkey_added: 'A passkey was added to your account.',
  passkey_removed: 'A passkey was removed from your account.',
  recovery_codes_regenerated: 'A new set of recovery codes was created; the previous codes no longer work.',
};

/**
 * The email that tells a user a sign-in factor of theirs changed, so that a takeover which adds its
 * own authenticator or removes the owner's does not go unnoticed. `resetLink` is the forgot-password
 * page, not a token.
 *
 * @example
 * const content = securityFactorChangedMessage({ name: 'Ann', change: 'passkey_added', resetLink });
 */
export function securityFactorChangedMessage(input: { name: string; change: FactorChange; resetLink: string } & MessageOptions): MessageContent {
  const app = appNameOf(input);
  const resetLink = pageLink(input.resetLink, 'resetLink');
  return render(`A sign-in method of your ${app} account changed`, input.name, [
    [FACTOR_CHANGE_SENTENCES[input.change]],
    ['If you did this, no action is needed. If you did not, someone may have access to your account: reset your password now and review your sign-in methods:', { href: resetLink }],
  ]);
}

/**
 * The email sent when a sign-in had the right password but failed the second factor: the password
 * is known to someone. Sent once per sign-in attempt, not once per wrong code.
 *
 * @example
 * const content = secondFactorFailedMessage({ name: 'Ann', resetLink });
 */
export function secondFactorFailedMessage(input: { name: string; resetLink: string } & MessageOptions): MessageContent {
  const app = appNameOf(input);
  const resetLink = pageLink(input.resetLink, 'resetLink');
  return render(`Someone entered your ${app} password but not your second factor`, input.name, [
    [`Someone signed in to your ${app} account with the correct password, then gave a wrong second factor (code, recovery code or passkey).`],
    ['If this was you, no action is needed. If it was not, your password is known to someone else: change it now.', { href: resetLink }],
  ]);
}

/**
 * The email sent when a recovery code was used: it stands in for the second factor, so its use must
 * never be silent. `remaining` is how many unused codes are left.
 *
 * @example
 * const content = recoveryCodeUsedMessage({ name: 'Ann', remaining: 9, resetLink });
 */
export function recoveryCodeUsedMessage(input: { name: string; remaining: number; resetLink: string } & MessageOptions): MessageContent {
  const app = appNameOf(input);
  const resetLink = pageLink(input.resetLink, 'resetLink');
  return render(`A recovery code of your ${app} account was used`, input.name, [
    [`A recovery code was just used to confirm a sign-in to your ${app} account. ${input.remaining} unused codes remain; each works once.`],
    ['If this was not you, someone has your password and a recovery code: reset your password now, then create new recovery codes.', { href: resetLink }],
  ]);
}
