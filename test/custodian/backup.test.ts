import { describe, expect, it } from 'vitest';
import {
  PK,
  T0,
  backupPair,
  bytes,
  completeBackup,
  completedBackup,
  generate,
  generateConfirmed,
  makeHarness,
  rawState,
  recordBackup,
  recover,
  statusOf,
  walletWithBackup,
  withLease,
  type Harness,
} from './helpers.js';
import type { BackupMethodName, Curve } from '../../src/types.js';

async function confirmedWallet(h: Harness, walletId = 'w1') {
  await h.rules.createWallet({ walletId });
  const signing = await generateConfirmed(h, walletId, 'SECP256K1', PK.a);
  return { walletId, signing };
}

const completedIn = async (h: Harness, walletId: string, curve: Curve, method: BackupMethodName) =>
  (await h.rules.getWallet(walletId)).backupPairs.filter((b) => b.curve === curve && b.method === method && b.status === 'STORED_CLIENT_BACKUP_SHARE');

describe('signingShareForBackup', () => {
  it('returns the current confirmed pair and its custodian share inside the lease', async () => {
    const h = makeHarness();
    const { walletId, signing } = await confirmedWallet(h);
    const got = await withLease(h, walletId, 'backup', (lease) => h.rules.signingShareForBackup({ walletId, curve: 'SECP256K1', leaseToken: lease.token }));
    expect(got.pair).toEqual(signing);
    expect(got.share).toEqual(bytes(1, 2, 3));
  });

  it('refuses without a confirmed pair (STATE_INVALID), and during a recovery', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const ask = () => withLease(h, 'w1', 'backup', (lease) => h.rules.signingShareForBackup({ walletId: 'w1', curve: 'SECP256K1', leaseToken: lease.token }));
    await expect(ask()).rejects.toMatchObject({ code: 'STATE_INVALID', details: { status: 'NONE' } });
    await generate(h, 'w1', 'SECP256K1', PK.a);
    await expect(ask()).rejects.toMatchObject({ code: 'STATE_INVALID', details: { status: 'STORED_DATABASE' } });
    const h2 = makeHarness();
    const { walletId, backup } = await walletWithBackup(h2);
    await recover(h2, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    await expect(
      withLease(h2, walletId, 'backup', (lease) => h2.rules.signingShareForBackup({ walletId, curve: 'SECP256K1', leaseToken: lease.token })),
    ).rejects.toMatchObject({ code: 'STATE_INVALID' });
  });
});

describe('recordBackupPair', () => {
  it('creates a STORED_CUSTODIAN_BACKUP_SHARE pair for the wallet key', async () => {
    const h = makeHarness();
    const { walletId } = await confirmedWallet(h);
    const b = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { share: bytes(5, 6) });
    expect(b).toEqual({
      backupPairId: 'bkp_1',
      curve: 'SECP256K1',
      method: 'PASSWORD',
      status: 'STORED_CUSTODIAN_BACKUP_SHARE',
      publicKey: PK.a,
      createdAt: T0,
    });
    const rec = await backupPair(h.store, b.backupPairId);
    expect(rec?.custodianBackupShare).toEqual(bytes(5, 6));
    expect(rec?.ciphertext).toBeNull();
  });

  it('needs a confirmed signing pair of the curve (STATE_INVALID)', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await expect(recordBackup(h, 'w1', 'SECP256K1', 'PASSWORD', PK.a)).rejects.toMatchObject({ code: 'STATE_INVALID' });
    await generate(h, 'w1', 'SECP256K1', PK.a);
    await expect(recordBackup(h, 'w1', 'SECP256K1', 'PASSWORD', PK.a)).rejects.toMatchObject({ code: 'STATE_INVALID' });
    await generateConfirmed(h, 'w1', 'ED25519', PK.ed);
    await expect(recordBackup(h, 'w1', 'SECP256K1', 'PASSWORD', PK.a)).rejects.toMatchObject({ code: 'STATE_INVALID' });
    expect((await h.rules.getWallet('w1')).backupPairs).toEqual([]);
  });

  it('is refused while a recover is pending (the newest pair is not confirmed)', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a)).rejects.toMatchObject({ code: 'STATE_INVALID' });
  });

  it('PUBLIC_KEY_MISMATCH for a backup of another key', async () => {
    const h = makeHarness();
    const { walletId } = await confirmedWallet(h);
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.b)).rejects.toMatchObject({ code: 'PUBLIC_KEY_MISMATCH' });
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.ed)).rejects.toMatchObject({ code: 'PUBLIC_KEY_MISMATCH' });
  });

  it('a new pending pair of the same slot supersedes an earlier pending one (no authorisation needed)', async () => {
    const h = makeHarness();
    const { walletId } = await confirmedWallet(h);
    const first = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    const second = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    await h.rules.confirmBackupKey({ walletId, backupPairId: second.backupPairId, idempotencyKey: h.key() });
    const third = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    expect(await statusOf(h, walletId, first.backupPairId)).toBe('SUPERSEDED');
    expect(await statusOf(h, walletId, second.backupPairId)).toBe('SUPERSEDED');
    expect(await statusOf(h, walletId, third.backupPairId)).toBe('STORED_CUSTODIAN_BACKUP_SHARE');
    const old = await backupPair(h.store, second.backupPairId);
    expect(old?.custodianBackupShare).toBeNull();
    expect(old?.ciphertext).toBeNull();
    expect(third.replaces).toBeUndefined();
  });
});

