/**
 * Π_IC (§2.6): the integer-commitment parameters are well formed, g̃ = h̃^w for some w with
 * bits(w) ≤ l = bits(Ñ)+64, an unknown-order discrete-log proof with 128 binary challenges (2^−128
 * soundness: TSSHOCK's c-guess attack was this proof with too few repetitions). g̃ ∈ ⟨h̃⟩ is what makes
 * g̃^w·h̃^u statistically hiding for the client, whatever the custodian knows.
 *
 * The proof is made once per deployment, so its context is fixed: label "ic/pi_ic",
 * sid = RO(label "ic/sid", Ñ) and aux = 0. Its verifier takes the protocol it runs in (keygen K1 or
 * recover R1) only to report a failure with that protocol's error code.
 *
 * @example
 * const { params, proof } = generateIntCommitmentParams(source); // custodian, once per deployment
 * verifyIc(params, proof, 'dkg');                                // client, once; then pin
 */
import { assertBytes, assertCount, malformed, rejected } from './assert.js';
import { bitLength, equalBytes, gcd, modInverse, randomBelow } from './bigint.js';
import { u32, u64 } from './encoding.js';
import {
  deriveIntCommitmentParams,
  drawSafePrimePair,
  IC_MODULUS_BITS,
  IntCommitmentParams,
} from './int-commitment.js';
import { bigintArith, type ModArith } from './modexp.js';
import { label, ro, ro128 } from './oracle.js';
import { hasSmallFactor, type PrimeSource } from './primes.js';
import { rejectCode, type Protocol } from './session.js';
import { decodeAll, ELEMENT_BYTES, encodeWith, type WireReader, type WireWriter } from './wire.js';

/** Binary challenges. */
export const IC_REPETITIONS = 128;
export const IC_CHALLENGE_BYTES = 16;
/** l = bits(Ñ) + 64 for the 2048-bit Ñ the verifier requires. */
export const IC_L = IC_MODULUS_BITS + 64;
/** z_i < 2^(l+66). */
export const IC_Z_BOUND = 1n << BigInt(IC_L + 66);

const PROOF = 'pi_ic';

export interface IcProof {
  readonly E: Uint8Array;
  readonly z: readonly bigint[];
}

/** sid = RO(label "ic/sid", Ñ). */
export function icSid(nTilde: bigint): Uint8Array {
  return ro(label('ic/sid'), nTilde);
}

/** e_i = bit i of E, least significant bit first within each byte. */
const challengeBit = (E: Uint8Array, i: number): bigint => BigInt(((E[i >> 3] ?? 0) >> (i & 7)) & 1);

/** E = RO_128(label, h̃, g̃, Ñ, l, [R_0..R_127], sid, aux = 0). */
function challenge(p: IntCommitmentParams, l: number, R: readonly bigint[]): Uint8Array {
  return ro128(label(`ic/${PROOF}`), p.h, p.g, p.nTilde, u32(l), R, icSid(p.nTilde), u64(0));
}

/** Proves g̃ = h̃^ω. */
export function proveIc(params: IntCommitmentParams, omega: bigint): IcProof {
  const l = bitLength(params.nTilde) + 64;
  const zPrime = Array.from({ length: IC_REPETITIONS }, () => randomBelow(1n << BigInt(l + 65)));
  const R = zPrime.map((zi) => params.powH(zi));
  const E = challenge(params, l, R);
  const z = zPrime.map((zi, i) => zi + challengeBit(E, i) * omega);
  zPrime.fill(0n);
  return { E, z };
}

