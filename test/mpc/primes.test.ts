import { generatePrimeSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { drawPrime, hasSmallFactor, isProbablePrime, millerRabinRound, smallPrimesUpTo8191 } from '../../src/mpc/primes.js';
import { big, errorCode, params } from './helpers.js';

describe('primes (§1.3, §2.2)', () => {
  it('the sieve has the 1028 primes ≤ 8191', () => {
    const ps = smallPrimesUpTo8191();
    expect(ps).toHaveLength(1028);
    expect(ps[0]).toBe(2n);
    expect(ps.at(-1)).toBe(8191n);
  });

  it('finds small factors, and only those', () => {
    const p = big(params.paillier[0]!.p);
    expect(hasSmallFactor(p)).toBe(false);
    expect(hasSmallFactor(3n * p)).toBe(true);
    expect(hasSmallFactor(8191n * p)).toBe(true);
    expect(hasSmallFactor(8209n * p)).toBe(false); // 8209 is the first prime past the bound
  });

  it('Miller–Rabin: primes pass every base; a Carmichael number and a biprime fail a random base', () => {
    const p = big(params.paillier[0]!.p);
    for (const a of [2n, 3n, 12345n, p - 2n]) expect(millerRabinRound(p, a)).toBe(true);
    expect(isProbablePrime(561n, 10)).toBe(false);
    expect(isProbablePrime(p * big(params.paillier[0]!.q), 2)).toBe(false);
    expect(isProbablePrime(big(params.primeN), 2)).toBe(true);
    expect(isProbablePrime(8191n, 1)).toBe(true);
    expect(isProbablePrime(1n, 1)).toBe(false);
  });

  it('drawPrime checks what an injected source returns', () => {
    const node = (bits: number, o: { readonly safe: boolean }): bigint => generatePrimeSync(bits, { safe: o.safe, bigint: true });
    expect(drawPrime(node, 256, false).toString(2)).toHaveLength(256);
    const safe = drawPrime(node, 128, true);
    expect(isProbablePrime((safe - 1n) / 2n, 10)).toBe(true);
    // wrong sizes forever → gives up; a composite → refuses
    expect(errorCode(() => drawPrime(() => 7n, 256, false))).toBe('INTERNAL');
    expect(errorCode(() => drawPrime(() => (1n << 255n) + 1n, 256, false))).toBe('INTERNAL');
    // a prime that is not safe, when a safe one was asked for
    expect(errorCode(() => drawPrime(() => big(params.paillier[0]!.p), 1024, true))).toBe('INTERNAL');
    // a wrong size once, then a right one: retried
    let calls = 0;
    const flaky = (bits: number): bigint => (calls++ === 0 ? 5n : generatePrimeSync(bits, { bigint: true }));
    expect(drawPrime(flaky, 64, false).toString(2)).toHaveLength(64);
  });
});
