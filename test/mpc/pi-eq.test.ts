import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBelow, randomUnit } from '../../src/mpc/bigint.js';
import { q, randomScalar } from '../../src/mpc/curve.js';
import { pedersenGroup } from '../../src/mpc/pedersen.js';
import {
  decodeEqRound2,
  eqChallenge,
  EqProver,
  encodeEqRound2,
  readEqChallenge,
  verifyEq,
  writeEqChallenge,
  type EqRound2,
} from '../../src/mpc/pi-eq.js';
import { acceptPaillierModulus, modulusChallenge, proveModulus } from '../../src/mpc/pi-n.js';
import type { InteractiveProofContext } from '../../src/mpc/pi-range.js';
import { decodeAll, encodeWith } from '../../src/mpc/wire.js';
import { errorCode, expectError, fixed, paillierKey } from './helpers.js';

const grp = pedersenGroup();
const sk = paillierKey(1);
const pid1 = fixed(16, 1);
const kV = modulusChallenge();
const nctx = { protocol: 'dkg', sid: fixed(32, 3) } as const;
const pk = acceptPaillierModulus(sk.n, kV, proveModulus(sk, kV, pid1, nctx), pid1, nctx);
const { n, n2 } = pk;

const ctx: InteractiveProofContext = { protocol: 'dkg', ctxSid: fixed(16, 5), pid1 };
const x = randomScalar();
const rKey = randomUnit(n);
const cKey = sk.encrypt(x, rKey);
const beta = randomBelow(grp.pPrime);
const com = grp.commit(x, beta);
const prover = new EqProver(sk, grp, x, rKey, beta, ctx);
const e = eqChallenge();
const round2 = prover.respond(e);

const at = (arr: readonly bigint[], i: number, v: bigint): bigint[] => arr.map((y, j) => (j === i ? v : y));
const verify = (r2: EqRound2, c = cKey, C = com, ch = e, cx = ctx): void => verifyEq(pk, grp, c, C, prover.round1, ch, r2, cx);
const reject = (r2: EqRound2, check?: string, c = cKey, C = com, ch = e, cx = ctx): void =>
  expectError(() => verify(r2, c, C, ch, cx), 'DKG_FAILED', check);

describe('Π_eq (§2.4)', () => {
  it('accepts an honest proof', () => {
    verify(round2);
  });

  it('rejects Enc(x) with Com(x + 1), from an honest-format prover', () => {
    const com1 = grp.commit(x + 1n, beta);
    const p = new EqProver(sk, grp, x, rKey, beta, ctx);
    const ch = eqChallenge() | 1n;
    expectError(() => verifyEq(pk, grp, cKey, com1, p.round1, ch, p.respond(ch), ctx), 'DKG_FAILED', 'Com^e·C̃ ≡ g_P^d·h_P^ν');
  });

  it('rejects D_i = 0, d_i at its bound, ν = P′, c̃_i = 0 or N², C̃ outside the subgroup', () => {
    reject({ ...round2, D: at(round2.D, 1, 0n) }, '0 < D_i < N');
    reject({ ...round2, D: at(round2.D, 1, n) }, '0 < D_i < N');
    reject({ ...round2, d: at(round2.d, 2, q << 77n) }, '0 ≤ d_i < q·2^77');
    reject({ ...round2, nu: grp.pPrime }, '0 ≤ ν < P′');
    reject({ ...round2, cTilde: at(round2.cTilde, 0, 0n) }, '0 < c̃_i < N²');
    reject({ ...round2, cTilde: at(round2.cTilde, 0, n2) }, '0 < c̃_i < N²');
    reject({ ...round2, CTilde: 0n }, '0 < C̃ < P');
  });

  it('rejects an invalid c (0, N², a multiple of a factor of N) and Com outside the subgroup', () => {
    reject(round2, '0 < c < N²', 0n);
    reject(round2, '0 < c < N²', n2);
    reject(round2, 'gcd(c·Π(D_i·c̃_i) mod N, N) = 1', sk.primes().p * 3n);
    reject(round2, '0 < Com < P and Com^P′ ≡ 1', cKey, (com * (grp.p - 1n)) % grp.p);
  });

  it('rejects any tampered field (property over fields and indices)', () => {
    fc.assert(
      fc.property(fc.constantFrom('c', 'C', 'u', 'd', 'D', 'nu'), fc.nat({ max: 3 }), fc.bigInt({ min: 1n, max: 1000n }), (f, i, delta) => {
        let r2: EqRound2;
        if (f === 'c') r2 = { ...round2, cTilde: at(round2.cTilde, i, (round2.cTilde[i]! * (1n + delta * n)) % n2) };
        else if (f === 'C') r2 = { ...round2, CTilde: (round2.CTilde * 4n) % grp.p };
        else if (f === 'u') {
          const u = round2.u.slice();
          u[i]! ^= 1;
          r2 = { ...round2, u };
        } else if (f === 'd') r2 = { ...round2, d: at(round2.d, i, round2.d[i]! ^ delta) };
        else if (f === 'D') r2 = { ...round2, D: at(round2.D, i, (round2.D[i]! * 2n) % n) };
        else r2 = { ...round2, nu: (round2.nu + delta) % grp.pPrime };
        expect(errorCode(() => verify(r2))).toBe('DKG_FAILED');
      }),
      { numRuns: 18 },
    );
  });

  it('rejects another challenge, session, prover or ciphertext', () => {
    reject(round2, undefined, cKey, com, e ^ (1n << 20n));
    reject(round2, 'commitment opens', cKey, com, e, { ...ctx, ctxSid: fixed(16, 6) });
    reject(round2, 'commitment opens', cKey, com, e, { ...ctx, pid1: fixed(16, 2) });
    reject(round2, undefined, sk.encrypt(x));
    reject(round2, 'challenge of 52 bits', cKey, com, 1n << 52n);
  });

  it('a prover answers once', () => {
    const p = new EqProver(sk, grp, x, rKey, beta, ctx);
    p.respond(0n);
    expect(errorCode(() => p.respond(1n))).toBe('INTERNAL');
  });

  it('wire: round 2 and the challenge round-trip; truncated or random bytes are MALFORMED_MESSAGE (property)', () => {
    const enc = encodeEqRound2(round2);
    expect(decodeEqRound2(enc)).toEqual(round2);
    expect(decodeAll(encodeWith((w) => writeEqChallenge(w, e)), readEqChallenge)).toBe(e);
    expect(errorCode(() => decodeAll(encodeWith((w) => w.fixed(1n << 52n, 7)), readEqChallenge))).toBe('MALFORMED_MESSAGE');
    fc.assert(
      fc.property(fc.nat({ max: enc.length - 1 }), fc.uint8Array({ maxLength: 64 }), (k, junk) => {
        expect(errorCode(() => decodeEqRound2(enc.slice(0, k)))).toBe('MALFORMED_MESSAGE');
        expect(['none', 'MALFORMED_MESSAGE']).toContain(errorCode(() => decodeEqRound2(new Uint8Array([...enc.slice(0, k), ...junk]))));
      }),
      { numRuns: 200 },
    );
  });
});