/** Verifies Π_IC; throws `protocol`'s failure code (details name the check). */
export function verifyIc(params: IntCommitmentParams, proof: IcProof, protocol: Protocol): void {
  const code = rejectCode(protocol);
  const fail = (check: string): never => {
    throw rejected(code, PROOF, check);
  };
  const { nTilde: n, g, h } = params;
  assertBytes(proof.E, IC_CHALLENGE_BYTES, 'Π_IC E');
  assertCount(proof.z, IC_REPETITIONS, 'Π_IC z');
  if (bitLength(n) !== IC_MODULUS_BITS || (n & 1n) === 0n) fail('bits(Ñ) = 2048 and Ñ odd');
  if (hasSmallFactor(n)) fail('no prime ≤ 8191 divides Ñ');
  if (g <= 0n || g >= n || h <= 0n || h >= n) fail('0 < g̃, h̃ < Ñ');
  if (gcd((g * h) % n, n) !== 1n) fail('gcd(g̃·h̃ mod Ñ, Ñ) = 1');
  const l = bitLength(n) + 64;
  for (const zi of proof.z) if (typeof zi !== 'bigint' || zi < 0n || bitLength(zi) > l + 66) fail('bits(z_i) ≤ l+66');
  const gInv = modInverse(g, n);
  const R = proof.z.map((zi, i) => (challengeBit(proof.E, i) === 1n ? (params.powH(zi) * gInv) % n : params.powH(zi)));
  const prod = R.reduce((acc, r) => (acc * r) % n, (g * h) % n);
  if (gcd(prod, n) !== 1n) fail('gcd(g̃·h̃·Π R_i mod Ñ, Ñ) = 1');
  if (!equalBytes(challenge(params, l, R), proof.E)) fail('E = RO_128(…)');
}

/**
 * The custodian's one-time setup (§2.6): two safe primes from `source`, parameters, and their Π_IC.
 * p̃, q̃ and ω are dropped before returning; nothing later needs them.
 */
export function generateIntCommitmentParams(
  source: PrimeSource,
  arith: ModArith = bigintArith,
): { readonly params: IntCommitmentParams; readonly proof: IcProof } {
  const { p, q } = drawSafePrimePair(source, arith);
  const { params, omega } = deriveIntCommitmentParams(p, q, arith);
  return { params, proof: proveIc(params, omega) };
}

/** Wire: the Π_IC bundle Ñ, g̃, h̃ (256 B each), E (16 B), z[128] (bounded by 2^(l+66)). */
export function writeIcBundle(w: WireWriter, params: IntCommitmentParams, proof: IcProof): void {
  w.fixed(params.nTilde, ELEMENT_BYTES);
  w.fixed(params.g, ELEMENT_BYTES);
  w.fixed(params.h, ELEMENT_BYTES);
  w.bytes(proof.E, IC_CHALLENGE_BYTES);
  for (const zi of proof.z) w.bounded(zi, IC_Z_BOUND);
}

export function readIcBundle(
  r: WireReader,
  arith: ModArith = bigintArith,
): { readonly params: IntCommitmentParams; readonly proof: IcProof } {
  const nTilde = r.fixed(ELEMENT_BYTES, 'Ñ');
  const g = r.fixed(ELEMENT_BYTES, 'g̃');
  const h = r.fixed(ELEMENT_BYTES, 'h̃');
  const E = r.bytes(IC_CHALLENGE_BYTES, 'Π_IC E');
  const z = r.array(IC_REPETITIONS, (i) => r.bounded(IC_Z_BOUND, `Π_IC z[${i}]`));
  if (nTilde <= 1n) throw malformed('Ñ', 'an integer > 1');
  return { params: new IntCommitmentParams(nTilde, g, h, arith), proof: { E, z } };
}

export function encodeIcBundle(params: IntCommitmentParams, proof: IcProof): Uint8Array {
  assertCount(proof.z, IC_REPETITIONS, 'Π_IC z');
  return encodeWith((w) => writeIcBundle(w, params, proof));
}

export function decodeIcBundle(
  bytes: Uint8Array,
  arith: ModArith = bigintArith,
): { readonly params: IntCommitmentParams; readonly proof: IcProof } {
  return decodeAll(bytes, (r) => readIcBundle(r, arith));
}
