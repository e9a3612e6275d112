/**
 * Attack: scripts filling in the public forms — sign-up (junk accounts, and a welcome email sent to
 * any address the script chooses), password reset (mail bombing a victim through Rampart) and early
 * access (flooding the table an operator reads). Each form needs a signed token fetched when it is
 * shown; a submission with a hidden "website" field filled in, or sent sooner than the minimum fill
 * time after its token, gets exactly the answer of a real one and is dropped, so the script sees
 * nothing to adapt to. A token that is forged, altered, for another form or older than an hour is
 * refused with 400 FORM_TOKEN_INVALID, changing nothing. Sign-up and password reset are also public API
 * routes, so a client may leave the token out (no fill-time check, the honeypot still applies); early
 * access, a browser form only, refuses a body without one. A dropped sign-up runs the same password
 * rules as a real one first, so a bot sending a weak password gets the same 400 and learns nothing.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_TOKEN_KEY_PURPOSE, issueFormToken } from '../../src/crypto/form-token.js';
import { deriveKey } from '../../src/crypto/tokens.js';
import type { PublicForm } from '../../src/http/form-guard.js';
import { createTestApp, type TestApp } from '../fixtures/app.js';
import { fetchFormToken, SAME_ORIGIN, strongPassword, tokenFromOutbox, uniqueEmail, waitFor } from '../fixtures/accounts.js';

const MIN_FILL_SECONDS = 2;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { RAMPART_FORM_MIN_FILL_SECONDS: String(MIN_FILL_SECONDS) } });
});
afterAll(() => t.close());

/** A genuine token issued `seconds` ago, minted with the app's own key (no waiting in the test). */
function tokenIssuedAgo(form: PublicForm, seconds: number): string {
  return issueFormToken(deriveKey(t.masterKey, FORM_TOKEN_KEY_PURPOSE), form, Date.now() - seconds * 1000);
}
/** What a person's browser holds after a few seconds on the form. */
const filledByAPerson = (form: PublicForm) => tokenIssuedAgo(form, MIN_FILL_SECONDS + 1);

const URLS: Record<PublicForm, string> = {
  'sign-up': '/api/auth/sign-up',
  'password-reset': '/api/auth/password/forgot',
  'early-access': '/api/early-access',
};

/** The form's own fields for `email`, plus the protection fields given. */
function bodyOf(form: PublicForm, email: string, protection: Record<string, unknown>): Record<string, unknown> {
  if (form === 'sign-up') return { email, password: strongPassword(), name: 'Form User', ...protection };
  if (form === 'early-access') return { email, name: 'Form User', message: 'Let me in', ...protection };
  return { email, ...protection };
}

function submit(form: PublicForm, email: string, protection: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: URLS[form], headers: SAME_ORIGIN, payload: bodyOf(form, email, protection) });
}

async function countRows(sql: string, email: string): Promise<number> {
  const { rows } = await t.testDatabase.database.transactionAsOwner((tx) => tx.query<{ count: number }>(sql, [email]));
  return rows[0]!.count;
}
const accountsOf = (email: string) => countRows('SELECT count(*)::int AS count FROM rampart.users WHERE lower(email) = lower($1)', email);
const earlyAccessRowsOf = (email: string) =>
  countRows('SELECT count(*)::int AS count FROM rampart.early_access_requests WHERE lower(email) = lower($1)', email);
const mailTo = (email: string) => t.outbox.messages().filter((message) => message.to === email);

/** The address of a new account, once its sign-up is done (verification email sent). */
async function registeredEmail(): Promise<string> {
  const email = uniqueEmail('registered');
  expect((await submit('sign-up', email, { formToken: filledByAPerson('sign-up') })).statusCode).toBe(202);
  await waitFor(() => tokenFromOutbox(t, email, '/verify-email'));
  return email;
}

/** The email a submission of `form` would leave its mark with: a new address, or a registered one for a reset. */
async function targetOf(form: PublicForm): Promise<string> {
  return form === 'password-reset' ? registeredEmail() : uniqueEmail(`bot-${form}`);
}

/**
 * Everything a submission of `form` for `email` could have done: an account, a row, emails. Read
 * after a real submission's email has arrived, so that work left running after an answer is done.
 */
async function traceOf(email: string): Promise<{ accounts: number; earlyAccessRows: number; emails: number }> {
  return { accounts: await accountsOf(email), earlyAccessRows: await earlyAccessRowsOf(email), emails: mailTo(email).length };
}

/** A real sign-up, and the moment its verification email arrived: background work before it is done. */
async function settleWithARealSignUp(): Promise<void> {
  await registeredEmail();
}

function droppedLogLines(form: PublicForm, reason: 'honeypot' | 'too_fast') {
  return t.logs.filter((line) => line.form === form && line.reason === reason && line.msg === 'dropped a form submission that looks automated');
}

function expectProblem(response: LightMyRequestResponse, status: number, code: string): void {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ status, code });
}

