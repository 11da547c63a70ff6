import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { mod, modInverse, randomBelow, randomUnit, toFixedBytes } from '../../src/mpc/bigint.js';
import { G, Point, q, randomScalar } from '../../src/mpc/curve.js';
import {
  decodeSignProof,
  encodeSignProof,
  proveSign,
  shiftedKeyCiphertext,
  SIGN_RHO_BOUND,
  SIGN_Z12_BOUND,
  SIGN_Z3_BOUND,
  verifySign,
  type PowModN2,
  type SignProof,
  type SignStatement,
  type SignWitness,
} from '../../src/mpc/pi-sign.js';
import type { ProofContext } from '../../src/mpc/session.js';
import { custodianPowModN2 } from '../../src/mpc/sign.js';
import { errorCode, expectError } from './helpers.js';
import { keyPair, type KeyPair } from './sign-helpers.js';

const sid = new Uint8Array(32).fill(0x5a);
const ctx: ProofContext = { protocol: 'sign', sid, aux: 0 };

let k: KeyPair;
let pow: PowModN2;
/** The honest statement, witness and proof, and what they were made from. */
let st: SignStatement;
let wit: SignWitness;
let proof: SignProof;
let k1: bigint;
let k2: bigint;
let M: bigint;

/** c = Enc(w1·m + w2·r + ρ·q; rc)·C′^(w1·r), for the given witness (tests build wrong ones on purpose). */
function ciphertext(base: Omit<SignStatement, 'c'>, w: SignWitness): bigint {
  const { pk } = base;
  const Mx = w.w1 * base.m + w.w2 * base.r + w.w3 * q;
  return (pk.encrypt(Mx % pk.n, w.w4) * pow(base.cPrime, w.w1 * base.r)) % pk.n2;
}

/** Test-only: decrypts c as the custodian would and says whether the signature would verify under Q. */
function wouldVerify(c: bigint): boolean {
  const sk = k.custodian.paillier;
  const s0 = sk.decrypt(c);
  const s1 = s0 >= (sk.n + 1n) / 2n ? mod(s0 - sk.n, q) : s0 % q;
  const s = (s1 * modInverse(k1, q)) % q;
  if (s === 0n) return false;
  const sig = new Uint8Array(64);
  sig.set(toFixedBytes(st.r, 32), 0);
  sig.set(toFixedBytes(s > q >> 1n ? q - s : s, 32), 32);
  return secp256k1.verify(sig, toFixedBytes(st.m, 32), k.client.Q.toBytes(true), { prehash: false });
}

const verify = (s: SignStatement, p: SignProof, c: ProofContext = ctx) => () => verifySign(s, p, c, pow);

beforeAll(() => {
  k = keyPair();
  pow = custodianPowModN2(k.custodian.paillier);
  const pk = k.custodian.paillier.publicKey;
  k1 = randomScalar();
  k2 = randomScalar();
  const R2 = G.multiply(k2);
  const R = R2.multiply(k1);
  const r = mod(R.toAffine().x, q);
  const m = randomBelow(q);
  const w1 = modInverse(k2, q);
  wit = { w1, w2: (w1 * k.client.x2) % q, w3: randomBelow(SIGN_RHO_BOUND), w4: randomUnit(pk.n) };
  const base = { ic: k.client.ic, pk, cPrime: shiftedKeyCiphertext(pk, k.client.cKey), Q2: G.multiply(k.client.x2), R2, r, m };
  M = wit.w1 * m + wit.w2 * r + wit.w3 * q;
  st = { ...base, c: ciphertext(base, wit) };
  proof = proveSign(st, wit, ctx, pow);
});

