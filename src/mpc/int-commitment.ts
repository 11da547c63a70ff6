/**
 * Integer-commitment parameters of unknown order (§1.3, Δ2): Ñ = p̃·q̃ with 1024-bit safe primes,
 * h̃ a random square, g̃ = h̃^ω. Π_sign commits to the client's integers as g̃^w·h̃^u mod Ñ.
 *
 * Binding must hold against the prover of Π_sign, the client, so the custodian makes them, once per
 * deployment, and proves g̃ ∈ ⟨h̃⟩ with Π_IC (pi-ic.ts). The client verifies once and pins
 * SHA-256(Enc(Ñ, g̃, h̃)). Hiding is statistical whatever the custodian knows, so p̃, q̃ and ω are
 * dropped as soon as the proof is made.
 *
 * @example
 * const { params, proof } = generateIntCommitmentParams(source);   // custodian, once
 * verifyIc(params, proof, 'dkg');                                  // client, once
 * const pin = intCommitmentPin(params);                            // client, stored with the key
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { internal } from './assert.js';
import { bitLength, gcd, randomBelow } from './bigint.js';
import { encode } from './encoding.js';
import { bigintArith, FixedBase, type ModArith } from './modexp.js';
import { drawPrime, type PrimeSource } from './primes.js';

export const IC_MODULUS_BITS = 2048;
export const IC_PRIME_BITS = 1024;

/** (Ñ, g̃, h̃), with fixed-base tables for g̃ and h̃ built on first use. */
export class IntCommitmentParams {
  readonly nTilde: bigint;
  readonly g: bigint;
  readonly h: bigint;
  readonly arith: ModArith;
  #tables: { g: FixedBase; h: FixedBase } | undefined;

  constructor(nTilde: bigint, g: bigint, h: bigint, arith: ModArith = bigintArith) {
    if (typeof nTilde !== 'bigint' || typeof g !== 'bigint' || typeof h !== 'bigint' || nTilde <= 1n) {
      throw internal('integer-commitment parameters', 'integers with Ñ > 1');
    }
    this.nTilde = nTilde;
    this.g = g;
    this.h = h;
    this.arith = arith;
  }

  #t(): { g: FixedBase; h: FixedBase } {
    if (this.#tables === undefined) {
      // Exponents reach Ñ·2^257 (Π_sign's v_j); larger ones fall back to the backend.
      const bits = bitLength(this.nTilde) + 258;
      this.#tables = {
        g: new FixedBase(this.g, this.nTilde, bits, this.arith),
        h: new FixedBase(this.h, this.nTilde, bits, this.arith),
      };
    }
    return this.#tables;
  }

  /** g̃^e mod Ñ, e ≥ 0 */
  powG(e: bigint): bigint {
    return this.#t().g.pow(e);
  }

  /** h̃^e mod Ñ, e ≥ 0 */
  powH(e: bigint): bigint {
    return this.#t().h.pow(e);
  }

  /** g̃^w·h̃^u mod Ñ (one shared bucket phase for both fixed bases) */
  commit(w: bigint, u: bigint): bigint {
    const t = this.#t();
    return t.g.powProduct(w, t.h, u);
  }
}

/**
 * Parameters from two safe primes: h̃ = h′² with h′ ←$ [0, Ñ), redrawn until h̃ generates all of QR_Ñ
 * (h̃ ≢ 1 mod p̃ and mod q̃, and gcd(h̃, Ñ) = 1), and g̃ = h̃^ω with ω ←$ [0, Ñ·2^64). Returns ω for
 * the prover; drop it after proving.
 */
export function deriveIntCommitmentParams(
  pTilde: bigint,
  qTilde: bigint,
  arith: ModArith = bigintArith,
): { readonly params: IntCommitmentParams; readonly omega: bigint } {
  const nTilde = pTilde * qTilde;
  if (pTilde === qTilde || bitLength(nTilde) !== IC_MODULUS_BITS) {
    throw internal('integer-commitment primes', 'distinct primes whose product has 2048 bits');
  }
  let h: bigint;
  do {
    const hPrime = randomBelow(nTilde);
    h = (hPrime * hPrime) % nTilde;
  } while (gcd(h, nTilde) !== 1n || h % pTilde === 1n || h % qTilde === 1n);
  const omega = randomBelow(nTilde << 64n);
  const g = arith.powMod(h, omega, nTilde);
  return { params: new IntCommitmentParams(nTilde, g, h, arith), omega };
}

/** Two distinct 1024-bit safe primes with a 2048-bit product, from `source` (§2.6); draws again otherwise. */
export function drawSafePrimePair(source: PrimeSource, arith: ModArith = bigintArith): { p: bigint; q: bigint } {
  for (let attempt = 0; attempt < 16; attempt++) {
    const p = drawPrime(source, IC_PRIME_BITS, true, arith);
    const q = drawPrime(source, IC_PRIME_BITS, true, arith);
    if (p !== q && bitLength(p * q) === IC_MODULUS_BITS) return { p, q };
  }
  throw internal('prime source', 'two distinct safe primes whose product has 2048 bits');
}

/** SHA-256(Enc(Ñ, g̃, h̃)): what the client pins once it has verified Π_IC. */
export function intCommitmentPin(params: IntCommitmentParams): Uint8Array {
  return sha256(encode(params.nTilde, params.g, params.h));
}
