/**
 * Bugs the custodian test review found in the rules, each pinned where it was found: locked pairs that
 * other rules went around, shared secret buffers, and an idempotency fingerprint that depended on the
 * order of a request's fields.
 */
import { describe, expect, it } from 'vitest';
import { PK, backupPair, bytes, completeBackup, generate, makeHarness, rawState, recordBackup, recover, walletWithBackup, withLease } from './helpers.js';

const LOCKED = { code: 'PAIR_LOCKED' };

describe('rules regressions', () => {
  it('1. a backup cannot go around a locked backup of its slot', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    await h.rules.lockPair({ walletId, pairId: backup.backupPairId, reason: 'test' });
    const before = await rawState(h.store, walletId);
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a)).rejects.toMatchObject(LOCKED);
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { proofOfCurrentBackup: true })).rejects.toMatchObject(LOCKED);
    expect((await rawState(h.store, walletId)).backupPairs).toEqual(before.backupPairs);
  });

  it('2. a backup cannot complete beside a locked completed backup of its slot', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const next = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { proofOfCurrentBackup: true });
    await h.rules.confirmBackupKey({ walletId, backupPairId: next.backupPairId, idempotencyKey: h.key('k') });
    await h.rules.storeBackupCiphertext({ walletId, backupPairId: next.backupPairId, ciphertext: bytes(1), idempotencyKey: h.key('c') });
    await h.rules.lockPair({ walletId, pairId: backup.backupPairId, reason: 'test' });
    await expect(h.rules.confirmBackup({ walletId, backupPairId: next.backupPairId, idempotencyKey: h.key('b') })).rejects.toMatchObject(LOCKED);
    await h.rules.unlockPair({ walletId, pairId: backup.backupPairId });
    await h.rules.confirmBackup({ walletId, backupPairId: next.backupPairId, idempotencyKey: h.key('b2') });
    expect((await backupPair(h.store, backup.backupPairId))?.status).toBe('SUPERSEDED');
  });

  it('4. only the current pair signs, even if an older one still says STORED_CLIENT', async () => {
    const h = makeHarness();
    const { walletId, signing, backup } = await walletWithBackup(h);
    const next = await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    await h.rules.confirmSigningPair({ walletId, pairId: next.pairId, idempotencyKey: h.key('c') });
    const raw = { kind: 'raw', digest: 'ab'.repeat(32) };
    await expect(h.rules.authorizeSign({ walletId, curve: 'SECP256K1', pairId: signing.pairId, request: raw })).rejects.toMatchObject({ code: 'SHARE_REVOKED' });
    await expect(h.rules.authorizeSign({ walletId, curve: 'SECP256K1', pairId: next.pairId, request: raw })).resolves.toBeDefined();
  });

  it('5. stored and returned secrets are copies: zeroing a buffer changes nothing stored', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const signing = await generate(h, 'w1', 'SECP256K1', PK.a);
    await h.rules.confirmSigningPair({ walletId: 'w1', pairId: signing.pairId, idempotencyKey: h.key('c') });
    const share = bytes(5, 5, 5);
    const b = await recordBackup(h, 'w1', 'SECP256K1', 'PASSWORD', PK.a, { share });
    share.fill(0);
    await completeBackup(h, 'w1', b.backupPairId);
    const raw = { kind: 'raw', digest: 'ab'.repeat(32) };
    (await h.rules.authorizeSign({ walletId: 'w1', curve: 'SECP256K1', pairId: signing.pairId, request: raw })).share.fill(0);
    expect((await h.rules.authorizeSign({ walletId: 'w1', curve: 'SECP256K1', pairId: signing.pairId, request: raw })).share).toEqual(bytes(1, 2, 3));
    const got = await withLease(h, 'w1', 'recover', (lease) => h.rules.backupShareForRecovery({ walletId: 'w1', backupPairId: b.backupPairId, leaseToken: lease.token }));
    got.share!.fill(0);
    const again = await withLease(h, 'w1', 'recover', (lease) => h.rules.backupShareForRecovery({ walletId: 'w1', backupPairId: b.backupPairId, leaseToken: lease.token }));
    expect(again.share).toEqual(bytes(5, 5, 5));
  });

  it('6. an idempotent replay matches whatever the order of the request fields', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const pair = await generate(h, 'w1', 'SECP256K1', PK.a);
    const first = await h.rules.confirmSigningPair({ walletId: 'w1', pairId: pair.pairId, idempotencyKey: 'key-000001' });
    const again = await h.rules.confirmSigningPair({ idempotencyKey: 'key-000001', pairId: pair.pairId, walletId: 'w1' });
    expect(again).toEqual(first);
  });

  it('refuses an empty ciphertext', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const pair = await generate(h, 'w1', 'SECP256K1', PK.a);
    await h.rules.confirmSigningPair({ walletId: 'w1', pairId: pair.pairId, idempotencyKey: h.key('c') });
    const b = await recordBackup(h, 'w1', 'SECP256K1', 'PASSWORD', PK.a);
    await h.rules.confirmBackupKey({ walletId: 'w1', backupPairId: b.backupPairId, idempotencyKey: h.key('k') });
    await expect(h.rules.storeBackupCiphertext({ walletId: 'w1', backupPairId: b.backupPairId, ciphertext: new Uint8Array(0), idempotencyKey: h.key('e') })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
