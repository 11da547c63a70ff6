import { describe, expect, it, vi } from 'vitest';
import type { RecoveryContext } from '../../src/custodian/hooks.js';
import {
  PK,
  bytes,
  completedBackup,
  generate,
  generateConfirmed,
  makeHarness,
  rawState,
  recordBackup,
  recover,
  signingPair,
  statusOf,
  walletWithBackup,
  withLease,
  type Harness,
} from './helpers.js';
import type { Curve } from '../../src/types.js';

const recordRecovered = (
  h: Harness,
  walletId: string,
  leaseToken: number,
  backupPairId: string,
  publicKey: string = PK.a,
  curve: Curve = 'SECP256K1',
) =>
  h.rules.recordRecoveredPair({
    walletId,
    curve,
    leaseToken,
    backupPairId,
    publicKey,
    custodianShare: bytes(4, 4, 4),
    idempotencyKey: h.key('rec'),
  });

describe('authorizeRecovery', () => {
  it('returns the completed backup pair after the hook approves, with the public context only', async () => {
    const seen: RecoveryContext[] = [];
    const h = makeHarness({
      hooks: {
        recoveryAuthorization: (ctx) => {
          seen.push(ctx);
          return { allow: true };
        },
      },
    });
    const { walletId, backup } = await walletWithBackup(h);
    const before = await rawState(h.store, walletId);
    const view = await h.rules.authorizeRecovery({ walletId, curve: 'SECP256K1', backupPairId: backup.backupPairId });
    expect(view).toEqual(backup);
    expect(seen).toEqual([{ walletId, curve: 'SECP256K1', method: 'PASSWORD', backupPairId: backup.backupPairId }]);
    expect(await rawState(h.store, walletId)).toEqual(before);
  });

  it('RECOVERY_REFUSED when the hook refuses (sync or async), with its reason; nothing changes', async () => {
    for (const hook of [
      () => ({ allow: false as const, reason: 'velocity check' }),
      async () => ({ allow: false as const, reason: 'velocity check' }),
    ]) {
      const h = makeHarness({ hooks: { recoveryAuthorization: hook } });
      const { walletId, backup } = await walletWithBackup(h);
      const before = await rawState(h.store, walletId);
      await expect(h.rules.authorizeRecovery({ walletId, curve: 'SECP256K1', backupPairId: backup.backupPairId })).rejects.toMatchObject({
        code: 'RECOVERY_REFUSED',
        details: { walletId, curve: 'SECP256K1', reason: 'velocity check' },
      });
      expect(await rawState(h.store, walletId)).toEqual(before);
    }
  });

  it('a hook that throws fails the authorisation', async () => {
    const h = makeHarness({
      hooks: {
        recoveryAuthorization: () => {
          throw new Error('hook down');
        },
      },
    });
    const { walletId, backup } = await walletWithBackup(h);
    await expect(h.rules.authorizeRecovery({ walletId, curve: 'SECP256K1', backupPairId: backup.backupPairId })).rejects.toThrow('hook down');
  });

  it('NO_VALID_BACKUP without a completed backup, and the hook is not even asked', async () => {
    const hook = vi.fn(() => ({ allow: true as const }));
    const h = makeHarness({ hooks: { recoveryAuthorization: hook } });
    await h.rules.createWallet({ walletId: 'w1' });
    await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    await generateConfirmed(h, 'w1', 'ED25519', PK.ed);
    const noBackup = { code: 'NO_VALID_BACKUP' };
    // nothing at all
    await expect(h.rules.authorizeRecovery({ walletId: 'w1', curve: 'SECP256K1', backupPairId: 'bkp_404' })).rejects.toMatchObject(noBackup);
    // a backup that is only recorded, then one with its key stored
    const pending = await recordBackup(h, 'w1', 'SECP256K1', 'PASSWORD', PK.a);
    await expect(h.rules.authorizeRecovery({ walletId: 'w1', curve: 'SECP256K1', backupPairId: pending.backupPairId })).rejects.toMatchObject(noBackup);
    await h.rules.confirmBackupKey({ walletId: 'w1', backupPairId: pending.backupPairId, idempotencyKey: h.key() });
    await expect(h.rules.authorizeRecovery({ walletId: 'w1', curve: 'SECP256K1', backupPairId: pending.backupPairId })).rejects.toMatchObject(noBackup);
    // a completed backup of the other curve
    const ed = await completedBackup(h, 'w1', 'ED25519', 'PASSWORD', PK.ed);
    await expect(h.rules.authorizeRecovery({ walletId: 'w1', curve: 'SECP256K1', backupPairId: ed.backupPairId })).rejects.toMatchObject(noBackup);
    // a completed backup of another wallet
    await h.rules.createWallet({ walletId: 'w2' });
    await expect(h.rules.authorizeRecovery({ walletId: 'w2', curve: 'ED25519', backupPairId: ed.backupPairId })).rejects.toMatchObject(noBackup);
    expect(hook).not.toHaveBeenCalled();
  });

  it('NO_VALID_BACKUP for a superseded backup', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    await completedBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { proofOfCurrentBackup: true });
    await expect(h.rules.authorizeRecovery({ walletId, curve: 'SECP256K1', backupPairId: backup.backupPairId })).rejects.toMatchObject({
      code: 'NO_VALID_BACKUP',
    });
  });
});

