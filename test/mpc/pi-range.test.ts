import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBelow } from '../../src/mpc/bigint.js';
import { q, randomScalar } from '../../src/mpc/curve.js';
import { pedersenGroup } from '../../src/mpc/pedersen.js';
import {
  decodeRangeRound2,
  encodeRangeRound2,
  rangeChallenge,
  RangeProver,
  readRangeChallenge,
  verifyRange,
  writeRangeChallenge,
  type InteractiveProofContext,
  type RangeRound2,
} from '../../src/mpc/pi-range.js';
import { decodeAll, encodeWith } from '../../src/mpc/wire.js';
import { errorCode, expectError, fixed } from './helpers.js';

const grp = pedersenGroup();
const ctx: InteractiveProofContext = { protocol: 'dkg', ctxSid: fixed(16, 5), pid1: fixed(16, 1) };
const x = randomScalar();
const beta = randomBelow(grp.pPrime);
const com = grp.commit(x, beta);
const prover = new RangeProver(grp, x, beta, ctx);
const e = rangeChallenge() | 1n; // at least one challenge bit set
const round2 = prover.respond(e);

const reject = (r2: RangeRound2, check?: string, c: InteractiveProofContext = ctx, C = com, ch = e): void =>
  expectError(() => verifyRange(grp, C, prover.round1, ch, r2, c), 'DKG_FAILED', check);
const at = (arr: readonly bigint[], i: number, v: bigint): bigint[] => arr.map((y, j) => (j === i ? v : y));

describe('Π_range (§2.3)', () => {
  it('accepts an honest proof', () => {
    verifyRange(grp, com, prover.round1, e, round2, ctx);
  });

  it('rejects x = q·2^65 from an honest-format prover', () => {
    const big = q << 65n;
    const C = grp.commit(big, beta);
    const p = new RangeProver(grp, big, beta, ctx);
    const ch = rangeChallenge() | 1n;
    expectError(() => verifyRange(grp, C, p.round1, ch, p.respond(ch), ctx), 'DKG_FAILED', '0 ≤ d_i < q·2^64');
  });

  it('rejects Com·(P−1), which lies outside the subgroup', () => {
    reject(round2, '0 < Com < P and Com^P′ ≡ 1', ctx, (com * (grp.p - 1n)) % grp.p);
    reject(round2, '0 < Com < P and Com^P′ ≡ 1', ctx, 0n);
    reject(round2, '0 < Com < P and Com^P′ ≡ 1', ctx, grp.p);
  });

  it('rejects a tampered d_i, f_i, c̃_i or opening (property over fields and indices)', () => {
    fc.assert(
      fc.property(fc.constantFrom('d', 'f', 'c', 'u'), fc.nat({ max: 49 }), fc.bigInt({ min: 1n, max: 1000n }), (field, i, delta) => {
        let r2: RangeRound2;
        if (field === 'd') r2 = { ...round2, d: at(round2.d, i, round2.d[i]! ^ delta) };
        else if (field === 'f') r2 = { ...round2, f: at(round2.f, i, (round2.f[i]! + delta) % grp.pPrime) };
        else if (field === 'c') r2 = { ...round2, cTilde: at(round2.cTilde, i, (round2.cTilde[i]! * 4n) % grp.p) };
        else {
          const u = round2.u.slice();
          u[i % 32]! ^= Number(delta & 0xffn) || 1;
          r2 = { ...round2, u };
        }
        expect(errorCode(() => verifyRange(grp, com, prover.round1, e, r2, ctx))).toBe('DKG_FAILED');
      }),
      { numRuns: 24 },
    );
  });

  it('rejects out-of-range values: d_i = q·2^64, f_i = P′, c̃_i = 0 or P', () => {
    reject({ ...round2, d: at(round2.d, 0, q << 64n) });
    reject({ ...round2, f: at(round2.f, 0, grp.pPrime) }, '0 ≤ f_i < P′');
    reject({ ...round2, cTilde: at(round2.cTilde, 0, 0n) }, '0 < c̃_i < P');
    reject({ ...round2, cTilde: at(round2.cTilde, 0, grp.p) }, '0 < c̃_i < P');
    expectError(() => verifyRange(grp, com, prover.round1, e, { ...round2, d: round2.d.slice(1) }, ctx), 'MALFORMED_MESSAGE');
  });

  it('rejects a challenge other than the one answered, and another session, prover or protocol', () => {
    reject(round2, undefined, ctx, com, e ^ 2n);
    reject(round2, 'commitment opens', { ...ctx, ctxSid: fixed(16, 6) });
    reject(round2, 'commitment opens', { ...ctx, pid1: fixed(16, 2) });
    expectError(() => verifyRange(grp, com, prover.round1, e, round2, { ...ctx, protocol: 'recover' }), 'RECOVER_FAILED');
    reject(round2, 'challenge of 50 bits', ctx, com, 1n << 50n);
  });

  it('a prover answers once: a second challenge would reveal x', () => {
    const p = new RangeProver(grp, x, beta, ctx);
    p.respond(0n);
    expect(errorCode(() => p.respond(1n))).toBe('INTERNAL');
    const aborted = new RangeProver(grp, x, beta, ctx);
    aborted.abort();
    expect(errorCode(() => aborted.respond(1n))).toBe('INTERNAL');
  });

  it('wire: round 2 and the challenge round-trip; random or truncated bytes are MALFORMED_MESSAGE (property)', () => {
    const enc = encodeRangeRound2(round2);
    expect(decodeRangeRound2(enc)).toEqual(round2);
    const ch = encodeWith((w) => writeRangeChallenge(w, e));
    expect(ch).toHaveLength(7);
    expect(decodeAll(ch, readRangeChallenge)).toBe(e);
    expect(errorCode(() => decodeAll(encodeWith((w) => w.fixed(1n << 50n, 7)), readRangeChallenge))).toBe('MALFORMED_MESSAGE');
    fc.assert(
      fc.property(fc.nat({ max: enc.length - 1 }), fc.uint8Array({ maxLength: 64 }), (k, junk) => {
        expect(errorCode(() => decodeRangeRound2(enc.slice(0, k)))).toBe('MALFORMED_MESSAGE');
        expect(['none', 'MALFORMED_MESSAGE']).toContain(errorCode(() => decodeRangeRound2(new Uint8Array([...enc.slice(0, k), ...junk]))));
      }),
      { numRuns: 200 },
    );
  });
});
