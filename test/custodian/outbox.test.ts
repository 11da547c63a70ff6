/**
 * The self-managed backups' outbox as rules over the store (DESIGN §4): one delivery per backup pair,
 * written with the pair; the backup completes only once a delivery is reported verified; superseded
 * pairs are announced; retries back off and end FAILED; a stalled instance's late report is ignored.
 */
import { describe, expect, it } from 'vitest';
import { BackupOutbox, outboxId, type Delivery } from '../../src/custodian/outbox.js';
import type { OutboxRecord } from '../../src/custodian/store.js';
import { backupPair, bytes, completeBackup, generateConfirmed, makeHarness, PK, withLease, type Harness } from './helpers.js';

const PUBLIC_SHARE = '02' + '5e'.repeat(32);

async function selfManagedBackup(h: Harness, walletId: string, extra: { proofOfCurrentBackup?: boolean; idempotencyKey?: string } = {}) {
  return withLease(h, walletId, 'backup', (lease) =>
    h.rules.recordBackupPair({
      walletId,
      curve: 'SECP256K1',
      method: 'PASSWORD',
      leaseToken: lease.token,
      publicKey: PK.a,
      custodianBackupShare: bytes(9, 9, 9),
      idempotencyKey: extra.idempotencyKey ?? h.key('bkp'),
      selfManaged: { publicShare: PUBLIC_SHARE },
      ...(extra.proofOfCurrentBackup !== undefined ? { proofOfCurrentBackup: extra.proofOfCurrentBackup } : {}),
    }),
  );
}

async function setUp() {
  const h = makeHarness();
  await h.rules.createWallet({ walletId: 'w1' });
  await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
  const outbox = new BackupOutbox({ store: h.store, clock: () => h.clock.now, maxAttempts: 3, baseDelayMs: 1000, claimMs: 10_000 });
  return { h, outbox };
}

const entries = (h: Harness): Promise<OutboxRecord[]> => h.store.transaction((tx) => tx.listOutbox('w1'));

/** Claims the one due backup delivery and reports it verified, as the server does after a matching fetch. */
async function deliverAll(outbox: BackupOutbox): Promise<Delivery[]> {
  const batch = await outbox.claimDue(10);
  for (const d of batch) await outbox.succeeded(d);
  return batch;
}

