import { describe, expect, it } from 'vitest';
import { extractLinks } from '../../test/fixtures/smtp-server.js';
import {
  accountLockedMessage,
  escapeHtml,
  passwordChangedMessage,
  passwordResetMessage,
  recoveryCodeUsedMessage,
  secondFactorFailedMessage,
  securityFactorChangedMessage,
  signUpAttemptMessage,
  verifyEmailMessage,
  type MessageContent,
} from './messages.js';

const BASE = 'https://app.example.com';
const VERIFY_LINK = `${BASE}/verify-email?token=abc_DEF-123`;
const RESET_TOKEN_LINK = `${BASE}/reset-password?token=abc_DEF-123`;
const SIGN_IN_PAGE = `${BASE}/sign-in`;
const FORGOT_PAGE = `${BASE}/forgot-password`;
const UNLOCK_AT = new Date('2030-05-06T07:08:09.500Z');

/** Every message, built with the given name and app options, and the links it must carry. */
function allMessages(name: string, appName?: string): { label: string; content: MessageContent; links: string[] }[] {
  const app = appName === undefined ? {} : { appName };
  return [
    { label: 'verify email', content: verifyEmailMessage({ name, link: VERIFY_LINK, ...app }), links: [VERIFY_LINK] },
    { label: 'password reset', content: passwordResetMessage({ name, link: RESET_TOKEN_LINK, ...app }), links: [RESET_TOKEN_LINK] },
    {
      label: 'sign-up attempt',
      content: signUpAttemptMessage({ name, signInLink: SIGN_IN_PAGE, resetLink: FORGOT_PAGE, ...app }),
      links: [SIGN_IN_PAGE, FORGOT_PAGE],
    },
    { label: 'account locked', content: accountLockedMessage({ name, resetLink: FORGOT_PAGE, unlockAt: UNLOCK_AT, ...app }), links: [FORGOT_PAGE] },
    { label: 'password changed', content: passwordChangedMessage({ name, resetLink: FORGOT_PAGE, ...app }), links: [FORGOT_PAGE] },
    {
      label: 'factor changed',
      content: securityFactorChangedMessage({ name, change: 'passkey_added', resetLink: FORGOT_PAGE, ...app }),
      links: [FORGOT_PAGE],
    },
    { label: 'second factor failed', content: secondFactorFailedMessage({ name, resetLink: FORGOT_PAGE, ...app }), links: [FORGOT_PAGE] },
    { label: 'recovery code used', content: recoveryCodeUsedMessage({ name, remaining: 9, resetLink: FORGOT_PAGE, ...app }), links: [FORGOT_PAGE] },
  ];
}

describe('escapeHtml', () => {
  it('escapes the characters that change the meaning of HTML text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>Tom & Jerry</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;');
    expect(escapeHtml('plain text')).toBe('plain text');
  });
});

