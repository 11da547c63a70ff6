import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'all', include: ['test/**/*.test.ts'] } },
      // The custodian rules again, on SQLite instead of the in-memory store: one behaviour for both.
      { extends: true, test: { name: 'custodian-sqlite', include: ['test/custodian/**/*.test.ts'], env: { TANDEM_TEST_STORE: 'sqlite' } } },
    ],
  },
});
