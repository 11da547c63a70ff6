/**
 * Integer helpers over `bigint`: byte conversions, modular inverse, gcd, and uniform sampling.
 *
 * Sampling is by rejection only (§0): a value of a range's own size is never reduced `% n`, because
 * that biases it. The explicit +64-bit reductions of the spec (RO_num, Π_N's ρ_i) live in oracle.ts.
 * Randomness comes from `crypto.getRandomValues` through noble, which exists in browsers and Node alike.
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { internal } from './assert.js';

/** Bit length of v ≥ 0; 0 for 0. */
export function bitLength(v: bigint): number {
  if (v < 0n) throw internal('bitLength', 'a non-negative integer');
  if (v === 0n) return 0;
  const hex = v.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(Number.parseInt(hex[0] ?? '0', 16)));
}

/** The minimal big-endian encoding of v ≥ 0 (`minbytes` of §0); empty for 0. */
export function minBytes(v: bigint): Uint8Array {
  if (v < 0n) throw internal('minBytes', 'a non-negative integer');
  if (v === 0n) return new Uint8Array(0);
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  return hexToBytesUnchecked(hex);
}

/** v as exactly `width` big-endian bytes; throws if it does not fit. */
export function toFixedBytes(v: bigint, width: number): Uint8Array {
  if (v < 0n || bitLength(v) > width * 8) throw internal('toFixedBytes', `a value of at most ${width} bytes`);
  const hex = v.toString(16).padStart(width * 2, '0');
  return hexToBytesUnchecked(hex);
}

/** `int_be` of §0: bytes read as a big-endian integer (0 for the empty string). */
export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let hex = '';
  for (const x of b) hex += x.toString(16).padStart(2, '0');
  return BigInt('0x' + hex);
}

function hexToBytesUnchecked(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** a mod n in [0, n). */
export function mod(a: bigint, n: bigint): bigint {
  const r = a % n;
  return r < 0n ? r + n : r;
}

export function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** a^(−1) mod n; throws when gcd(a, n) ≠ 1. Not constant-time (JS bigint never is, §6). */
export function modInverse(a: bigint, n: bigint): bigint {
  let [r0, r1] = [mod(a, n), n];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const t = r0 / r1;
    [r0, r1] = [r1, r0 - t * r1];
    [s0, s1] = [s1, s0 - t * s1];
  }
  if (r0 !== 1n) throw internal('modInverse', 'an invertible element');
  return mod(s0, n);
}

/** x ←$ [0, n), by rejection over bits(n−1)-bit candidates. */
export function randomBelow(n: bigint): bigint {
  if (n <= 0n) throw internal('randomBelow', 'a positive bound');
  if (n === 1n) return 0n;
  const bits = bitLength(n - 1n);
  const bytes = Math.ceil(bits / 8);
  const excess = BigInt(bytes * 8 - bits);
  for (;;) {
    const buf = randomBytes(bytes);
    const v = bytesToBigint(buf) >> excess;
    buf.fill(0);
    if (v < n) return v;
  }
}

/** x ←$ [lo, hi). */
export function randomInRange(lo: bigint, hi: bigint): bigint {
  if (hi <= lo) throw internal('randomInRange', 'a non-empty interval');
  return lo + randomBelow(hi - lo);
}

/** x ←$ Z*_n: [1, n) with gcd(x, n) = 1. */
export function randomUnit(n: bigint): bigint {
  for (;;) {
    const v = randomInRange(1n, n);
    if (gcd(v, n) === 1n) return v;
  }
}

/** Constant-time-shaped equality of two byte strings (public values, but cheap to do right). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
