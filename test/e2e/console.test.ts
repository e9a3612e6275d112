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
import { Secret, TOTP } from 'otpauth';
import type { Browser as Chromium, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../fixtures/app.js';
import { addPasskeyDevice, launchChromium } from '../fixtures/browser.js';
import { expectNoPageProblems, inspectScreen, openRecordedPage, startConsoleServer, type PageProblems } from '../fixtures/console.js';

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
        const key = (await shownKey.textContent())!.trim();
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

        expectNoPageProblems(owner.problems);
        expectNoPageProblems(member.problems);
      } finally {
        await owner.close();
        await member.close();
      }
    },
    180_000,
  );

  it('enrols an authenticator app by reading its secret off the page, then signs in with a code from it', async () => {
    const person = await newPerson('Tamsin');
    try {
      await signUpAndVerify(person);
      await signIn(person);
      await heading(person.page, 'Workspaces');

      await person.page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Security', exact: true }).click();
      await heading(person.page, 'Security');
      await inspectScreen(person.page, 'security');
      await person.page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      await person.page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
      const secret = (await person.page.getByTestId('totp-secret').textContent())!.replace(/\s/g, '');
      await inspectScreen(person.page, 'totp-enrolment');
      const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });

      await person.page.getByLabel('Code from the app').fill(totp.generate());
      await person.page.getByRole('button', { name: 'Activate' }).click();
      const codes = person.page.getByLabel('Recovery codes');
      await codes.waitFor();
      expect((await codes.textContent())!.trim().split('\n')).toHaveLength(10);
      await inspectScreen(person.page, 'recovery-codes');
      await person.page.getByRole('button', { name: 'I have saved my recovery codes' }).click();

      // Sign out, and back in: the password alone is not enough any more.
      await person.page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(person);
      await person.page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      await inspectScreen(person.page, 'sign-in-second-step');
      // The enrolment used this step's code, and a code is good once: take the next step's (the server allows one step of drift).
      await person.page.getByLabel('Authentication code').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
      await person.page.getByRole('button', { name: 'Verify' }).click();
      await heading(person.page, 'Workspaces');

      expectNoPageProblems(person.problems);
    } finally {
      await person.close();
    }
  }, 120_000);

  it('registers a passkey with the virtual authenticator and signs in with it alone', async () => {
    const person = await newPerson('Priya');
    try {
      const device = await addPasskeyDevice(person.page);
      await signUpAndVerify(person);
      await signIn(person);
      await heading(person.page, 'Workspaces');

      await person.page.goto(`${origin}/account/security`);
      await heading(person.page, 'Security');
      await person.page.getByLabel('Passkey name').fill('Work laptop');
      await person.page.getByRole('button', { name: 'Add a passkey' }).click();
      await person.page.getByRole('cell', { name: 'Work laptop', exact: true }).waitFor();
      expect(await device.credentials()).toHaveLength(1);
      await person.page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
      await inspectScreen(person.page, 'passkeys');

      await person.page.getByRole('button', { name: 'Sign out' }).click();
      await heading(person.page, 'Sign in');
      await person.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await heading(person.page, 'Workspaces');
      await person.page.getByRole('navigation', { name: 'Account' }).getByText(person.name).waitFor();

      expectNoPageProblems(person.problems);
    } finally {
      await person.close();
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
});
