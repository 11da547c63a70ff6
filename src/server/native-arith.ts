/**
 * A server-only `ModArith` backend (ECDSA-2PC §4, last lever): modular exponentiation in OpenSSL's
 * bignum code, reached through Node's Diffie–Hellman object. src/mpc stays pure; the custodian injects
 * this where it builds its objects (`decodeCustodianShare(bytes, nativeArith())`,
 * `createKeygenP1({ …, arith: nativeArith() })`), and the BigInt reference (`windowedPowMod`) stays the
 * definition every result is tested against (test/server/native-arith.test.ts).
 *
 * How: `createDiffieHellman(m, g)` makes a DH context for the modulus m, `setPrivateKey(e)` loads the
 * exponent, and `computeSecret(b)` returns b^e mod m, padded to the size of m. Building a context is
 * not free: Node runs OpenSSL's `DH_check` on the modulus, a primality test (one Miller–Rabin round for
 * a composite like p², N², Ñ, about as dear as one full-size exponentiation, ≈ 2 ms at 2048 bits and
 * 14 ms at 4096; some 64 rounds for a prime p, ≈ 17 ms at 1024 bits). Two kinds of context therefore:
 * - cold: a context for 3·m, built per call. Trial division finds the factor 3 at once, so `DH_check`
 *   costs nothing, and (b^e mod 3m) mod m = b^e mod m. The price: 3·m is one 64-bit word longer than m,
 *   which roughly doubles the exponentiation (still 2–3× faster than BigInt).
 * - hot: a context for m itself, kept (an LRU of `maxContexts`) and reused for every base and exponent
 *   under m. A modulus is promoted once its cold calls have taken `promoteAfterMs` (default 20 ms) in
 *   all: rent-or-buy, so a one-off modulus (a prime candidate in key generation) never pays `DH_check`
 *   and a hot one (the custodian's p², q², Ñ) pays it once.
 *
 * What OpenSSL (3.0, Node 20) refuses or gets wrong, and what this file does about it (every such case
 * goes to the BigInt reference, which also gives the reference's errors for exp < 0 or m ≤ 1):
 * - even moduli (Montgomery form needs an odd one): refused → BigInt.
 * - moduli below 512 bits: `DH_compute_key` fails *silently*, Node returns zeros → this file uses
 *   OpenSSL only from `minModulusBits` (default 1024) and treats a zero result as a failure.
 * - moduli above 10 000 bits (OPENSSL_DH_MAX_MODULUS_BITS): refused → BigInt.
 * - bases outside [2, m−2] (`DH_check_pub_key`), and results ≤ 1 or = m−1 (SP 800-56A's check on Z):
 *   refused with an exception → BigInt.
 * - exponents ≥ m are fine (the exponentiation reads the whole exponent); tiny exponents
 *   (< `minExponentBits`, default 32) are faster in BigInt than across the binding.
 *
 * Side channels. `ossl_dh_compute_key` sets BN_FLG_CONSTTIME on the private key (the exponent) whenever
 * it caches the Montgomery context, which the default DH method always does, so the exponentiation is
 * `BN_mod_exp_mont_consttime`: fixed windows, table reads by scatter/gather, its running time a function
 * of the exponent's length in 64-bit words only. That is strictly better than the BigInt reference, which
 * is variable-time throughout (§6 "Side channels"). It is not a constant-time path end to end: the
 * exponent crosses JS BigInt and a hex string on the way in; the modulus is treated as public by DH (its
 * Montgomery set-up and `DH_check`'s primality test on it are variable-time: once per kept context, and
 * on every call under a cold one, on the custodian's p, q, p², q²); the exponent's word length shows. After each call the context's private
 * key is overwritten (OpenSSL frees the old one with BN_clear_free) and the exponent's and result's
 * buffers are zeroed; JS strings and bigints cannot be wiped.
 *
 * @example
 * const share = decodeCustodianShare(bytes, nativeArith());
 * const signer = new CustodianSigner(share);   // Π_sign's check, Dec, blinding: all through OpenSSL
 */
import { createDiffieHellman, type DiffieHellman } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { bitLength, mod } from '../mpc/bigint.js';
import { windowedPowMod, type ModArith } from '../mpc/modexp.js';

/** OpenSSL's DH refuses moduli above OPENSSL_DH_MAX_MODULUS_BITS. */
const OPENSSL_MAX_MODULUS_BITS = 10_000;
/** Below DH_MIN_MODULUS_BITS (512) OpenSSL fails silently; stay well clear of it. */
const FLOOR_MODULUS_BITS = 768;

export interface NativeArithOptions {
  /** Smallest modulus, in bits, handed to OpenSSL (at least 768). Default 1024. */
  readonly minModulusBits?: number;
  /** Smallest exponent, in bits, worth crossing into OpenSSL. Default 32. */
  readonly minExponentBits?: number;
  /** How many moduli keep an OpenSSL context (least recently used dropped). Default 64. */
  readonly maxContexts?: number;
  /** Time spent on cold contexts under a modulus before it gets a kept one (0: at once). Default 20 ms. */
  readonly promoteAfterMs?: number;
}

export interface NativeArithStats {
  /** Exponentiations OpenSSL computed under a kept context for m. */
  native: number;
  /** Exponentiations OpenSSL computed under a throw-away context for 3·m. */
  cold: number;
  /** Exponentiations the BigInt reference computed (outside the native range, or not yet promoted). */
  reference: number;
  /** Calls OpenSSL refused (or answered with the silent zero), then computed by the reference. */
  fallbacks: number;
  /** Kept contexts built (each ran DH_check on m once). */
  contexts: number;
}