describe('the backup status chain', () => {
  it('STORED_CUSTODIAN_BACKUP_SHARE → STORED_CLIENT_BACKUP_SHARE_KEY → (ciphertext) → STORED_CLIENT_BACKUP_SHARE', async () => {
    const h = makeHarness();
    const { walletId } = await confirmedWallet(h);
    const b = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    const id = b.backupPairId;
    h.clock.advance(1);
    const k = await h.rules.confirmBackupKey({ walletId, backupPairId: id, idempotencyKey: h.key() });
    expect(k.status).toBe('STORED_CLIENT_BACKUP_SHARE_KEY');
    const s = await h.rules.storeBackupCiphertext({ walletId, backupPairId: id, ciphertext: bytes(1, 2, 3, 4), idempotencyKey: h.key() });
    expect(s.status).toBe('STORED_CLIENT_BACKUP_SHARE_KEY');
    expect(await h.rules.fetchBackupCiphertext({ walletId, backupPairId: id })).toEqual(bytes(1, 2, 3, 4));
    h.clock.advance(1);
    const c = await h.rules.confirmBackup({ walletId, backupPairId: id, idempotencyKey: h.key() });
    expect(c).toEqual({ ...b, status: 'STORED_CLIENT_BACKUP_SHARE' });
    expect((await backupPair(h.store, id))?.updatedAt).toBe(T0 + 2);
  });

  it('steps cannot be skipped (STATE_INVALID) and a refused step changes nothing', async () => {
    const h = makeHarness();
    const { walletId } = await confirmedWallet(h);
    const { backupPairId } = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    const before = await rawState(h.store, walletId);
    await expect(h.rules.storeBackupCiphertext({ walletId, backupPairId, ciphertext: bytes(1), idempotencyKey: h.key() })).rejects.toMatchObject({
      code: 'STATE_INVALID',
    });
    await expect(h.rules.confirmBackup({ walletId, backupPairId, idempotencyKey: h.key() })).rejects.toMatchObject({ code: 'STATE_INVALID' });
    expect(await rawState(h.store, walletId)).toEqual(before);
    await h.rules.confirmBackupKey({ walletId, backupPairId, idempotencyKey: h.key() });
    // the key is stored but the ciphertext is not: not completed
    await expect(h.rules.confirmBackup({ walletId, backupPairId, idempotencyKey: h.key() })).rejects.toMatchObject({
      code: 'STATE_INVALID',
      details: { backupPairId },
    });
    await expect(h.rules.fetchBackupCiphertext({ walletId, backupPairId })).rejects.toMatchObject({ code: 'NO_VALID_BACKUP' });
  });

  it('every step is repeatable once done (confirmBackupKey / confirmBackup of a later status return it)', async () => {
    const h = makeHarness();
    const { walletId } = await confirmedWallet(h);
    const { backupPairId } = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    await completeBackup(h, walletId, backupPairId);
    const before = await rawState(h.store, walletId);
    h.clock.advance(10);
    await expect(h.rules.confirmBackupKey({ walletId, backupPairId, idempotencyKey: h.key() })).resolves.toMatchObject({
      status: 'STORED_CLIENT_BACKUP_SHARE',
    });
    await expect(h.rules.confirmBackup({ walletId, backupPairId, idempotencyKey: h.key() })).resolves.toMatchObject({
      status: 'STORED_CLIENT_BACKUP_SHARE',
    });
    await expect(
      h.rules.storeBackupCiphertext({ walletId, backupPairId, ciphertext: bytes(7, 7, 7, 7), idempotencyKey: h.key() }),
    ).resolves.toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE' });
    expect(await rawState(h.store, walletId)).toEqual(before);
  });

  it('refuses unknown backup pairs (PAIR_NOT_FOUND) and a superseded one (STATE_INVALID)', async () => {
    const h = makeHarness();
    const { walletId } = await confirmedWallet(h);
    await expect(h.rules.confirmBackupKey({ walletId, backupPairId: 'bkp_404', idempotencyKey: h.key() })).rejects.toMatchObject({
      code: 'PAIR_NOT_FOUND',
    });
    await expect(h.rules.fetchBackupCiphertext({ walletId, backupPairId: 'bkp_404' })).rejects.toMatchObject({ code: 'PAIR_NOT_FOUND' });
    const old = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    const id = old.backupPairId;
    await expect(h.rules.confirmBackupKey({ walletId, backupPairId: id, idempotencyKey: h.key() })).rejects.toMatchObject({
      code: 'STATE_INVALID',
      details: { status: 'SUPERSEDED' },
    });
    await expect(h.rules.storeBackupCiphertext({ walletId, backupPairId: id, ciphertext: bytes(1), idempotencyKey: h.key() })).rejects.toMatchObject({
      code: 'STATE_INVALID',
    });
    await expect(h.rules.confirmBackup({ walletId, backupPairId: id, idempotencyKey: h.key() })).rejects.toMatchObject({ code: 'STATE_INVALID' });
  });
});