describe('form tokens', () => {
  it.each(['sign-up', 'password-reset', 'early-access'] as const)('hands out a %s token that is never cached', async (form) => {
    const response = await t.app.inject({ method: 'GET', url: `/api/forms/${form}/token` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json<{ token: string }>().token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a token for a form that does not exist (400 VALIDATION_FAILED)', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/forms/admin/token' }), 400, 'VALIDATION_FAILED');
  });
});

describe.each(['sign-up', 'password-reset', 'early-access'] as const)('the %s form', (form) => {
  it('drops a submission whose honeypot is filled: nothing happens, and the answer is that of a real one (bot submission)', async () => {
    const realEmail = await targetOf(form);
    const real = await submit(form, realEmail, { formToken: filledByAPerson(form) });
    const botEmail = await targetOf(form);
    const before = await traceOf(botEmail);
    const logsBefore = droppedLogLines(form, 'honeypot').length;
    const bot = await submit(form, botEmail, { formToken: filledByAPerson(form), website: 'https://cheap-pills.example' });
    expect(bot.statusCode).toBe(202);
    expect(bot.statusCode).toBe(real.statusCode);
    expect(bot.json()).toEqual(real.json());
    await settleWithARealSignUp();
    expect(await traceOf(botEmail)).toEqual(before);
    expect(droppedLogLines(form, 'honeypot')).toHaveLength(logsBefore + 1);
    // The log says which form and why, never what was submitted.
    expect(JSON.stringify(t.logs)).not.toContain(botEmail);
  });

  it('drops a submission sent sooner than the minimum fill time after its token, answering as if accepted (form-filling script)', async () => {
    const real = await submit(form, await targetOf(form), { formToken: filledByAPerson(form) });
    const botEmail = await targetOf(form);
    const before = await traceOf(botEmail);
    const logsBefore = droppedLogLines(form, 'too_fast').length;
    // Fetched and posted at once, as a script does; so is a token a second short of the minimum.
    for (const formToken of [await fetchFormToken(t.app, form), tokenIssuedAgo(form, MIN_FILL_SECONDS - 1)]) {
      const bot = await submit(form, botEmail, { formToken });
      expect(bot.statusCode).toBe(real.statusCode);
      expect(bot.json()).toEqual(real.json());
    }
    await settleWithARealSignUp();
    expect(await traceOf(botEmail)).toEqual(before);
    expect(droppedLogLines(form, 'too_fast')).toHaveLength(logsBefore + 2);
    expect(JSON.stringify(t.logs)).not.toContain(botEmail);
  });

  const otherForm: PublicForm = form === 'sign-up' ? 'early-access' : 'sign-up';
  it.each([
    ['a token of another form (reused from an easier form)', () => tokenIssuedAgo(otherForm, MIN_FILL_SECONDS + 1)],
    ['a tampered token (its time moved back)', () => tamperedToken(form)],
    ['a token signed under another key (forged)', () => issueFormToken(Buffer.alloc(32, 1), form, Date.now() - 10_000)],
    ['an expired token (the form left open over an hour)', () => tokenIssuedAgo(form, 60 * 60 + 1)],
    ['an empty token', () => ''],
  ])('refuses %s with 400 FORM_TOKEN_INVALID and changes nothing', async (_label, makeToken) => {
    const email = await targetOf(form);
    const before = await traceOf(email);
    expectProblem(await submit(form, email, { formToken: makeToken() }), 400, 'FORM_TOKEN_INVALID');
    await settleWithARealSignUp();
    expect(await traceOf(email)).toEqual(before);
  });
});

