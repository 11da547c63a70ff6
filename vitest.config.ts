import pg from 'pg';
import { defineConfig, type TestProjectConfiguration } from 'vitest/config';

/**
 * Projects: every test once; the custodian rule tests again on SQLite; and again on PostgreSQL when a
 * server answers. With TANDEM_TEST_POSTGRES=required (CI) an unreachable server fails the run instead of
 * skipping the project; without it, the skip is said out loud.
 */
async function postgresProject(): Promise<TestProjectConfiguration[]> {
  const url = process.env['TANDEM_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const required = process.env['TANDEM_TEST_POSTGRES'] === 'required';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
  } catch (err) {
    if (required) throw new Error(`TANDEM_TEST_POSTGRES=required but PostgreSQL at ${url} is unreachable: ${(err as Error).message}`);
    console.warn(`PostgreSQL at ${url} is unreachable: the custodian-postgres tests are SKIPPED (set TANDEM_TEST_POSTGRES=required to fail instead).`);
    return [];
  }
  return [
    {
      extends: true,
      test: {
        name: 'custodian-postgres',
        include: ['test/custodian/**/*.test.ts'],
        env: { TANDEM_TEST_STORE: 'postgres', TANDEM_TEST_PG_URL: url },
        globalSetup: ['test/helpers/postgres-setup.ts'],
      },
    },
  ];
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'all', include: ['test/**/*.test.ts'] } },
      // The custodian rules again, on SQLite instead of the in-memory store: one behaviour for every store.
      { extends: true, test: { name: 'custodian-sqlite', include: ['test/custodian/**/*.test.ts'], env: { TANDEM_TEST_STORE: 'sqlite' } } },
      ...(await postgresProject()),
    ],
  },
});