describe('ciphertext rules', () => {
  it('the same bytes again are a no-op; other bytes are refused (STATE_INVALID)', async () => {
    const h = makeHarness();
    const { walletId } = await confirmedWallet(h);
    const { backupPairId } = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    await h.rules.confirmBackupKey({ walletId, backupPairId, idempotencyKey: h.key() });
    await h.rules.storeBackupCiphertext({ walletId, backupPairId, ciphertext: bytes(1, 2, 3), idempotencyKey: h.key() });
    const before = await rawState(h.store, walletId);
    h.clock.advance(3);
    await expect(
      h.rules.storeBackupCiphertext({ walletId, backupPairId, ciphertext: bytes(1, 2, 3), idempotencyKey: h.key() }),
    ).resolves.toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE_KEY' });
    await expect(
      h.rules.storeBackupCiphertext({ walletId, backupPairId, ciphertext: bytes(1, 2, 4), idempotencyKey: h.key() }),
    ).rejects.toMatchObject({ code: 'STATE_INVALID', details: { backupPairId } });
    expect(await rawState(h.store, walletId)).toEqual(before);
    await h.rules.confirmBackup({ walletId, backupPairId, idempotencyKey: h.key() });
    // a completed backup's ciphertext can never be swapped
    await expect(
      h.rules.storeBackupCiphertext({ walletId, backupPairId, ciphertext: bytes(9), idempotencyKey: h.key() }),
    ).rejects.toMatchObject({ code: 'STATE_INVALID' });
    expect(await h.rules.fetchBackupCiphertext({ walletId, backupPairId })).toEqual(bytes(1, 2, 3));
  });

  it('keeps a copy: neither the uploaded buffer nor a fetched one can change what is stored', async () => {
    const h = makeHarness();
    const { walletId } = await confirmedWallet(h);
    const { backupPairId } = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    await h.rules.confirmBackupKey({ walletId, backupPairId, idempotencyKey: h.key() });
    const upload = bytes(1, 2, 3);
    await h.rules.storeBackupCiphertext({ walletId, backupPairId, ciphertext: upload, idempotencyKey: h.key() });
    upload.fill(0);
    const fetched = await h.rules.fetchBackupCiphertext({ walletId, backupPairId });
    expect(fetched).toEqual(bytes(1, 2, 3));
    fetched.fill(0);
    expect(await h.rules.fetchBackupCiphertext({ walletId, backupPairId })).toEqual(bytes(1, 2, 3));
  });

  it('a superseded backup has its ciphertext and custodian share erased (NO_VALID_BACKUP on fetch)', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    await completedBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { proofOfCurrentBackup: true });
    const rec = await backupPair(h.store, backup.backupPairId);
    expect(rec).toMatchObject({ status: 'SUPERSEDED', ciphertext: null, custodianBackupShare: null });
    await expect(h.rules.fetchBackupCiphertext({ walletId, backupPairId: backup.backupPairId })).rejects.toMatchObject({
      code: 'NO_VALID_BACKUP',
    });
  });
});

