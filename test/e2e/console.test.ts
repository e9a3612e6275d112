/**
 * The web console in Chromium, used as a person would: typing into labelled fields and pressing
 * buttons, reading links from the development outbox page. Every journey also checks that the page
 * never violated its Content-Security-Policy (no inline script or style, Trusted Types) and threw no
 * uncaught error, runs axe-core on each screen it passes (no serious or critical violation), and saves
 * a screenshot of it to test-results/screenshots/.
 *
 * The only requests not made by the page are the ones an API client would make: the API key used
 * with fetch, and nothing else.
 */
import { readFile } from 'node:fs/promises';
import { Secret, TOTP } from 'otpauth';
import type { Browser as Chromium, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../fixtures/app.js';
import { addPasskeyDevice, launchChromium } from '../fixtures/browser.js';
import { awayFromStepBoundary } from '../fixtures/mfa.js';
import { expectAccessible, expectNoPageProblems, inspectScreen, openRecordedPage, startConsoleServer, type PageProblems } from '../fixtures/console.js';

let t: TestApp;
let origin: string;
let chromium: Chromium;

beforeAll(async () => {
  ({ t, origin } = await startConsoleServer());
  chromium = await launchChromium();
}, 60_000);
afterAll(async () => {
  await chromium?.close();
  await t?.close();
});

/** Strong enough for the password rules (12+ characters, not common, not breached). */
const PASSWORD = 'velvet-harbour-lantern-83';

let emailCounter = 0;
function uniqueEmail(name: string): string {
  emailCounter += 1;
  return `${name.toLowerCase()}.${Date.now().toString(36)}${emailCounter}@example.com`;
}

interface Person {
  page: Page;
  problems: PageProblems;
  email: string;
  name: string;
  close(): Promise<void>;
}

async function newPerson(name: string): Promise<Person> {
  const { context, page, problems } = await openRecordedPage(chromium);
  return { page, problems, email: uniqueEmail(name), name, close: () => context.close() };
}

async function heading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** The link of the newest email to `to` whose URL contains `pathPart`, read from the outbox page. */
async function linkFromOutbox(page: Page, to: string, pathPart: string, screen?: string): Promise<string> {
  await page.goto(`${origin}/dev/outbox`);
  await heading(page, 'Outbox (development)');
  const link = page.locator('article.email').filter({ hasText: `To: ${to}` }).locator(`a[href*="${pathPart}"]`).first();
  await link.waitFor();
  if (screen) await inspectScreen(page, screen);
  const href = await link.getAttribute('href');
  expect(href).toBeTruthy();
  return href!;
}

async function signUpAndVerify(person: Person, inspect = false): Promise<void> {
  const { page } = person;
  await page.goto(`${origin}/sign-up`);
  await heading(page, 'Create your account');
  if (inspect) await inspectScreen(page, 'sign-up');
  await page.getByLabel('Name', { exact: true }).fill(person.name);
  await page.getByLabel('Email', { exact: true }).fill(person.email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();

  const link = await linkFromOutbox(page, person.email, '/verify-email?token=', inspect ? 'outbox' : undefined);
  expect(link.startsWith(`${origin}/verify-email?token=`)).toBe(true);
  await page.goto(link);
  await heading(page, 'Verify your email');
  if (inspect) await inspectScreen(page, 'verify-email');
  await page.getByRole('button', { name: 'Verify my email' }).click();
  await page.getByText('Your email address is verified.').waitFor();
}

async function signIn(person: Person, inspect = false): Promise<void> {
  const { page } = person;
  await page.goto(`${origin}/sign-in`);
  await heading(page, 'Sign in');
  if (inspect) await inspectScreen(page, 'sign-in');
  await page.getByLabel('Email', { exact: true }).fill(person.email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

function workspaceIdOf(page: Page): string {
  const match = /\/workspaces\/([0-9a-f-]{36})\//.exec(new URL(page.url()).pathname);
  expect(match, page.url()).not.toBeNull();
  return match![1]!;
}

async function openTab(page: Page, name: string, title: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Workspace' }).getByRole('link', { name, exact: true }).click();
  await heading(page, title);
}

describe('the console in Chromium', () => {
  it(
    'signs up, verifies, creates a workspace, invites and promotes a member, issues, uses and revokes an API key, and shows it all in a verified audit log',
    async () => {
      const owner = await newPerson('Olivia');
      const member = await newPerson('Mateo');
      try {
        await signUpAndVerify(owner, true);
        await signIn(owner, true);
        await heading(owner.page, 'Workspaces');
        await inspectScreen(owner.page, 'workspaces-empty');

        // Create a workspace.
        await owner.page.getByLabel('Workspace name').fill('Acme Robotics');
        await owner.page.getByRole('button', { name: 'Create workspace' }).click();
        await heading(owner.page, 'Members');
        const workspaceId = workspaceIdOf(owner.page);
        await inspectScreen(owner.page, 'members');

        // Invite the second person as a member.
        await openTab(owner.page, 'Invitations', 'Invitations');
        await owner.page.getByLabel('Email address').fill(member.email);
        await owner.page.getByLabel('Role', { exact: true }).selectOption('member');
        await owner.page.getByRole('button', { name: 'Send invitation' }).click();
        await owner.page.getByRole('status').filter({ hasText: member.email }).waitFor();
        await owner.page.getByRole('cell', { name: member.email, exact: true }).waitFor();
        await inspectScreen(owner.page, 'invitations');

        // The invitee creates an account, opens the invitation link signed out, signs in through it, accepts.
        await signUpAndVerify(member);
        const invitation = await linkFromOutbox(member.page, member.email, '/invitations/accept?token=');
        await member.page.goto(invitation);
        await heading(member.page, 'Accept invitation');
        await member.page.getByRole('link', { name: 'Sign in', exact: true }).click();
        await heading(member.page, 'Sign in');
        await member.page.getByLabel('Email', { exact: true }).fill(member.email);
        await member.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
        await member.page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await heading(member.page, 'Accept invitation');
        await inspectScreen(member.page, 'accept-invitation');
        await member.page.getByRole('button', { name: 'Accept invitation' }).click();
        await heading(member.page, 'Members');
        expect(workspaceIdOf(member.page)).toBe(workspaceId);

        // The owner makes the member a viewer; the viewer's console then hides what a viewer cannot do.
        await openTab(owner.page, 'Members', 'Members');
        await owner.page.getByRole('cell', { name: member.email, exact: true }).waitFor();
        await owner.page.getByLabel(`Role of ${member.name}`).selectOption('viewer');
        await owner.page.getByRole('button', { name: 'Save role' }).click();
        await owner.page.getByRole('button', { name: 'Save role' }).waitFor({ state: 'detached' });
        await owner.page.reload();
        expect(await owner.page.getByLabel(`Role of ${member.name}`).inputValue()).toBe('viewer');

        await member.page.reload();
        await heading(member.page, 'Members');
        const memberTabs = member.page.getByRole('navigation', { name: 'Workspace' });
        await memberTabs.getByRole('link', { name: 'Members' }).waitFor();
        expect(await memberTabs.getByRole('link').allTextContents()).toEqual(['Members', 'Settings']);
        expect(await member.page.getByRole('button', { name: /Remove|Save role/ }).count()).toBe(0);
        await inspectScreen(member.page, 'members-as-viewer');

        // Create an API key, use it from outside the browser, revoke it.
        await openTab(owner.page, 'API keys', 'API keys');
        await owner.page.getByLabel('Key name').fill('CI export');
        await owner.page.getByRole('checkbox', { name: /members:read/ }).check();
        await owner.page.getByRole('button', { name: 'Create API key' }).click();
        const shownKey = owner.page.getByLabel('Your new API key');
        await shownKey.waitFor();
        const key = await shownKey.inputValue();
        expect(key).toMatch(/^rk_/);
        await inspectScreen(owner.page, 'api-key-created');

        const withKey = () => fetch(`${origin}/api/workspaces/${workspaceId}/members`, { headers: { authorization: `Bearer ${key}` } });
        const used = await withKey();
        expect(used.status).toBe(200);
        const { members } = (await used.json()) as { members: { email: string }[] };
        expect(members.map((m) => m.email).sort()).toEqual([owner.email, member.email].sort());

        await owner.page.getByRole('button', { name: 'Done' }).click();
        await owner.page.getByRole('button', { name: 'Revoke CI export' }).click();
        await owner.page.getByRole('button', { name: /Confirm revoke/ }).click();
        await owner.page.getByRole('row').filter({ hasText: 'CI export' }).getByText(/Revoked/i).first().waitFor();
        const refused = await withKey();
        expect(refused.status).toBe(401);
        expect(((await refused.json()) as { code: string }).code).toBe('INVALID_API_KEY');

        // The audit log holds every step, and its hash chain verifies.
        await openTab(owner.page, 'Audit log', 'Audit log');
        await owner.page.getByText('Chain verified').waitFor();
        for (const action of ['workspace.created', 'invitation.created', 'member.joined', 'member.role_changed', 'api_key.created', 'api_key.revoked']) {
          await owner.page.getByRole('cell', { name: action }).first().waitFor();
        }
        await inspectScreen(owner.page, 'audit-log');

        await openTab(owner.page, 'Settings', 'Settings');
        await inspectScreen(owner.page, 'workspace-settings');

        // The page holds no secret of its own: the session cookie is out of its reach (HttpOnly), and
        // the API key shown once was never written to storage.
        const kept = await owner.page.evaluate(() => {
          const page = globalThis as unknown as { document: { cookie: string }; localStorage: { length: number }; sessionStorage: { length: number } };
          return { cookie: page.document.cookie, stored: page.localStorage.length + page.sessionStorage.length };
        });
        expect(kept.cookie).not.toContain('rampart_session');
        expect(kept.cookie).not.toContain(key);
        expect(kept.stored).toBe(0);

        expectNoPageProblems(owner.problems);
        expectNoPageProblems(member.problems);
      } finally {
        await owner.close();
        await member.close();
      }
    },
    180_000,
  );

  it('enrols an authenticator app by reading its secret off the page, steps up with it in an older session, and signs in with a recovery code', async () => {
    const person = await newPerson('Tamsin');
    const olderSession = await newPerson('Tamsin');
    olderSession.email = person.email;
    try {
      await signUpAndVerify(person);
      await signIn(person);
      await heading(person.page, 'Workspaces');
      // A second browser signed in with the password alone, before the account had a second factor.
      await signIn(olderSession);
      await heading(olderSession.page, 'Workspaces');

      await person.page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Security', exact: true }).click();
      await heading(person.page, 'Security');
      await inspectScreen(person.page, 'security');
      // The codes used below must all fall in this 30-second step or the next: start well inside one.
      await awayFromStepBoundary();
      await person.page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      await person.page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
      const secret = (await person.page.getByTestId('totp-secret').textContent())!.replace(/\s/g, '');
      await inspectScreen(person.page, 'totp-enrolment');
      const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });

      await person.page.getByLabel('Code from the app').fill(totp.generate());
      await person.page.getByRole('button', { name: 'Activate' }).click();
      const codes = person.page.getByLabel('Recovery codes');
      await codes.waitFor();
      expect((await codes.inputValue()).split('\n')).toHaveLength(10);
      await inspectScreen(person.page, 'recovery-codes');
      await person.page.getByRole('button', { name: 'I have saved my recovery codes' }).click();

      // The older session proved the password only; now that the account has a second factor, a
      // sensitive action there asks for it (step-up). The enrolment used this step's code, and a code
      // is good once: take the next step's (the server accepts one step of drift).
      await olderSession.page.goto(`${origin}/account/security`);
      await heading(olderSession.page, 'Security');
      await olderSession.page.getByRole('button', { name: 'Create new recovery codes' }).click();
      await olderSession.page.getByRole('button', { name: 'Confirm new recovery codes' }).click();
      const stepUp = olderSession.page.getByRole('dialog', { name: 'Confirm it is you' });
      await stepUp.getByLabel('Code from your authenticator app').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
      await inspectScreen(olderSession.page, 'step-up');
      await stepUp.getByRole('button', { name: 'Confirm' }).click();
      await stepUp.waitFor({ state: 'detached' });
      const newCodes = (await olderSession.page.getByLabel('Recovery codes').inputValue()).split('\n');
      expect(newCodes).toHaveLength(10);

      // Sign out, and back in: the password alone is not enough any more. This step's and the next
      // step's codes are both spent, so the second step takes a recovery code of the new set.
      await person.page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(person);
      await person.page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      await inspectScreen(person.page, 'sign-in-second-step');
      await person.page.getByLabel('Authentication code').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
      await person.page.getByRole('button', { name: 'Verify' }).click();
      await person.page.getByText('That code is not correct, has expired, or was already used.').waitFor();
      await person.page.getByRole('button', { name: 'Use a recovery code' }).click();
      await person.page.getByLabel('Recovery code').fill(newCodes[0]!);
      await person.page.getByRole('button', { name: 'Verify' }).click();
      await heading(person.page, 'Workspaces');

      expectNoPageProblems(person.problems);
      expectNoPageProblems(olderSession.problems);
    } finally {
      await person.close();
      await olderSession.close();
    }
  }, 120_000);

  it('registers a passkey on one device, steps up with it synced to another, and signs in with it as second step and alone', async () => {
    const phone = await newPerson('Priya');
    const laptop = await newPerson('Priya');
    laptop.email = phone.email;
    try {
      await signUpAndVerify(phone);
      await signIn(phone);
      await heading(phone.page, 'Workspaces');
      await signIn(laptop);
      await heading(laptop.page, 'Workspaces');

      const phoneDevice = await addPasskeyDevice(phone.page);
      await phone.page.goto(`${origin}/account/security`);
      await heading(phone.page, 'Security');
      await phone.page.getByLabel('Passkey name').fill('Work phone');
      await phone.page.getByRole('button', { name: 'Add a passkey' }).click();
      await phone.page.getByRole('cell', { name: 'Work phone', exact: true }).waitFor();
      await phone.page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
      await inspectScreen(phone.page, 'passkeys');
      const [credential] = await phoneDevice.credentials();
      expect(credential).toBeDefined();
      // The passkey syncs to the laptop (its platform authenticator now holds the same key).
      const laptopDevice = await addPasskeyDevice(laptop.page);
      await laptopDevice.addCredential(credential!);

      // The laptop's session proved the password only, before the passkey existed: creating an API key
      // there asks for the passkey (step-up), then goes on.
      await laptop.page.goto(`${origin}/workspaces`);
      await laptop.page.getByLabel('Workspace name').fill('Passkey Studio');
      await laptop.page.getByRole('button', { name: 'Create workspace' }).click();
      await heading(laptop.page, 'Members');
      await openTab(laptop.page, 'API keys', 'API keys');
      await laptop.page.getByLabel('Key name').fill('Reporting');
      await laptop.page.getByRole('checkbox', { name: /audit:read/ }).check();
      await laptop.page.getByRole('button', { name: 'Create API key' }).click();
      const stepUp = laptop.page.getByRole('dialog', { name: 'Confirm it is you' });
      await stepUp.getByRole('button', { name: 'Use a passkey' }).click();
      await laptop.page.getByLabel('Your new API key').waitFor();
      await laptop.page.getByRole('button', { name: 'Done' }).click();
      await laptop.page.getByRole('cell', { name: 'Reporting', exact: true }).waitFor();
      await inspectScreen(laptop.page, 'api-keys');

      // The passkey as the second step of a password sign-in.
      await laptop.page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(laptop);
      await laptop.page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      await laptop.page.getByRole('button', { name: 'Use a passkey' }).click();
      await heading(laptop.page, 'Workspaces');

      // The passkey alone (passwordless).
      await laptop.page.getByRole('button', { name: 'Sign out' }).click();
      await heading(laptop.page, 'Sign in');
      await laptop.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await heading(laptop.page, 'Workspaces');
      await laptop.page.getByRole('navigation', { name: 'Account' }).getByText(laptop.name).waitFor();

      expectNoPageProblems(phone.problems);
      expectNoPageProblems(laptop.problems);
    } finally {
      await phone.close();
      await laptop.close();
    }
  }, 120_000);

  it('signs a browser out when its session is revoked from another browser', async () => {
    const first = await newPerson('Noor');
    const second = await newPerson('Noor');
    second.email = first.email;
    try {
      await signUpAndVerify(first);
      await signIn(first);
      await heading(first.page, 'Workspaces');
      await signIn(second);
      await heading(second.page, 'Workspaces');

      await second.page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Sessions' }).click();
      await heading(second.page, 'Sessions');
      await second.page.getByText('This session', { exact: true }).waitFor();
      expect(await second.page.getByRole('button', { name: /Sign out this session/ }).count()).toBe(1);
      await inspectScreen(second.page, 'sessions');
      await second.page.getByRole('button', { name: 'Sign out all other sessions' }).click();
      await second.page.getByText(/Signed out 1 other session/).waitFor();

      // The first browser's next request finds its session gone, and the console says so.
      await first.page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Profile' }).click();
      await heading(first.page, 'Sign in');
      await first.page.getByText('Your session has ended. Sign in again to continue.').waitFor();

      await second.page.goto(`${origin}/account/security-log`);
      await heading(second.page, 'Security log');
      await second.page.getByText('account.other_sessions_revoked').first().waitFor();
      await inspectScreen(second.page, 'security-log');
      await second.page.goto(`${origin}/account`);
      await heading(second.page, 'Profile');
      await inspectScreen(second.page, 'profile');

      expectNoPageProblems(first.problems);
      expectNoPageProblems(second.problems);
    } finally {
      await first.close();
      await second.close();
    }
  }, 120_000);

  it('shows the signed-out screens without a problem: forgot and reset password', async () => {
    const person = await newPerson('Ravi');
    try {
      await signUpAndVerify(person);

      // Keyboard only: the fields are reachable in order and Enter submits. A refusal is worded for a
      // person and carries the request id for support.
      await person.page.goto(`${origin}/sign-in`);
      await heading(person.page, 'Sign in');
      await person.page.getByLabel('Email', { exact: true }).focus();
      await person.page.keyboard.type(person.email);
      await person.page.keyboard.press('Tab');
      await person.page.keyboard.type('not-the-password-at-all');
      await person.page.keyboard.press('Enter');
      const refusal = person.page.getByRole('alert');
      await refusal.getByText('The email or password is not correct.').waitFor();
      expect(await refusal.getByText('Request id:').textContent()).toMatch(/Request id: [0-9a-f-]{36}/);
      await inspectScreen(person.page, 'sign-in-refused');

      await person.page.goto(`${origin}/forgot-password`);
      await heading(person.page, 'Forgot your password');
      await inspectScreen(person.page, 'forgot-password');
      await person.page.getByLabel('Email', { exact: true }).fill(person.email);
      await person.page.getByRole('button', { name: 'Send reset link' }).click();
      await person.page.getByText(`If an account exists for ${person.email}, a link is on its way.`).waitFor();

      const reset = await linkFromOutbox(person.page, person.email, '/reset-password?token=');
      await person.page.goto(reset);
      await heading(person.page, 'Choose a new password');
      await inspectScreen(person.page, 'reset-password');
      await person.page.getByLabel('New password', { exact: true }).fill(`${PASSWORD}-renewed`);
      await person.page.getByRole('button', { name: 'Set new password' }).click();
      await person.page.getByText(/Your password is changed/).waitFor();

      expectNoPageProblems(person.problems);
    } finally {
      await person.close();
    }
  }, 120_000);

  it('pages through a long audit log by scrolling, filters it, and exports what the filter shows', async () => {
    const owner = await newPerson('Ines');
    try {
      await signUpAndVerify(owner);
      await signIn(owner);
      await heading(owner.page, 'Workspaces');
      await owner.page.getByLabel('Workspace name').fill('Ledger');
      await owner.page.getByRole('button', { name: 'Create workspace' }).click();
      await heading(owner.page, 'Members');
      const workspaceId = workspaceIdOf(owner.page);

      // More events than one page holds (50): 60 renames, made as an API client of this session would.
      const cookies = await owner.page.context().cookies(origin);
      const headers = {
        cookie: cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; '),
        'x-csrf-token': cookies.find((cookie) => cookie.name === 'rampart_csrf')!.value,
        origin,
        'content-type': 'application/json',
      };
      for (let index = 1; index <= 60; index += 1) {
        const renamed = await fetch(`${origin}/api/workspaces/${workspaceId}`, { method: 'PATCH', headers, body: JSON.stringify({ name: `Ledger ${index}` }) });
        expect(renamed.status).toBe(200);
      }

      // A second workspace, to move between with the switcher.
      await owner.page.goto(`${origin}/workspaces`);
      await owner.page.getByLabel('Workspace name').fill('Scratch');
      await owner.page.getByRole('button', { name: 'Create workspace' }).click();
      await heading(owner.page, 'Members');
      await inspectScreen(owner.page, 'workspaces-switcher');
      await owner.page.getByRole('combobox', { name: 'Workspace' }).selectOption({ label: 'Ledger 60' });
      await owner.page.getByRole('button', { name: 'Open' }).click();
      await owner.page.waitForURL(`${origin}/workspaces/${workspaceId}/members`);
      await owner.page.locator('.workspace-name').getByText('Ledger 60').waitFor();

      await openTab(owner.page, 'Audit log', 'Audit log');
      await owner.page.getByText(/Chain verified/).waitFor();
      const rows = owner.page.locator('table tbody tr');
      await rows.nth(49).waitFor();
      expect(await rows.count()).toBe(50);
      // Scrolling to the end loads the next page.
      await owner.page.evaluate(() => {
        const page = globalThis as unknown as { scrollTo(x: number, y: number): void; document: { body: { scrollHeight: number } } };
        page.scrollTo(0, page.document.body.scrollHeight);
      });
      await owner.page.getByText('End of the log.').waitFor();
      expect(await rows.count()).toBe(61);

      await owner.page.getByLabel('Action').selectOption('workspace.created');
      await owner.page.getByRole('button', { name: 'Apply filters' }).click();
      await rows.first().getByText('workspace.created').waitFor();
      await expect.poll(() => rows.count()).toBe(1);
      await owner.page.getByText('End of the log.').waitFor();

      const [download] = await Promise.all([owner.page.waitForEvent('download'), owner.page.getByRole('button', { name: 'Export CSV' }).click()]);
      const exported = await readFile(await download.path(), 'utf8');
      expect(exported).toContain('workspace.created');
      expect(exported).not.toContain('workspace.renamed');

      // The export is itself in the log.
      await owner.page.getByLabel('Action').selectOption('audit.exported');
      await owner.page.getByRole('button', { name: 'Apply filters' }).click();
      await rows.first().getByText('audit.exported').waitFor();

      expectNoPageProblems(owner.problems);
    } finally {
      await owner.close();
    }
  }, 120_000);

  it('goes only to its own pages after sign-in, whatever the next parameter says (attack: open redirect)', async () => {
    const person = await newPerson('Wen');
    try {
      await signUpAndVerify(person);
      for (const next of ['//evil.example/phish', '/\\evil.example/phish', 'https://evil.example/phish', 'javascript:alert(1)', '/%2F%2Fevil.example']) {
        await person.page.goto(`${origin}/sign-in?next=${encodeURIComponent(next)}`);
        await heading(person.page, 'Sign in');
        await person.page.getByLabel('Email', { exact: true }).fill(person.email);
        await person.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
        await person.page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await person.page.waitForURL((url) => url.pathname !== '/sign-in');
        expect(new URL(person.page.url()).origin, next).toBe(origin);
        await person.page.getByRole('button', { name: 'Sign out' }).click();
        await heading(person.page, 'Sign in');
      }
      // A path of the console itself is followed.
      await person.page.goto(`${origin}/sign-in?next=${encodeURIComponent('/account/sessions')}`);
      await person.page.getByLabel('Email', { exact: true }).fill(person.email);
      await person.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await person.page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await heading(person.page, 'Sessions');
      expectNoPageProblems(person.problems);
    } finally {
      await person.close();
    }
  });

  it('runs a workspace from rename to deletion: a revoked invitation, a refused MFA policy, ownership handed over, a member removed, a typed confirmation', async () => {
    const founder = await newPerson('Hugo');
    const successor = await newPerson('Amara');
    try {
      await signUpAndVerify(founder);
      await signIn(founder);
      await heading(founder.page, 'Workspaces');
      await founder.page.getByLabel('Workspace name').fill('Orbit');
      await founder.page.getByRole('button', { name: 'Create workspace' }).click();
      await heading(founder.page, 'Members');
      const workspaceId = workspaceIdOf(founder.page);

      // An invitation sent to the wrong address, revoked.
      await openTab(founder.page, 'Invitations', 'Invitations');
      const mistaken = uniqueEmail('typo');
      await founder.page.getByLabel('Email address').fill(mistaken);
      await founder.page.getByRole('button', { name: 'Send invitation' }).click();
      await founder.page.getByRole('cell', { name: mistaken, exact: true }).waitFor();
      await founder.page.getByRole('button', { name: `Revoke invitation to ${mistaken}` }).click();
      await founder.page.getByRole('button', { name: /Confirm revoke/ }).click();
      await founder.page.getByRole('cell', { name: mistaken, exact: true }).waitFor({ state: 'detached' });

      // Rename; then the MFA policy, which an owner without a second factor may not switch on: the refusal is in words.
      await openTab(founder.page, 'Settings', 'Settings');
      await founder.page.getByLabel('Workspace name', { exact: true }).fill('Orbit Labs');
      await founder.page.getByRole('button', { name: 'Rename workspace' }).click();
      await founder.page.locator('.workspace-name').getByText('Orbit Labs').waitFor();
      await founder.page.getByLabel('Require two-step verification for every member').check();
      await founder.page.getByRole('button', { name: 'Save policy' }).click();
      await founder.page.getByRole('alert').getByText(/two-step verification/i).first().waitFor();

      // The successor joins, and is handed the workspace.
      await openTab(founder.page, 'Invitations', 'Invitations');
      await founder.page.getByLabel('Email address').fill(successor.email);
      await founder.page.getByLabel('Role', { exact: true }).selectOption('admin');
      await founder.page.getByRole('button', { name: 'Send invitation' }).click();
      await founder.page.getByRole('cell', { name: successor.email, exact: true }).waitFor();
      await signUpAndVerify(successor);
      await signIn(successor);
      await heading(successor.page, 'Workspaces');
      await successor.page.goto(await linkFromOutbox(successor.page, successor.email, '/invitations/accept?token='));
      await successor.page.getByRole('button', { name: 'Accept invitation' }).click();
      await heading(successor.page, 'Members');

      await openTab(founder.page, 'Members', 'Members');
      await founder.page.getByLabel('New owner').selectOption({ label: `${successor.name} (${successor.email})` });
      await founder.page.getByRole('button', { name: 'Transfer ownership' }).click();
      await founder.page.getByRole('button', { name: 'Confirm transfer' }).click();
      await founder.page.locator('.workspace-name').getByText('Admin').waitFor();

      // The new owner removes the founder, then deletes the workspace, which takes its exact name.
      await successor.page.reload();
      await successor.page.locator('.workspace-name').getByText('Owner').waitFor();
      await successor.page.getByRole('button', { name: `Remove ${founder.name}` }).click();
      await successor.page.getByRole('button', { name: /Confirm removal/ }).click();
      await successor.page.getByRole('cell', { name: founder.email, exact: true }).waitFor({ state: 'detached' });

      await openTab(successor.page, 'Settings', 'Settings');
      const deleteButton = successor.page.getByRole('button', { name: 'Delete workspace' });
      await successor.page.getByLabel('Type the workspace name to confirm').fill('orbit labs');
      expect(await deleteButton.isDisabled()).toBe(true);
      await successor.page.getByLabel('Type the workspace name to confirm').fill('Orbit Labs');
      await deleteButton.click();
      await heading(successor.page, 'Workspaces');
      await successor.page.getByText('You are not in any workspace yet.').waitFor();

      // The founder, no longer a member, finds nothing there.
      await founder.page.goto(`${origin}/workspaces/${workspaceId}/members`);
      await founder.page.getByRole('alert').getByText(/Not found/).waitFor();

      expectNoPageProblems(founder.problems);
      expectNoPageProblems(successor.problems);
    } finally {
      await founder.close();
      await successor.close();
    }
  }, 120_000);

  it('keeps an account: a new verification link, one session signed out, a password change, a passkey renamed and removed, the authenticator app removed', async () => {
    const person = await newPerson('Lena');
    const otherDevice = await newPerson('Lena');
    otherDevice.email = person.email;
    try {
      // Signed up, not yet verified: the profile says so and sends a new link, which replaces the first.
      await person.page.goto(`${origin}/sign-up`);
      await person.page.getByLabel('Name', { exact: true }).fill(person.name);
      await person.page.getByLabel('Email', { exact: true }).fill(person.email);
      await person.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await person.page.getByRole('button', { name: 'Create account' }).click();
      await person.page.getByRole('heading', { name: 'Check your email' }).waitFor();
      const firstLink = await linkFromOutbox(person.page, person.email, '/verify-email?token=');
      await signIn(person);
      await heading(person.page, 'Workspaces');
      await person.page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Profile' }).click();
      await heading(person.page, 'Profile');
      await person.page.getByText('Not verified', { exact: true }).waitFor();
      await person.page.getByRole('button', { name: 'Send a new verification email' }).click();
      await person.page.getByText(`We sent a new verification link to ${person.email}`).waitFor();
      const newLink = await linkFromOutbox(person.page, person.email, '/verify-email?token=');
      expect(newLink).not.toBe(firstLink);
      await person.page.goto(newLink);
      await person.page.getByRole('button', { name: 'Verify my email' }).click();
      await person.page.getByText('Your email address is verified.').waitFor();
      await person.page.goto(`${origin}/account`);
      await person.page.getByText('Verified', { exact: true }).waitFor();

      // Another device signs in; this one signs that session out, alone.
      await signIn(otherDevice);
      await heading(otherDevice.page, 'Workspaces');
      await person.page.goto(`${origin}/account/sessions`);
      await heading(person.page, 'Sessions');
      await person.page.getByRole('button', { name: /Sign out this session/ }).click();
      await person.page.getByText('You are not signed in anywhere else.').waitFor();
      await otherDevice.page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Sessions' }).click();
      await heading(otherDevice.page, 'Sign in');

      // A new password; the old one no longer signs in.
      await person.page.goto(`${origin}/account`);
      await person.page.getByLabel('Current password').fill(PASSWORD);
      await person.page.getByLabel('New password', { exact: true }).fill(`${PASSWORD}-second`);
      await person.page.getByRole('button', { name: 'Change password' }).click();
      await person.page.getByText(/Your password was changed/).waitFor();
      await signIn(otherDevice);
      await otherDevice.page.getByText('The email or password is not correct.').waitFor();

      // A passkey, renamed, then removed.
      await addPasskeyDevice(person.page);
      await person.page.goto(`${origin}/account/security`);
      await heading(person.page, 'Security');
      await person.page.getByLabel('Passkey name').fill('Desk key');
      await person.page.getByRole('button', { name: 'Add a passkey' }).click();
      await person.page.getByRole('cell', { name: 'Desk key', exact: true }).waitFor();
      await person.page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
      await person.page.getByRole('button', { name: 'Rename passkey Desk key' }).click();
      await person.page.getByLabel('New name for Desk key').fill('Office key');
      await person.page.getByRole('button', { name: 'Save name' }).click();
      await person.page.getByRole('cell', { name: 'Office key', exact: true }).waitFor();
      await person.page.getByRole('button', { name: 'Remove passkey Office key' }).click();
      await person.page.getByRole('button', { name: 'Confirm remove passkey Office key' }).click();
      await person.page.getByText('No passkeys yet.').waitFor();

      // An authenticator app, set up, then removed.
      await awayFromStepBoundary();
      await person.page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      const secret = (await person.page.getByTestId('totp-secret').textContent())!.replace(/\s/g, '');
      const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
      await person.page.getByLabel('Code from the app').fill(totp.generate());
      await person.page.getByRole('button', { name: 'Activate' }).click();
      await person.page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
      await person.page.getByRole('button', { name: 'Remove authenticator app' }).click();
      await person.page.getByRole('button', { name: 'Confirm remove authenticator app' }).click();
      await person.page.getByRole('button', { name: 'Set up an authenticator app' }).waitFor();

      // Each change is in the account's own log.
      await person.page.goto(`${origin}/account/security-log`);
      for (const action of ['account.email_verified', 'account.session_revoked', 'account.password_changed', 'account.passkey_renamed', 'account.passkey_removed', 'account.totp_disabled']) {
        await person.page.getByText(action, { exact: true }).first().waitFor();
      }

      expectNoPageProblems(person.problems);
      expectNoPageProblems(otherDevice.problems);
    } finally {
      await person.close();
      await otherDevice.close();
    }
  }, 120_000);

  it('notices what the journeys must not produce: a CSP violation, an uncaught error, an inaccessible control', async () => {
    // The checks above pass only because nothing happened; this shows they would see it if it did.
    const { context, page, problems } = await openRecordedPage(chromium);
    try {
      await page.goto(`${origin}/sign-in`);
      await heading(page, 'Sign in');
      const scriptWasRefused = await page.evaluate(() => {
        const { document } = globalThis as unknown as {
          document: { createElement(tag: string): { textContent: string; setAttribute(name: string, value: string): void }; body: { append(node: unknown): void } };
        };
        // An inline style (CSP style-src), a script written from a string (Trusted Types), an unlabelled input (axe).
        const style = document.createElement('style');
        style.textContent = 'body { color: red }';
        document.body.append(style);
        let refused = false;
        try {
          document.createElement('script').textContent = 'void 0';
        } catch {
          refused = true;
        }
        const input = document.createElement('input');
        input.setAttribute('type', 'text');
        document.body.append(input);
        setTimeout(() => {
          throw new Error('boom');
        }, 0);
        return refused;
      });
      expect(scriptWasRefused).toBe(true);
      await page.waitForTimeout(200);
      expect(problems.cspViolations.join('\n')).toMatch(/style-src/);
      expect(problems.cspViolations.join('\n')).toMatch(/trusted-types/i);
      expect(problems.uncaughtErrors.join('\n')).toContain('boom');
      await expect(expectAccessible(page, 'tampered sign-in')).rejects.toThrow(/label/);
    } finally {
      await context.close();
    }
  });
});
