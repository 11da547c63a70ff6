/**
 * Paillier encryption (§1.3) with g = 1 + N: the custodian's additively homomorphic key that carries
 * its share x1 to the client as c_key, and on which the client computes the signing ciphertext.
 *
 * - Primes come from an injected `PrimeSource`; this file checks every size it relies on (two distinct
 *   1024-bit primes, bits(N) = 2048 exactly) and draws again otherwise.
 * - Exponentiation goes through an injected `ModArith` backend (modexp.ts).
 * - The secret key keeps p_N and q_N in private fields, so they never show up in a log or a JSON dump,
 *   and decrypts by CRT over p_N² and q_N² (§1.3 "SHOULD").
 * - The acceptance rules for an N received from the other party are `checkPaillierModulus` here (size,
 *   parity, sieve, compositeness) plus Π_N (pi-n.ts); only `acceptPaillierModulus` there yields the
 *   `AcceptedPaillierKey` that the other proofs' verifiers require.
 *
 * @example
 * const sk = generatePaillierKey(source);
 * const c = sk.publicKey.encrypt(x1);
 * sk.decrypt(c) === x1;
 */
import type { ErrorCode } from '../errors.js';
import { internal, rejected } from './assert.js';
import { bitLength, gcd, mod, modInverse, randomInRange, randomUnit } from './bigint.js';
import { q } from './curve.js';
import { bigintArith, type ModArith } from './modexp.js';
import { drawPrime, hasSmallFactor, millerRabinRound, type PrimeSource } from './primes.js';

export const PAILLIER_BITS = 2048;
export const PAILLIER_PRIME_BITS = 1024;

export class PaillierPublicKey {
  readonly n: bigint;
  readonly n2: bigint;
  readonly arith: ModArith;

  constructor(n: bigint, arith: ModArith = bigintArith) {
    if (typeof n !== 'bigint' || n <= 1n) throw internal('Paillier N', 'an integer > 1');
    this.n = n;
    this.n2 = n * n;
    this.arith = arith;
  }

  /** §1.3 "valid": 0 < c < N² and gcd(c, N) = 1. */
  isValidCiphertext(c: bigint): boolean {
    return typeof c === 'bigint' && c > 0n && c < this.n2 && gcd(c, this.n) === 1n;
  }

  /** Enc(m; r) = (1 + m·N)·r^N mod N², m ∈ [0, N), r ∈ Z*_N (fresh when omitted). */
  encrypt(m: bigint, r: bigint = randomUnit(this.n)): bigint {
    if (m < 0n || m >= this.n) throw internal('Paillier plaintext', 'a value in [0, N)');
    if (r <= 0n || r >= this.n) throw internal('Paillier randomness', 'a value in [1, N)');
    return (((1n + m * this.n) % this.n2) * this.arith.powMod(r, this.n, this.n2)) % this.n2;
  }

  /** c1·c2: adds the plaintexts. */
  add(c1: bigint, c2: bigint): bigint {
    return (c1 * c2) % this.n2;
  }

  /** c^k: multiplies the plaintext by k ≥ 0. */
  mul(c: bigint, k: bigint): bigint {
    if (k < 0n) throw internal('Paillier scalar', 'a non-negative integer');
    return this.arith.powMod(c, k, this.n2);
  }

  /** c ⊕ a := c·(1 + a·N) mod N²: adds the public a ≥ 0. Does not re-randomise. */
  addPlain(c: bigint, a: bigint): bigint {
    if (a < 0n) throw internal('Paillier addend', 'a non-negative integer');
    return (c * ((1n + mod(a, this.n) * this.n) % this.n2)) % this.n2;
  }
}

/** A public key that has passed every acceptance rule of §1.3, Π_N included (see pi-n.ts). */
declare const accepted: unique symbol;
export type AcceptedPaillierKey = PaillierPublicKey & { readonly [accepted]: true };

/** The custodian's key. Holds p_N, q_N privately; every secret operation is a method. */
export class PaillierSecretKey {
  readonly publicKey: PaillierPublicKey;
  readonly #p: bigint;
  readonly #q: bigint;
  readonly #p2: bigint;
  readonly #q2: bigint;
  readonly #hp: bigint;
  readonly #hq: bigint;
  readonly #qInvP: bigint;
  readonly #q2InvP2: bigint;

  constructor(p: bigint, q: bigint, arith: ModArith = bigintArith) {
    const n = p * q;
    if (p === q || bitLength(p) !== PAILLIER_PRIME_BITS || bitLength(q) !== PAILLIER_PRIME_BITS) {
      throw internal('Paillier primes', 'two distinct 1024-bit primes');
    }
    if (bitLength(n) !== PAILLIER_BITS) throw internal('Paillier N', 'exactly 2048 bits');
    if (gcd(n, (p - 1n) * (q - 1n)) !== 1n) throw internal('Paillier N', 'gcd(N, φ) = 1');
    this.publicKey = new PaillierPublicKey(n, arith);
    this.#p = p;
    this.#q = q;
    this.#p2 = p * p;
    this.#q2 = q * q;
    // h_p = L_p((1+N)^(p−1) mod p²)^(−1) mod p, and likewise for q (CRT decryption).
    const g = 1n + n;
    this.#hp = modInverse((arith.powMod(g, p - 1n, this.#p2) - 1n) / p, p);
    this.#hq = modInverse((arith.powMod(g, q - 1n, this.#q2) - 1n) / q, q);
    this.#qInvP = modInverse(q, p);
    this.#q2InvP2 = modInverse(this.#q2, this.#p2);
  }

