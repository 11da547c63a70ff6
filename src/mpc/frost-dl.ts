/**
 * A Schnorr proof of discrete log on ed25519, made non-interactive with Fiat–Shamir over Tandem's
 * random oracle: the sender knows w with P = w·G. It is how each side of a FROST key generation or
 * re-sharing proves its *new* verifying share, and so confirms it really holds a working share.
 *
 * Why not noble's DKG proof of knowledge: that one hashes only (identifier, commitment, R), with no
 * session, protocol or direction in it. This one binds, through `ro()` and `Enc`, the label
 * `frost/<protocol>/pi_dl`, G, P, R, the caller's context items (the group key), sid and the sender's
 * role, so a proof is worthless in any other session, protocol, slot or direction (DESIGN §5).
 * A single Fiat–Shamir proof suffices here (not ECDSA-2PC's Fischlin Π_DL): it is a key confirmation
 * checked inside one run, never a proof that a simulator must extract from while sessions interleave.
 *
 *     R = k·G, e = RO_num(label, G, P, R, ctx…, sid, aux; ℓ), z = k + e·w;  accept iff z·G = R + e·P
 *
 * @example
 * const proof = proveEdDl(w, P, { protocol: 'dkg', sid, aux: 2, context: [Y.toBytes()] });
 * verifyEdDl(P, proof, { protocol: 'dkg', sid, aux: 2, context: [Y.toBytes()] }); // throws DKG_FAILED
 */
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import { assertBytes, internal, rejected } from './assert.js';
import { u64 } from './encoding.js';
import { label, roNum } from './oracle.js';
import { EdPoint, Fn, readEdPoint, readEdScalar, writeEdPoint, writeEdScalar } from './frost-curve.js';
import { rejectCode, SID_BYTES, type Role } from './session.js';
import type { WireReader, WireWriter } from './wire.js';

/** The FROST protocols that bind a transcript: one label family each. */
export type FrostProtocol = 'dkg' | 'backup' | 'recover' | 'sign';

export interface EdDlContext {
  readonly protocol: FrostProtocol;
  readonly sid: Uint8Array;
  readonly aux: Role;
  /** Further public values the proof binds (the group key). */
  readonly context: readonly Uint8Array[];
}

export interface EdDlProof {
  readonly R: EdPoint;
  readonly z: bigint;
}

export const ED_DL_PROOF_BYTES = 64;

function challenge(P: EdPoint, R: EdPoint, ctx: EdDlContext): bigint {
  assertBytes(ctx.sid, SID_BYTES, 'sid');
  return roNum(
    [label(`frost/${ctx.protocol}/pi_dl`), EdPoint.BASE.toBytes(), P.toBytes(), R.toBytes(), [...ctx.context], ctx.sid, u64(ctx.aux)],
    Fn.ORDER,
  );
}

/** Proves knowledge of w ∈ [1, ℓ) with P = w·G. */
export function proveEdDl(w: bigint, P: EdPoint, ctx: EdDlContext): EdDlProof {
  if (!Fn.isValidNot0(w) || !EdPoint.BASE.multiply(w).equals(P)) throw internal('proveEdDl', 'a witness of P');
  const kBytes = ed25519_FROST.utils.randomScalar();
  const k = Fn.fromBytes(kBytes);
  kBytes.fill(0);
  const R = EdPoint.BASE.multiply(k);
  const z = Fn.add(k, Fn.mul(challenge(P, R, ctx), w));
  return { R, z };
}

/** Verifies; throws `rejected(<protocol's code>, 'pi_dl', …)` when it does not. P and R are checked points. */
export function verifyEdDl(P: EdPoint, proof: EdDlProof, ctx: EdDlContext): void {
  const e = challenge(P, proof.R, ctx);
  const lhs = EdPoint.BASE.multiplyUnsafe(proof.z);
  const rhs = proof.R.add(P.multiplyUnsafe(e));
  if (!lhs.equals(rhs)) throw rejected(rejectCode(ctx.protocol), 'frost pi_dl', 'z·G = R + e·P');
}

export function writeEdDlProof(w: WireWriter, proof: EdDlProof): void {
  writeEdPoint(w, proof.R);
  writeEdScalar(w, proof.z);
}

export function readEdDlProof(r: WireReader, field: string): EdDlProof {
  return { R: readEdPoint(r, `${field} R`), z: readEdScalar(r, `${field} z`) };
}