describe('Π_sign (§2.8)', () => {
  it('accepts an honest proof, and the ciphertext decrypts to a signature that verifies', () => {
    verifySign(st, proof, ctx, pow);
    verifySign(st, proof, ctx); // the public-key path gives the same answer as the custodian's CRT one
    expect(wouldVerify(st.c)).toBe(true);
    // The plaintext stays far below N/2 (§3.2: about 900 bits).
    expect(M < k.custodian.paillier.n >> 1n).toBe(true);
  });

  it('the custodian CRT exponentiation equals the plain one, including the N-th power shortcut', () => {
    const pk = k.custodian.paillier.publicKey;
    for (const e of [pk.n, 12345n, randomBelow(q << 193n)]) {
      const b = randomUnit(pk.n2);
      expect(pow(b, e)).toBe(pk.arith.powMod(b, e, pk.n2));
    }
  });

  describe('the abort-attack shape c·c_key^δ is rejected whether or not the signature would verify', () => {
    const deltas: [string, () => bigint][] = [
      ['1', () => 1n],
      ['2^32', () => 1n << 32n],
      ['2^255', () => 1n << 255n],
      ['N − 1', () => k.client.n - 1n],
      ['q (the signature would still verify)', () => q],
    ];
    for (const [name, delta] of deltas) {
      it(`δ = ${name}`, () => {
        const pk = st.pk;
        const forged = (st.c * pk.arith.powMod(k.client.cKey, delta(), pk.n2)) % pk.n2;
        const fst = { ...st, c: forged };
        // The honest proof sent with the forged c, and a fresh proof of the forged c with the honest witness.
        expectError(verify(fst, proof), 'SIGN_FAILED');
        expectError(verify(fst, proveSign(fst, wit, ctx, pow)), 'SIGN_FAILED', '(1 + T″·N)·z4^N·(C′^r)^z1 ≡ C_e·c^e');
        // Whether the forged signature would have verified is what the attack reads; Π_sign hides it.
        expect(wouldVerify(forged)).toBe(delta() === q);
      });
    }
  });

  it('rejects c made with the wrong x2, the wrong k2, or on another m', () => {
    const wrongX2 = { ...wit, w2: (wit.w1 * (k.client.x2 + 1n)) % q };
    const s1 = { ...st, c: ciphertext(st, wrongX2) };
    expectError(verify(s1, proveSign(s1, wrongX2, ctx, pow)), 'SIGN_FAILED', 'z2·R2 = e·Q2 + Q2′');

    const w1 = modInverse(k2 + 1n, q);
    const wrongK2 = { ...wit, w1, w2: (w1 * k.client.x2) % q };
    const s2 = { ...st, c: ciphertext(st, wrongK2) };
    expectError(verify(s2, proveSign(s2, wrongK2, ctx, pow)), 'SIGN_FAILED', 'z1·R2 = e·G + G′');

    // The client proves for its m; the custodian verifies with its own.
    expectError(verify({ ...st, m: (st.m + 1n) % q }, proof), 'SIGN_FAILED', 'e = RO_128(…)');
  });

  it('rejects W_j or W′_j = 0 or Ñ, each z and v at its bound, z4 = 0 or not a unit, C_e = 0', () => {
    const nT = st.ic.nTilde;
    const at = <K extends 'W' | 'Wp' | 'z' | 'v'>(key: K, j: number, value: bigint): SignProof => {
      const arr = [...proof[key]];
      arr[j] = value;
      return { ...proof, [key]: arr };
    };
    for (let j = 0; j < 3; j++) {
      for (const v of [0n, nT]) {
        expectError(verify(st, at('W', j, v)), 'SIGN_FAILED', '0 < W_j, W′_j < Ñ');
        expectError(verify(st, at('Wp', j, v)), 'SIGN_FAILED', '0 < W_j, W′_j < Ñ');
      }
      expectError(verify(st, at('v', j, nT << 257n)), 'SIGN_FAILED', '0 ≤ v_j < Ñ·2^257');
    }
    expectError(verify(st, at('z', 0, SIGN_Z12_BOUND)), 'SIGN_FAILED', '0 ≤ z1, z2 < q·2^193');
    expectError(verify(st, at('z', 1, SIGN_Z12_BOUND)), 'SIGN_FAILED', '0 ≤ z1, z2 < q·2^193');
    expectError(verify(st, at('z', 2, SIGN_Z3_BOUND)), 'SIGN_FAILED', '0 ≤ z3 < q²·2^321');
    expectError(verify(st, at('z', 0, -1n)), 'SIGN_FAILED', 'non-negative integers');
    expectError(verify(st, { ...proof, z4: 0n }), 'SIGN_FAILED', '0 < z4 < N and gcd(z4, N) = 1');
    expectError(verify(st, { ...proof, z4: st.pk.n }), 'SIGN_FAILED', '0 < z4 < N and gcd(z4, N) = 1');
    const p = k.custodian.paillier.primes().p;
    expectError(verify(st, { ...proof, z4: p }), 'SIGN_FAILED', '0 < z4 < N and gcd(z4, N) = 1');
    expectError(verify(st, { ...proof, Ce: 0n }), 'SIGN_FAILED', '0 < C_e < N²');
    expectError(verify({ ...st, c: 0n }, proof), 'SIGN_FAILED', '0 < c < N²');
    expectError(verify({ ...st, r: 0n }, proof), 'SIGN_FAILED', '0 < r < q');
  });

  it('rejects G′ or Q2′ off the curve or O, and a wrong Q2 or R2', () => {
    const off = new Point(G.x, G.y + 1n, 1n);
    expectError(verify(st, { ...proof, Gp: off }), 'SIGN_FAILED', 'G′ on the curve and ≠ O');
    expectError(verify(st, { ...proof, Q2p: Point.ZERO }), 'SIGN_FAILED', 'Q2′ on the curve and ≠ O');
    expectError(verify({ ...st, Q2: st.Q2.add(G) }, proof), 'SIGN_FAILED');
    expectError(verify({ ...st, R2: st.R2.add(G) }, proof), 'SIGN_FAILED');
  });

  it('is bound to sid, aux and the label', () => {
    expectError(verify(st, proof, { ...ctx, sid: new Uint8Array(32) }), 'SIGN_FAILED', 'e = RO_128(…)');
    expectError(verify(st, proof, { ...ctx, aux: 2 }), 'SIGN_FAILED', 'e = RO_128(…)');
    expectError(verify(st, proof, { ...ctx, protocol: 'dkg' }), 'DKG_FAILED', 'e = RO_128(…)');
  });

  it('rejects any one field moved by a small amount (fast-check)', () => {
    const fields = ['W', 'Wp', 'z', 'v', 'Ce', 'e', 'z4'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.nat(2), fc.bigInt({ min: 1n, max: 1n << 20n }), (field, j, d) => {
        const cur = proof[field];
        const tampered: SignProof = Array.isArray(cur)
          ? { ...proof, [field]: cur.map((x: bigint, i: number) => (i === j ? x + d : x)) }
          : { ...proof, [field]: (cur as bigint) + d };
        return errorCode(verify(st, tampered)) === 'SIGN_FAILED';
      }),
      { numRuns: 12 },
    );
  });

  it('wire: encodes canonically, decodes back, and rejects truncation, trailing bytes and random bytes', () => {
    const bytes = encodeSignProof(proof);
    const back = decodeSignProof(bytes);
    expect(encodeSignProof(back)).toEqual(bytes);
    verifySign(st, back, ctx, pow);
    expectError(() => decodeSignProof(bytes.subarray(0, bytes.length - 1)), 'MALFORMED_MESSAGE');
    expectError(() => decodeSignProof(new Uint8Array([...bytes, 0])), 'MALFORMED_MESSAGE');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4200 }), (b) => errorCode(() => decodeSignProof(b)) === 'MALFORMED_MESSAGE'),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const t = bytes.slice();
        t[i] = (t[i] ?? 0) ^ x;
        let decoded: SignProof;
        try {
          decoded = decodeSignProof(t);
        } catch (e) {
          return errorCode(() => {
            throw e;
          }) === 'MALFORMED_MESSAGE';
        }
        return errorCode(verify(st, decoded)) === 'SIGN_FAILED';
      }),
      { numRuns: 8 },
    );
  });
});
