/**
 * Π_PDL (§2.5): the plaintext of c_key is the discrete log of Q1, Fiat–Shamir with one challenge in
 * Z_q. Without it a custodian could send a c_key that does not encrypt its share, and decrypting the
 * client's signing ciphertext would then leak client secrets or yield wrong signatures.
 *
 * The prover's nonce r = u·q + a_0 has a_0 ∈ [1, q) (Δ3: R = a_0·G is never O) and 64 bits of slack
 * over q² in u·q, which hides e·x1 in z = r + e·x1. Π_PDL is sound only mod q (it accepts x1 + j·q), so
 * it is always run together with Π_range and Π_eq on the same c_key. aux is fixed at 0 (§1.6).
 *
 * @example
 * const proof = provePdl(sk, cKey, Q1, x1, rKey, { protocol: 'dkg', sid });
 * verifyPdl(pk, cKey, Q1, proof, { protocol: 'dkg', sid });
 */
import { assertBytes, internal, rejected } from './assert.js';
import { bitLength, gcd, mod, randomBelow, randomInRange, randomUnit } from './bigint.js';
import { G, isValidNonIdentity, q, type Point } from './curve.js';
import { u64 } from './encoding.js';
import { label, roNum } from './oracle.js';
import type { AcceptedPaillierKey, PaillierPublicKey, PaillierSecretKey } from './paillier.js';
import { rejectCode, SID_BYTES, type Protocol } from './session.js';
import { decodeAll, ELEMENT2_BYTES, ELEMENT_BYTES, encodeWith, type WireReader, type WireWriter } from './wire.js';

/** Bound on z: (q²+1)·2^64. */
export const PDL_Z_BOUND = (q * q + 1n) << 64n;
/** N must exceed q²·2^65 + 2q². */
export const PDL_N_MIN = ((q * q) << 65n) + 2n * q * q;

const PROOF = 'pi_pdl';

export interface PdlContext {
  readonly protocol: Protocol;
  readonly sid: Uint8Array;
}

export interface PdlProof {
  readonly cR: bigint;
  readonly R: Point;
  readonly z: bigint;
  readonly rZ: bigint;
}

/** e = RO_num(label, c_key, N, Q1, c_r, R, sid, aux = 0; q). */
function challenge(pk: PaillierPublicKey, cKey: bigint, Q1: Point, cR: bigint, R: Point, ctx: PdlContext): bigint {
  return roNum([label(`${ctx.protocol}/${PROOF}`), cKey, pk.n, Q1, cR, R, ctx.sid, u64(0)], q);
}

/** Proves c_key = Enc(x1; r_key) with Q1 = x1·G. x1 is the custodian's integer share (≥ 0). */
export function provePdl(
  sk: PaillierSecretKey,
  cKey: bigint,
  Q1: Point,
  x1: bigint,
  rKey: bigint,
  ctx: PdlContext,
): PdlProof {
  assertBytes(ctx.sid, SID_BYTES, 'sid');
  const pk = sk.publicKey;
  if (x1 < 0n || rKey <= 0n || rKey >= pk.n) throw internal('Π_PDL witness', 'x1 ≥ 0 and r_key ∈ [1, N)');
  for (;;) {
    const rRand = randomUnit(pk.n);
    const a0 = randomInRange(1n, q);
    const u = randomBelow(q << 64n);
    const r = u * q + a0;
    const cR = sk.encrypt(r, rRand);
    const R = G.multiply(a0);
    const e = challenge(pk, cKey, Q1, cR, R, ctx);
    const z = r + e * x1;
    // z ≥ (q²+1)·2^64 happens with probability ≈ 2^−64; an honest verifier would reject it, so draw again.
    if (z >= PDL_Z_BOUND) continue;
    const rZ = (rRand * pk.arith.powMod(rKey, e, pk.n)) % pk.n;
    return { cR, R, z, rZ };
  }
}

/** Verifies Π_PDL; `pk` must already be accepted (Π_N and the sieve). Throws the protocol's code. */
export function verifyPdl(pk: AcceptedPaillierKey, cKey: bigint, Q1: Point, proof: PdlProof, ctx: PdlContext): void {
  assertBytes(ctx.sid, SID_BYTES, 'sid');
  const code = rejectCode(ctx.protocol);
  const fail = (check: string): never => {
    throw rejected(code, PROOF, check);
  };
  const { n, n2 } = pk;
  const { cR, R, z, rZ } = proof;
  if (!isValidNonIdentity(Q1)) fail('Q1 on the curve and ≠ O');
  if (!isValidNonIdentity(R)) fail('R on the curve and ≠ O');
  if (!pk.isValidCiphertext(cKey)) fail('c_key valid');
  if (bitLength(n) < 2048 || n <= PDL_N_MIN) fail('bits(N) ≥ 2048 and N > q²·2^65 + 2q²');
  if (typeof cR !== 'bigint' || cR <= 0n || cR >= n2) fail('0 < c_r < N²');
  if (typeof rZ !== 'bigint' || rZ <= 0n || rZ >= n) fail('0 < r_z < N');
  if (typeof z !== 'bigint' || z < 0n) fail('z ≥ 0');
  const e = challenge(pk, cKey, Q1, cR, R, ctx);
  if (gcd((((cR * e) % n) * rZ) % n, n) !== 1n) fail('gcd(c_r·e·r_z mod N, N) = 1');
  if (!G.multiplyUnsafe(mod(z, q)).equals(R.add(Q1.multiplyUnsafe(e)))) fail('z·G = R + e·Q1');
  if (z >= PDL_Z_BOUND) fail('0 ≤ z < (q²+1)·2^64');
  if (pk.encrypt(z, rZ) !== (cR * pk.arith.powMod(cKey, e, n2)) % n2) fail('Enc(z; r_z) ≡ c_r·c_key^e');
}

/** Wire: c_r (512 B), R (33 B), z (bounded by (q²+1)·2^64), r_z (256 B). */
export function writePdlProof(w: WireWriter, p: PdlProof): void {
  w.fixed(p.cR, ELEMENT2_BYTES);
  w.point(p.R);
  w.bounded(p.z, PDL_Z_BOUND);
  w.fixed(p.rZ, ELEMENT_BYTES);
}
export function readPdlProof(r: WireReader): PdlProof {
  const cR = r.fixed(ELEMENT2_BYTES, 'Π_PDL c_r');
  const R = r.point('Π_PDL R');
  const z = r.bounded(PDL_Z_BOUND, 'Π_PDL z');
  const rZ = r.fixed(ELEMENT_BYTES, 'Π_PDL r_z');
  return { cR, R, z, rZ };
}
export function encodePdlProof(p: PdlProof): Uint8Array {
  return encodeWith((w) => writePdlProof(w, p));
}
export function decodePdlProof(bytes: Uint8Array): PdlProof {
  return decodeAll(bytes, readPdlProof);
}
