import { describe, expect, it } from 'vitest';
import { CustodianRules } from '../../src/custodian/rules.js';
import { newTestStore, testStoreKind, type TestStore } from '../helpers/stores.js';
import type { Store, StoreTx } from '../../src/custodian/store.js';
import {
  PK,
  T0,
  bytes,
  generate,
  makeHarness,
  rawState,
  recordBackup,
  walletWithBackup,
  type Harness,
} from './helpers.js';

/** Every state-changing call, tried under an injected commit failure: nothing may change. */
async function expectAtomic(h: Harness, walletId: string, call: () => Promise<unknown>) {
  const view = await h.rules.getWallet(walletId);
  const raw = await rawState(h.store, walletId);
  h.store.failNextCommit();
  await expect(call()).rejects.toMatchObject({ code: 'INTERNAL', details: { injected: true } });
  expect(await h.rules.getWallet(walletId)).toEqual(view);
  expect(await rawState(h.store, walletId)).toEqual(raw);
}

describe('a failed transaction changes nothing', () => {
  it('createWallet', async () => {
    const h = makeHarness();
    h.store.failNextCommit();
    await expect(h.rules.createWallet({ walletId: 'w1' })).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(h.rules.getWallet('w1')).rejects.toMatchObject({ code: 'WALLET_NOT_FOUND' });
    await expect(h.rules.createWallet({ walletId: 'w1' })).resolves.toMatchObject({ walletId: 'w1' });
  });

  it('acquireLease: no lease, no token burnt', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await expectAtomic(h, 'w1', () => h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' }));
    await expect(h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' })).resolves.toMatchObject({ token: 1 });
  });

  it('recordGeneratedPair and confirmSigningPair; a retry with the same key then applies once', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const old = await generate(h, 'w1', 'SECP256K1', PK.a);
    const lease = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    const args = { walletId: 'w1', curve: 'SECP256K1' as const, leaseToken: lease.token, publicKey: PK.b, custodianShare: bytes(2), idempotencyKey: 'gen-atomic-1' };
    // the failed generate would have superseded `old` and bumped the epoch
    await expectAtomic(h, 'w1', () => h.rules.recordGeneratedPair(args));
    const pair = await h.rules.recordGeneratedPair(args);
    expect(pair.epoch).toBe(2);
    expect((await h.rules.getWallet('w1')).signingPairs.map((p) => p.status)).toEqual(['SUPERSEDED', 'STORED_DATABASE']);
    expect(old.epoch).toBe(1);
    const confirm = { walletId: 'w1', pairId: pair.pairId, idempotencyKey: 'conf-atomic-1' };
    await expectAtomic(h, 'w1', () => h.rules.confirmSigningPair(confirm));
    expect((await h.rules.getWallet('w1')).publicKeys).toEqual({});
    await expect(h.rules.confirmSigningPair(confirm)).resolves.toMatchObject({ status: 'STORED_CLIENT' });
  });

  it('recordRecoveredPair (no suspend without its new pair) and the confirm (no supersede)', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const lease = await h.rules.acquireLease({ walletId, operation: 'recover', holder: 'a' });
    const args = {
      walletId,
      curve: 'SECP256K1' as const,
      leaseToken: lease.token,
      backupPairId: backup.backupPairId,
      publicKey: PK.a,
      custodianShare: bytes(6),
      idempotencyKey: 'rec-atomic-1',
    };
    await expectAtomic(h, walletId, () => h.rules.recordRecoveredPair(args));
    const pair = await h.rules.recordRecoveredPair(args);
    await expectAtomic(h, walletId, () => h.rules.confirmSigningPair({ walletId, pairId: pair.pairId, idempotencyKey: 'conf-atomic-2' }));
    expect((await h.rules.getWallet(walletId)).signingPairs.map((p) => p.status)).toEqual(['SUSPENDED', 'STORED_DATABASE']);
  });

  it('every backup step, the step-up grant and its consumption', async () => {
    const h = makeHarness();
    const { walletId } = await walletWithBackup(h);
    await expectAtomic(h, walletId, () => h.rules.grantStepUp({ walletId, method: 'PASSWORD', ttlMs: 10_000 }));
    await h.rules.grantStepUp({ walletId, method: 'PASSWORD', ttlMs: 10_000 });
    const lease = await h.rules.acquireLease({ walletId, operation: 'backup', holder: 'a' });
    const args = {
      walletId,
      curve: 'SECP256K1' as const,
      method: 'PASSWORD' as const,
      leaseToken: lease.token,
      publicKey: PK.a,
      custodianBackupShare: bytes(1),
      idempotencyKey: 'bkp-atomic-1',
    };
    // the failed commit must not have superseded anything nor recorded its key
    await expectAtomic(h, walletId, () => h.rules.recordBackupPair(args));
    const b = await h.rules.recordBackupPair(args);
    await h.rules.releaseLease({ walletId, token: lease.token });
    const id = b.backupPairId;
    await expectAtomic(h, walletId, () => h.rules.confirmBackupKey({ walletId, backupPairId: id, idempotencyKey: h.key() }));
    await h.rules.confirmBackupKey({ walletId, backupPairId: id, idempotencyKey: h.key() });
    await expectAtomic(h, walletId, () => h.rules.storeBackupCiphertext({ walletId, backupPairId: id, ciphertext: bytes(1, 1), idempotencyKey: h.key() }));
    await h.rules.storeBackupCiphertext({ walletId, backupPairId: id, ciphertext: bytes(1, 1), idempotencyKey: h.key() });
    // the failed confirm must not have superseded the old completed backup
    await expectAtomic(h, walletId, () => h.rules.confirmBackup({ walletId, backupPairId: id, idempotencyKey: h.key() }));
    await h.rules.confirmBackup({ walletId, backupPairId: id, idempotencyKey: h.key() });
  });

  it('lock, unlock and archive', async () => {
    const h = makeHarness();
    const { walletId, signing } = await walletWithBackup(h);
    await expectAtomic(h, walletId, () => h.rules.lockPair({ walletId, pairId: signing.pairId, reason: 'x' }));
    await h.rules.lockPair({ walletId, pairId: signing.pairId, reason: 'x' });
    await expectAtomic(h, walletId, () => h.rules.unlockPair({ walletId, pairId: signing.pairId }));
    await h.rules.acquireLease({ walletId, operation: 'backup', holder: 'a' });
    await expectAtomic(h, walletId, () => h.rules.archiveWallet(walletId));
    expect((await rawState(h.store, walletId)).lease).toBeDefined();
  });

  it('a store error in the middle of a rule (after some writes) leaves nothing half-written', async () => {
    // a store whose n-th write inside a transaction throws, as a database error would mid-way
    const inner = newTestStore();
    let failAtWrite = 0;
    const store: Store = {
      transaction: (fn) =>
        inner.transaction((tx) => {
          let writes = 0;
          const maybeFail = () => {
            if (failAtWrite > 0 && ++writes === failAtWrite) {
              failAtWrite = 0;
              throw new Error('disk full');
            }
          };
          const wrapped: StoreTx = {
            ...tx,
            putWallet: async (w) => (maybeFail(), tx.putWallet(w)),
            putSigningPair: async (p) => (maybeFail(), tx.putSigningPair(p)),
            putBackupPair: async (b) => (maybeFail(), tx.putBackupPair(b)),
            putIdempotency: async (r) => (maybeFail(), tx.putIdempotency(r)),
          };
          return fn(wrapped);
        }),
    };
    let n = 0;
    const rules = new CustodianRules({ store, clock: () => T0, newId: (p) => `${p}_${++n}` });
    const h: Harness = { rules, store: inner, clock: { now: T0, advance: () => undefined }, key: (l = 'k') => `idem-${l}-${String(++n).padStart(4, '0')}` };
    const { walletId, backup } = await walletWithBackup(h);
    const lease = await rules.acquireLease({ walletId, operation: 'recover', holder: 'a' });
    const args = {
      walletId,
      curve: 'SECP256K1' as const,
      leaseToken: lease.token,
      backupPairId: backup.backupPairId,
      publicKey: PK.a,
      custodianShare: bytes(6),
      idempotencyKey: 'rec-midway-1',
    };
    // writes: suspend the current pair, bump the epoch, put the new pair, put the idempotency record
    for (const at of [2, 3, 4]) {
      const raw = await rawState(inner, walletId);
      failAtWrite = at;
      await expect(rules.recordRecoveredPair(args)).rejects.toThrow('disk full');
      expect(await rawState(inner, walletId)).toEqual(raw);
    }
    const pair = await rules.recordRecoveredPair(args);
    expect(pair.epoch).toBe(2);
    expect((await rules.getWallet(walletId)).signingPairs.map((p) => p.status)).toEqual(['SUSPENDED', 'STORED_DATABASE']);
  });
});

