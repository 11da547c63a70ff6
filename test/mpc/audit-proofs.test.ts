/**
 * Audit of issue 3 (proof side): the §5.1 checks of the proofs' own fields that the per-proof tests do
 * not reach, because a changed value also breaks the hash commitment it sits under. Here the prover's
 * commitment is recomputed over the changed value, so the verifier gets past the opening and the rule
 * under test is the one that must fire. Also: exact array counts for Π_eq and Π_range, the squaring of
 * the range c̃_i, and the challenge readers fuzzed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBelow, randomUnit } from '../../src/mpc/bigint.js';
import { commit } from '../../src/mpc/commitment.js';
import { G, randomScalar } from '../../src/mpc/curve.js';
import { pedersenGroup } from '../../src/mpc/pedersen.js';
import { eqChallenge, EqProver, readEqChallenge, verifyEq, type EqRound2 } from '../../src/mpc/pi-eq.js';
import { proveDl, verifyDl } from '../../src/mpc/pi-dl.js';
import { acceptPaillierModulus, modulusChallenge, proveModulus } from '../../src/mpc/pi-n.js';
import {
  rangeChallenge,
  RangeProver,
  readRangeChallenge,
  verifyRange,
  type InteractiveProofContext,
  type RangeRound2,
} from '../../src/mpc/pi-range.js';
import { decodeAll } from '../../src/mpc/wire.js';
import { errorCode, expectError, fixed, paillierKey } from './helpers.js';

const grp = pedersenGroup();
const sk = paillierKey(2);
const pid1 = fixed(16, 1);
const ctx: InteractiveProofContext = { protocol: 'dkg', ctxSid: fixed(16, 5), pid1 };
const kV = modulusChallenge();
const nctx = { protocol: 'dkg', sid: fixed(32, 3) } as const;
const pk = acceptPaillierModulus(sk.n, kV, proveModulus(sk, kV, pid1, nctx), pid1, nctx);
const { n } = pk;
const factor = sk.primes().p;

const x = randomScalar();
const rKey = randomUnit(n);
const cKey = sk.encrypt(x, rKey);
const beta = randomBelow(grp.pPrime);
const com = grp.commit(x, beta);

const at = (arr: readonly bigint[], i: number, v: bigint): bigint[] => arr.map((y, j) => (j === i ? v : y));

describe('audit Π_eq (§2.4, §5.1): values under a re-made commitment', () => {
  const prover = new EqProver(sk, grp, x, rKey, beta, ctx);
  const e = eqChallenge() | 1n;
  const r2 = prover.respond(e);

  /** Round 1 and 2 as a prover would send them had it committed to these c̃ and C̃. */
  function recommitted(patch: Partial<EqRound2>): { round1: { commitment: Uint8Array }; round2: EqRound2 } {
    const round2 = { ...r2, ...patch };
    const { commitment, u } = commit('dkg/eq', ctx.ctxSid, pid1, [round2.cTilde, round2.CTilde]);
    return { round1: { commitment }, round2: { ...round2, u } };
  }
  const verify = (m: { round1: { commitment: Uint8Array }; round2: EqRound2 }): void =>
    verifyEq(pk, grp, cKey, com, m.round1, e, m.round2, ctx);

  it('control: the honest round 2 under a re-made commitment verifies', () => {
    verify(recommitted({}));
  });

  it('C̃ outside the order-P′ subgroup (−C̃), with a commitment that opens → "C̃^P′ ≡ 1"', () => {
    expectError(() => verify(recommitted({ CTilde: grp.p - r2.CTilde })), 'DKG_FAILED', 'C̃^P′ ≡ 1');
    expectError(() => verify(recommitted({ CTilde: grp.p - 1n })), 'DKG_FAILED', 'C̃^P′ ≡ 1');
    expectError(() => verify(recommitted({ CTilde: grp.p })), 'DKG_FAILED', '0 < C̃ < P');
  });

  it('c̃_i sharing a factor with N, with a commitment that opens → the batched gcd rejects', () => {
    expectError(() => verify(recommitted({ cTilde: at(r2.cTilde, 1, factor * 7n) })), 'DKG_FAILED', 'gcd(c·Π(D_i·c̃_i) mod N, N) = 1');
    expectError(() => verify(recommitted({ cTilde: at(r2.cTilde, 3, n) })), 'DKG_FAILED', 'gcd(c·Π(D_i·c̃_i) mod N, N) = 1');
  });

  it('c (= c_key) sharing a factor with N is refused even when every other value is valid', () => {
    expectError(() => verifyEq(pk, grp, factor * 11n, com, prover.round1, e, r2, ctx), 'DKG_FAILED', 'gcd(c·Π(D_i·c̃_i) mod N, N) = 1');
  });

  it('arrays of 3 or 5 entries (c̃, d, D) are MALFORMED_MESSAGE', () => {
    const m = recommitted({});
    for (const k of [3, 5]) {
      const resize = (a: readonly bigint[]): bigint[] => (k < 4 ? a.slice(0, k) : [...a, a[0]!]);
      expectError(() => verify({ ...m, round2: { ...m.round2, cTilde: resize(m.round2.cTilde) } }), 'MALFORMED_MESSAGE');
      expectError(() => verify({ ...m, round2: { ...m.round2, d: resize(m.round2.d) } }), 'MALFORMED_MESSAGE');
      expectError(() => verify({ ...m, round2: { ...m.round2, D: resize(m.round2.D) } }), 'MALFORMED_MESSAGE');
    }
  });

  it('a commitment or opening key of the wrong size is MALFORMED_MESSAGE', () => {
    const m = recommitted({});
    expectError(() => verify({ round1: { commitment: m.round1.commitment.slice(1) }, round2: m.round2 }), 'MALFORMED_MESSAGE');
    expectError(() => verify({ ...m, round2: { ...m.round2, u: new Uint8Array(33) } }), 'MALFORMED_MESSAGE');
  });
});

