/**
 * The store the custodian rule tests run on. By default the in-memory reference; with
 * TANDEM_TEST_STORE=sqlite (the `custodian-sqlite` vitest project) the same tests run on SQLite, so both
 * stores are held to one behaviour. Both can fail their next commit on demand, as a database would.
 */
import { MemoryStore } from '../../src/custodian/memory-store.js';
import type { Store, StoreTx } from '../../src/custodian/store.js';
import { TandemError } from '../../src/errors.js';
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

export const testStoreKind = (): 'memory' | 'sqlite' => (process.env['TANDEM_TEST_STORE'] === 'sqlite' ? 'sqlite' : 'memory');

export function newTestStore(): TestStore {
  return testStoreKind() === 'sqlite' ? new FaultySqliteStore(':memory:') : new MemoryStore();
}
