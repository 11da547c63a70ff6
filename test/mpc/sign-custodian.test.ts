/**
 * The pure signing step wired to src/custodian's presignature bookkeeping, as the server will wire it:
 * record at S2, use (mark used first) at S4, answer an identical resend from cache, refuse any other S4
 * for a used presignature, the cap, and the lock rule. src/mpc never imports src/custodian; this test
 * shows that the two fit.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { CustodianRules } from '../../src/custodian/rules.js';
import { decodePresignatureRecord, encodePresignatureRecord, signMessageSid } from '../../src/mpc/sign-wire.js';
import { CustodianSigner, type CustodianSignOutcome } from '../../src/mpc/sign.js';
import { generateConfirmed, makeHarness, type Harness } from '../custodian/helpers.js';
import { keyPair, presign, rawRequest, type KeyPair, type Presigned } from './sign-helpers.js';

let k: KeyPair;
const pool: Presigned[] = [];
const next = (): Presigned => {
  const p = pool.shift();
  if (p === undefined) throw new Error('presignature pool exhausted');
  return p;
};

beforeAll(() => {
  k = keyPair();
  for (let i = 0; i < 7; i++) pool.push(presign(k));
});

interface Server {
  readonly h: Harness;
  readonly rules: CustodianRules;
  readonly walletId: string;
  readonly pairId: string;
  readonly signer: CustodianSigner;
}

async function server(): Promise<Server> {
  const h = makeHarness();
  await h.rules.createWallet({ walletId: 'w1' });
  const pair = await generateConfirmed(h, 'w1', 'SECP256K1', k.custodian.Q.toHex(true));
  return { h, rules: h.rules, walletId: 'w1', pairId: pair.pairId, signer: new CustodianSigner(k.custodian) };
}

/** S2 on the server: check the pair and the cap, then persist the record before S3 leaves. */
async function record(s: Server, p: Presigned): Promise<void> {
  await s.rules.assertCanPresign({ walletId: s.walletId, pairId: s.pairId });
  await s.rules.recordPresignature({ walletId: s.walletId, pairId: s.pairId, sid: bytesToHex(p.record.sid), secret: p.record.secret });
}

/** S4 on the server: mark used first, then the pure step, then record the outcome. */
async function onS4(s: Server, s4: Uint8Array, tamperRecord?: (secret: Uint8Array) => Uint8Array): Promise<Uint8Array | CustodianSignOutcome> {
  const sid = bytesToHex(signMessageSid(s4));
  const use = await s.rules.usePresignature({ walletId: s.walletId, pairId: s.pairId, sid, s4 });
  if (use.kind === 'cached') return use.answer;
  const out = await s.signer.signAsync({
    presignature: tamperRecord ? tamperRecord(use.secret) : use.secret,
    s4,
    checkRequest: async (req) => {
      await s.rules.authorizeSign({
        walletId: s.walletId,
        curve: 'SECP256K1',
        pairId: s.pairId,
        request: { kind: req.kind, digest: bytesToHex(req.digest) },
      });
      return req.digest;
    },
  });
  if (out.ok) await s.rules.recordSignature({ walletId: s.walletId, sid, answer: out.answer });
  else await s.rules.recordSignFailure({ walletId: s.walletId, pairId: s.pairId, sid, reason: out.reason === 'request' ? 'abort' : out.reason });
  return out;
}

describe('signing with the custodian rules (§4, §5.2)', () => {
  it('signs; an identical resend gets the cached answer without a second Dec; any other S4 is refused', async () => {
    const s = await server();
    const p = next();
    await record(s, p);
    const s4 = p.presignature.sign(rawRequest('resend'));
    const out = await onS4(s, s4);
    if (out instanceof Uint8Array || !out.ok) throw new Error('expected a signature');
    const decrypt = vi.spyOn(k.custodian.paillier, 'decrypt');
    try {
      expect(await onS4(s, s4.slice())).toEqual(out.answer);
      expect(decrypt).not.toHaveBeenCalled();
    } finally {
      decrypt.mockRestore();
    }
    const other = s4.slice();
    other[1 + 32 + 5 + 3] = (other[1 + 32 + 5 + 3] ?? 0) ^ 1; // another digest, same sid
    await expect(onS4(s, other)).rejects.toMatchObject({ code: 'SIGN_FAILED' });
  });

  it('the cap refuses a fifth presignature; a Π_sign failure is counted; a failure after Π_sign locks the pair', async () => {
    const s = await server();
    const ps = [next(), next(), next(), next()];
    for (const p of ps) await record(s, p);
    await expect(s.rules.assertCanPresign({ walletId: s.walletId, pairId: s.pairId })).rejects.toMatchObject({ code: 'PRESIGNATURE_LIMIT' });
    // A rejected Π_sign is counted but does not lock on its own, and burns its presignature.
    const bad = ps[0]!.presignature.sign(rawRequest('bad')).slice();
    bad[bad.length - 300] = (bad[bad.length - 300] ?? 0) ^ 1;
    const out = await onS4(s, bad);
    expect(out instanceof Uint8Array ? 'answer' : out.ok ? 'ok' : out.reason).toBe('proof');
    await s.rules.assertCanPresign({ walletId: s.walletId, pairId: s.pairId });

    // The lock rule: Π_sign accepted, the signature fails (a corrupt record) → LOCKED at once.
    const corrupt = (secret: Uint8Array) => {
      const rec = decodePresignatureRecord(secret);
      return encodePresignatureRecord({ ...rec, k1: rec.k1 === 1n ? 2n : rec.k1 - 1n });
    };
    const v = await onS4(s, ps[1]!.presignature.sign(rawRequest('corrupt')), corrupt);
    expect(v instanceof Uint8Array ? 'answer' : v.ok ? 'ok' : v.reason).toBe('verify');
    await expect(s.rules.assertCanPresign({ walletId: s.walletId, pairId: s.pairId })).rejects.toMatchObject({ code: 'PAIR_LOCKED' });
    // Its other presignatures were burned with the lock: an S4 on one is refused (the rules report the
    // burned presignature as used) and nothing is signed.
    const after = await onS4(s, ps[2]!.presignature.sign(rawRequest('after lock'))).catch((e: { code: string }) => e.code);
    expect(['SIGN_FAILED', 'PAIR_LOCKED']).toContain(after);
  });
});
