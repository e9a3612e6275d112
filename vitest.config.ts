import { defineConfig } from 'vitest/config';

/**
 * Three projects: pure unit tests beside the code, and the integration and security suites — once
 * on the embedded database (always) and once on the Postgres server of DATABASE_URL (when set).
 * CI sets DATABASE_URL, so the real-server run cannot be skipped there silently.
 */
const databaseSuites = ['test/integration/**/*.test.ts', 'test/security/**/*.test.ts'];
/** Suites about the real server's pool: nothing to test on the embedded database. */
const postgresOnlySuites = ['test/integration/postgres-*.test.ts'];

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
    ],
  },
});