export interface NativeArith extends ModArith {
  readonly stats: Readonly<NativeArithStats>;
  /** Drops every cached context (and with it OpenSSL's copies of the moduli). */
  clear(): void;
}

function toBuffer(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  return Buffer.from(hex, 'hex');
}

function fromBuffer(b: Buffer): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + b.toString('hex'));
}

/** One byte 0x01: what a context's private key is reset to after each call. */
const ONE = Buffer.from([1]);
const TWO = Buffer.from([2]);

/** A fresh backend with its own contexts. */
export function createNativeArith(options: NativeArithOptions = {}): NativeArith {
  const minModulusBits = Math.max(FLOOR_MODULUS_BITS, options.minModulusBits ?? 1024);
  const minExponentBits = Math.max(2, options.minExponentBits ?? 32);
  const maxContexts = Math.max(1, options.maxContexts ?? 64);
  const promoteAfterMs = Math.max(0, options.promoteAfterMs ?? 20);
  const contexts = new Map<bigint, DiffieHellman>();
  /** Milliseconds spent on cold contexts, per modulus not yet promoted (bounded, oldest dropped). */
  const coldMs = new Map<bigint, number>();
  const stats: NativeArithStats = { native: 0, cold: 0, reference: 0, fallbacks: 0, contexts: 0 };

  const reference = (b: bigint, e: bigint, m: bigint): bigint => {
    stats.reference++;
    return windowedPowMod(b, e, m);
  };

  /** The kept context for m (now the most recently used), or undefined while m is cold. */
  const hotContext = (m: bigint): DiffieHellman | undefined => {
    const hit = contexts.get(m);
    if (hit !== undefined) {
      contexts.delete(m);
      contexts.set(m, hit);
      return hit;
    }
    if ((coldMs.get(m) ?? 0) < promoteAfterMs) return undefined;
    coldMs.delete(m);
    // The generator is irrelevant (computeSecret takes the base); 2 is what DH_check expects.
    const dh = createDiffieHellman(toBuffer(m), TWO);
    stats.contexts++;
    contexts.set(m, dh);
    if (contexts.size > maxContexts) {
      const oldest = contexts.keys().next();
      if (oldest.done !== true) contexts.delete(oldest.value);
    }
    return dh;
  };

  const noteCold = (m: bigint, ms: number): void => {
    const total = (coldMs.get(m) ?? 0) + ms;
    coldMs.delete(m);
    coldMs.set(m, total);
    if (coldMs.size > 4 * maxContexts) {
      const oldest = coldMs.keys().next();
      if (oldest.done !== true) coldMs.delete(oldest.value);
    }
  };

  /** b^e mod M by OpenSSL, or undefined when it refuses (or answers with the silent zero). */
  const compute = (dh: DiffieHellman, b: bigint, exp: bigint): bigint | undefined => {
    const e = toBuffer(exp);
    let out: Buffer | undefined;
    try {
      dh.setPrivateKey(e);
      out = dh.computeSecret(toBuffer(b));
    } catch {
      out = undefined;
    } finally {
      e.fill(0);
      try {
        dh.setPrivateKey(ONE);
      } catch {
        // a context that cannot take a new key is dropped by the caller's next miss
      }
    }
    if (out === undefined) return undefined;
    const r = fromBuffer(out);
    out.fill(0);
    // 0 is never a valid answer here (OpenSSL refuses Z ≤ 1): it is the silent failure.
    return r === 0n ? undefined : r;
  };

  const powMod = (base: bigint, exp: bigint, m: bigint): bigint => {
    // Outside the contract (m ≤ 1, exp < 0, non-bigints): the reference, with the reference's error.
    if (typeof base !== 'bigint' || typeof exp !== 'bigint' || typeof m !== 'bigint' || m <= 1n || exp < 0n) {
      return reference(base, exp, m);
    }
    const b = mod(base, m);
    const mBits = bitLength(m);
    if (
      (m & 1n) === 0n ||
      mBits < minModulusBits ||
      mBits + 2 > OPENSSL_MAX_MODULUS_BITS ||
      bitLength(exp) < minExponentBits ||
      b < 2n ||
      b > m - 2n
    ) {
      return reference(b, exp, m);
    }
    let r: bigint | undefined;
    let hot: DiffieHellman | undefined;
    try {
      hot = hotContext(m);
    } catch {
      hot = undefined;
    }
    if (hot !== undefined) {
      r = compute(hot, b, exp);
      if (r !== undefined && r < m) {
        stats.native++;
        return r;
      }
    } else {
      const t0 = performance.now();
      let cold: DiffieHellman | undefined;
      try {
        cold = createDiffieHellman(toBuffer(3n * m), TWO);
      } catch {
        cold = undefined;
      }
      r = cold === undefined ? undefined : compute(cold, b, exp);
      noteCold(m, performance.now() - t0);
      if (r !== undefined) {
        stats.cold++;
        return r % m;
      }
    }
    stats.fallbacks++;
    return reference(b, exp, m);
  };

  return {
    powMod,
    stats,
    clear(): void {
      contexts.clear();
      coldMs.clear();
    },
  };
}

let shared: NativeArith | undefined;

/** The process's shared native backend (contexts shared by every caller; see `createNativeArith`). */
export function nativeArith(): NativeArith {
  shared ??= createNativeArith();
  return shared;
}
