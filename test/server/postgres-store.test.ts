/**
 * PostgresStore on a real PostgreSQL: serialisation conflicts are retried, and a conflict that outlasts the
 * retries is a retryable STORE_BUSY with nothing changed, not an INTERNAL. Runs when PostgreSQL answers;
 * with TANDEM_TEST_POSTGRES=required (CI) an unreachable server fails the run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustodianRules } from '../../src/custodian/rules.js';
import { PostgresStore } from '../../src/server/store/postgres.js';
import { cleanTestSchema, TEST_SCHEMA_PREFIX, testPostgresUrl } from '../helpers/stores.js';

const url = testPostgresUrl();
const schema = `${TEST_SCHEMA_PREFIX}pgstore_${process.pid}`;
let store: PostgresStore | null = null;

beforeAll(async () => {
  if (!(await cleanTestSchema(schema, 'the PostgresStore test'))) return;
  store = new PostgresStore({ connectionString: url, schema });
  await store.whenReady();
});

afterAll(async () => {
  if (!store) return;
  await store.close();
  await cleanTestSchema(schema, 'dropping its schema');
});

/** What PostgreSQL reports for a SERIALIZABLE transaction that lost a conflict. */
const serializationFailure = () => Object.assign(new Error('could not serialize access due to read/write dependencies among transactions'), { code: '40001' });

describe('PostgresStore', () => {
  it('retries a serialisation failure, and one that outlasts the retries is STORE_BUSY with nothing changed', async (ctx) => {
    if (!store) return ctx.skip();
    const rules = new CustodianRules({ store });
    let attempts = 0;
    // Fails twice, then commits: the caller never sees the conflicts.
    await store.transaction(async (tx) => {
      attempts++;
      await tx.putWallet({ walletId: 'w-retried', archived: false, createdAt: 1, epochs: {}, publicKeys: {}, fencingToken: 0 });
      if (attempts < 3) throw serializationFailure();
    });
    expect(attempts).toBe(3);
    expect(await rules.getWallet('w-retried')).toMatchObject({ walletId: 'w-retried' });

    attempts = 0;
    const failing = store.transaction(async (tx) => {
      attempts++;
      await tx.putWallet({ walletId: 'w-never', archived: false, createdAt: 1, epochs: {}, publicKeys: {}, fencingToken: 0 });
      throw serializationFailure();
    });
    await expect(failing).rejects.toMatchObject({ code: 'STORE_BUSY', details: { reason: 'contention' } });
    expect(attempts).toBe(8);
    await expect(rules.getWallet('w-never')).rejects.toMatchObject({ code: 'WALLET_NOT_FOUND' });
  });
});