describe('the self-managed backup outbox', () => {
  it('writes one delivery with the pair, and a retried commit does not write a second', async () => {
    const { h } = await setUp();
    const key = h.key('bkp');
    const commit = (leaseToken: number) =>
      h.rules.recordBackupPair({ walletId: 'w1', curve: 'SECP256K1', method: 'PASSWORD', leaseToken, publicKey: PK.a, custodianBackupShare: bytes(9, 9, 9), idempotencyKey: key, selfManaged: { publicShare: PUBLIC_SHARE } });
    const [a, b] = await withLease(h, 'w1', 'backup', async (lease) => [await commit(lease.token), await commit(lease.token)]);
    expect(b).toEqual(a);
    expect(a.selfManaged).toEqual({ verified: false });
    expect((await entries(h)).map((e) => [e.kind, e.backupPairId, e.status])).toEqual([['backup', a.backupPairId, 'PENDING']]);
  });

  it('keeps a custodian-kept backup out of the outbox', async () => {
    const { h } = await setUp();
    await withLease(h, 'w1', 'backup', (lease) =>
      h.rules.recordBackupPair({ walletId: 'w1', curve: 'SECP256K1', method: 'PASSWORD', leaseToken: lease.token, publicKey: PK.a, custodianBackupShare: bytes(9), idempotencyKey: h.key() }),
    );
    expect(await entries(h)).toEqual([]);
  });

  it('completes the backup only once the delivery is verified, and then keeps no custodian share', async () => {
    const { h, outbox } = await setUp();
    const b = await selfManagedBackup(h, 'w1');
    await h.rules.confirmBackupKey({ walletId: 'w1', backupPairId: b.backupPairId, idempotencyKey: h.key() });
    await h.rules.storeBackupCiphertext({ walletId: 'w1', backupPairId: b.backupPairId, ciphertext: bytes(7, 7), idempotencyKey: h.key() });
    const confirmKey = h.key('bconf');
    await expect(h.rules.confirmBackup({ walletId: 'w1', backupPairId: b.backupPairId, idempotencyKey: confirmKey })).rejects.toMatchObject({
      code: 'WEBHOOK_FAILED',
      details: { backupPairId: b.backupPairId, delivery: 'PENDING', attempts: 0 },
    });
    expect((await backupPair(h.store, b.backupPairId))?.status).toBe('STORED_CLIENT_BACKUP_SHARE_KEY');

    const [d] = await deliverAll(outbox);
    expect(d).toMatchObject({ kind: 'backup', attempt: 1, payload: { backupPairId: b.backupPairId, publicShare: PUBLIC_SHARE, share: bytes(9, 9, 9) } });
    const stored = await backupPair(h.store, b.backupPairId);
    expect(stored?.custodianBackupShare).toBeNull();
    expect(stored?.selfManaged).toEqual({ publicShare: PUBLIC_SHARE, verifiedAt: h.clock.now });

    // The same idempotency key works now: the refused attempt recorded nothing.
    const done = await h.rules.confirmBackup({ walletId: 'w1', backupPairId: b.backupPairId, idempotencyKey: confirmKey });
    expect(done).toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE', selfManaged: { verified: true } });
    const source = await withLease(h, 'w1', 'recover', (lease) => h.rules.backupShareForRecovery({ walletId: 'w1', backupPairId: b.backupPairId, leaseToken: lease.token }));
    expect(source).toMatchObject({ share: null, selfManaged: { publicShare: PUBLIC_SHARE }, curve: 'SECP256K1', publicKey: PK.a });
    expect(await h.rules.custodianBackupSharesForEject('w1')).toMatchObject([{ backupPairId: b.backupPairId, share: null }]);
  });

  it('backs off after each failure, gives up after the last attempt, and retries from the start on request', async () => {
    const { h, outbox } = await setUp();
    const b = await selfManagedBackup(h, 'w1');
    const attempt = async () => {
      const [d] = await outbox.claimDue(10);
      expect(d).toBeDefined();
      await outbox.failed(d!, 'the webhook answered 500');
    };
    await attempt();
    expect(await outbox.claimDue(10)).toEqual([]); // not due for another second
    h.clock.advance(999);
    expect(await outbox.claimDue(10)).toEqual([]);
    h.clock.advance(1);
    await attempt();
    h.clock.advance(1999);
    expect(await outbox.claimDue(10)).toEqual([]);
    h.clock.advance(1);
    await attempt();
    const [failed] = await entries(h);
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 3, lastError: 'the webhook answered 500' });
    h.clock.advance(3_600_000);
    expect(await outbox.claimDue(10)).toEqual([]);
    await expect(h.rules.confirmBackupKey({ walletId: 'w1', backupPairId: b.backupPairId, idempotencyKey: h.key() })).resolves.toBeDefined();
    await h.rules.storeBackupCiphertext({ walletId: 'w1', backupPairId: b.backupPairId, ciphertext: bytes(7), idempotencyKey: h.key() });
    await expect(h.rules.confirmBackup({ walletId: 'w1', backupPairId: b.backupPairId, idempotencyKey: h.key() })).rejects.toMatchObject({
      code: 'WEBHOOK_FAILED',
      details: { delivery: 'FAILED', attempts: 3, lastError: 'the webhook answered 500' },
    });

    expect(await outbox.retryFailed('w1')).toBe(1);
    expect(await deliverAll(outbox)).toHaveLength(1);
    await expect(h.rules.confirmBackup({ walletId: 'w1', backupPairId: b.backupPairId, idempotencyKey: h.key() })).resolves.toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE' });
  });

  it('ignores the late report of an instance whose claim expired and was taken over', async () => {
    const { h, outbox } = await setUp();
    const b = await selfManagedBackup(h, 'w1');
    const [first] = await outbox.claimDue(10);
    expect(await outbox.claimDue(10)).toEqual([]); // held by the first claim
    expect(await outbox.claimNow('backup', b.backupPairId)).toBeNull();
    h.clock.advance(10_001);
    const [second] = await outbox.claimDue(10);
    expect(second!.claim).toBeGreaterThan(first!.claim);
    await outbox.succeeded(second!);
    await outbox.failed(first!, 'late'); // the stalled instance wakes up
    expect((await entries(h))[0]).toMatchObject({ status: 'DONE', attempts: 1, lastError: null });
  });

  it('claims one pair now, due or not, for a client waiting on its confirmation', async () => {
    const { h, outbox } = await setUp();
    const b = await selfManagedBackup(h, 'w1');
    const [d] = await outbox.claimDue(10);
    await outbox.failed(d!, 'timeout');
    const now = await outbox.claimNow('backup', b.backupPairId);
    expect(now).toMatchObject({ kind: 'backup', attempt: 2 });
    await outbox.succeeded(now!);
    expect(await outbox.claimNow('backup', b.backupPairId)).toBeNull();
  });

  it('announces a superseded completed backup, and cancels the delivery of a pending one it replaces', async () => {
    const { h, outbox } = await setUp();
    const first = await selfManagedBackup(h, 'w1');
    await deliverAll(outbox);
    await completeBackup(h, 'w1', first.backupPairId);

    // A replacement that never completes is itself replaced: its delivery is moot.
    const abandoned = await selfManagedBackup(h, 'w1', { proofOfCurrentBackup: true });
    const second = await selfManagedBackup(h, 'w1', { proofOfCurrentBackup: true });
    const byId = async () => new Map((await entries(h)).map((e) => [e.id, e]));
    expect((await byId()).get(outboxId('backup', abandoned.backupPairId))?.status).toBe('CANCELLED');
    expect((await byId()).get(outboxId('superseded', abandoned.backupPairId))?.status).toBe('PENDING');

    const delivered = await deliverAll(outbox);
    expect(delivered.map((d) => [d.kind, d.payload.backupPairId]).sort()).toEqual(
      [
        ['backup', second.backupPairId],
        ['superseded', abandoned.backupPairId],
      ].sort(),
    );
    // The first backup stays the completed one until the second completes; then it is announced.
    expect((await byId()).has(outboxId('superseded', first.backupPairId))).toBe(false);
    await completeBackup(h, 'w1', second.backupPairId);
    expect((await byId()).get(outboxId('superseded', first.backupPairId))?.status).toBe('PENDING');
    const [announce] = await outbox.claimDue(10);
    expect(announce).toMatchObject({ kind: 'superseded', payload: { walletId: 'w1', backupPairId: first.backupPairId } });
  });

  it('drops a delivery whose pair lost its share before it could be delivered', async () => {
    const { h, outbox } = await setUp();
    const b = await selfManagedBackup(h, 'w1');
    await h.store.transaction(async (tx) => {
      const rec = (await tx.getBackupPair(b.backupPairId))!;
      await tx.putBackupPair({ ...rec, custodianBackupShare: null });
    });
    expect(await outbox.claimDue(10)).toEqual([]);
    expect((await entries(h))[0]?.status).toBe('CANCELLED');
  });
});
