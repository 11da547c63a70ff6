import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '@noble/hashes/utils.js';
import { randomUnit } from '../../src/mpc/bigint.js';
import {
  acceptPaillierModulus,
  decodeModulusProof,
  encodeModulusProof,
  modulusChallenge,
  modulusRhos,
  proveModulus,
  verifyModulus,
  type ModulusContext,
} from '../../src/mpc/pi-n.js';
import { big, errorCode, expectError, fixed, paillierKey, params, vectors, withFactor } from './helpers.js';

const sk = paillierKey(0);
const n = sk.n;
const pid1 = fixed(16, 1);
const ctx: ModulusContext = { protocol: 'dkg', sid: fixed(32, 2) };
const kV = modulusChallenge();
const sigma = proveModulus(sk, kV, pid1, ctx);

const reject = (N: bigint, s: readonly bigint[], check?: string, k = kV, p = pid1, c = ctx): void =>
  expectError(() => verifyModulus(N, k, s, p, c), 'DKG_FAILED', check);

describe('Π_N (§2.2)', () => {
  it('accepts an honest proof, and acceptPaillierModulus yields the key', () => {
    verifyModulus(n, kV, sigma, pid1, ctx);
    const pk = acceptPaillierModulus(n, kV, sigma, pid1, ctx);
    expect(pk.n).toBe(n);
  });

  it('derives ρ_0..ρ_3 as in the committed vector', () => {
    const v = vectors.piN;
    const rhos = modulusRhos(big(v.n), hexToBytes(v.kV), hexToBytes(v.pid1), { protocol: v.protocol, sid: hexToBytes(v.sid) });
    expect(rhos).toEqual(v.rho.map(big));
  });

  it('rejects N = r·s with s ≡ 1 (mod r) for a 20-bit prime r (r | gcd(N, φ)) with random σ', () => {
    const bad = big(params.gcdModulus.n);
    expect(bad % big(params.gcdModulus.r)).toBe(0n);
    const s = Array.from({ length: 4 }, () => randomUnit(bad));
    reject(bad, s, 'σ_i^N mod N = ρ_i');
  });

  it('rejects by the sieve (3·p·q, 8191·p·q), parity and size', () => {
    reject(withFactor(3n), sigma, 'no prime ≤ 8191 divides N');
    reject(withFactor(8191n), sigma, 'no prime ≤ 8191 divides N');
    reject(n - 1n, sigma, 'N odd and > 1');
    reject(n >> 1n | 1n, sigma, 'bits(N) = 2048'); // 2047 bits
    reject((n << 1n) | 1n, sigma, 'bits(N) = 2048'); // 2049 bits
    reject(1n, sigma, 'N odd and > 1');
  });

  it('rejects σ_i = 0, σ_i + N, σ_i ≥ N, a wrong count, a wrong kV, pid, sid or protocol', () => {
    const at = (i: number, v: bigint): bigint[] => sigma.map((s, j) => (j === i ? v : s));
    reject(n, at(0, 0n), '0 < σ_i < N');
    reject(n, at(2, sigma[2]! + n), '0 < σ_i < N');
    reject(n, at(3, n), '0 < σ_i < N');
    reject(n, at(1, (sigma[1]! * 2n) % n), 'σ_i^N mod N = ρ_i');
    expectError(() => verifyModulus(n, kV, sigma.slice(0, 3), pid1, ctx), 'MALFORMED_MESSAGE');
    reject(n, sigma, 'σ_i^N mod N = ρ_i', modulusChallenge());
    reject(n, sigma, 'σ_i^N mod N = ρ_i', kV, fixed(16, 9));
    reject(n, sigma, 'σ_i^N mod N = ρ_i', kV, pid1, { ...ctx, sid: fixed(32, 3) });
    expectError(() => verifyModulus(n, kV, sigma, pid1, { ...ctx, protocol: 'recover' }), 'RECOVER_FAILED');
    expectError(() => verifyModulus(n, fixed(15, 0), sigma, pid1, ctx), 'MALFORMED_MESSAGE');
  });

  it('Π_N alone accepts a prime N; the acceptance rules reject it (Δ17)', () => {
    const prime = big(params.primeN);
    // For a prime N, φ = N − 1 and N ≡ 1 (mod φ), so N^(−1) mod φ = 1: each ρ_i is its own N-th root.
    const roots = modulusRhos(prime, kV, pid1, ctx);
    verifyModulus(prime, kV, roots, pid1, ctx);
    expectError(() => acceptPaillierModulus(prime, kV, roots, pid1, ctx), 'DKG_FAILED', 'N composite');
  });

  it('the wire form is 4 × 256 bytes; random bytes decode or are MALFORMED_MESSAGE (property)', () => {
    const enc = encodeModulusProof(sigma);
    expect(enc).toHaveLength(1024);
    expect(decodeModulusProof(enc)).toEqual(sigma);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1100 }), (b) => {
        expect(['none', 'MALFORMED_MESSAGE']).toContain(errorCode(() => decodeModulusProof(b)));
      }),
      { numRuns: 200 },
    );
  });
});
