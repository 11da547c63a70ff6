import { describe, expect, it } from 'vitest';
import {
  PK,
  backupPair,
  bytes,
  completeBackup,
  generate,
  makeHarness,
  rawState,
  recordBackup,
  recover,
  signingPair,
  statusOf,
  walletWithBackup,
  withLease,
} from './helpers.js';

const LOCKED = { code: 'PAIR_LOCKED' };
const raw = { kind: 'raw', digest: 'ab'.repeat(32) };

describe('lock and unlock of signing pairs', () => {
  it('lock remembers the status; unlock restores it', async () => {
    const h = makeHarness();
    const { walletId, signing } = await walletWithBackup(h);
    h.clock.advance(7);
    await h.rules.lockPair({ walletId, pairId: signing.pairId, reason: 'impossible travel' });
    const rec = await signingPair(h.store, signing.pairId);
    expect(rec).toMatchObject({ status: 'LOCKED', lockedFrom: 'STORED_CLIENT', updatedAt: signing.createdAt + 7 });
    // the share is kept: an unlock must be able to bring the pair back
    expect(rec?.custodianShare).not.toBeNull();
    await h.rules.unlockPair({ walletId, pairId: signing.pairId });
    const back = await signingPair(h.store, signing.pairId);
    expect(back?.status).toBe('STORED_CLIENT');
    expect(back && 'lockedFrom' in back).toBe(false);
    await expect(h.rules.authorizeSign({ walletId, curve: 'SECP256K1', pairId: signing.pairId, request: raw })).resolves.toBeDefined();
  });

  it('locking twice keeps the first lockedFrom; unlocking an unlocked pair is a no-op', async () => {
    const h = makeHarness();
    const { walletId, signing } = await walletWithBackup(h);
    await h.rules.lockPair({ walletId, pairId: signing.pairId, reason: 'a' });
    await h.rules.lockPair({ walletId, pairId: signing.pairId, reason: 'b' });
    expect((await signingPair(h.store, signing.pairId))?.lockedFrom).toBe('STORED_CLIENT');
    await h.rules.unlockPair({ walletId, pairId: signing.pairId });
    const before = await rawState(h.store, walletId);
    await h.rules.unlockPair({ walletId, pairId: signing.pairId });
    expect(await rawState(h.store, walletId)).toEqual(before);
  });

  it('only a STORED_CLIENT signing pair can be locked: pending, suspended and superseded ones are refused', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const old = await generate(h, 'w1', 'SECP256K1', PK.a);
    const pending = await generate(h, 'w1', 'SECP256K1', PK.a);
    const before = await rawState(h.store, 'w1');
    await expect(h.rules.lockPair({ walletId: 'w1', pairId: old.pairId, reason: 'x' })).rejects.toMatchObject({ code: 'STATE_INVALID' });
    await expect(h.rules.lockPair({ walletId: 'w1', pairId: pending.pairId, reason: 'x' })).rejects.toMatchObject({ code: 'STATE_INVALID' });
    expect(await rawState(h.store, 'w1')).toEqual(before);
    await h.rules.unlockPair({ walletId: 'w1', pairId: old.pairId });
    expect(await statusOf(h, 'w1', old.pairId)).toBe('SUPERSEDED');

    const { walletId, signing, backup } = await walletWithBackup(h, 'w2');
    await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    await expect(h.rules.lockPair({ walletId, pairId: signing.pairId, reason: 'x' })).rejects.toMatchObject({ code: 'STATE_INVALID' });
    expect(await statusOf(h, walletId, signing.pairId)).toBe('SUSPENDED');
  });

  it('PAIR_NOT_FOUND for an unknown pair id', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await expect(h.rules.lockPair({ walletId: 'w1', pairId: 'nope', reason: 'x' })).rejects.toMatchObject({ code: 'PAIR_NOT_FOUND' });
    await expect(h.rules.unlockPair({ walletId: 'w1', pairId: 'nope' })).rejects.toMatchObject({ code: 'PAIR_NOT_FOUND' });
  });

  it('a locked pair refuses sign, confirm, backup and recover with PAIR_LOCKED', async () => {
    const h = makeHarness();
    const { walletId, signing, backup } = await walletWithBackup(h);
    await h.rules.lockPair({ walletId, pairId: signing.pairId, reason: 'x' });
    const before = await rawState(h.store, walletId);
    await expect(h.rules.authorizeSign({ walletId, curve: 'SECP256K1', pairId: signing.pairId, request: raw })).rejects.toMatchObject(LOCKED);
    await expect(h.rules.confirmSigningPair({ walletId, pairId: signing.pairId, idempotencyKey: h.key() })).rejects.toMatchObject(LOCKED);
    await withLease(h, walletId, 'backup', async (lease) => {
      await expect(h.rules.signingShareForBackup({ walletId, curve: 'SECP256K1', leaseToken: lease.token })).rejects.toMatchObject(LOCKED);
    });
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a)).rejects.toMatchObject(LOCKED);
    const after = await rawState(h.store, walletId);
    expect({ ...after, wallet: { ...after.wallet, fencingToken: 0 } }).toEqual({ ...before, wallet: { ...before.wallet, fencingToken: 0 } });
    // after the unlock everything works again
    await h.rules.unlockPair({ walletId, pairId: signing.pairId });
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a)).resolves.toMatchObject({ status: 'STORED_CUSTODIAN_BACKUP_SHARE' });
    void backup;
  });

  it('a locked wallet stays recoverable: Recover suspends the locked pair, the confirm supersedes it', async () => {
    const h = makeHarness();
    const { walletId, signing, backup } = await walletWithBackup(h);
    await h.rules.lockPair({ walletId, pairId: signing.pairId, reason: 'x' });
    const next = await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    const suspended = await signingPair(h.store, signing.pairId);
    expect(suspended?.status).toBe('SUSPENDED');
    expect(suspended && 'lockedFrom' in suspended).toBe(false);
    await h.rules.confirmSigningPair({ walletId, pairId: next.pairId, idempotencyKey: h.key() });
    expect(await statusOf(h, walletId, signing.pairId)).toBe('SUPERSEDED');
    await expect(h.rules.authorizeSign({ walletId, curve: 'SECP256K1', pairId: next.pairId, request: raw })).resolves.toBeDefined();
  });

  it('lock and unlock work on an archived wallet (operator actions)', async () => {
    const h = makeHarness();
    const { walletId, signing } = await walletWithBackup(h);
    await h.rules.archiveWallet(walletId);
    await h.rules.lockPair({ walletId, pairId: signing.pairId, reason: 'x' });
    expect(await statusOf(h, walletId, signing.pairId)).toBe('LOCKED');
    await h.rules.unlockPair({ walletId, pairId: signing.pairId });
    expect(await statusOf(h, walletId, signing.pairId)).toBe('STORED_CLIENT');
  });
});

