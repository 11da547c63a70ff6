import { describe, expect, it } from 'vitest';
import { CustodianRules } from '../../src/custodian/rules.js';
import { newTestStore } from '../helpers/stores.js';
import { LEASE_TTL, PK, T0, bytes, generateConfirmed, makeHarness, rawState, type Harness } from './helpers.js';

const recordGen = (h: Harness, walletId: string, leaseToken: number, publicKey: string = PK.a) =>
  h.rules.recordGeneratedPair({ walletId, curve: 'SECP256K1', leaseToken, publicKey, custodianShare: bytes(1, 2), idempotencyKey: h.key('gen') });

describe('the wallet lease', () => {
  it('grants a lease with token 1 and an expiry of now + ttl', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const lease = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    expect(lease).toEqual({ walletId: 'w1', token: 1, expiresAt: T0 + LEASE_TTL });
    const raw = await rawState(h.store, 'w1');
    expect(raw.lease).toEqual({ walletId: 'w1', holder: 'a', operation: 'generate', token: 1, expiresAt: T0 + LEASE_TTL });
    expect(raw.wallet?.fencingToken).toBe(1);
  });

  it('refuses a second holder with OPERATION_IN_PROGRESS while the lease is live', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await h.rules.acquireLease({ walletId: 'w1', operation: 'backup', holder: 'a' });
    h.clock.advance(LEASE_TTL - 1);
    const before = await rawState(h.store, 'w1');
    await expect(h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'b' })).rejects.toMatchObject({
      code: 'OPERATION_IN_PROGRESS',
      details: { walletId: 'w1', operation: 'backup' },
    });
    // the same holder does not get it twice either: one operation at a time
    await expect(h.rules.acquireLease({ walletId: 'w1', operation: 'backup', holder: 'a' })).rejects.toMatchObject({
      code: 'OPERATION_IN_PROGRESS',
    });
    expect(await rawState(h.store, 'w1')).toEqual(before);
  });

  it('leases of different wallets are independent', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await h.rules.createWallet({ walletId: 'w2' });
    const a = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    const b = await h.rules.acquireLease({ walletId: 'w2', operation: 'generate', holder: 'b' });
    expect(a.token).toBe(1);
    expect(b.token).toBe(1);
  });

  it('lets another holder take over once the lease expired; the old holder then gets STALE_LEASE', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const old = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    h.clock.advance(LEASE_TTL); // expiresAt <= now: expired exactly at the deadline
    const fresh = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'b' });
    expect(fresh.token).toBeGreaterThan(old.token);

    const before = await rawState(h.store, 'w1');
    await expect(recordGen(h, 'w1', old.token)).rejects.toMatchObject({ code: 'STALE_LEASE' });
    expect(await rawState(h.store, 'w1')).toEqual(before);

    const pair = await recordGen(h, 'w1', fresh.token, PK.b);
    expect(pair).toMatchObject({ status: 'STORED_DATABASE', publicKey: PK.b, epoch: 1 });
  });

  it('an expired lease that nobody took over is stale too', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const lease = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    h.clock.advance(LEASE_TTL - 1);
    await expect(recordGen(h, 'w1', lease.token)).resolves.toMatchObject({ status: 'STORED_DATABASE' });
    h.clock.advance(1);
    await expect(recordGen(h, 'w1', lease.token)).rejects.toMatchObject({ code: 'STALE_LEASE' });
  });

  it('commits without a lease, with a made-up token, or after release are STALE_LEASE', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await expect(recordGen(h, 'w1', 1)).rejects.toMatchObject({ code: 'STALE_LEASE' });
    const lease = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    await expect(recordGen(h, 'w1', lease.token + 1)).rejects.toMatchObject({ code: 'STALE_LEASE' });
    await expect(recordGen(h, 'w1', lease.token - 1)).rejects.toMatchObject({ code: 'STALE_LEASE' });
    await h.rules.releaseLease({ walletId: 'w1', token: lease.token });
    await expect(recordGen(h, 'w1', lease.token)).rejects.toMatchObject({ code: 'STALE_LEASE' });
    expect((await h.rules.getWallet('w1')).signingPairs).toEqual([]);
  });

  it('checks the lease at every session commit (backup and recover too)', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    const stale = { code: 'STALE_LEASE' };
    await expect(h.rules.signingShareForBackup({ walletId: 'w1', curve: 'SECP256K1', leaseToken: 99 })).rejects.toMatchObject(stale);
    await expect(
      h.rules.recordBackupPair({
        walletId: 'w1',
        curve: 'SECP256K1',
        method: 'PASSWORD',
        leaseToken: 99,
        publicKey: PK.a,
        custodianBackupShare: bytes(1),
        idempotencyKey: h.key(),
      }),
    ).rejects.toMatchObject(stale);
    await expect(h.rules.backupShareForRecovery({ walletId: 'w1', backupPairId: 'bkp_1', leaseToken: 99 })).rejects.toMatchObject(stale);
    await expect(
      h.rules.recordRecoveredPair({
        walletId: 'w1',
        curve: 'SECP256K1',
        leaseToken: 99,
        backupPairId: 'bkp_1',
        publicKey: PK.a,
        custodianShare: bytes(1),
        idempotencyKey: h.key(),
      }),
    ).rejects.toMatchObject(stale);
  });

  it('hands out strictly increasing fencing tokens across grants, releases and expiries', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const tokens: number[] = [];
    for (let i = 0; i < 8; i++) {
      const lease = await h.rules.acquireLease({ walletId: 'w1', operation: 'backup', holder: `h${i}` });
      tokens.push(lease.token);
      // alternate: release the lease, or let it expire and be taken over
      if (i % 2 === 0) await h.rules.releaseLease({ walletId: 'w1', token: lease.token });
      else h.clock.advance(LEASE_TTL);
    }
    expect(tokens).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await rawState(h.store, 'w1')).wallet?.fencingToken).toBe(8);
  });

  it('a refused acquire does not move the fencing token', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const a = await h.rules.acquireLease({ walletId: 'w1', operation: 'backup', holder: 'a' });
    await expect(h.rules.acquireLease({ walletId: 'w1', operation: 'backup', holder: 'b' })).rejects.toMatchObject({ code: 'OPERATION_IN_PROGRESS' });
    await h.rules.releaseLease({ walletId: 'w1', token: a.token });
    const b = await h.rules.acquireLease({ walletId: 'w1', operation: 'backup', holder: 'b' });
    expect(b.token).toBe(a.token + 1);
  });

  it('releaseLease with the live token frees the wallet at once', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const a = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    await h.rules.releaseLease({ walletId: 'w1', token: a.token });
    expect((await rawState(h.store, 'w1')).lease).toBeUndefined();
    await expect(h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'b' })).resolves.toMatchObject({ token: 2 });
  });

  it('releaseLease with a stale token does nothing to the new holder', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const old = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    h.clock.advance(LEASE_TTL + 5);
    const fresh = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'b' });
    const before = await rawState(h.store, 'w1');
    await h.rules.releaseLease({ walletId: 'w1', token: old.token });
    await h.rules.releaseLease({ walletId: 'w1', token: 12345 });
    expect(await rawState(h.store, 'w1')).toEqual(before);
    await expect(h.rules.acquireLease({ walletId: 'w1', operation: 'backup', holder: 'c' })).rejects.toMatchObject({
      code: 'OPERATION_IN_PROGRESS',
      details: { operation: 'generate' },
    });
    await expect(recordGen(h, 'w1', fresh.token)).resolves.toMatchObject({ status: 'STORED_DATABASE' });
  });

  it('a lease taken for one operation cannot commit another', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const lease = await h.rules.acquireLease({ walletId: 'w1', operation: 'recover', holder: 'a' });
    const before = await rawState(h.store, 'w1');
    await expect(recordGen(h, 'w1', lease.token)).rejects.toMatchObject({ code: 'STALE_LEASE' });
    expect(await rawState(h.store, 'w1')).toEqual(before);
  });

  it('uses the default ttl of 60 s when none is configured', async () => {
    let now = T0;
    const rules = new CustodianRules({ store: newTestStore(), clock: () => now });
    const w = await rules.createWallet();
    expect(w.walletId).toMatch(/^wal_[0-9a-f]{24}$/);
    const lease = await rules.acquireLease({ walletId: w.walletId, operation: 'generate', holder: 'a' });
    expect(lease.expiresAt).toBe(T0 + 60_000);
    now += 59_999;
    await expect(rules.acquireLease({ walletId: w.walletId, operation: 'generate', holder: 'b' })).rejects.toMatchObject({ code: 'OPERATION_IN_PROGRESS' });
    now += 1;
    await expect(rules.acquireLease({ walletId: w.walletId, operation: 'generate', holder: 'b' })).resolves.toMatchObject({ token: 2 });
  });

  it('releaseAllLeases (start-up of the only instance) frees every wallet; tokens keep growing, so a stale holder stays fenced', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await h.rules.createWallet({ walletId: 'w2' });
    const old = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'dead' });
    await h.rules.acquireLease({ walletId: 'w2', operation: 'backup', holder: 'dead' });
    await h.rules.releaseAllLeases();
    expect((await rawState(h.store, 'w1')).lease).toBeUndefined();
    expect((await rawState(h.store, 'w2')).lease).toBeUndefined();
    const next = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'new' });
    expect(next.token).toBe(old.token + 1);
    await expect(recordGen(h, 'w1', old.token)).rejects.toMatchObject({ code: 'STALE_LEASE' });
    await h.rules.acquireLease({ walletId: 'w2', operation: 'generate', holder: 'new' });
  });
});
