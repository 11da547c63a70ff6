import { describe, expect, it } from 'vitest';
import { PK, bytes, completeBackup, generate, makeHarness, rawState, recordBackup, walletWithBackup, withLease } from './helpers.js';

describe('idempotency keys', () => {
  it('recordGeneratedPair: same key + same request returns the first pair and creates nothing more', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const lease = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    const args = { walletId: 'w1', curve: 'SECP256K1' as const, leaseToken: lease.token, publicKey: PK.a, custodianShare: bytes(1, 2), idempotencyKey: 'gen-key-0001' };
    const first = await h.rules.recordGeneratedPair(args);
    const after = await rawState(h.store, 'w1');
    h.clock.advance(1000);
    const again = await h.rules.recordGeneratedPair({ ...args, custodianShare: bytes(1, 2) });
    expect(again).toEqual(first);
    expect(await rawState(h.store, 'w1')).toEqual(after);
    expect(after.signingPairs).toHaveLength(1);
    expect(after.wallet?.epochs).toEqual({ SECP256K1: 1 });
  });

  it('a retry succeeds even after the lease was released (the step already happened)', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const lease = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    const args = { walletId: 'w1', curve: 'ED25519' as const, leaseToken: lease.token, publicKey: PK.ed, custodianShare: bytes(3), idempotencyKey: 'gen-key-0002' };
    const first = await h.rules.recordGeneratedPair(args);
    await h.rules.releaseLease({ walletId: 'w1', token: lease.token });
    await expect(h.rules.recordGeneratedPair(args)).resolves.toEqual(first);
  });

  it('confirmSigningPair: a retried confirm returns the first result even after the pair moved on', async () => {
    const h = makeHarness();
    const { walletId, signing, backup } = await walletWithBackup(h);
    const recovered = await withLease(h, walletId, 'recover', (lease) =>
      h.rules.recordRecoveredPair({
        walletId,
        curve: 'SECP256K1',
        leaseToken: lease.token,
        backupPairId: backup.backupPairId,
        publicKey: PK.a,
        custodianShare: bytes(5),
        idempotencyKey: 'rec-key-0001',
      }),
    );
    const args = { walletId, pairId: recovered.pairId, idempotencyKey: 'conf-key-0001' };
    const first = await h.rules.confirmSigningPair(args);
    const state = await rawState(h.store, walletId);
    expect(await h.rules.confirmSigningPair(args)).toEqual(first);
    expect(await rawState(h.store, walletId)).toEqual(state);
    expect(state.signingPairs.find((p) => p.pairId === signing.pairId)?.status).toBe('SUPERSEDED');
  });

  it('recordRecoveredPair: a retry does not suspend or create twice, nor bump the epoch', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const lease = await h.rules.acquireLease({ walletId, operation: 'recover', holder: 'a' });
    const args = {
      walletId,
      curve: 'SECP256K1' as const,
      leaseToken: lease.token,
      backupPairId: backup.backupPairId,
      publicKey: PK.a,
      custodianShare: bytes(5),
      idempotencyKey: 'rec-key-0002',
    };
    const first = await h.rules.recordRecoveredPair(args);
    const state = await rawState(h.store, walletId);
    expect(await h.rules.recordRecoveredPair(args)).toEqual(first);
    expect(await rawState(h.store, walletId)).toEqual(state);
    expect(state.wallet?.epochs).toEqual({ SECP256K1: 2 });
  });

  it('recordBackupPair: a retry after the step-up window closed returns the recorded pair and supersedes nothing', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    await h.rules.grantStepUp({ walletId, method: 'PASSWORD', ttlMs: 60_000 });
    const lease = await h.rules.acquireLease({ walletId, operation: 'backup', holder: 'a' });
    const args = {
      walletId,
      curve: 'SECP256K1' as const,
      method: 'PASSWORD' as const,
      leaseToken: lease.token,
      publicKey: PK.a,
      custodianBackupShare: bytes(8),
      idempotencyKey: 'bkp-key-0001',
    };
    const first = await h.rules.recordBackupPair(args);
    expect(first.replaces).toBe(backup.backupPairId);
    h.clock.advance(60_000);
    const state = await rawState(h.store, walletId);
    // the step-up window is closed, yet the retry answers from the record instead of refusing
    await expect(h.rules.recordBackupPair(args)).resolves.toEqual(first);
    expect(await rawState(h.store, walletId)).toEqual(state);
  });

  it('backup steps: retried confirmBackupKey / storeBackupCiphertext / confirmBackup return the first results', async () => {
    const h = makeHarness();
    const { walletId } = await walletWithBackup(h);
    const b = await recordBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a);
    const k = { walletId, backupPairId: b.backupPairId, idempotencyKey: 'bkey-key-01' };
    const s = { walletId, backupPairId: b.backupPairId, ciphertext: bytes(4, 4), idempotencyKey: 'ct-key-0001' };
    const c = { walletId, backupPairId: b.backupPairId, idempotencyKey: 'bconf-key-1' };
    const r1 = await h.rules.confirmBackupKey(k);
    const r2 = await h.rules.storeBackupCiphertext(s);
    const r3 = await h.rules.confirmBackup(c);
    const state = await rawState(h.store, walletId);
    expect(await h.rules.confirmBackupKey(k)).toEqual(r1);
    expect(await h.rules.storeBackupCiphertext({ ...s, ciphertext: bytes(4, 4) })).toEqual(r2);
    expect(await h.rules.confirmBackup(c)).toEqual(r3);
    expect(r1.status).toBe('STORED_CLIENT_BACKUP_SHARE_KEY');
    expect(r2.status).toBe('STORED_CLIENT_BACKUP_SHARE_KEY');
    expect(r3.status).toBe('STORED_CLIENT_BACKUP_SHARE');
    expect(await rawState(h.store, walletId)).toEqual(state);
  });

  it('same key + different request is IDEMPOTENCY_KEY_REUSED and changes nothing', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const lease = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    const args = { walletId: 'w1', curve: 'SECP256K1' as const, leaseToken: lease.token, publicKey: PK.a, custodianShare: bytes(1, 2), idempotencyKey: 'gen-key-0003' };
    const first = await h.rules.recordGeneratedPair(args);
    const state = await rawState(h.store, 'w1');
    const reused = { code: 'IDEMPOTENCY_KEY_REUSED', details: { walletId: 'w1' } };
    await expect(h.rules.recordGeneratedPair({ ...args, publicKey: PK.b })).rejects.toMatchObject(reused);
    await expect(h.rules.recordGeneratedPair({ ...args, curve: 'ED25519' })).rejects.toMatchObject(reused);
    // a different custodian share is a different request, though the share itself is not fingerprinted in clear
    await expect(h.rules.recordGeneratedPair({ ...args, custodianShare: bytes(1, 3) })).rejects.toMatchObject(reused);
    // the same key on another operation
    await expect(h.rules.confirmSigningPair({ walletId: 'w1', pairId: first.pairId, idempotencyKey: 'gen-key-0003' })).rejects.toMatchObject(reused);
    expect(await rawState(h.store, 'w1')).toEqual(state);
  });

  it('a different ciphertext under the same key is IDEMPOTENCY_KEY_REUSED', async () => {
    const h = makeHarness();
    const { walletId } = await walletWithBackup(h);
    const b = await recordBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a);
    await h.rules.confirmBackupKey({ walletId, backupPairId: b.backupPairId, idempotencyKey: h.key() });
    const s = { walletId, backupPairId: b.backupPairId, ciphertext: bytes(4, 4), idempotencyKey: 'ct-key-0002' };
    await h.rules.storeBackupCiphertext(s);
    await expect(h.rules.storeBackupCiphertext({ ...s, ciphertext: bytes(4, 5) })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('keys are scoped per wallet', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await h.rules.createWallet({ walletId: 'w2' });
    const p1 = await withLease(h, 'w1', 'generate', (l) =>
      h.rules.recordGeneratedPair({ walletId: 'w1', curve: 'SECP256K1', leaseToken: l.token, publicKey: PK.a, custodianShare: bytes(1), idempotencyKey: 'shared-key-1' }),
    );
    const p2 = await withLease(h, 'w2', 'generate', (l) =>
      h.rules.recordGeneratedPair({ walletId: 'w2', curve: 'SECP256K1', leaseToken: l.token, publicKey: PK.b, custodianShare: bytes(2), idempotencyKey: 'shared-key-1' }),
    );
    expect(p1.pairId).not.toBe(p2.pairId);
    expect(p2.publicKey).toBe(PK.b);
  });

  it('a refused call records nothing: the same key can be used again once the refusal is lifted', async () => {
    const h = makeHarness();
    const { walletId } = await walletWithBackup(h);
    const lease = await h.rules.acquireLease({ walletId, operation: 'backup', holder: 'a' });
    const args = {
      walletId,
      curve: 'SECP256K1' as const,
      method: 'PASSWORD' as const,
      leaseToken: lease.token,
      publicKey: PK.a,
      custodianBackupShare: bytes(8),
      idempotencyKey: 'bkp-key-0002',
    };
    await expect(h.rules.recordBackupPair(args)).rejects.toMatchObject({ code: 'BACKUP_REPLACEMENT_UNAUTHORISED' });
    await h.rules.grantStepUp({ walletId, method: 'PASSWORD', ttlMs: 60_000 });
    const b = await h.rules.recordBackupPair(args);
    expect(b.status).toBe('STORED_CUSTODIAN_BACKUP_SHARE');
    await completeBackup(h, walletId, b.backupPairId);
  });

  it('keys shorter than 8 or longer than 200 characters are INVALID_INPUT, before anything is read', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const pending = await generate(h, 'w1', 'SECP256K1', PK.a);
    const state = await rawState(h.store, 'w1');
    for (const idempotencyKey of ['', 'a', '1234567', 'x'.repeat(201)]) {
      await expect(h.rules.confirmSigningPair({ walletId: 'w1', pairId: pending.pairId, idempotencyKey })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(h.rules.confirmBackup({ walletId: 'nope', backupPairId: 'b', idempotencyKey })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    expect(await rawState(h.store, 'w1')).toEqual(state);
    // the boundaries are accepted
    await expect(h.rules.confirmSigningPair({ walletId: 'w1', pairId: pending.pairId, idempotencyKey: '12345678' })).resolves.toMatchObject({
      status: 'STORED_CLIENT',
    });
    await expect(h.rules.confirmSigningPair({ walletId: 'w1', pairId: pending.pairId, idempotencyKey: 'y'.repeat(200) })).resolves.toMatchObject({
      status: 'STORED_CLIENT',
    });
  });

  it('every state-changing rule checks its key the same way', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const short = 'short';
    const invalid = { code: 'INVALID_INPUT' };
    await expect(
      h.rules.recordGeneratedPair({ walletId, curve: 'ED25519', leaseToken: 1, publicKey: PK.ed, custodianShare: bytes(1), idempotencyKey: short }),
    ).rejects.toMatchObject(invalid);
    await expect(
      h.rules.recordRecoveredPair({
        walletId,
        curve: 'SECP256K1',
        leaseToken: 1,
        backupPairId: backup.backupPairId,
        publicKey: PK.a,
        custodianShare: bytes(1),
        idempotencyKey: short,
      }),
    ).rejects.toMatchObject(invalid);
    await expect(
      h.rules.recordBackupPair({
        walletId,
        curve: 'SECP256K1',
        method: 'PASSKEY',
        leaseToken: 1,
        publicKey: PK.a,
        custodianBackupShare: bytes(1),
        idempotencyKey: short,
      }),
    ).rejects.toMatchObject(invalid);
    await expect(h.rules.confirmBackupKey({ walletId, backupPairId: backup.backupPairId, idempotencyKey: short })).rejects.toMatchObject(invalid);
    await expect(
      h.rules.storeBackupCiphertext({ walletId, backupPairId: backup.backupPairId, ciphertext: bytes(1), idempotencyKey: short }),
    ).rejects.toMatchObject(invalid);
  });
});