describe('lock and unlock of backup pairs', () => {
  it('unlock restores each backup status it was locked from', async () => {
    const h = makeHarness();
    const { walletId } = await walletWithBackup(h);
    const b = await recordBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a);
    const id = b.backupPairId;
    const cycle = async (expected: string) => {
      await h.rules.lockPair({ walletId, pairId: id, reason: 'x' });
      expect(await backupPair(h.store, id)).toMatchObject({ status: 'LOCKED', lockedFrom: expected });
      await h.rules.unlockPair({ walletId, pairId: id });
      expect(await statusOf(h, walletId, id)).toBe(expected);
    };
    await cycle('STORED_CUSTODIAN_BACKUP_SHARE');
    await h.rules.confirmBackupKey({ walletId, backupPairId: id, idempotencyKey: h.key() });
    await cycle('STORED_CLIENT_BACKUP_SHARE_KEY');
    await h.rules.storeBackupCiphertext({ walletId, backupPairId: id, ciphertext: bytes(3, 3), idempotencyKey: h.key() });
    await cycle('STORED_CLIENT_BACKUP_SHARE_KEY');
    await h.rules.confirmBackup({ walletId, backupPairId: id, idempotencyKey: h.key() });
    await cycle('STORED_CLIENT_BACKUP_SHARE');
    expect(await h.rules.fetchBackupCiphertext({ walletId, backupPairId: id })).toEqual(bytes(3, 3));
  });

  it('a locked pending backup refuses every step with PAIR_LOCKED', async () => {
    const h = makeHarness();
    const { walletId } = await walletWithBackup(h);
    const b = await recordBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a);
    const id = b.backupPairId;
    await h.rules.lockPair({ walletId, pairId: id, reason: 'x' });
    await expect(h.rules.confirmBackupKey({ walletId, backupPairId: id, idempotencyKey: h.key() })).rejects.toMatchObject(LOCKED);
    await h.rules.unlockPair({ walletId, pairId: id });
    await h.rules.confirmBackupKey({ walletId, backupPairId: id, idempotencyKey: h.key() });
    await h.rules.lockPair({ walletId, pairId: id, reason: 'x' });
    await expect(h.rules.storeBackupCiphertext({ walletId, backupPairId: id, ciphertext: bytes(1), idempotencyKey: h.key() })).rejects.toMatchObject(LOCKED);
    await h.rules.unlockPair({ walletId, pairId: id });
    await h.rules.storeBackupCiphertext({ walletId, backupPairId: id, ciphertext: bytes(1), idempotencyKey: h.key() });
    await h.rules.lockPair({ walletId, pairId: id, reason: 'x' });
    await expect(h.rules.confirmBackup({ walletId, backupPairId: id, idempotencyKey: h.key() })).rejects.toMatchObject(LOCKED);
    await expect(h.rules.fetchBackupCiphertext({ walletId, backupPairId: id })).rejects.toMatchObject(LOCKED);
  });

  it('a locked completed backup refuses recovery with PAIR_LOCKED (authorize, share, commit)', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const id = backup.backupPairId;
    await h.rules.lockPair({ walletId, pairId: id, reason: 'x' });
    await expect(h.rules.authorizeRecovery({ walletId, curve: 'SECP256K1', backupPairId: id })).rejects.toMatchObject(LOCKED);
    await expect(h.rules.fetchBackupCiphertext({ walletId, backupPairId: id })).rejects.toMatchObject(LOCKED);
    await withLease(h, walletId, 'recover', async (lease) => {
      await expect(h.rules.backupShareForRecovery({ walletId, backupPairId: id, leaseToken: lease.token })).rejects.toMatchObject(LOCKED);
      await expect(
        h.rules.recordRecoveredPair({
          walletId,
          curve: 'SECP256K1',
          leaseToken: lease.token,
          backupPairId: id,
          publicKey: PK.a,
          custodianShare: bytes(1),
          idempotencyKey: h.key(),
        }),
      ).rejects.toMatchObject(LOCKED);
    });
    await h.rules.unlockPair({ walletId, pairId: id });
    await expect(h.rules.authorizeRecovery({ walletId, curve: 'SECP256K1', backupPairId: id })).resolves.toMatchObject({
      status: 'STORED_CLIENT_BACKUP_SHARE',
    });
  });

  it('replacing a completed backup while a pair of the slot is locked is PAIR_LOCKED, even with proof', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const pending = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { proofOfCurrentBackup: true });
    await h.rules.lockPair({ walletId, pairId: pending.backupPairId, reason: 'x' });
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { proofOfCurrentBackup: true })).rejects.toMatchObject(LOCKED);
    // the completed backup is untouched, and another method is unaffected
    expect(await statusOf(h, walletId, backup.backupPairId)).toBe('STORED_CLIENT_BACKUP_SHARE');
    const other = await recordBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a);
    await completeBackup(h, walletId, other.backupPairId);
    expect(await statusOf(h, walletId, other.backupPairId)).toBe('STORED_CLIENT_BACKUP_SHARE');
  });

  it('a superseded backup cannot be locked', async () => {
    const h = makeHarness();
    const { walletId } = await walletWithBackup(h);
    const a = await recordBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a);
    await recordBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a);
    await h.rules.lockPair({ walletId, pairId: a.backupPairId, reason: 'x' });
    expect(await statusOf(h, walletId, a.backupPairId)).toBe('SUPERSEDED');
  });
});