describe('a submission without a form token (an API client, not the console)', () => {
  it('refuses an early-access request without a form token (400 VALIDATION_FAILED naming the field) and stores nothing', async () => {
    const email = uniqueEmail('bot-early-access');
    const before = await traceOf(email);
    const response = await submit('early-access', email, {});
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(response.json<{ errors: unknown[] }>().errors).toEqual([expect.objectContaining({ in: 'body', path: '/formToken' })]);
    await settleWithARealSignUp();
    expect(await traceOf(email)).toEqual(before);
  });

  it('accepts a sign-up of just email, password and name, without a token (the public contract): an account and its email', async () => {
    const email = uniqueEmail('api-client');
    const response = await t.app.inject({
      method: 'POST',
      url: URLS['sign-up'],
      headers: SAME_ORIGIN,
      payload: { email, password: strongPassword(), name: 'API Client' },
    });
    expect(response.statusCode, response.body).toBe(202);
    expect(response.json()).toMatchObject({ status: 'accepted' });
    await waitFor(() => tokenFromOutbox(t, email, '/verify-email'));
    expect(await accountsOf(email)).toBe(1);
  });

  it('accepts a password reset request without a token: the reset email is sent', async () => {
    const email = await registeredEmail();
    const response = await submit('password-reset', email, {});
    expect(response.statusCode, response.body).toBe(202);
    expect(response.json()).toMatchObject({ status: 'accepted' });
    await waitFor(() => tokenFromOutbox(t, email, '/reset-password'));
  });

  it.each(['sign-up', 'password-reset'] as const)(
    'still drops a %s without a token whose honeypot is filled, answering as if accepted (bot skipping the token)',
    async (form) => {
      const real = await submit(form, await targetOf(form), {});
      const botEmail = await targetOf(form);
      const before = await traceOf(botEmail);
      const logsBefore = droppedLogLines(form, 'honeypot').length;
      const bot = await submit(form, botEmail, { website: 'https://cheap-pills.example' });
      expect(bot.statusCode).toBe(202);
      expect(bot.json()).toEqual(real.json());
      await settleWithARealSignUp();
      expect(await traceOf(botEmail)).toEqual(before);
      expect(droppedLogLines(form, 'honeypot')).toHaveLength(logsBefore + 1);
    },
  );

  it.each([
    ['sign-up', 20],
    ['password-reset', 10],
  ] as const)('still holds a %s without a token to its per-address limit of %i (script that skips the token)', async (form, max) => {
    const limited = await createTestApp({ limitRouteRates: true });
    try {
      const statuses: number[] = [];
      for (let index = 0; index <= max; index += 1) {
        const response = await limited.app.inject({
          method: 'POST',
          url: URLS[form],
          headers: SAME_ORIGIN,
          remoteAddress: '192.0.2.21',
          payload: bodyOf(form, uniqueEmail(`tokenless-${form}`), {}),
        });
        statuses.push(response.statusCode);
      }
      expect(statuses).toEqual([...Array.from({ length: max }, () => 202), 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('a dropped sign-up with a password a real one refuses', () => {
  const signUpWith = (password: string, protection: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: URLS['sign-up'],
      headers: SAME_ORIGIN,
      payload: { email: uniqueEmail('weak'), password, name: 'Form User', ...protection },
    });
  const caught = {
    'honeypot filled': () => ({ formToken: filledByAPerson('sign-up'), website: 'https://cheap-pills.example' }),
    'sent too fast': () => ({ formToken: tokenIssuedAgo('sign-up', 0) }),
    'honeypot filled, no token': () => ({ website: 'https://cheap-pills.example' }),
  };

  it.each([
    ['too short', 'short1', 'PASSWORD_TOO_SHORT'],
    ['common', 'aaaaaaaaaaaa', 'PASSWORD_TOO_COMMON'],
  ])('gets the same 400 as a real sign-up for a %s password, so the bot cannot tell it was caught', async (_label, password, code) => {
    const real = await signUpWith(password, { formToken: filledByAPerson('sign-up') });
    expectProblem(real, 400, code);
    for (const [how, protection] of Object.entries(caught)) {
      const bot = await signUpWith(password, protection());
      expectProblem(bot, 400, code);
      expect(bot.json<{ detail: string }>().detail, how).toBe(real.json<{ detail: string }>().detail);
    }
  });

  it('gets the same 202 body as a real sign-up for a good password', async () => {
    const real = await signUpWith(strongPassword(), { formToken: filledByAPerson('sign-up') });
    expect(real.statusCode).toBe(202);
    for (const protection of Object.values(caught)) {
      const bot = await signUpWith(strongPassword(), protection());
      expect(bot.statusCode).toBe(202);
      expect(bot.json()).toEqual(real.json());
    }
  });
});

/** The token with its time moved an hour back, the signature kept. */
function tamperedToken(form: PublicForm): string {
  const [, signature] = tokenIssuedAgo(form, MIN_FILL_SECONDS + 1).split('.');
  const payload = Buffer.from(`${form}:${Date.now() - 60 * 60 * 1000}`).toString('base64url');
  return `${payload}.${signature}`;
}

describe('a person’s submissions', () => {
  it('goes through once the minimum fill time has passed: an account and its email, a reset email', async () => {
    const email = uniqueEmail('person');
    expect((await submit('sign-up', email, { formToken: filledByAPerson('sign-up'), website: '' })).statusCode).toBe(202);
    await waitFor(() => tokenFromOutbox(t, email, '/verify-email'));
    expect(await accountsOf(email)).toBe(1);
    expect((await submit('password-reset', email, { formToken: filledByAPerson('password-reset') })).statusCode).toBe(202);
    await waitFor(() => tokenFromOutbox(t, email, '/reset-password'));
  });

  it('stores one early-access row per request, a repeated address answered the same (no enumeration)', async () => {
    const email = uniqueEmail('early');
    // Just inside the hour a token lasts.
    const first = await submit('early-access', email, { formToken: tokenIssuedAgo('early-access', 60 * 60 - 5) });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ status: 'accepted' });
    const { rows } = await t.testDatabase.database.transactionAsOwner((tx) =>
      tx.query<{ email: string; name: string | null; message: string | null }>(
        'SELECT email, name, message FROM rampart.early_access_requests WHERE email = $1',
        [email],
      ),
    );
    expect(rows).toEqual([{ email, name: 'Form User', message: 'Let me in' }]);
    const again = await submit('early-access', email, { formToken: filledByAPerson('early-access') });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first.json());
    expect(await earlyAccessRowsOf(email)).toBe(2);
  });

  it('keeps early-access requests from being read back by a request (insert only)', async () => {
    await expect(
      t.testDatabase.database.withTenant({}, (tx) => tx.query('SELECT email FROM rampart.early_access_requests')),
    ).rejects.toThrow(/permission denied/);
  });
});