describe('account messages', () => {
  it.each(allMessages('Ann'))('$label carries its links in both the text and the html part', ({ content, links }) => {
    expect(extractLinks(content.text)).toEqual(links);
    // Each html link appears as the href and as the visible text, so a reader sees where it leads.
    expect(extractLinks(content.html)).toEqual(links.flatMap((link) => [link, link]));
    expect(content.text).toMatch(/^Hello Ann,\n/);
    expect(content.subject).toContain('Rampart');
  });

  it.each(allMessages('<script>alert(1)</script>'))('$label escapes the name in html and never includes it raw', ({ content }) => {
    expect(content.html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(content.html).not.toContain('<script');
    expect(content.text).toContain('Hello <script>alert(1)</script>,');
  });

  it.each(allMessages('Ann', 'Acme & Co'))('$label shows the configured product name', ({ content }) => {
    expect(content.subject).toContain('Acme & Co');
    expect(content.subject).not.toContain('Rampart');
    expect(content.text).not.toContain('Rampart');
    expect(content.html).toContain('Acme &amp; Co');
    expect(content.html).not.toContain('Rampart');
  });

  it('uses only a paragraph and link markup, with no images or remote resources', () => {
    for (const { content } of allMessages('Ann')) {
      expect(content.html).not.toMatch(/<img|<script|<style|style=|src=/i);
      const tags = new Set(Array.from(content.html.matchAll(/<\/?([a-z!]+)/gi), (match) => match[1]!.toLowerCase()));
      expect([...tags].sort()).toEqual(['!doctype', 'a', 'body', 'br', 'head', 'html', 'meta', 'p', 'title']);
    }
  });

  it('escapes a link query in the href without changing the link', () => {
    const link = `${BASE}/verify-email?token=abc&next=%2Fhome`;
    const content = verifyEmailMessage({ name: 'Ann', link });
    expect(content.html).toContain(`href="${BASE}/verify-email?token=abc&amp;next=%2Fhome"`);
    expect(content.text).toContain(link);
  });

  it('states how long each one-time link is valid', () => {
    expect(verifyEmailMessage({ name: 'Ann', link: VERIFY_LINK }).text).toContain('valid for 24 hours');
    const reset = passwordResetMessage({ name: 'Ann', link: RESET_TOKEN_LINK });
    expect(reset.text).toContain('valid for 30 minutes');
    expect(reset.text).toContain('If you did not ask for this, ignore this email; your password is unchanged.');
  });

  it('shows when sign-in resumes, in UTC', () => {
    const content = accountLockedMessage({ name: 'Ann', resetLink: FORGOT_PAGE, unlockAt: UNLOCK_AT });
    expect(content.text).toContain('sign-in is paused until 2030-05-06 07:08:09 UTC');
    expect(content.html).toContain('2030-05-06 07:08:09 UTC');
    expect(() => accountLockedMessage({ name: 'Ann', resetLink: FORGOT_PAGE, unlockAt: new Date('nope') })).toThrow(TypeError);
  });

  it('greets without a name when none is known', () => {
    expect(passwordChangedMessage({ name: '  ', resetLink: FORGOT_PAGE }).text).toMatch(/^Hello,\n/);
  });

  it('flattens a name that tries to pose as extra lines of the message, and caps its length', () => {
    const content = verifyEmailMessage({ name: 'Ann\r\n\r\nYou won a prize: visit evil.example', link: VERIFY_LINK });
    expect(content.text).toMatch(/^Hello Ann You won a prize: visit evil\.example,\n/);
    const long = verifyEmailMessage({ name: 'x'.repeat(500), link: VERIFY_LINK });
    expect(long.text.split('\n')[0]!.length).toBeLessThanOrEqual('Hello ,'.length + 80);
  });

  it('refuses a link that is not http(s)', () => {
    for (const link of ['javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,<b>x</b>', '/reset-password?token=abc', 'ftp://app.example.com/x']) {
      expect(() => verifyEmailMessage({ name: 'Ann', link })).toThrow(TypeError);
      expect(() => passwordResetMessage({ name: 'Ann', link })).toThrow(TypeError);
      expect(() => signUpAttemptMessage({ name: 'Ann', signInLink: link, resetLink: FORGOT_PAGE })).toThrow(TypeError);
      expect(() => signUpAttemptMessage({ name: 'Ann', signInLink: SIGN_IN_PAGE, resetLink: link })).toThrow(TypeError);
      expect(() => accountLockedMessage({ name: 'Ann', resetLink: link, unlockAt: UNLOCK_AT })).toThrow(TypeError);
      expect(() => passwordChangedMessage({ name: 'Ann', resetLink: link })).toThrow(TypeError);
    }
  });

  it('refuses a link with credentials in it', () => {
    expect(() => verifyEmailMessage({ name: 'Ann', link: 'https://user:pw@app.example.com/verify-email?token=a' })).toThrow(TypeError);
  });

  it('refuses a token in a message whose links must be plain pages', () => {
    expect(() => signUpAttemptMessage({ name: 'Ann', signInLink: SIGN_IN_PAGE, resetLink: RESET_TOKEN_LINK })).toThrow(TypeError);
    expect(() => accountLockedMessage({ name: 'Ann', resetLink: RESET_TOKEN_LINK, unlockAt: UNLOCK_AT })).toThrow(TypeError);
    expect(() => passwordChangedMessage({ name: 'Ann', resetLink: `${FORGOT_PAGE}?code=123456` })).toThrow(TypeError);
    expect(() => passwordChangedMessage({ name: 'Ann', resetLink: `${FORGOT_PAGE}?next=%2Fsettings` })).not.toThrow();
  });
});
