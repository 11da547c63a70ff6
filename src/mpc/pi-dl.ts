/**
 * Π_DL (§2.1): a Schnorr proof that the sender knows w with Q = w·G, made non-interactive with
 * Fischlin's transform rather than Fiat–Shamir, so the extractor needs no rewinding and sessions can
 * run concurrently. Parameters are fixed at (ρ, b, t) = (32, 4, 9), 128 bits of soundness (Δ1, Δ9):
 * they are not on the wire, so a prover cannot choose weaker ones.
 *
 * The first hash binds label (protocol), G, Q, all 32 first messages, sid and aux (the sender's role),
 * so a proof replayed into another session, protocol or direction fails.
 *
 * @example
 * const proof = proveDl(x2, Q2, { protocol: 'dkg', sid, aux: 2 });
 * verifyDl(Q2, proof, { protocol: 'dkg', sid, aux: 2 }); // throws DKG_FAILED when it does not verify
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { assertCount, internal, rejected } from './assert.js';
import { minBytes, mod } from './bigint.js';
import { G, isValidNonIdentity, q, randomScalar, type Point } from './curve.js';
import { u64 } from './encoding.js';
import { label, ro } from './oracle.js';
import { assertProofContext, rejectCode, type ProofContext } from './session.js';
import { decodeAll, encodeWith, type WireReader, type WireWriter } from './wire.js';

/** ρ: repetitions. */
export const DL_REPETITIONS = 32;
/** b: zero bits required of each F value. */
export const DL_ZERO_BITS = 4;
/** 2^t: the bound on each e_i (t = 9). */
export const DL_E_BOUND = 512;

export interface DlProof {
  readonly A: readonly Point[];
  readonly e: readonly number[];
  readonly z: readonly bigint[];
}

const PROOF = 'pi_dl';

function be32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, false);
  return out;
}

/** H0 = RO(label, G, Q, [A_0..A_31], sid, aux). */
function firstHash(Q: Point, A: readonly Point[], ctx: ProofContext): Uint8Array {
  return ro(label(`${ctx.protocol}/${PROOF}`), G, Q, A, ctx.sid, u64(ctx.aux));
}

/** F(i, e, z) & 0xF = 0, with F = int_be(SHA-256(H0 ‖ be32(i) ‖ be32(e) ‖ be32(|minbytes(z)|) ‖ minbytes(z))[0..4]). */
function fischlinOk(h0: Uint8Array, i: number, e: number, z: bigint): boolean {
  const zb = minBytes(z);
  const h = sha256(concatBytes(h0, be32(i), be32(e), be32(zb.length), zb));
  return ((h[3] ?? 0xff) & ((1 << DL_ZERO_BITS) - 1)) === 0;
}

/** Proves knowledge of w ∈ [1, q) with Q = w·G. The caller passes its own Q; a wrong w gives a proof that fails. */
export function proveDl(w: bigint, Q: Point, ctx: ProofContext): DlProof {
  assertProofContext(ctx);
  if (w <= 0n || w >= q) throw internal('Π_DL witness', 'a scalar in [1, q)');
  if (!isValidNonIdentity(Q)) throw internal('Π_DL statement', 'a point other than O');
  for (;;) {
    const a = Array.from({ length: DL_REPETITIONS }, () => randomScalar());
    const A = a.map((ai) => G.multiply(ai));
    const h0 = firstHash(Q, A, ctx);
    const e: number[] = [];
    const z: bigint[] = [];
    for (let i = 0; i < DL_REPETITIONS; i++) {
      const ai = a[i] ?? 0n;
      for (let ei = 0; ei < DL_E_BOUND; ei++) {
        const zi = mod(ai + BigInt(ei) * w, q);
        if (fischlinOk(h0, i, ei, zi)) {
          e.push(ei);
          z.push(zi);
          break;
        }
      }
      if (e.length !== i + 1) break; // no e found for this i (≈ 2^−43): start again with fresh a's
    }
    a.fill(0n);
    if (e.length === DL_REPETITIONS) return { A, e, z };
  }
}

/** Verifies Π_DL for Q; throws the protocol's failure code (details name the check) on any failure. */
export function verifyDl(Q: Point, proof: DlProof, ctx: ProofContext): void {
  assertProofContext(ctx);
  const code = rejectCode(ctx.protocol);
  const fail = (check: string): never => {
    throw rejected(code, PROOF, check);
  };
  if (!isValidNonIdentity(Q)) fail('Q on the curve and ≠ O');
  assertCount(proof.A, DL_REPETITIONS, 'Π_DL A');
  assertCount(proof.e, DL_REPETITIONS, 'Π_DL e');
  assertCount(proof.z, DL_REPETITIONS, 'Π_DL z');
  for (const Ai of proof.A) if (!isValidNonIdentity(Ai)) fail('A_i on the curve and ≠ O');
  for (const ei of proof.e) if (!Number.isInteger(ei) || ei < 0 || ei >= DL_E_BOUND) fail('0 ≤ e_i < 512');
  for (const zi of proof.z) if (typeof zi !== 'bigint' || zi < 0n || zi >= q) fail('0 ≤ z_i < q');
  const h0 = firstHash(Q, proof.A, ctx);
  for (let i = 0; i < DL_REPETITIONS; i++) {
    if (!fischlinOk(h0, i, proof.e[i] ?? 0, proof.z[i] ?? 0n)) fail('F(i, e_i, z_i) has 4 zero bits');
  }
  for (let i = 0; i < DL_REPETITIONS; i++) {
    const lhs = G.multiplyUnsafe(proof.z[i] ?? 0n);
    const rhs = (proof.A[i] ?? G).add(Q.multiplyUnsafe(BigInt(proof.e[i] ?? 0)));
    if (!lhs.equals(rhs)) fail('z_i·G = A_i + e_i·Q');
  }
}

/** Wire: A[32] (33 B each), e[32] (bounded by 512), z[32] (32 B each). */
export function writeDlProof(w: WireWriter, proof: DlProof): void {
  for (const Ai of proof.A) w.point(Ai);
  for (const ei of proof.e) w.bounded(BigInt(ei), BigInt(DL_E_BOUND));
  for (const zi of proof.z) w.scalar(zi);
}

export function readDlProof(r: WireReader): DlProof {
  const A = r.array(DL_REPETITIONS, (i) => r.point(`Π_DL A[${i}]`));
  const e = r.array(DL_REPETITIONS, (i) => Number(r.bounded(BigInt(DL_E_BOUND), `Π_DL e[${i}]`)));
  const z = r.array(DL_REPETITIONS, (i) => r.scalar(`Π_DL z[${i}]`));
  return { A, e, z };
}

export function encodeDlProof(proof: DlProof): Uint8Array {
  assertCount(proof.A, DL_REPETITIONS, 'Π_DL A');
  assertCount(proof.e, DL_REPETITIONS, 'Π_DL e');
  assertCount(proof.z, DL_REPETITIONS, 'Π_DL z');
  return encodeWith((w) => writeDlProof(w, proof));
}

export function decodeDlProof(bytes: Uint8Array): DlProof {
  return decodeAll(bytes, readDlProof);
}