describe('one completed backup per (curve, method)', () => {
  it('replacing a completed backup without proof or step-up is BACKUP_REPLACEMENT_UNAUTHORISED', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    for (const extra of [{}, { proofOfCurrentBackup: false }]) {
      await withLease(h, walletId, 'backup', async (lease) => {
        const before = await rawState(h.store, walletId);
        await expect(
          h.rules.recordBackupPair({
            walletId,
            curve: 'SECP256K1',
            method: 'PASSWORD',
            leaseToken: lease.token,
            publicKey: PK.a,
            custodianBackupShare: bytes(1),
            ...extra,
            idempotencyKey: h.key(),
          }),
        ).rejects.toMatchObject({ code: 'BACKUP_REPLACEMENT_UNAUTHORISED', details: { walletId, curve: 'SECP256K1', method: 'PASSWORD' } });
        expect(await rawState(h.store, walletId)).toEqual(before);
      });
    }
    expect(await completedIn(h, walletId, 'SECP256K1', 'PASSWORD')).toEqual([backup]);
  });

  it('with proofOfCurrentBackup: the old completed backup stays until the new one completes', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const next = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { proofOfCurrentBackup: true });
    expect(next.replaces).toBe(backup.backupPairId);
    // the old one is still the recoverable one through every step of the new one
    const stillThere = async () => {
      expect(await completedIn(h, walletId, 'SECP256K1', 'PASSWORD')).toEqual([backup]);
      await expect(h.rules.authorizeRecovery({ walletId, curve: 'SECP256K1', backupPairId: backup.backupPairId })).resolves.toEqual(backup);
    };
    await stillThere();
    await h.rules.confirmBackupKey({ walletId, backupPairId: next.backupPairId, idempotencyKey: h.key() });
    await stillThere();
    await h.rules.storeBackupCiphertext({ walletId, backupPairId: next.backupPairId, ciphertext: bytes(8, 8), idempotencyKey: h.key() });
    await stillThere();
    const done = await h.rules.confirmBackup({ walletId, backupPairId: next.backupPairId, idempotencyKey: h.key() });
    expect(done).toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE', replaces: backup.backupPairId });
    expect(await completedIn(h, walletId, 'SECP256K1', 'PASSWORD')).toEqual([done]);
    expect(await statusOf(h, walletId, backup.backupPairId)).toBe('SUPERSEDED');
  });

  it('an operator step-up opens a window for the method: every curve may be replaced within it, none after', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    await generateConfirmed(h, walletId, 'ED25519', PK.ed);
    const ed = await completedBackup(h, walletId, 'ED25519', 'PASSWORD', PK.ed);
    await h.rules.grantStepUp({ walletId, method: 'PASSWORD', ttlMs: 60_000 });
    expect((await rawState(h.store, walletId)).stepUps[0]).toEqual({ walletId, method: 'PASSWORD', expiresAt: T0 + 60_000 });
    // one backup of the wallet replaces the completed backup of each curve
    const next = await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    expect(next.replaces).toBe(backup.backupPairId);
    const nextEd = await recordBackup(h, walletId, 'ED25519', 'PASSWORD', PK.ed);
    expect(nextEd.replaces).toBe(ed.backupPairId);
    await completeBackup(h, walletId, next.backupPairId);
    await completeBackup(h, walletId, nextEd.backupPairId);
    expect((await completedIn(h, walletId, 'SECP256K1', 'PASSWORD')).map((b) => b.backupPairId)).toEqual([next.backupPairId]);
    expect((await completedIn(h, walletId, 'ED25519', 'PASSWORD')).map((b) => b.backupPairId)).toEqual([nextEd.backupPairId]);
    // the window closes at expiresAt
    h.clock.advance(60_000);
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a)).rejects.toMatchObject({ code: 'BACKUP_REPLACEMENT_UNAUTHORISED' });
  });

  it('a later grant replaces the earlier window', async () => {
    const h = makeHarness();
    const { walletId } = await walletWithBackup(h);
    await h.rules.grantStepUp({ walletId, method: 'PASSWORD', ttlMs: 60_000 });
    await h.rules.grantStepUp({ walletId, method: 'PASSWORD', ttlMs: 1_000 });
    h.clock.advance(1_000);
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a)).rejects.toMatchObject({ code: 'BACKUP_REPLACEMENT_UNAUTHORISED' });
  });

  it('a step-up stays in place when the proof is given, and when there is nothing to replace', async () => {
    const h = makeHarness();
    const { walletId } = await confirmedWallet(h);
    await h.rules.grantStepUp({ walletId, method: 'PASSWORD', ttlMs: 60_000 });
    await completedBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
    expect((await rawState(h.store, walletId)).stepUps[0]).toBeDefined();
    await recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { proofOfCurrentBackup: true });
    expect((await rawState(h.store, walletId)).stepUps[0]).toBeDefined();
  });

  it('an expired step-up does not authorise; a step-up for another method does not either', async () => {
    const h = makeHarness();
    const { walletId } = await walletWithBackup(h);
    await h.rules.grantStepUp({ walletId, method: 'PASSKEY', ttlMs: 60_000 });
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a)).rejects.toMatchObject({ code: 'BACKUP_REPLACEMENT_UNAUTHORISED' });
    await h.rules.grantStepUp({ walletId, method: 'PASSWORD', ttlMs: 1_000 });
    h.clock.advance(1_000);
    await expect(recordBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a)).rejects.toMatchObject({ code: 'BACKUP_REPLACEMENT_UNAUTHORISED' });
  });

  it('a step-up of one wallet does not authorise a replacement in another', async () => {
    const h = makeHarness();
    const { walletId: w1 } = await walletWithBackup(h, 'w1');
    const { walletId: w2 } = await walletWithBackup(h, 'w2');
    await h.rules.grantStepUp({ walletId: w1, method: 'PASSWORD', ttlMs: 60_000 });
    await expect(recordBackup(h, w2, 'SECP256K1', 'PASSWORD', PK.a)).rejects.toMatchObject({ code: 'BACKUP_REPLACEMENT_UNAUTHORISED' });
    await expect(recordBackup(h, w1, 'SECP256K1', 'PASSWORD', PK.a)).resolves.toMatchObject({ status: 'STORED_CUSTODIAN_BACKUP_SHARE' });
  });

  it('two methods coexist, each with its own completed backup; replacing one leaves the other', async () => {
    const h = makeHarness();
    const { walletId, backup: pw } = await walletWithBackup(h);
    // a second method is not a replacement: no authorisation needed
    const pk = await completedBackup(h, walletId, 'SECP256K1', 'PASSKEY', PK.a);
    expect(pk.replaces).toBeUndefined();
    expect(await completedIn(h, walletId, 'SECP256K1', 'PASSWORD')).toEqual([pw]);
    expect(await completedIn(h, walletId, 'SECP256K1', 'PASSKEY')).toEqual([pk]);
    const pw2 = await completedBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { proofOfCurrentBackup: true });
    expect(await completedIn(h, walletId, 'SECP256K1', 'PASSWORD')).toEqual([pw2]);
    expect(await completedIn(h, walletId, 'SECP256K1', 'PASSKEY')).toEqual([pk]);
  });

  it('slots are per curve too', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    await generateConfirmed(h, walletId, 'ED25519', PK.ed);
    const ed = await completedBackup(h, walletId, 'ED25519', 'PASSWORD', PK.ed);
    expect(ed.replaces).toBeUndefined();
    expect(await completedIn(h, walletId, 'SECP256K1', 'PASSWORD')).toEqual([backup]);
    expect(await completedIn(h, walletId, 'ED25519', 'PASSWORD')).toEqual([ed]);
  });

  it('a backup after a recover (confirmed) is a backup of the same key', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const p = await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    await h.rules.confirmSigningPair({ walletId, pairId: p.pairId, idempotencyKey: h.key() });
    const b2 = await completedBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a, { proofOfCurrentBackup: true });
    expect(b2.publicKey).toBe(PK.a);
    const got = await withLease(h, walletId, 'backup', (lease) => h.rules.signingShareForBackup({ walletId, curve: 'SECP256K1', leaseToken: lease.token }));
    expect(got.pair.pairId).toBe(p.pairId);
  });
});
