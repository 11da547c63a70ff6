/**
 * Modular exponentiation, the one operation that sets this protocol's speed (§4). It sits behind an
 * injectable backend, `ModArith`, so the server can plug in native big-integer arithmetic (for example
 * OpenSSL through Node's crypto) while src/mpc stays free of Node built-ins and this BigInt code stays
 * the reference every backend is tested against.
 *
 * Two shapes of exponentiation:
 * - `windowedPowMod`: sliding-window left-to-right, for one-off bases.
 * - `FixedBase`: for a base used many times under one modulus (g̃, h̃, √h_P), Yao's method over a table
 *   of base^(2^(w·j)) built once; each exponentiation then costs about bits/w + 2^w multiplications
 *   instead of bits squarings.
 *
 * All of it is variable-time, as JS bigint always is (§6 "Side channels").
 *
 * @example
 * const c = bigintArith.powMod(r, n, n2);
 */
import { internal } from './assert.js';
import { bitLength, mod } from './bigint.js';

export interface ModArith {
  /** base^exp mod m, for exp ≥ 0 and m > 1; the result lies in [0, m). */
  powMod(base: bigint, exp: bigint, m: bigint): bigint;
}

function windowWidth(bits: number): number {
  if (bits <= 24) return 1;
  if (bits <= 80) return 3;
  if (bits <= 240) return 4;
  if (bits <= 768) return 5;
  return 6;
}

/** Sliding-window base^exp mod m. */
export function windowedPowMod(base: bigint, exp: bigint, m: bigint): bigint {
  if (m <= 1n) throw internal('powMod', 'a modulus > 1');
  if (exp < 0n) throw internal('powMod', 'a non-negative exponent');
  const b = mod(base, m);
  if (exp === 0n) return 1n;
  const bits = exp.toString(2);
  const w = windowWidth(bits.length);
  // odd powers b, b^3, …, b^(2^w − 1)
  const table: bigint[] = [b];
  const b2 = (b * b) % m;
  for (let i = 1; i < 1 << (w - 1); i++) table.push(((table[i - 1] ?? 1n) * b2) % m);
  let r = 1n;
  let i = 0;
  const n = bits.length;
  while (i < n) {
    if (bits[i] === '0') {
      r = (r * r) % m;
      i++;
      continue;
    }
    let j = Math.min(i + w, n);
    while (bits[j - 1] === '0') j--;
    const v = Number.parseInt(bits.slice(i, j), 2);
    for (let k = i; k < j; k++) r = (r * r) % m;
    r = (r * (table[(v - 1) >> 1] ?? 1n)) % m;
    i = j;
  }
  return r;
}

/** The reference backend: plain BigInt, windowed. */
export const bigintArith: ModArith = { powMod: windowedPowMod };

/**
 * A base used many times under one modulus. The table holds base^(2^(w·j)) for j < ⌈maxBits/w⌉;
 * larger exponents fall back to the backend.
 */
export class FixedBase {
  readonly base: bigint;
  readonly modulus: bigint;
  readonly maxBits: number;
  readonly #w: number;
  readonly #table: bigint[];
  readonly #arith: ModArith;

  constructor(base: bigint, modulus: bigint, maxBits: number, arith: ModArith = bigintArith, w = 6) {
    if (modulus <= 1n) throw internal('FixedBase', 'a modulus > 1');
    this.base = mod(base, modulus);
    this.modulus = modulus;
    this.maxBits = maxBits;
    this.#w = w;
    this.#arith = arith;
    const digits = Math.ceil(maxBits / w);
    const table: bigint[] = [this.base];
    for (let j = 1; j < digits; j++) {
      let t = table[j - 1] ?? 1n;
      for (let k = 0; k < w; k++) t = (t * t) % modulus;
      table.push(t);
    }
    this.#table = table;
  }

  pow(exp: bigint): bigint {
    if (exp < 0n) throw internal('FixedBase.pow', 'a non-negative exponent');
    if (bitLength(exp) > this.maxBits) return this.#arith.powMod(this.base, exp, this.modulus);
    const buckets: (bigint | undefined)[] = new Array<bigint | undefined>(1 << this.#w);
    this.#fill(buckets, exp);
    return this.#collect(buckets);
  }

  /**
   * this.base^exp · other.base^otherExp mod m, both bases fixed under one modulus and window (Straus's
   * idea applied to Yao's method): both exponents' digits fill one set of buckets, so the bucket phase,
   * about 2^(w+1) multiplications, runs once instead of twice. Same result as `pow(exp)·other.pow(otherExp)`.
   */
  powProduct(exp: bigint, other: FixedBase, otherExp: bigint): bigint {
    if (exp < 0n || otherExp < 0n) throw internal('FixedBase.powProduct', 'non-negative exponents');
    const m = this.modulus;
    if (other.modulus !== m || other.#w !== this.#w || bitLength(exp) > this.maxBits || bitLength(otherExp) > other.maxBits) {
      return (this.pow(exp) * other.pow(otherExp)) % m;
    }
    const buckets: (bigint | undefined)[] = new Array<bigint | undefined>(1 << this.#w);
    this.#fill(buckets, exp);
    other.#fill(buckets, otherExp);
    return this.#collect(buckets);
  }

  /** bucket[d] ·= table[j] for every w-bit digit j of exp equal to d ≠ 0. */
  #fill(buckets: (bigint | undefined)[], exp: bigint): void {
    const m = this.modulus;
    const w = this.#w;
    const mask = (1n << BigInt(w)) - 1n;
    let e = exp;
    for (let j = 0; e > 0n; j++, e >>= BigInt(w)) {
      const d = Number(e & mask);
      if (d === 0) continue;
      const t = this.#table[j] ?? 1n;
      const cur = buckets[d];
      buckets[d] = cur === undefined ? t : (cur * t) % m;
    }
  }

  /** Π_d bucket[d]^d (Yao), by running products from the top digit down. */
  #collect(buckets: readonly (bigint | undefined)[]): bigint {
    const m = this.modulus;
    const w = this.#w;
    let acc: bigint | undefined;
    let result = 1n;
    for (let d = (1 << w) - 1; d >= 1; d--) {
      const bd = buckets[d];
      if (bd !== undefined) acc = acc === undefined ? bd : (acc * bd) % m;
      if (acc !== undefined) result = (result * acc) % m;
    }
    return result;
  }
}
