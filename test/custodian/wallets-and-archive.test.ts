import { describe, expect, it } from 'vitest';
import {
  PK,
  T0,
  bytes,
  completedBackup,
  generate,
  generateConfirmed,
  makeHarness,
  rawState,
  walletWithBackup,
} from './helpers.js';

describe('wallets', () => {
  it('creates an empty wallet with the given id', async () => {
    const h = makeHarness();
    const view = await h.rules.createWallet({ walletId: 'w1' });
    expect(view).toEqual({ walletId: 'w1', archived: false, publicKeys: {}, signingPairs: [], backupPairs: [] });
    expect(await h.rules.getWallet('w1')).toEqual(view);
    const raw = await rawState(h.store, 'w1');
    expect(raw.wallet).toEqual({ walletId: 'w1', archived: false, createdAt: T0, epochs: {}, publicKeys: {}, fencingToken: 0 });
  });

  it('names a wallet with newId when no id is given', async () => {
    const h = makeHarness();
    const a = await h.rules.createWallet();
    const b = await h.rules.createWallet();
    expect(a.walletId).toBe('wal_1');
    expect(b.walletId).toBe('wal_2');
  });

  it('refuses to create a wallet twice (INVALID_INPUT) and leaves the first untouched', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    const before = await rawState(h.store, 'w1');
    await expect(h.rules.createWallet({ walletId: 'w1' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await rawState(h.store, 'w1')).toEqual(before);
  });

  it('reports WALLET_NOT_FOUND for an unknown wallet, everywhere', async () => {
    const h = makeHarness();
    const k = h.key();
    const notFound = { code: 'WALLET_NOT_FOUND' };
    await expect(h.rules.getWallet('nope')).rejects.toMatchObject(notFound);
    await expect(h.rules.archiveWallet('nope')).rejects.toMatchObject(notFound);
    await expect(h.rules.acquireLease({ walletId: 'nope', operation: 'generate', holder: 'x' })).rejects.toMatchObject(notFound);
    await expect(h.rules.confirmSigningPair({ walletId: 'nope', pairId: 'sig_1', idempotencyKey: k })).rejects.toMatchObject(notFound);
    await expect(
      h.rules.recordGeneratedPair({ walletId: 'nope', curve: 'ED25519', leaseToken: 1, publicKey: PK.ed, custodianShare: bytes(1), idempotencyKey: k }),
    ).rejects.toMatchObject(notFound);
    await expect(h.rules.lockPair({ walletId: 'nope', pairId: 'sig_1', reason: 'r' })).rejects.toMatchObject(notFound);
    await expect(h.rules.unlockPair({ walletId: 'nope', pairId: 'sig_1' })).rejects.toMatchObject(notFound);
    await expect(h.rules.grantStepUp({ walletId: 'nope', method: 'PASSWORD', ttlMs: 1000 })).rejects.toMatchObject(notFound);
    await expect(
      h.rules.authorizeSign({ walletId: 'nope', curve: 'ED25519', pairId: 'sig_1', request: { kind: 'raw', digest: '00' } }),
    ).rejects.toMatchObject(notFound);
    // releasing a lease on an unknown wallet is a harmless no-op
    await expect(h.rules.releaseLease({ walletId: 'nope', token: 1 })).resolves.toBeUndefined();
  });

  it('keeps wallets apart: pairs of one wallet are PAIR_NOT_FOUND through another', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await h.rules.createWallet({ walletId: 'w2' });
    const pair = await generate(h, 'w1', 'SECP256K1', PK.a);
    await expect(h.rules.confirmSigningPair({ walletId: 'w2', pairId: pair.pairId, idempotencyKey: h.key() })).rejects.toMatchObject({
      code: 'PAIR_NOT_FOUND',
    });
    await expect(h.rules.lockPair({ walletId: 'w2', pairId: pair.pairId, reason: 'r' })).rejects.toMatchObject({ code: 'PAIR_NOT_FOUND' });
    expect((await h.rules.getWallet('w2')).signingPairs).toEqual([]);
    expect((await h.rules.getWallet('w1')).signingPairs).toHaveLength(1);
  });

  it('getWallet reports pairs in creation order, with public data only', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const s = await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    h.clock.advance(1);
    const e = await generateConfirmed(h, 'w1', 'ED25519', PK.ed);
    h.clock.advance(1);
    const b = await completedBackup(h, 'w1', 'ED25519', 'PASSKEY', PK.ed);
    const view = await h.rules.getWallet('w1');
    expect(view.publicKeys).toEqual({ SECP256K1: PK.a, ED25519: PK.ed });
    expect(view.signingPairs.map((p) => p.pairId)).toEqual([s.pairId, e.pairId]);
    expect(view.backupPairs.map((p) => p.backupPairId)).toEqual([b.backupPairId]);
    const json = JSON.stringify(view);
    expect(json).not.toMatch(/custodianShare|custodianBackupShare|ciphertext|fencingToken/);
    for (const p of view.signingPairs) expect(Object.keys(p).sort()).toEqual(['createdAt', 'curve', 'epoch', 'pairId', 'publicKey', 'status']);
  });
});

