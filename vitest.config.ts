import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Four projects: pure unit tests beside the code, the integration and security suites — once on the
 * embedded database (always) and once on the Postgres server of DATABASE_URL (when set) — and the
 * browser suite, which drives the console and real passkey ceremonies in Chromium (when installed, or
 * in CI). CI sets DATABASE_URL and CI, so neither the real-server run nor the browser run can be
 * skipped there silently.
 */
const databaseSuites = ['test/integration/**/*.test.ts', 'test/security/**/*.test.ts'];
/** Suites about the real server's pool: nothing to test on the embedded database. */
const postgresOnlySuites = ['test/integration/postgres-*.test.ts'];
/** Same default as test/fixtures/browser.ts; without the browser, CI fails in the suite rather than skipping it. */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const runBrowserSuite = existsSync(chromiumPath) || Boolean(process.env.CI);
/** Vitest evaluates this file once more per inline project: say it once per process. */
const noteShown = Symbol.for('rampart.vitest.browserSuiteNote');
const noteState = globalThis as { [noteShown]?: true };
if (!runBrowserSuite && !noteState[noteShown]) {
  noteState[noteShown] = true;
  process.stderr.write(
    `vitest: browser suite (test/e2e) not run: no Chromium at ${chromiumPath}; ` +
      'install it with `sudo apt-get install chromium` or set CHROMIUM_PATH\n',
  );
}

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true as const, test: { name: 'unit', include: ['src/**/*.test.ts', 'test/docs/**/*.test.ts'] } },
      {
        extends: true as const,
        test: {
          name: 'embedded',
          include: databaseSuites,
          exclude: postgresOnlySuites,
          env: { RAMPART_TEST_DATABASE: 'embedded' },
        },
      },
      ...(process.env.DATABASE_URL
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: databaseSuites,
                env: { RAMPART_TEST_DATABASE: 'postgres' },
              },
            },
          ]
        : []),
      ...(runBrowserSuite
        ? [
            {
              extends: true as const,
              test: {
                name: 'browser',
                include: ['test/e2e/**/*.test.ts'],
                env: { RAMPART_TEST_DATABASE: 'embedded' },
                testTimeout: 60_000,
              },
            },
          ]
        : []),
    ],
  },
});
