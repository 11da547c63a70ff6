/**
 * Π_N (§2.2): the custodian's Paillier modulus is valid, interactive. The client sends 16 fresh bytes
 * kV; the custodian returns N-th roots σ_i of four values ρ_i that neither party chooses (they come from
 * SHAKE256 of RO_128(label, kV, N, pid_P1, sid), Δ5, Δ15). If gcd(N, φ(N)) ≠ 1 then some prime r > 2^13
 * divides both, at most 1/r of Z*_N are N-th residues, and four roots are forged with probability
 * ≤ 2^−52 (λs = 50). With the sieve this also makes every difference of 13-bit challenge chunks
 * invertible mod N, which Π_eq relies on.
 *
 * Π_N accepts a prime N, so `acceptPaillierModulus` runs it together with the other rules of §1.3
 * (`checkPaillierModulus`: size, parity, sieve, compositeness); its result, an `AcceptedPaillierKey`,
 * is what Π_eq and Π_PDL verifiers take.
 *
 * @example
 * const kV = modulusChallenge();                                   // client, K2
 * const sigma = proveModulus(sk, kV, pid1, { protocol: 'dkg', sid }); // custodian, K3
 * const pk = acceptPaillierModulus(N, kV, sigma, pid1, { protocol: 'dkg', sid });
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { assertBytes, assertCount, rejected } from './assert.js';
import { bitLength, bytesToBigint, gcd } from './bigint.js';
import { label, ro128, XofStream } from './oracle.js';
import {
  checkPaillierModulus,
  PAILLIER_BITS,
  PaillierPublicKey,
  type AcceptedPaillierKey,
  type PaillierSecretKey,
} from './paillier.js';
import { hasSmallFactor } from './primes.js';
import { bigintArith, type ModArith } from './modexp.js';
import { PID_BYTES, rejectCode, SID_BYTES, type Protocol } from './session.js';
import { decodeAll, ELEMENT_BYTES, encodeWith, type WireReader, type WireWriter } from './wire.js';

/** Number of N-th roots in the interactive Π_N (⌈50/13⌉). */
export const N_ROOTS = 4;
export const N_CHALLENGE_BYTES = 16;
/** Bytes of XOF output per ρ_i: ⌈(2048 + 64)/8⌉. */
export const N_RHO_BYTES = 264;

const PROOF = 'pi_n';

export interface ModulusContext {
  readonly protocol: Protocol;
  readonly sid: Uint8Array;
}

/** The verifier's challenge kV, 16 fresh bytes. */
export function modulusChallenge(): Uint8Array {
  return randomBytes(N_CHALLENGE_BYTES);
}

/** ρ_0..ρ_3: consecutive 264-byte blocks of SHAKE256(RO_128(label, kV, N, pid_P1, sid)), each mod N. */
export function modulusRhos(n: bigint, kV: Uint8Array, pid1: Uint8Array, ctx: ModulusContext): bigint[] {
  assertBytes(kV, N_CHALLENGE_BYTES, 'Π_N kV');
  assertBytes(pid1, PID_BYTES, 'pid1');
  assertBytes(ctx.sid, SID_BYTES, 'sid');
  const seed = ro128(label(`${ctx.protocol}/${PROOF}`), kV, n, pid1, ctx.sid);
  const stream = new XofStream(seed);
  return Array.from({ length: N_ROOTS }, () => bytesToBigint(stream.next(N_RHO_BYTES)) % n);
}

/** σ_i = ρ_i^(N^(−1) mod φ) mod N. */
export function proveModulus(sk: PaillierSecretKey, kV: Uint8Array, pid1: Uint8Array, ctx: ModulusContext): bigint[] {
  return modulusRhos(sk.n, kV, pid1, ctx).map((rho) => sk.nthRoot(rho));
}

/** Verifies Π_N; throws the protocol's failure code on any failure. */
export function verifyModulus(
  n: bigint,
  kV: Uint8Array,
  sigma: readonly bigint[],
  pid1: Uint8Array,
  ctx: ModulusContext,
  arith: ModArith = bigintArith,
): void {
  const code = rejectCode(ctx.protocol);
  const fail = (check: string): never => {
    throw rejected(code, PROOF, check);
  };
  assertCount(sigma, N_ROOTS, 'Π_N σ');
  if (typeof n !== 'bigint' || n <= 1n || (n & 1n) === 0n) fail('N odd and > 1');
  if (bitLength(n) !== PAILLIER_BITS) fail('bits(N) = 2048');
  if (hasSmallFactor(n)) fail('no prime ≤ 8191 divides N');
  const rhos = modulusRhos(n, kV, pid1, ctx);
  for (const s of sigma) if (typeof s !== 'bigint' || s <= 0n || s >= n) fail('0 < σ_i < N');
  for (let i = 0; i < N_ROOTS; i++) {
    if (arith.powMod(sigma[i] ?? 0n, n, n) !== rhos[i]) fail('σ_i^N mod N = ρ_i');
  }
  const prod = rhos.reduce((acc, r) => (acc * r) % n, 1n);
  if (gcd(prod, n) !== 1n) fail('gcd(Π ρ_i mod N, N) = 1');
}

/**
 * Every acceptance rule of §1.3 for a received N: `checkPaillierModulus` (bits = 2048, odd, sieve, one
 * Miller–Rabin round that must find N composite) and Π_N. The only way to obtain an
 * `AcceptedPaillierKey`.
 */
export function acceptPaillierModulus(
  n: bigint,
  kV: Uint8Array,
  sigma: readonly bigint[],
  pid1: Uint8Array,
  ctx: ModulusContext,
  arith: ModArith = bigintArith,
): AcceptedPaillierKey {
  checkPaillierModulus(n, rejectCode(ctx.protocol), arith);
  verifyModulus(n, kV, sigma, pid1, ctx, arith);
  return new PaillierPublicKey(n, arith) as AcceptedPaillierKey;
}

/** Wire: σ[4], 256 bytes each. */
export function writeModulusProof(w: WireWriter, sigma: readonly bigint[]): void {
  for (const s of sigma) w.fixed(s, ELEMENT_BYTES);
}

export function readModulusProof(r: WireReader): bigint[] {
  return r.array(N_ROOTS, (i) => r.fixed(ELEMENT_BYTES, `Π_N σ[${i}]`));
}

export function encodeModulusProof(sigma: readonly bigint[]): Uint8Array {
  assertCount(sigma, N_ROOTS, 'Π_N σ');
  return encodeWith((w) => writeModulusProof(w, sigma));
}

export function decodeModulusProof(bytes: Uint8Array): bigint[] {
  return decodeAll(bytes, readModulusProof);
}
