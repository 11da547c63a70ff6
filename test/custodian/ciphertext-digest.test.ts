/**
 * A backup whose ciphertext the app keeps (self-managed from the client): the custodian records only its
 * SHA-256, which completes the backup in place of the ciphertext; the same digest again is a no-op,
 * another is refused, a malformed one changes nothing, and a fetch says the app holds it.
 */
import { describe, expect, it } from 'vitest';
import { backupPair, generateConfirmed, makeHarness, PK, recordBackup } from './helpers.js';

const DIGEST = 'ab'.repeat(32);

describe('a ciphertext kept by the app', () => {
  it('completes the backup with its digest, and is refused when another digest or a malformed one comes', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    const b = await recordBackup(h, 'w1', 'SECP256K1', 'CUSTOM', PK.a);
    await expect(h.rules.recordBackupCiphertextDigest({ walletId: 'w1', backupPairId: b.backupPairId, digest: DIGEST, idempotencyKey: h.key() })).rejects.toMatchObject({ code: 'STATE_INVALID' });
    await h.rules.confirmBackupKey({ walletId: 'w1', backupPairId: b.backupPairId, idempotencyKey: h.key() });
    for (const bad of ['AB'.repeat(32), 'ab'.repeat(31), 'zz'.repeat(32)]) {
      await expect(h.rules.recordBackupCiphertextDigest({ walletId: 'w1', backupPairId: b.backupPairId, digest: bad, idempotencyKey: h.key() })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    const recorded = await h.rules.recordBackupCiphertextDigest({ walletId: 'w1', backupPairId: b.backupPairId, digest: DIGEST, idempotencyKey: h.key() });
    expect(recorded.ciphertextDigest).toBe(DIGEST);
    await h.rules.recordBackupCiphertextDigest({ walletId: 'w1', backupPairId: b.backupPairId, digest: DIGEST, idempotencyKey: h.key() });
    await expect(h.rules.recordBackupCiphertextDigest({ walletId: 'w1', backupPairId: b.backupPairId, digest: 'cd'.repeat(32), idempotencyKey: h.key() })).rejects.toMatchObject({ code: 'STATE_INVALID' });
    await expect(h.rules.storeBackupCiphertext({ walletId: 'w1', backupPairId: b.backupPairId, ciphertext: new Uint8Array([1]), idempotencyKey: h.key() })).rejects.toMatchObject({ code: 'STATE_INVALID' });

    const done = await h.rules.confirmBackup({ walletId: 'w1', backupPairId: b.backupPairId, idempotencyKey: h.key() });
    expect(done).toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE', ciphertextDigest: DIGEST });
    expect((await backupPair(h.store, b.backupPairId))?.ciphertext).toBeNull();
    await expect(h.rules.fetchBackupCiphertext({ walletId: 'w1', backupPairId: b.backupPairId })).rejects.toMatchObject({ code: 'NO_VALID_BACKUP', details: { heldByApp: true } });
  });
});
