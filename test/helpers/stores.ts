/**
 * The store the custodian rule tests run on. By default the in-memory reference; with
 * TANDEM_TEST_STORE=sqlite (the `custodian-sqlite` vitest project) the same tests run on SQLite, so both
 * stores are held to one behaviour. Both can fail their next commit on demand, as a database would.
 */
import pg from 'pg';
import { MemoryStore } from '../../src/custodian/memory-store.js';
import type { Store, StoreTx } from '../../src/custodian/store.js';
import { TandemError } from '../../src/errors.js';
import { PostgresStore } from '../../src/server/store/postgres.js';
import { SqliteStore } from '../../src/server/store/sqlite.js';

export type TestStore = Store & { failNextCommit(n?: number): void };

/** SQLite with MemoryStore's fault hook: the transaction's writes are made, then rolled back. */
export class FaultySqliteStore extends SqliteStore {
  private failures = 0;

  failNextCommit(n = 1): void {
    this.failures += n;
  }

  override transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const fail = this.failures > 0;
    if (fail) this.failures--;
    return super.transaction(async (tx) => {
      const result = await fn(tx);
      if (fail) throw new TandemError('INTERNAL', { message: 'The database transaction failed.', details: { injected: true } });
      return result;
    });
  }
}

/** PostgreSQL with the same fault hook; every store gets a schema of its own, dropped by the global teardown. */
export class FaultyPostgresStore extends PostgresStore {
  private failures = 0;

  failNextCommit(n = 1): void {
    this.failures += n;
  }

  override transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const fail = this.failures > 0;
    if (fail) this.failures--;
    return super.transaction(async (tx) => {
      const result = await fn(tx);
      if (fail) throw new TandemError('INTERNAL', { message: 'The database transaction failed.', details: { injected: true } });
      return result;
    });
  }
}

export const TEST_SCHEMA_PREFIX = 'tandem_test_';
export const testPostgresUrl = () => process.env['TANDEM_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A test's own PostgreSQL schema, dropped (and so empty) when `clean()` is called: true when PostgreSQL
 * answered. Unreachable, it fails the run under TANDEM_TEST_POSTGRES=required (CI) and otherwise warns that
 * `what` is skipped and answers false.
 */
export async function cleanTestSchema(schema: string, what: string): Promise<boolean> {
  const url = testPostgresUrl();
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    return true;
  } catch (err) {
    if (process.env['TANDEM_TEST_POSTGRES'] === 'required') throw err;
    console.warn(`PostgreSQL at ${url} is unreachable: ${what} is SKIPPED.`);
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export type TestStoreKind = 'memory' | 'sqlite' | 'postgres';
export const testStoreKind = (): TestStoreKind => {
  const kind = process.env['TANDEM_TEST_STORE'];
  return kind === 'sqlite' || kind === 'postgres' ? kind : 'memory';
};

let schemas = 0;

export function newTestStore(): TestStore {
  switch (testStoreKind()) {
    case 'sqlite':
      return new FaultySqliteStore(':memory:');
    case 'postgres':
      return new FaultyPostgresStore({
        connectionString: testPostgresUrl(),
        schema: `${TEST_SCHEMA_PREFIX}${process.pid}_${++schemas}_${Math.random().toString(36).slice(2, 8)}`,
        maxConnections: 2,
        idleTimeoutMs: 200,
      });
    default:
      return new MemoryStore();
  }
}
