import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyTestDatabase, TEST_DATABASE_KIND } from '../fixtures/database.js';

/** The built CLI, exactly as `npx rampart` runs it (`npm test` builds before testing). */
const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url));

let workDir: string;
let database: Awaited<ReturnType<typeof createEmptyTestDatabase>> | undefined;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/cli/index.js is missing: run `npm run build` first (npm test does)');
  workDir = await mkdtemp(path.join(tmpdir(), 'rampart-cli-'));
  if (TEST_DATABASE_KIND === 'postgres') database = await createEmptyTestDatabase();
});
afterAll(async () => {
  await database?.destroy();
  await rm(workDir, { recursive: true, force: true });
});

/** The environment of a freshly started process: nothing inherited but PATH, so no stray variable leaks in. */
function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'development',
    RAMPART_DATA_DIR: path.join(workDir, 'data'),
    ...(database?.url ? { DATABASE_URL: database.url } : {}),
    ...extra,
  };
}

function runCli(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: workDir, env, encoding: 'utf8', timeout: 60_000 });
}

describe('bad configuration stops the process with one clear line', () => {
  it.each([
    [{ PORT: 'abc' }, /^rampart: invalid configuration: PORT must be an integer from 0 to 65535$/],
    [{ DATABASE_URL: 'not-a-url' }, /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ connection URL/],
    [{ NODE_ENV: 'staging' }, /NODE_ENV must be development, production or test/],
    [{ NODE_ENV: 'production', DATABASE_URL: '', PUBLIC_URL: 'https://app.example' }, /DATABASE_URL is required in production/],
    [{ NODE_ENV: 'production', RAMPART_MASTER_KEY: '' }, /RAMPART_MASTER_KEY is required in production/],
  ])('%j', (env, expected) => {
    const result = runCli(['start'], cliEnv(env));
    expect(result.status).toBe(78);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
    expect(result.stdout).not.toContain('listening');
  });

  it('never repeats a database password in the message', () => {
    const result = runCli(['start'], cliEnv({ DATABASE_URL: 'postgres//admin:hunter2@db:5432/app' }));
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('DATABASE_URL');
    expect(result.stderr).not.toContain('hunter2');
  });

  it('exits non-zero without listening when the database cannot be reached', () => {
    const result = runCli(['start'], cliEnv({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', PORT: '0' }));
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain('listening');
    expect(result.stderr).toMatch(/^rampart: /);
  });
});

describe('rampart migrate and rampart start', () => {
  it('migrates, serves, and shuts down cleanly on SIGTERM', async () => {
    const migrate = runCli(['migrate'], cliEnv());
    expect(migrate.stderr).toBe('');
    expect(migrate.status).toBe(0);
    expect(migrate.stdout).toContain('the database is up to date');

    const child = spawn(process.execPath, [CLI, 'start'], { cwd: workDir, env: cliEnv({ PORT: '0' }) });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${stdout}`)), 45_000);
      child.stdout.on('data', () => {
        const match = /Rampart is listening on (http:\/\/[^"\s]+)/.exec(stdout);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });

    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    // The built console is served at / and its address printed.
    expect(stdout).toMatch(/the console is at http:\/\/localhost:[1-9]\d*\//);
    const consolePage = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
    expect(consolePage.status).toBe(200);
    expect(await consolePage.text()).toContain('<div id="root"></div>');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toContain('shut down cleanly');
  });

  it('keeps the generated development key private (0600) and reuses it', async () => {
    const keyFile = path.join(workDir, 'data', 'master.key');
    const { mode } = await stat(keyFile);
    expect(mode & 0o777).toBe(0o600);
    const again = runCli(['migrate'], cliEnv());
    expect(again.status).toBe(0);
    expect(again.stdout).not.toContain('generated a development master key');
  });
});
