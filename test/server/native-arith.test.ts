import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FixedBase, windowedPowMod } from '../../src/mpc/modexp.js';
import { PaillierSecretKey } from '../../src/mpc/paillier.js';
import { decodeCustodianShare } from '../../src/mpc/share.js';
import { custodianPowModN2, CustodianSigner, checkSignatureAnswer } from '../../src/mpc/sign.js';
import { decodeSignS4, encodeSignS4 } from '../../src/mpc/sign-wire.js';
import { createNativeArith, nativeArith } from '../../src/server/native-arith.js';
import { big, errorCode, params } from '../mpc/helpers.js';
import { keyPair, presign, rawRequest, acceptDigest } from '../mpc/sign-helpers.js';

/** Square-and-multiply: the plainest reference, independent of both backends. */
function naive(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n % m;
  b = ((b % m) + m) % m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

const fixture = params.paillier[0];
if (fixture === undefined) throw new Error('no Paillier fixture');
const P = big(fixture.p);
const Q = big(fixture.q);
const N = P * Q;
const nTilde = big(params.intCommitment.nTilde);
/** The moduli the custodian works under: primes, prime squares, N, N², Ñ. */
const structured: readonly bigint[] = [P, Q, P * P, Q * Q, N, N * N, nTilde];

describe('native (OpenSSL) modular exponentiation backend (ECDSA-2PC §4)', () => {
  it('equals the BigInt reference over random odd moduli, bases and exponents (property)', () => {
    const arith = createNativeArith({ promoteAfterMs: 0, maxContexts: 8 });
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n << 1023n, max: 1n << 2600n }),
        fc.bigInt({ min: -(1n << 2700n), max: 1n << 2700n }),
        fc.bigInt({ min: 0n, max: 1n << 2400n }),
        (m0, b, e) => {
          const m = m0 | 1n;
          expect(arith.powMod(b, e, m)).toBe(windowedPowMod(b, e, m));
        },
      ),
      { numRuns: 60 },
    );
    expect(arith.stats.native).toBeGreaterThan(30);
  });

  it('equals the reference under the custodian’s moduli: p, q, p², q², N, N², Ñ (property)', () => {
    const arith = createNativeArith({ promoteAfterMs: 0 });
    fc.assert(
      fc.property(
        fc.constantFrom(...structured),
        fc.bigInt({ min: 0n, max: 1n << 4200n }),
        fc.oneof(fc.bigInt({ min: 0n, max: 1n << 140n }), fc.bigInt({ min: 0n, max: 1n << 2100n }), fc.constantFrom(N, P - 1n, Q - 1n, N - 1n)),
        (m, b, e) => {
          expect(arith.powMod(b, e, m)).toBe(naive(b, e, m));
        },
      ),
      { numRuns: 80 },
    );
    expect(arith.stats.native).toBeGreaterThan(40);
  });

  it('handles the edges OpenSSL refuses or gets wrong by falling back to the reference', () => {
    const arith = createNativeArith({ promoteAfterMs: 0, minExponentBits: 2 });
    const p2 = P * P;
    const cases: [bigint, bigint, bigint][] = [
      // exponent 0 and 1, tiny exponents
      [12345n, 0n, p2],
      [12345n, 1n, p2],
      [12345n, 2n, p2],
      [12345n, 3n, N],
      // bases 0, 1, m−1, m−2, m, 2m+5, negative, and a base sharing a factor with m
      [0n, 1234567n, p2],
      [1n, 1234567n, p2],
      [p2 - 1n, 1234567n, p2],
      [p2 - 1n, 1234568n, p2],
      [p2 - 2n, 1234567n, p2],
      [p2, 1234567n, p2],
      [2n * p2 + 5n, 1234567n, p2],
      [-7n, 1234567n, p2],
      [P, 1234567n, p2], // result 0: OpenSSL refuses Z ≤ 1
      [P * 3n, 1n << 40n, N],
      // results 1 and m−1, which OpenSSL refuses (SP 800-56A): Fermat, and a non-residue's Euler criterion
      [5n, P - 1n, P],
      [7n, (P - 1n) * P, p2],
      [P - 2n, 3n, P],
      // exponents far beyond the modulus
      [3n, (1n << 9000n) + 1n, N],
    ];
    // a quadratic non-residue mod P: its (P−1)/2-th power is P − 1
    let g = 2n;
    while (naive(g, (P - 1n) / 2n, P) !== P - 1n) g++;
    cases.push([g, (P - 1n) / 2n, P]);
    for (const [b, e, m] of cases) expect(arith.powMod(b, e, m), `${b}^${e} mod m`).toBe(naive(b, e, m));
    expect(arith.stats.fallbacks).toBeGreaterThan(0);

    // moduli outside OpenSSL's range: even, < 512 bits (where OpenSSL fails silently), > 10 000 bits, tiny
    const outside: bigint[] = [(1n << 1500n) + 2n, (1n << 500n) + 1n, (1n << 511n) - 1n, (1n << 10_010n) + 1n, 1_000_001n, 3n, 2n];
    for (const m of outside) {
      for (const [b, e] of [
        [5n, 7n],
        [(1n << 300n) + 11n, (1n << 64n) + 3n],
      ] as const) {
        expect(arith.powMod(b, e, m)).toBe(naive(b, e, m));
      }
    }
    // outside the contract: the reference's own errors
    expect(errorCode(() => arith.powMod(2n, -1n, N))).toBe('INTERNAL');
    expect(errorCode(() => arith.powMod(2n, 5n, 1n))).toBe('INTERNAL');
    expect(errorCode(() => arith.powMod(2n, 5n, 0n))).toBe('INTERNAL');
  });

  it('cold contexts (for 3·m, built per call) give the same results, and a modulus is promoted once its cold calls add up', () => {
    const cold = createNativeArith({ promoteAfterMs: Number.POSITIVE_INFINITY });
    fc.assert(
      fc.property(fc.constantFrom(...structured), fc.bigInt({ min: -(1n << 4200n), max: 1n << 4200n }), fc.bigInt({ min: 0n, max: 1n << 2100n }), (m, b, e) => {
        expect(cold.powMod(b, e, m)).toBe(naive(b, e, m));
      }),
      { numRuns: 40 },
    );
    expect(cold.stats.contexts).toBe(0);
    expect(cold.stats.cold).toBeGreaterThan(20);

    const arith = createNativeArith({ promoteAfterMs: 1e-9, maxContexts: 2 });
    const e = (1n << 300n) + 5n;
    expect(arith.powMod(3n, e, N)).toBe(naive(3n, e, N));
    expect(arith.stats).toMatchObject({ native: 0, cold: 1, contexts: 0 });
    expect(arith.powMod(5n, e, N)).toBe(naive(5n, e, N));
    expect(arith.stats).toMatchObject({ native: 1, cold: 1, contexts: 1 });
    for (const m of [P * P, Q * Q, N]) {
      expect(arith.powMod(7n, e, m)).toBe(naive(7n, e, m));
      expect(arith.powMod(7n, e, m)).toBe(naive(7n, e, m));
    }
    // N was evicted by p², q² (maxContexts 2) and built again
    expect(arith.stats.contexts).toBe(4);
    arith.clear();
    expect(arith.powMod(11n, e, N)).toBe(naive(11n, e, N));
    expect(nativeArith()).toBe(nativeArith());
  });

  it('Paillier decryption and the custodian’s CRT exponentiations agree with the BigInt backend', () => {
    const arith = createNativeArith({ promoteAfterMs: 0 });
    const fast = new PaillierSecretKey(P, Q, arith);
    const ref = new PaillierSecretKey(P, Q);
    const powFast = custodianPowModN2(fast);
    const powRef = custodianPowModN2(ref);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: N - 1n }), fc.bigInt({ min: 1n, max: N - 1n }), fc.bigInt({ min: 0n, max: 1n << 600n }), (m, r, e) => {
        const c = ref.publicKey.encrypt(m, r);
        expect(fast.publicKey.encrypt(m, r)).toBe(c);
        expect(fast.encrypt(m, r)).toBe(c);
        expect(fast.decrypt(c)).toBe(m);
        expect(powFast(c, e)).toBe(powRef(c, e));
        expect(powFast(r, N)).toBe(powRef(r, N));
        expect(fast.nthRoot(r)).toBe(ref.nthRoot(r));
      }),
      { numRuns: 10 },
    );
    expect(arith.stats.native).toBeGreaterThan(50);
  });

  it('a custodian on the native backend signs with a BigInt client, and verifies the same proofs', () => {
    const k = keyPair();
    const arith = createNativeArith({ promoteAfterMs: 0 });
    const custodian = decodeCustodianShare(k.custodianBytes, arith);
    const signer = new CustodianSigner(custodian);
    signer.precompute(1);
    for (let i = 0; i < 2; i++) {
      const t = presign(k);
      const request = rawRequest(`native ${i}`);
      const s4 = t.presignature.sign(request);
      const out = signer.sign({ presignature: t.record.secret, s4, checkRequest: acceptDigest });
      if (!out.ok) throw out.error;
      checkSignatureAnswer(k.client.Q, request.digest, out.answer);
    }
    expect(arith.stats.native).toBeGreaterThan(10);
    // a forged c (the abort-attack shape c·c_key) is rejected by Π_sign on the native backend, as on BigInt
    const t = presign(k);
    const request = rawRequest('forged');
    const s4 = decodeSignS4(t.presignature.sign(request));
    const n2 = custodian.paillier.publicKey.n2;
    const forged = encodeSignS4({ ...s4, c: (s4.c * custodian.cKey) % n2 });
    const out = signer.sign({ presignature: t.record.secret, s4: forged, checkRequest: acceptDigest });
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.reason).toBe('proof');
  });

  it('the shared-bucket fixed-base product equals the two powers multiplied (property), the next lever of §4', () => {
    const arith = createNativeArith({ promoteAfterMs: 0 });
    const g = new FixedBase(big(params.intCommitment.g), nTilde, 700, arith);
    const h = new FixedBase(big(params.intCommitment.h), nTilde, 700, arith);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 720n }), fc.bigInt({ min: 0n, max: 1n << 720n }), (a, b) => {
        expect(g.powProduct(a, h, b)).toBe((naive(g.base, a, nTilde) * naive(h.base, b, nTilde)) % nTilde);
      }),
      { numRuns: 40 },
    );
    expect(g.powProduct(0n, h, 0n)).toBe(1n);
    expect(errorCode(() => g.powProduct(-1n, h, 0n))).toBe('INTERNAL');
  });
});
