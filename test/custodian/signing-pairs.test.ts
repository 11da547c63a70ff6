import { describe, expect, it } from 'vitest';
import {
  LEASE_TTL,
  PK,
  T0,
  bytes,
  generate,
  generateConfirmed,
  makeHarness,
  rawState,
  recover,
  signingPair,
  walletWithBackup,
  withLease,
} from './helpers.js';

describe('generate: recordGeneratedPair', () => {
  it('persists the custodian share as a STORED_DATABASE pair of epoch 1', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const share = bytes(10, 20, 30);
    const pair = await withLease(h, 'w1', 'generate', (lease) =>
      h.rules.recordGeneratedPair({ walletId: 'w1', curve: 'SECP256K1', leaseToken: lease.token, publicKey: PK.a, custodianShare: share, idempotencyKey: h.key() }),
    );
    expect(pair).toEqual({ pairId: 'sig_1', curve: 'SECP256K1', status: 'STORED_DATABASE', epoch: 1, publicKey: PK.a, createdAt: T0 });
    const raw = await rawState(h.store, 'w1');
    expect(raw.wallet?.epochs).toEqual({ SECP256K1: 1 });
    // the wallet key is not fixed by a pending pair: its address was never shown
    expect(raw.wallet?.publicKeys).toEqual({});
    expect((await h.rules.getWallet('w1')).publicKeys).toEqual({});
    const rec = await signingPair(h.store, 'sig_1');
    expect(rec?.custodianShare).toEqual(share);
    // the stored share is a copy, not the caller's buffer
    share.fill(0);
    expect((await signingPair(h.store, 'sig_1'))?.custodianShare).toEqual(bytes(10, 20, 30));
  });

  it('keeps curves apart: each has its own pairs, epochs and wallet key', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const s = await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    const e = await generate(h, 'w1', 'ED25519', PK.ed);
    expect(s.epoch).toBe(1);
    expect(e.epoch).toBe(1);
    expect((await h.rules.getWallet('w1')).publicKeys).toEqual({ SECP256K1: PK.a });
    // a retried ED25519 generate does not touch the SECP256K1 pair
    const e2 = await generate(h, 'w1', 'ED25519', PK.ed);
    expect(e2.epoch).toBe(2);
    const view = await h.rules.getWallet('w1');
    expect(view.signingPairs.find((p) => p.pairId === s.pairId)?.status).toBe('STORED_CLIENT');
    expect(view.signingPairs.find((p) => p.pairId === e.pairId)?.status).toBe('SUPERSEDED');
    expect((await rawState(h.store, 'w1')).wallet?.epochs).toEqual({ SECP256K1: 1, ED25519: 2 });
  });

  it('a retried generate supersedes the pending pair and erases its share; epochs grow', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const first = await generate(h, 'w1', 'SECP256K1', PK.a);
    h.clock.advance(10);
    const second = await generate(h, 'w1', 'SECP256K1', PK.b);
    h.clock.advance(10);
    const third = await generate(h, 'w1', 'SECP256K1', PK.c);
    expect([first.epoch, second.epoch, third.epoch]).toEqual([1, 2, 3]);
    const view = await h.rules.getWallet('w1');
    expect(view.signingPairs.map((p) => [p.pairId, p.status])).toEqual([
      [first.pairId, 'SUPERSEDED'],
      [second.pairId, 'SUPERSEDED'],
      [third.pairId, 'STORED_DATABASE'],
    ]);
    const old = await signingPair(h.store, first.pairId);
    expect(old?.custodianShare).toBeNull();
    expect(old?.updatedAt).toBe(T0 + 10);
    // a superseded pending pair can no longer be confirmed
    await expect(h.rules.confirmSigningPair({ walletId: 'w1', pairId: first.pairId, idempotencyKey: h.key() })).rejects.toMatchObject({
      code: 'STATE_INVALID',
      details: { status: 'SUPERSEDED' },
    });
    // the survivor fixes the wallet key at its confirm
    await h.rules.confirmSigningPair({ walletId: 'w1', pairId: third.pairId, idempotencyKey: h.key() });
    expect((await h.rules.getWallet('w1')).publicKeys).toEqual({ SECP256K1: PK.c });
  });

  it('refuses a generate once the curve has a confirmed pair (STATE_INVALID), changing nothing', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    const lease = await h.rules.acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' });
    const before = await rawState(h.store, 'w1');
    for (const publicKey of [PK.a, PK.b]) {
      await expect(
        h.rules.recordGeneratedPair({ walletId: 'w1', curve: 'SECP256K1', leaseToken: lease.token, publicKey, custodianShare: bytes(1), idempotencyKey: h.key() }),
      ).rejects.toMatchObject({ code: 'STATE_INVALID', details: { curve: 'SECP256K1' } });
    }
    expect(await rawState(h.store, 'w1')).toEqual(before);
  });

  it('refuses a generate after a recover too (the key stays fixed)', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    await expect(generate(h, walletId, 'SECP256K1', PK.b)).rejects.toMatchObject({ code: 'STATE_INVALID' });
  });
});

describe('confirmSigningPair', () => {
  it('moves STORED_DATABASE to STORED_CLIENT and fixes the wallet key at the first confirm', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const pair = await generate(h, 'w1', 'ED25519', PK.ed);
    h.clock.advance(5);
    const confirmed = await h.rules.confirmSigningPair({ walletId: 'w1', pairId: pair.pairId, idempotencyKey: h.key() });
    expect(confirmed).toEqual({ ...pair, status: 'STORED_CLIENT' });
    expect((await h.rules.getWallet('w1')).publicKeys).toEqual({ ED25519: PK.ed });
    const rec = await signingPair(h.store, pair.pairId);
    expect(rec?.updatedAt).toBe(T0 + 5);
    expect(rec?.epoch).toBe(1);
  });

  it('confirming a confirmed pair again (new key) is a no-op that returns it', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const pair = await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    const before = await rawState(h.store, 'w1');
    h.clock.advance(100);
    const again = await h.rules.confirmSigningPair({ walletId: 'w1', pairId: pair.pairId, idempotencyKey: h.key() });
    expect(again).toEqual(pair);
    expect(await rawState(h.store, 'w1')).toEqual(before);
  });

  it('refuses an unknown pair (PAIR_NOT_FOUND)', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await expect(h.rules.confirmSigningPair({ walletId: 'w1', pairId: 'sig_404', idempotencyKey: h.key() })).rejects.toMatchObject({
      code: 'PAIR_NOT_FOUND',
      details: { pairId: 'sig_404' },
    });
  });

  it('does not need a lease (it is the client confirmation, outside the session)', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const pair = await generate(h, 'w1', 'SECP256K1', PK.a);
    h.clock.advance(LEASE_TTL * 10);
    await expect(h.rules.confirmSigningPair({ walletId: 'w1', pairId: pair.pairId, idempotencyKey: h.key() })).resolves.toMatchObject({
      status: 'STORED_CLIENT',
    });
  });

  it('the wallet key, once set, is never changed by later confirms', async () => {
    const h = makeHarness();
    const { walletId, backup } = await walletWithBackup(h);
    const recovered = await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    await h.rules.confirmSigningPair({ walletId, pairId: recovered.pairId, idempotencyKey: h.key() });
    expect((await h.rules.getWallet(walletId)).publicKeys).toEqual({ SECP256K1: PK.a });
    expect((await rawState(h.store, walletId)).wallet?.publicKeys).toEqual({ SECP256K1: PK.a });
  });
});
