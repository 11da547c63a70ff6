/**
 * The custodian's presignature bookkeeping (ECDSA-2PC §4 and §5.2): a cap on outstanding presignatures,
 * single use marked before anything depends on the message, the cached answer for a byte-identical resend
 * and nothing else, burning on every status change away from STORED_CLIENT, expiry, and the lock rule.
 */
import { describe, expect, it } from 'vitest';
import { bytes, makeHarness, recover, walletWithBackup, type Harness } from './helpers.js';

const sid = (n: number) => n.toString(16).padStart(32, '0');
const s4 = (n: number) => new Uint8Array(64).fill(n);

async function setup(options: Parameters<typeof makeHarness>[0] = {}) {
  const h = makeHarness(options);
  const w = await walletWithBackup(h);
  return { h, ...w, pairId: w.signing.pairId };
}

async function presign(h: Harness, walletId: string, pairId: string, n: number) {
  await h.rules.assertCanPresign({ walletId, pairId });
  return h.rules.recordPresignature({ walletId, pairId, sid: sid(n), secret: bytes(n, n, n) });
}

async function record(h: Harness, n: number) {
  let found: unknown;
  await h.store.transaction(async (tx) => {
    found = await tx.getPresignature(sid(n));
  });
  return found as { used: boolean; secret: Uint8Array | null; s4Hash: string | null } | undefined;
}