describe('archive', () => {
  it('marks the wallet archived, drops its lease and is repeatable', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    const view = await h.rules.archiveWallet('w1');
    expect(view.archived).toBe(true);
    expect((await rawState(h.store, 'w1')).lease).toBeUndefined();
    expect((await h.rules.archiveWallet('w1')).archived).toBe(true);
    expect((await h.rules.getWallet('w1')).archived).toBe(true);
  });

  it('refuses every later operation with WALLET_ARCHIVED and changes nothing', async () => {
    const h = makeHarness();
    const { walletId, signing, backup } = await walletWithBackup(h);
    const lease = await h.rules.acquireLease({ walletId, operation: 'backup', holder: 'a' });
    await h.rules.archiveWallet(walletId);
    const before = await rawState(h.store, walletId);
    const archived = { code: 'WALLET_ARCHIVED' };
    const r = h.rules;
    await expect(r.acquireLease({ walletId, operation: 'generate', holder: 'b' })).rejects.toMatchObject(archived);
    await expect(
      r.recordGeneratedPair({ walletId, curve: 'ED25519', leaseToken: lease.token, publicKey: PK.ed, custodianShare: bytes(1), idempotencyKey: h.key() }),
    ).rejects.toMatchObject(archived);
    await expect(r.confirmSigningPair({ walletId, pairId: signing.pairId, idempotencyKey: h.key() })).rejects.toMatchObject(archived);
    await expect(r.authorizeSign({ walletId, curve: 'SECP256K1', pairId: signing.pairId, request: { kind: 'raw', digest: 'ab' } })).rejects.toMatchObject(archived);
    await expect(r.authorizeRecovery({ walletId, curve: 'SECP256K1', backupPairId: backup.backupPairId })).rejects.toMatchObject(archived);
    await expect(r.backupShareForRecovery({ walletId, backupPairId: backup.backupPairId, leaseToken: lease.token })).rejects.toMatchObject(archived);
    await expect(
      r.recordRecoveredPair({
        walletId,
        curve: 'SECP256K1',
        leaseToken: lease.token,
        backupPairId: backup.backupPairId,
        publicKey: PK.a,
        custodianShare: bytes(1),
        idempotencyKey: h.key(),
      }),
    ).rejects.toMatchObject(archived);
    await expect(r.signingShareForBackup({ walletId, curve: 'SECP256K1', leaseToken: lease.token })).rejects.toMatchObject(archived);
    await expect(
      r.recordBackupPair({
        walletId,
        curve: 'SECP256K1',
        method: 'PASSKEY',
        leaseToken: lease.token,
        publicKey: PK.a,
        custodianBackupShare: bytes(1),
        idempotencyKey: h.key(),
      }),
    ).rejects.toMatchObject(archived);
    await expect(r.confirmBackupKey({ walletId, backupPairId: backup.backupPairId, idempotencyKey: h.key() })).rejects.toMatchObject(archived);
    await expect(
      r.storeBackupCiphertext({ walletId, backupPairId: backup.backupPairId, ciphertext: bytes(7, 7, 7, 7), idempotencyKey: h.key() }),
    ).rejects.toMatchObject(archived);
    await expect(r.fetchBackupCiphertext({ walletId, backupPairId: backup.backupPairId })).rejects.toMatchObject(archived);
    await expect(r.confirmBackup({ walletId, backupPairId: backup.backupPairId, idempotencyKey: h.key() })).rejects.toMatchObject(archived);
    await expect(r.grantStepUp({ walletId, method: 'PASSWORD', ttlMs: 1000 })).rejects.toMatchObject(archived);
    expect(await rawState(h.store, walletId)).toEqual(before);
  });

  it('archiving one wallet leaves the others working', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await h.rules.createWallet({ walletId: 'w2' });
    await h.rules.archiveWallet('w1');
    const pair = await generateConfirmed(h, 'w2', 'ED25519', PK.ed);
    expect(pair.status).toBe('STORED_CLIENT');
  });
});
