import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/custodian/memory-store.js';
import { PostgresStore } from '../../src/server/store/postgres.js';
import { SqliteStore } from '../../src/server/store/sqlite.js';
import { newTestStore, testStoreKind } from '../helpers/stores.js';
import { makeHarness } from './helpers.js';

describe('the store under the custodian rule tests', () => {
  it('is the one this vitest project names', () => {
    const expected = { memory: MemoryStore, sqlite: SqliteStore, postgres: PostgresStore }[testStoreKind()];
    expect(newTestStore()).toBeInstanceOf(expected);
    expect(makeHarness().store).toBeInstanceOf(expected);
  });
});
