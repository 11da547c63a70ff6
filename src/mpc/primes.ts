/**
 * Primes as this protocol needs them, without generating any: the prime source is injected (§1.3), so
 * src/mpc imports no Node built-in and the client, which never generates primes, carries no generator.
 * What stays here is checking: the small-prime sieve (primes ≤ α = 8191, 1028 of them) that every
 * modulus must pass, and Miller–Rabin for the compositeness rule of N (Δ17) and for sanity checks of
 * what a prime source returns.
 *
 * @example
 * const source: PrimeSource = (bits, { safe }) => generatePrimeSync(bits, { safe, bigint: true });
 */
import { internal } from './assert.js';
import { bitLength, randomInRange } from './bigint.js';
import { bigintArith, type ModArith } from './modexp.js';

/**
 * A source of random primes: `bits` exactly, and a safe prime p (with (p−1)/2 prime) when `safe`.
 * The server passes one backed by Node's `crypto.generatePrimeSync(bits, { safe, bigint: true })`.
 */
export type PrimeSource = (bits: number, options: { readonly safe: boolean }) => bigint;

/** α = 2^13: the sieve bound and the challenge chunk size (§1.1). */
export const SIEVE_BOUND = 8191;

let smallPrimes: readonly bigint[] | undefined;

/** The 1028 primes ≤ 8191. */
export function smallPrimesUpTo8191(): readonly bigint[] {
  if (smallPrimes === undefined) {
    const composite = new Uint8Array(SIEVE_BOUND + 1);
    const out: bigint[] = [];
    for (let i = 2; i <= SIEVE_BOUND; i++) {
      if (composite[i] === 1) continue;
      out.push(BigInt(i));
      for (let j = i * i; j <= SIEVE_BOUND; j += i) composite[j] = 1;
    }
    smallPrimes = out;
  }
  return smallPrimes;
}

/** True when a prime ≤ 8191 divides n (and n is not that prime itself). */
export function hasSmallFactor(n: bigint): boolean {
  for (const p of smallPrimesUpTo8191()) if (n % p === 0n && n !== p) return true;
  return false;
}

/**
 * One Miller–Rabin round with base a ∈ [2, n−1): true when n is a strong probable prime to base a,
 * false when a witnesses that n is composite. n must be odd and > 3.
 */
export function millerRabinRound(n: bigint, a: bigint, arith: ModArith = bigintArith): boolean {
  if (n <= 3n || (n & 1n) === 0n) throw internal('millerRabinRound', 'an odd n > 3');
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  let x = arith.powMod(a, d, n);
  if (x === 1n || x === n - 1n) return true;
  for (let i = 1; i < s; i++) {
    x = (x * x) % n;
    if (x === n - 1n) return true;
    if (x === 1n) return false;
  }
  return false;
}

/** Sieve, then `rounds` Miller–Rabin rounds with random bases. */
export function isProbablePrime(n: bigint, rounds: number, arith: ModArith = bigintArith): boolean {
  if (n < 2n) return false;
  if (n <= BigInt(SIEVE_BOUND)) return smallPrimesUpTo8191().includes(n);
  if ((n & 1n) === 0n || hasSmallFactor(n)) return false;
  for (let i = 0; i < rounds; i++) if (!millerRabinRound(n, randomInRange(2n, n - 1n), arith)) return false;
  return true;
}

/**
 * Draws a prime of exactly `bits` bits from `source` and checks it, so that a faulty source (or a
 * test stub) cannot hand the custodian a composite. Safe primes also get (p−1)/2 checked. Retries a few
 * times on a wrong size, then gives up: a source that keeps returning the wrong size is broken.
 */
export function drawPrime(source: PrimeSource, bits: number, safe: boolean, arith: ModArith = bigintArith): bigint {
  for (let attempt = 0; attempt < 8; attempt++) {
    const p = source(bits, { safe });
    if (typeof p !== 'bigint' || bitLength(p) !== bits) continue;
    if (!isProbablePrime(p, 2, arith)) throw internal('prime source', 'a prime');
    if (safe && !isProbablePrime((p - 1n) >> 1n, 2, arith)) throw internal('prime source', 'a safe prime');
    return p;
  }
  throw internal('prime source', `primes of exactly ${bits} bits`);
}