describe('transactions are serialised', () => {
  /** A store that counts how many transaction bodies run at once. */
  function countingStore(inner: TestStore) {
    let active = 0;
    let maxActive = 0;
    const store: Store = {
      transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
        return inner.transaction(async (tx) => {
          active++;
          maxActive = Math.max(maxActive, active);
          try {
            // yield a few times so an interleaving would show
            for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
            return await fn(tx);
          } finally {
            active--;
          }
        });
      },
    };
    return { store, maxActive: () => maxActive };
  }

  it('many concurrent calls behave as if run one at a time', async () => {
    const inner = newTestStore();
    const { store, maxActive } = countingStore(inner);
    let n = 0;
    const rules = new CustodianRules({ store, clock: () => T0, newId: (p) => `${p}_${++n}` });
    await rules.createWallet({ walletId: 'w1' });
    const lease = await rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        rules.recordGeneratedPair({
          walletId: 'w1',
          curve: 'SECP256K1',
          leaseToken: lease.token,
          publicKey: PK.a,
          custodianShare: bytes(i),
          idempotencyKey: `concurrent-${i}`,
        }),
      ),
    );
    // In-process stores run bodies one at a time; PostgreSQL runs them concurrently under SERIALIZABLE
    // (retrying the losers), and the outcome below must be the same.
    if (testStoreKind() !== 'postgres') expect(maxActive()).toBe(1);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const epochs = results.map((r) => (r.status === 'fulfilled' ? r.value.epoch : -1));
    // each generate saw the previous one: distinct epochs 1..10, one survivor
    expect([...epochs].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const view = await rules.getWallet('w1');
    expect(view.signingPairs.filter((p) => p.status === 'STORED_DATABASE')).toHaveLength(1);
    expect(view.signingPairs.filter((p) => p.status === 'SUPERSEDED')).toHaveLength(9);
  });

  it('concurrent acquires: exactly one wins, the others are OPERATION_IN_PROGRESS', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => h.rules.acquireLease({ walletId: 'w1', operation: 'backup', holder: `h${i}` })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((r) => (r.reason as { code: string }).code)).toEqual(Array(5).fill('OPERATION_IN_PROGRESS'));
  });

  it('the same idempotency key sent twice at once applies once', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const lease = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    const args = { walletId: 'w1', curve: 'ED25519' as const, leaseToken: lease.token, publicKey: PK.ed, custodianShare: bytes(1), idempotencyKey: 'twice-at-once' };
    const [a, b] = await Promise.all([h.rules.recordGeneratedPair(args), h.rules.recordGeneratedPair(args)]);
    expect(a).toEqual(b);
    expect((await h.rules.getWallet('w1')).signingPairs).toHaveLength(1);
  });

  it('a confirm of the replacement racing a retried confirm of the old backup leaves exactly one completed', async () => {
    for (const order of ['new-first', 'old-first'] as const) {
      const h = makeHarness();
      const { walletId, backup } = await walletWithBackup(h);
      const b1 = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { proofOfCurrentBackup: true });
      await h.rules.confirmBackupKey({ walletId, backupPairId: b1.backupPairId, idempotencyKey: h.key() });
      await h.rules.storeBackupCiphertext({ walletId, backupPairId: b1.backupPairId, ciphertext: bytes(1), idempotencyKey: h.key() });
      const confirmNew = () => h.rules.confirmBackup({ walletId, backupPairId: b1.backupPairId, idempotencyKey: h.key() });
      const confirmOld = () => h.rules.confirmBackup({ walletId, backupPairId: backup.backupPairId, idempotencyKey: h.key() });
      const [first, second] = order === 'new-first' ? [confirmNew(), confirmOld()] : [confirmOld(), confirmNew()];
      const results = await Promise.allSettled([first, second]);
      if (order === 'new-first') {
        // the old one was superseded by the time its confirm ran
        expect(results[0]?.status).toBe('fulfilled');
        expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'STATE_INVALID' } });
      } else {
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      }
      const done = (await h.rules.getWallet(walletId)).backupPairs.filter((b) => b.status === 'STORED_CLIENT_BACKUP_SHARE');
      expect(done.map((b) => b.backupPairId)).toEqual([b1.backupPairId]);
    }
  });

  it('an injected failure hits only the next transaction in the queue', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await h.rules.createWallet({ walletId: 'w2' });
    h.store.failNextCommit();
    const [a, b] = await Promise.allSettled([
      h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' }),
      h.rules.acquireLease({ walletId: 'w2', operation: 'generate', holder: 'b' }),
    ]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('fulfilled');
    expect((await rawState(h.store, 'w1')).lease).toBeUndefined();
    expect((await rawState(h.store, 'w2')).lease).toBeDefined();
  });

  it('failNextCommit(n) fails the next n transactions', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    h.store.failNextCommit(2);
    await expect(generate(h, 'w1', 'SECP256K1', PK.a)).rejects.toMatchObject({ code: 'INTERNAL' }); // acquire fails
    await expect(h.rules.getWallet('w1')).rejects.toMatchObject({ code: 'INTERNAL' }); // a read fails too
    const p = await generate(h, 'w1', 'SECP256K1', PK.a);
    expect(p.epoch).toBe(1);
  });
});
