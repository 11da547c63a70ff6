import { describe, expect, it, vi } from 'vitest';
import type { SigningContext } from '../../src/custodian/hooks.js';
import { PK, bytes, generate, generateConfirmed, makeHarness, rawState, recover, walletWithBackup } from './helpers.js';

const digest = '5a'.repeat(32);
const raw = { kind: 'raw', digest };

describe('authorizeSign', () => {
  it('the current STORED_CLIENT pair may sign: returns its public view and the custodian share', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const pair = await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    const before = await rawState(h.store, 'w1');
    const got = await h.rules.authorizeSign({ walletId: 'w1', curve: 'SECP256K1', pairId: pair.pairId, request: raw });
    expect(got.pair).toEqual(pair);
    expect(got.share).toEqual(bytes(1, 2, 3));
    // signing is not state-changing: nothing is written, no lease is needed
    expect(await rawState(h.store, 'w1')).toEqual(before);
  });

  it('several signs may run at once, even while another holder has the lease', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const pair = await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    await h.rules.acquireLease({ walletId: 'w1', operation: 'backup', holder: 'someone' });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => h.rules.authorizeSign({ walletId: 'w1', curve: 'SECP256K1', pairId: pair.pairId, request: raw })),
    );
    expect(results.map((r) => r.pair.pairId)).toEqual(Array(5).fill(pair.pairId));
  });

  it('a pending STORED_DATABASE pair cannot sign (STATE_INVALID), and the policy is not asked', async () => {
    const policy = vi.fn(() => ({ allow: true as const }));
    const h = makeHarness({ hooks: { signingPolicy: policy } });
    await h.rules.createWallet({ walletId: 'w1' });
    const pair = await generate(h, 'w1', 'ED25519', PK.ed);
    await expect(h.rules.authorizeSign({ walletId: 'w1', curve: 'ED25519', pairId: pair.pairId, request: raw })).rejects.toMatchObject({
      code: 'STATE_INVALID',
      details: { pairId: pair.pairId, status: 'STORED_DATABASE' },
    });
    expect(policy).not.toHaveBeenCalled();
  });

  it('SHARE_REVOKED for a suspended pair (recover pending) and a superseded one (recover confirmed)', async () => {
    const policy = vi.fn(() => ({ allow: true as const }));
    const h = makeHarness({ hooks: { signingPolicy: policy } });
    const { walletId, signing, backup } = await walletWithBackup(h);
    const next = await recover(h, walletId, 'SECP256K1', backup.backupPairId, PK.a);
    await expect(h.rules.authorizeSign({ walletId, curve: 'SECP256K1', pairId: signing.pairId, request: raw })).rejects.toMatchObject({
      code: 'SHARE_REVOKED',
      details: { pairId: signing.pairId, status: 'SUSPENDED' },
    });
    // the successor cannot sign before its confirm either
    await expect(h.rules.authorizeSign({ walletId, curve: 'SECP256K1', pairId: next.pairId, request: raw })).rejects.toMatchObject({
      code: 'STATE_INVALID',
    });
    await h.rules.confirmSigningPair({ walletId, pairId: next.pairId, idempotencyKey: h.key() });
    await expect(h.rules.authorizeSign({ walletId, curve: 'SECP256K1', pairId: signing.pairId, request: raw })).rejects.toMatchObject({
      code: 'SHARE_REVOKED',
      details: { status: 'SUPERSEDED' },
    });
    expect(policy).not.toHaveBeenCalled();
    await expect(h.rules.authorizeSign({ walletId, curve: 'SECP256K1', pairId: next.pairId, request: raw })).resolves.toMatchObject({
      pair: { pairId: next.pairId, status: 'STORED_CLIENT' },
    });
  });

  it('SHARE_REVOKED for a pending pair superseded by a retried generate', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const old = await generate(h, 'w1', 'SECP256K1', PK.a);
    await generateConfirmed(h, 'w1', 'SECP256K1', PK.b);
    await expect(h.rules.authorizeSign({ walletId: 'w1', curve: 'SECP256K1', pairId: old.pairId, request: raw })).rejects.toMatchObject({
      code: 'SHARE_REVOKED',
    });
  });

  it('PAIR_LOCKED for a locked pair; the unlock restores signing', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    const pair = await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    await h.rules.lockPair({ walletId: 'w1', pairId: pair.pairId, reason: 'x' });
    await expect(h.rules.authorizeSign({ walletId: 'w1', curve: 'SECP256K1', pairId: pair.pairId, request: raw })).rejects.toMatchObject({
      code: 'PAIR_LOCKED',
      details: { pairId: pair.pairId },
    });
    await h.rules.unlockPair({ walletId: 'w1', pairId: pair.pairId });
    await expect(h.rules.authorizeSign({ walletId: 'w1', curve: 'SECP256K1', pairId: pair.pairId, request: raw })).resolves.toBeDefined();
  });

  it('PAIR_NOT_FOUND for an unknown pair or one of another wallet; INVALID_INPUT for the wrong curve', async () => {
    const h = makeHarness();
    await h.rules.createWallet({ walletId: 'w1' });
    await h.rules.createWallet({ walletId: 'w2' });
    const pair = await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    await expect(h.rules.authorizeSign({ walletId: 'w1', curve: 'SECP256K1', pairId: 'sig_404', request: raw })).rejects.toMatchObject({
      code: 'PAIR_NOT_FOUND',
    });
    await expect(h.rules.authorizeSign({ walletId: 'w2', curve: 'SECP256K1', pairId: pair.pairId, request: raw })).rejects.toMatchObject({
      code: 'PAIR_NOT_FOUND',
    });
    await expect(h.rules.authorizeSign({ walletId: 'w1', curve: 'ED25519', pairId: pair.pairId, request: raw })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('POLICY_REFUSED when the policy refuses (sync or async), with its reason', async () => {
    for (const policy of [
      () => ({ allow: false as const, reason: 'limit exceeded' }),
      async () => ({ allow: false as const, reason: 'limit exceeded' }),
    ]) {
      const h = makeHarness({ hooks: { signingPolicy: policy } });
      await h.rules.createWallet({ walletId: 'w1' });
      const pair = await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
      const before = await rawState(h.store, 'w1');
      await expect(h.rules.authorizeSign({ walletId: 'w1', curve: 'SECP256K1', pairId: pair.pairId, request: raw })).rejects.toMatchObject({
        code: 'POLICY_REFUSED',
        details: { pairId: pair.pairId, reason: 'limit exceeded' },
      });
      expect(await rawState(h.store, 'w1')).toEqual(before);
    }
  });

  it('the policy decides per request', async () => {
    const h = makeHarness({
      hooks: { signingPolicy: (ctx) => (ctx.request.kind === 'raw' ? { allow: false } : { allow: true }) },
    });
    await h.rules.createWallet({ walletId: 'w1' });
    const pair = await generateConfirmed(h, 'w1', 'SECP256K1', PK.a);
    const ask = (kind: string) => h.rules.authorizeSign({ walletId: 'w1', curve: 'SECP256K1', pairId: pair.pairId, request: { kind, digest } });
    await expect(ask('raw')).rejects.toMatchObject({ code: 'POLICY_REFUSED' });
    await expect(ask('eip191')).resolves.toBeDefined();
  });

  it('the policy sees only public request data: ids, curve, kind, digest, payload — never a share', async () => {
    const seen: SigningContext[] = [];
    const h = makeHarness({
      hooks: {
        signingPolicy: (ctx) => {
          seen.push(ctx);
          return { allow: true };
        },
      },
    });
    await h.rules.createWallet({ walletId: 'w1' });
    const share = bytes(0xde, 0xad, 0xbe, 0xef, 0x42);
    const pair = await h.rules
      .acquireLease({ walletId: 'w1', operation: 'generate', holder: 'a' })
      .then((lease) =>
        h.rules.recordGeneratedPair({ walletId: 'w1', curve: 'SECP256K1', leaseToken: lease.token, publicKey: PK.a, custodianShare: share, idempotencyKey: h.key() }),
      );
    await h.rules.confirmSigningPair({ walletId: 'w1', pairId: pair.pairId, idempotencyKey: h.key() });
    const request = { kind: 'eip191', digest, payload: { message: 'hello' } };
    await h.rules.authorizeSign({ walletId: 'w1', curve: 'SECP256K1', pairId: pair.pairId, request });
    expect(seen).toEqual([{ walletId: 'w1', curve: 'SECP256K1', pairId: pair.pairId, request }]);
    const ctx = seen[0];
    expect(Object.keys(ctx ?? {}).sort()).toEqual(['curve', 'pairId', 'request', 'walletId']);
    const found: unknown[] = [];
    const walk = (v: unknown) => {
      if (v instanceof Uint8Array) found.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(ctx);
    expect(found).toEqual([]);
    const text = JSON.stringify(ctx);
    expect(text).not.toContain('deadbeef42');
    expect(text).not.toContain('222,173,190,239');
    expect(text).not.toMatch(/share/i);
  });
});
