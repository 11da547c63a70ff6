/**
 * Global set-up of the `custodian-postgres` vitest project: the per-store test schemas of this and any
 * earlier run are dropped before and after, so the shared `test` database does not fill up.
 */
import pg from 'pg';
import { TEST_SCHEMA_PREFIX, testPostgresUrl } from './stores.js';

async function dropTestSchemas(): Promise<void> {
  const client = new pg.Client({ connectionString: testPostgresUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`${TEST_SCHEMA_PREFIX}%`]);
    for (const r of rows) await client.query(`DROP SCHEMA ${r.nspname} CASCADE`);
  } finally {
    await client.end();
  }
}

export async function setup(): Promise<void> {
  await dropTestSchemas();
}

export async function teardown(): Promise<void> {
  await dropTestSchemas();
}