describe('presignatures', () => {
  it('caps outstanding presignatures per pair; used and expired ones do not count', async () => {
    const { h, walletId, pairId } = await setup();
    for (let i = 1; i <= 4; i++) await presign(h, walletId, pairId, i);
    await expect(h.rules.assertCanPresign({ walletId, pairId })).rejects.toMatchObject({ code: 'PRESIGNATURE_LIMIT', details: { cap: 4 } });
    await expect(h.rules.recordPresignature({ walletId, pairId, sid: sid(5), secret: bytes(5) })).rejects.toMatchObject({ code: 'PRESIGNATURE_LIMIT' });
    await h.rules.usePresignature({ walletId, pairId, sid: sid(1), s4: s4(1) });
    await presign(h, walletId, pairId, 5);
    h.clock.advance(10 * 60_000);
    for (let i = 6; i <= 9; i++) await presign(h, walletId, pairId, i);
  });

  it('is single use: marked used with its secret erased before the message is processed', async () => {
    const { h, walletId, pairId } = await setup();
    await presign(h, walletId, pairId, 1);
    await expect(h.rules.usePresignature({ walletId, pairId, sid: sid(1), s4: s4(1) })).resolves.toEqual({ kind: 'fresh', secret: bytes(1, 1, 1) });
    expect(await record(h, 1)).toMatchObject({ used: true, secret: null });
    // A second S4 for it — another message, or the same message with fresh randomness — is refused.
    await expect(h.rules.usePresignature({ walletId, pairId, sid: sid(1), s4: s4(2) })).rejects.toMatchObject({ code: 'SIGN_FAILED' });
    // The identical resend, before an answer exists, waits; after, it gets the cached answer.
    await expect(h.rules.usePresignature({ walletId, pairId, sid: sid(1), s4: s4(1) })).rejects.toMatchObject({ code: 'OPERATION_IN_PROGRESS' });
    await h.rules.recordSignature({ walletId, sid: sid(1), answer: bytes(0xaa, 0xbb) });
    await expect(h.rules.usePresignature({ walletId, pairId, sid: sid(1), s4: s4(1) })).resolves.toEqual({ kind: 'cached', answer: bytes(0xaa, 0xbb) });
    await expect(h.rules.usePresignature({ walletId, pairId, sid: sid(1), s4: s4(3) })).rejects.toMatchObject({ code: 'SIGN_FAILED' });
  });

  it('refuses unknown, foreign, duplicate and expired presignatures', async () => {
    const { h, walletId, pairId } = await setup();
    await expect(h.rules.usePresignature({ walletId, pairId, sid: sid(9), s4: s4(1) })).rejects.toMatchObject({ code: 'SIGN_FAILED' });
    await presign(h, walletId, pairId, 1);
    await expect(h.rules.recordPresignature({ walletId, pairId, sid: sid(1), secret: bytes(1) })).rejects.toMatchObject({ code: 'MALFORMED_MESSAGE' });
    await expect(h.rules.recordPresignature({ walletId, pairId, sid: 'not hex', secret: bytes(1) })).rejects.toMatchObject({ code: 'MALFORMED_MESSAGE' });
    await expect(h.rules.usePresignature({ walletId, pairId: 'sig_other', sid: sid(1), s4: s4(1) })).rejects.toMatchObject({ code: 'SIGN_FAILED' });
    h.clock.advance(10 * 60_000);
    await expect(h.rules.usePresignature({ walletId, pairId, sid: sid(1), s4: s4(1) })).rejects.toMatchObject({ code: 'SIGN_FAILED' });
    expect(await record(h, 1)).toMatchObject({ used: true, secret: null });
  });

  it('burns every presignature when the pair stops being STORED_CLIENT, and refuses new ones', async () => {
    const locked = await setup();
    await presign(locked.h, locked.walletId, locked.pairId, 1);
    await locked.h.rules.lockPair({ walletId: locked.walletId, pairId: locked.pairId, reason: 'test' });
    expect(await record(locked.h, 1)).toMatchObject({ used: true, secret: null });
    await expect(presign(locked.h, locked.walletId, locked.pairId, 2)).rejects.toMatchObject({ code: 'PAIR_LOCKED' });
    await locked.h.rules.unlockPair({ walletId: locked.walletId, pairId: locked.pairId });
    await expect(locked.h.rules.usePresignature({ walletId: locked.walletId, pairId: locked.pairId, sid: sid(1), s4: s4(1) })).rejects.toMatchObject({ code: 'SIGN_FAILED' });

    const suspended = await setup();
    await presign(suspended.h, suspended.walletId, suspended.pairId, 1);
    await recover(suspended.h, suspended.walletId, 'SECP256K1', suspended.backup.backupPairId, suspended.signing.publicKey);
    expect(await record(suspended.h, 1)).toMatchObject({ used: true, secret: null });
    await expect(presign(suspended.h, suspended.walletId, suspended.pairId, 2)).rejects.toMatchObject({ code: 'SHARE_REVOKED' });
  });

  it('locks the pair after consecutive Π_sign failures, at once when a verified proof gives a bad signature', async () => {
    const { h, walletId, pairId } = await setup();
    const fail = async (n: number, reason: 'proof' | 'verify' | 'abort') => {
      await presign(h, walletId, pairId, n);
      await h.rules.usePresignature({ walletId, pairId, sid: sid(n), s4: s4(n) });
      return h.rules.recordSignFailure({ walletId, pairId, sid: sid(n), reason });
    };
    expect(await fail(1, 'proof')).toEqual({ locked: false });
    expect(await fail(2, 'proof')).toEqual({ locked: false });
    // A success ends the streak; aborts and timeouts are not counted.
    await presign(h, walletId, pairId, 3);
    await h.rules.usePresignature({ walletId, pairId, sid: sid(3), s4: s4(3) });
    await h.rules.recordSignature({ walletId, sid: sid(3), answer: bytes(1) });
    expect(await fail(4, 'proof')).toEqual({ locked: false });
    expect(await fail(5, 'abort')).toEqual({ locked: false });
    expect(await fail(6, 'proof')).toEqual({ locked: false });
    expect(await fail(7, 'proof')).toEqual({ locked: true });
    expect((await h.rules.getWallet(walletId)).signingPairs[0]?.status).toBe('LOCKED');
    // The operator's unlock ends the streak: one more failure does not lock again.
    await h.rules.unlockPair({ walletId, pairId });
    expect(await fail(8, 'proof')).toEqual({ locked: false });

    const other = await setup();
    await presign(other.h, other.walletId, other.pairId, 1);
    await presign(other.h, other.walletId, other.pairId, 2);
    await other.h.rules.usePresignature({ walletId: other.walletId, pairId: other.pairId, sid: sid(1), s4: s4(1) });
    expect(await other.h.rules.recordSignFailure({ walletId: other.walletId, pairId: other.pairId, sid: sid(1), reason: 'verify' })).toEqual({ locked: true });
    expect(await record(other.h, 2)).toMatchObject({ used: true, secret: null });
  });

  it('sweeps: burns expired presignatures of every wallet, or every unused one at a start-up', async () => {
    const a = await setup();
    await presign(a.h, a.walletId, a.pairId, 1);
    a.h.clock.advance(30_000);
    await presign(a.h, a.walletId, a.pairId, 2);
    await presign(a.h, a.walletId, a.pairId, 3);
    await a.h.rules.usePresignature({ walletId: a.walletId, pairId: a.pairId, sid: sid(3), s4: s4(3) });
    await a.h.rules.recordSignature({ walletId: a.walletId, sid: sid(3), answer: bytes(0xcc) });
    // Nothing has expired yet: the sweep leaves everything as it was.
    expect(await a.h.rules.burnStalePresignatures()).toBe(0);
    expect(await record(a.h, 1)).toMatchObject({ used: false, secret: bytes(1, 1, 1) });
    // The first is past its TTL (60 s by default), the second not: only the first is burned.
    a.h.clock.advance(30_000);
    expect(await a.h.rules.burnStalePresignatures()).toBe(1);
    expect(await record(a.h, 1)).toMatchObject({ used: true, secret: null, s4Hash: null });
    expect(await record(a.h, 2)).toMatchObject({ used: false, secret: bytes(2, 2, 2) });
    // A used one keeps its answer for a byte-identical resend.
    await expect(a.h.rules.usePresignature({ walletId: a.walletId, pairId: a.pairId, sid: sid(3), s4: s4(3) })).resolves.toEqual({ kind: 'cached', answer: bytes(0xcc) });
    // At a start-up every unused one goes, expired or not.
    expect(await a.h.rules.burnStalePresignatures({ all: true })).toBe(1);
    expect(await record(a.h, 2)).toMatchObject({ used: true, secret: null });
    await expect(a.h.rules.usePresignature({ walletId: a.walletId, pairId: a.pairId, sid: sid(2), s4: s4(2) })).rejects.toMatchObject({ code: 'SIGN_FAILED' });
    expect(await a.h.rules.burnStalePresignatures({ all: true })).toBe(0);
  });

  it('sweeps more presignatures than one batch, across wallets, and frees the cap', async () => {
    const { h, walletId, pairId } = await setup({ presignatureCap: 150 });
    for (let i = 1; i <= 150; i++) await presign(h, walletId, pairId, i);
    await expect(h.rules.assertCanPresign({ walletId, pairId })).rejects.toMatchObject({ code: 'PRESIGNATURE_LIMIT', details: { cap: 150 } });
    const other = await walletWithBackup(h, 'wallet-2');
    await presign(h, other.walletId, other.signing.pairId, 151);
    expect(await h.rules.burnStalePresignatures({ all: true })).toBe(151);
    for (const n of [1, 100, 101, 150, 151]) expect(await record(h, n)).toMatchObject({ used: true, secret: null });
    await presign(h, walletId, pairId, 152);
  });

  it('burns every presignature of a wallet after a database restore', async () => {
    const { h, walletId, pairId } = await setup();
    await presign(h, walletId, pairId, 1);
    await presign(h, walletId, pairId, 2);
    await h.rules.burnAllPresignatures(walletId);
    expect(await record(h, 1)).toMatchObject({ used: true, secret: null });
    expect(await record(h, 2)).toMatchObject({ used: true, secret: null });
    await presign(h, walletId, pairId, 3);
  });
});