describe('audit Π_range (§2.3, §5.1): values under a re-made commitment', () => {
  const prover = new RangeProver(grp, x, beta, ctx);
  const e = rangeChallenge() | 1n;
  const r2 = prover.respond(e);

  function recommitted(patch: Partial<RangeRound2>): { round1: { commitment: Uint8Array }; round2: RangeRound2 } {
    const round2 = { ...r2, ...patch };
    const { commitment, u } = commit('dkg/range', ctx.ctxSid, pid1, [round2.cTilde]);
    return { round1: { commitment }, round2: { ...round2, u } };
  }
  const verify = (m: { round1: { commitment: Uint8Array }; round2: RangeRound2 }, C = com): void =>
    verifyRange(grp, C, m.round1, e, m.round2, ctx);

  it('the c̃_i are squared before use: −c̃_i (outside the subgroup) in place of c̃_i verifies, as the spec intends', () => {
    verify(recommitted({ cTilde: at(r2.cTilde, 0, grp.p - r2.cTilde[0]!) }));
  });

  it('Com = P − 1 (order 2) is refused; c̃_i = P − 1 with a matching commitment fails the equation', () => {
    expectError(() => verify(recommitted({}), grp.p - 1n), 'DKG_FAILED', '0 < Com < P and Com^P′ ≡ 1');
    expectError(() => verify(recommitted({ cTilde: at(r2.cTilde, 4, grp.p - 1n) })), 'DKG_FAILED', 'g_P^(d_i)·h_P^(f_i) ≡ c̃_i²·Com^(e_i)');
  });

  it('arrays of 49 or 51 entries (c̃, d, f) are MALFORMED_MESSAGE', () => {
    const m = recommitted({});
    for (const k of [49, 51]) {
      const resize = (a: readonly bigint[]): bigint[] => (k < 50 ? a.slice(0, k) : [...a, a[0]!]);
      expectError(() => verify({ ...m, round2: { ...m.round2, cTilde: resize(m.round2.cTilde) } }), 'MALFORMED_MESSAGE');
      expectError(() => verify({ ...m, round2: { ...m.round2, d: resize(m.round2.d) } }), 'MALFORMED_MESSAGE');
      expectError(() => verify({ ...m, round2: { ...m.round2, f: resize(m.round2.f) } }), 'MALFORMED_MESSAGE');
    }
  });
});

describe('audit Π_DL (§2.1): boundary scalars never reach noble as an invalid scalar', () => {
  it('z_i = 0 or e_i = 0 is an ordinary rejection (DKG_FAILED), not a crash', () => {
    const w = randomScalar();
    const Q = G.multiply(w);
    const c = { protocol: 'dkg', sid: fixed(32, 9), aux: 2 } as const;
    const proof = proveDl(w, Q, c);
    verifyDl(Q, proof, c);
    const z0 = { ...proof, z: at(proof.z, 5, 0n) };
    expect(errorCode(() => verifyDl(Q, z0, c))).toBe('DKG_FAILED');
    const e0 = { ...proof, e: proof.e.map((v, i) => (i === 5 ? (v === 0 ? 1 : 0) : v)) };
    expect(errorCode(() => verifyDl(Q, e0, c))).toBe('DKG_FAILED');
  });
});

describe('audit: the challenge readers (fast-check)', () => {
  it('7 random bytes read as e_eq < 2^52 and e_range < 2^50, or MALFORMED_MESSAGE; other lengths are MALFORMED_MESSAGE', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 10 }), (b) => {
        for (const [read, bits] of [
          [readEqChallenge, 52n],
          [readRangeChallenge, 50n],
        ] as const) {
          let v: bigint | undefined;
          const code = errorCode(() => (v = decodeAll(b, read)));
          if (b.length !== 7) expect(code).toBe('MALFORMED_MESSAGE');
          else if (code === 'none') expect(v! < 1n << bits).toBe(true);
          else expect(code).toBe('MALFORMED_MESSAGE');
        }
      }),
      { numRuns: 300 },
    );
  });
});