describe('backupShareForRecovery', () => {
  it('returns the custodian backup share inside the session lease', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const source = await withLease(h, walletId, 'recover', (lease) =>
      h.rules.backupShareForRecovery({ walletId, backupPairId: backup.backupPairId, leaseToken: lease.token }),
    );
    expect(source.share).toEqual(bytes(9, 9, 9));
    expect(source.selfManaged).toBeUndefined();
  });

  it('refuses a pending backup (NO_VALID_BACKUP) and an unknown one (PAIR_NOT_FOUND)', async () => {
    const h = makeHarness();
    const { walletId } = await walletWithBackup(h);
    const pending = await recordBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a);
    await withLease(h, walletId, 'recover', async (lease) => {
      await expect(h.rules.backupShareForRecovery({ walletId, backupPairId: pending.backupPairId, leaseToken: lease.token })).rejects.toMatchObject({
        code: 'NO_VALID_BACKUP',
      });
      await expect(h.rules.backupShareForRecovery({ walletId, backupPairId: 'bkp_404', leaseToken: lease.token })).rejects.toMatchObject({
        code: 'PAIR_NOT_FOUND',
      });
    });
  });
});

describe('recordRecoveredPair', () => {
  it('suspends the current pair (it keeps its share) and creates a pending pair of the next epoch', async () => {
    const h = makeHarness();
    const { walletId, signing, backup } = await walletWithBackup(h);
    h.clock.advance(50);
    const pair = await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    expect(pair).toMatchObject({
      curve: 'SECP256K1',
      status: 'STORED_DATABASE',
      epoch: signing.epoch + 1,
      publicKey: PK.a,
      recoveredFrom: backup.backupPairId,
    });
    expect(await statusOf(h, walletId, signing.pairId)).toBe('SUSPENDED');
    const old = await signingPair(h.store, signing.pairId);
    expect(old?.custodianShare).not.toBeNull();
    // a crash now leaves the wallet recoverable from the same backup
    expect(await statusOf(h, walletId, backup.backupPairId)).toBe('STORED_CLIENT_BACKUP_SHARE');
    expect((await rawState(h.store, walletId)).wallet?.epochs).toEqual({ SECP256K1: 2 });
  });

  it('the confirm of the recovered pair supersedes the suspended pair and erases its share', async () => {
    const h = makeHarness();
    const { walletId, signing, backup } = await walletWithBackup(h);
    const pair = await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    const confirmed = await h.rules.confirmSigningPair({ walletId, pairId: pair.pairId, idempotencyKey: h.key() });
    expect(confirmed).toMatchObject({ status: 'STORED_CLIENT', recoveredFrom: backup.backupPairId });
    expect(await statusOf(h, walletId, signing.pairId)).toBe('SUPERSEDED');
    expect((await signingPair(h.store, signing.pairId))?.custodianShare).toBeNull();
    expect((await h.rules.getWallet(walletId)).publicKeys).toEqual({ SECP256K1: PK.a });
  });

  it('a retried recover supersedes the earlier pending recovered pair, the suspended one stays suspended', async () => {
    const h = makeHarness();
    const { walletId, signing, backup } = await walletWithBackup(h);
    const first = await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    const second = await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    expect(second.epoch).toBe(first.epoch + 1);
    expect(await statusOf(h, walletId, first.pairId)).toBe('SUPERSEDED');
    expect(await statusOf(h, walletId, signing.pairId)).toBe('SUSPENDED');
    await expect(h.rules.confirmSigningPair({ walletId, pairId: first.pairId, idempotencyKey: h.key() })).rejects.toMatchObject({
      code: 'STATE_INVALID',
    });
    await h.rules.confirmSigningPair({ walletId, pairId: second.pairId, idempotencyKey: h.key() });
    expect(await statusOf(h, walletId, signing.pairId)).toBe('SUPERSEDED');
  });

  it('a suspended pair cannot be confirmed again', async () => {
    const h = makeHarness();
    const { walletId, signing, backup } = await walletWithBackup(h);
    await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    await expect(h.rules.confirmSigningPair({ walletId, pairId: signing.pairId, idempotencyKey: h.key() })).rejects.toMatchObject({
      code: 'STATE_INVALID',
      details: { status: 'SUSPENDED' },
    });
  });

  it('recovers twice in a row (recover, confirm, recover, confirm) with growing epochs', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const epochs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
      await h.rules.confirmSigningPair({ walletId, pairId: p.pairId, idempotencyKey: h.key() });
      epochs.push(p.epoch);
    }
    expect(epochs).toEqual([2, 3, 4]);
    const live = (await h.rules.getWallet(walletId)).signingPairs.filter((p) => p.status !== 'SUPERSEDED');
    expect(live.map((p) => [p.epoch, p.status])).toEqual([[4, 'STORED_CLIENT']]);
  });

  it('only touches the recovered curve', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const ed = await generateConfirmed(h, walletId, 'ED25519', PK.ed);
    await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    expect(await statusOf(h, walletId, ed.pairId)).toBe('STORED_CLIENT');
  });

  it('PUBLIC_KEY_MISMATCH when the recovered key is not the wallet key; nothing changes', async () => {
    const h = makeHarness();
    const { walletId, signing, backup } = await walletWithBackup(h);
    await withLease(h, walletId, 'recover', async (lease) => {
      const before = await rawState(h.store, walletId);
      await expect(recordRecovered(h, walletId, lease.token, backup.backupPairId, PK.b)).rejects.toMatchObject({
        code: 'PUBLIC_KEY_MISMATCH',
        details: { walletId, curve: 'SECP256K1' },
      });
      expect(await rawState(h.store, walletId)).toEqual(before);
    });
    expect(await statusOf(h, walletId, signing.pairId)).toBe('STORED_CLIENT');
  });

  it('NO_VALID_BACKUP without a completed backup of that curve', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    await generateConfirmed(h, 'w1', 'ED25519', PK.ed);
    const pending = await recordBackup(h, 'w1', 'SECP256K1', 'PASSWORD', PK.a);
    const ed = await completedBackup(h, 'w1', 'ED25519', 'PASSWORD', PK.ed);
    await withLease(h, 'w1', 'recover', async (lease) => {
      const before = await rawState(h.store, 'w1');
      for (const id of ['bkp_404', pending.backupPairId, ed.backupPairId]) {
        await expect(recordRecovered(h, 'w1', lease.token, id)).rejects.toMatchObject({ code: 'NO_VALID_BACKUP' });
      }
      expect(await rawState(h.store, 'w1')).toEqual(before);
    });
  });

  it('NO_VALID_BACKUP before any confirmed pair exists (no backup can exist either)', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await generate(h, 'w1', 'SECP256K1', PK.a);
    await withLease(h, 'w1', 'recover', async (lease) => {
      await expect(recordRecovered(h, 'w1', lease.token, 'bkp_1')).rejects.toMatchObject({ code: 'NO_VALID_BACKUP' });
    });
  });

  it('needs the live lease (STALE_LEASE)', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const lease = await h.rules.acquireLease({ walletId, operation: 'recover', holder: 'a' });
    await h.rules.releaseLease({ walletId, token: lease.token });
    await expect(recordRecovered(h, walletId, lease.token, backup.backupPairId)).rejects.toMatchObject({ code: 'STALE_LEASE' });
  });

  it('the backup used for a recovery survives it and can serve another one', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const p = await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    await h.rules.confirmSigningPair({ walletId, pairId: p.pairId, idempotencyKey: h.key() });
    await expect(h.rules.authorizeRecovery({ walletId, curve: 'SECP256K1', backupPairId: backup.backupPairId })).resolves.toMatchObject({
      status: 'STORED_CLIENT_BACKUP_SHARE',
    });
  });
});