  get n(): bigint {
    return this.publicKey.n;
  }

  /** φ(N) = (p_N − 1)(q_N − 1). Secret: keep it in as few variables as possible. */
  phi(): bigint {
    return (this.#p - 1n) * (this.#q - 1n);
  }

  /** For serialising the custodian's key state only; never log or send. */
  primes(): { readonly p: bigint; readonly q: bigint } {
    return { p: this.#p, q: this.#q };
  }

  /** CRT: x ≡ a (mod p), x ≡ b (mod q). */
  #crt(a: bigint, b: bigint): bigint {
    return b + this.#q * mod((a - b) * this.#qInvP, this.#p);
  }

  /** base^exp mod N², by CRT over p², q². */
  powModN2(base: bigint, exp: bigint): bigint {
    const arith = this.publicKey.arith;
    const a = arith.powMod(base, exp, this.#p2);
    const b = arith.powMod(base, exp, this.#q2);
    return b + this.#q2 * mod((a - b) * this.#q2InvP2, this.#p2);
  }

  /** Enc(m; r) computed with the factorisation (same result as the public key's, about twice as fast). */
  encrypt(m: bigint, r: bigint = randomUnit(this.n)): bigint {
    const { n, n2 } = this.publicKey;
    if (m < 0n || m >= n) throw internal('Paillier plaintext', 'a value in [0, N)');
    if (r <= 0n || r >= n) throw internal('Paillier randomness', 'a value in [1, N)');
    return (((1n + m * n) % n2) * this.powModN2(r, n)) % n2;
  }

  /** Dec(c) = L(c^φ mod N²)·φ^(−1) mod N, computed by CRT. Throws on an invalid ciphertext. */
  decrypt(c: bigint): bigint {
    if (!this.publicKey.isValidCiphertext(c)) throw internal('Paillier ciphertext', 'a valid ciphertext');
    const arith = this.publicKey.arith;
    const p = this.#p;
    const qq = this.#q;
    const mp = ((((arith.powMod(c, p - 1n, this.#p2) - 1n) / p) % p) * this.#hp) % p;
    const mq = ((((arith.powMod(c, qq - 1n, this.#q2) - 1n) / qq) % qq) * this.#hq) % qq;
    return this.#crt(mp, mq);
  }

  /** x^(N^(−1) mod φ) mod N: the N-th root of x ∈ Z*_N (Π_N's σ), by CRT. */
  nthRoot(x: bigint): bigint {
    const arith = this.publicKey.arith;
    const n = this.n;
    const p = this.#p;
    const qq = this.#q;
    const a = arith.powMod(x % p, modInverse(n, p - 1n), p);
    const b = arith.powMod(x % qq, modInverse(n, qq - 1n), qq);
    return this.#crt(a, b);
  }

  /** r from c = Enc(m; r): (c·(1+m·N)^(−1) mod N²)^(N^(−1) mod φ) mod N (P1 only). */
  recoverRandomness(c: bigint, m: bigint): bigint {
    const { n, n2 } = this.publicKey;
    if (!this.publicKey.isValidCiphertext(c)) throw internal('Paillier ciphertext', 'a valid ciphertext');
    // (1 + m·N)^(−1) = 1 − m·N (mod N²)
    const rN = (c * mod(1n - mod(m, n) * n, n2)) % n2;
    return this.nthRoot(rN % n);
  }
}

/**
 * A fresh Paillier key (§1.3): two distinct 1024-bit primes from `source`, bits(N) = 2048 exactly;
 * draws again until both hold.
 */
export function generatePaillierKey(source: PrimeSource, arith: ModArith = bigintArith): PaillierSecretKey {
  for (let attempt = 0; attempt < 16; attempt++) {
    const p = drawPrime(source, PAILLIER_PRIME_BITS, false, arith);
    const qq = drawPrime(source, PAILLIER_PRIME_BITS, false, arith);
    if (p === qq || bitLength(p * qq) !== PAILLIER_BITS) continue;
    return new PaillierSecretKey(p, qq, arith);
  }
  throw internal('prime source', 'two distinct primes whose product has 2048 bits');
}

/**
 * The acceptance rules of §1.3 for a received N, except Π_N: bits(N) = 2048 (which gives ≥ 1089 and
 * N > q·2^143), odd, no prime ≤ 8191 divides it, and composite: one Miller–Rabin round with a base
 * a ←$ [2, N−1) drawn here must declare it composite, so a prime N is always rejected (Δ17).
 */
export function checkPaillierModulus(n: bigint, code: ErrorCode, arith: ModArith = bigintArith): void {
  const proof = 'paillier_n';
  if (typeof n !== 'bigint' || bitLength(n) !== PAILLIER_BITS) throw rejected(code, proof, 'bits(N) = 2048');
  if ((n & 1n) === 0n) throw rejected(code, proof, 'N odd');
  if (n <= q << 143n) throw rejected(code, proof, 'N > q·2^143');
  if (hasSmallFactor(n)) throw rejected(code, proof, 'no prime ≤ 8191 divides N');
  if (millerRabinRound(n, randomInRange(2n, n - 1n), arith)) throw rejected(code, proof, 'N composite');
}
