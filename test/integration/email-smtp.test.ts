import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { forgotPasswordRequest, signInRequest, signUpRequest, strongPassword, uniqueEmail } from '../fixtures/accounts.js';
import { extractLinks, startSmtpServer, type TestSmtpServer } from '../fixtures/smtp-server.js';

let smtp: TestSmtpServer;
let t: TestApp;
beforeAll(async () => {
  smtp = await startSmtpServer();
  t = await createTestApp({
    env: { SMTP_URL: smtp.url, MAIL_FROM: 'Rampart <accounts@rampart.test>', PUBLIC_URL: 'https://app.rampart.test' },
  });
});
afterAll(async () => {
  await t.close();
  await smtp.close();
});

/** The one link of a mail to `path`, checked to be the same in the text and the HTML part. */
function linkTo(mail: { text: string; html: string }, path: string): URL {
  const inText = extractLinks(mail.text).filter((link) => new URL(link).pathname === path);
  const inHtml = extractLinks(mail.html.replaceAll('&amp;', '&')).filter((link) => new URL(link).pathname === path);
  expect(inText).toHaveLength(1);
  expect(inHtml).toContain(inText[0]);
  return new URL(inText[0]!);
}

describe('account emails over SMTP', () => {
  it('delivers a verification mail whose link verifies the address, and a reset mail whose link resets the password', async () => {
    const email = uniqueEmail('smtp');
    const password = strongPassword();
    await signUpRequest(t.app, { email, password, name: 'Smtp User' });
    const verification = await smtp.waitForMail((mail) => mail.envelopeTo.includes(email));
    expect(verification.from).toContain('accounts@rampart.test');
    expect(verification.text).not.toContain(password);
    const verifyLink = linkTo(verification, '/verify-email');
    expect(verifyLink.origin).toBe('https://app.rampart.test');
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/auth/verify-email',
      payload: { token: verifyLink.searchParams.get('token') },
    });
    expect(verified.json()).toEqual({ status: 'verified' });

    await forgotPasswordRequest(t.app, email);
    const resetMail = await smtp.waitForMail((mail) => mail.envelopeTo.includes(email) && mail.text.includes('/reset-password'));
    const resetLink = linkTo(resetMail, '/reset-password');
    const newPassword = strongPassword();
    const reset = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password/reset',
      payload: { token: resetLink.searchParams.get('token'), password: newPassword },
    });
    expect(reset.statusCode).toBe(204);
    expect((await signInRequest(t.app, email, newPassword)).statusCode).toBe(200);
    // The change is announced, without any secret in the announcement.
    const notice = await smtp.waitForMail((mail) => mail.envelopeTo.includes(email) && /password was changed/i.test(mail.subject));
    expect(notice.text).not.toMatch(/token=/);
    expect(notice.text).not.toContain(newPassword);
  });
});
