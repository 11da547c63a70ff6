/**
 * Π_eq (§2.4): the Paillier ciphertext c = Enc_N(x; R) and the Pedersen commitment Com = g_P^x·h_P^β
 * hold the same x, interactive with one 52-bit challenge split into four 13-bit chunks. It ties the
 * range proved by Π_range (on Com) to the c_key that the client will compute on.
 *
 * Chunks of 13 bits are safe because Π_N and the ≤ 8191 sieve make every chunk difference invertible
 * mod N (§2.2). The prover's state answers one challenge only.
 *
 * @example
 * const prover = new EqProver(sk, grp, x1, rKey, beta, { protocol: 'dkg', ctxSid: sid1, pid1 });
 * const e = eqChallenge();
 * verifyEq(pk, grp, cKey, com, prover.round1, e, prover.respond(e), ctx);
 */
import { assertBytes, assertCount, internal, rejected } from './assert.js';
import { gcd, randomBelow, randomUnit } from './bigint.js';
import { commit, COMMITMENT_BYTES, COMMITMENT_KEY_BYTES, verifyOpening } from './commitment.js';
import { q } from './curve.js';
import type { AcceptedPaillierKey, PaillierSecretKey } from './paillier.js';
import type { PedersenGroup } from './pedersen.js';
import type { InteractiveProofContext } from './pi-range.js';
import { rejectCode } from './session.js';
import { decodeAll, ELEMENT2_BYTES, ELEMENT_BYTES, encodeWith, type WireReader, type WireWriter } from './wire.js';

/** Challenge chunks. */
export const EQ_CHUNKS = 4;
/** Bits per chunk (α = 2^13). */
export const EQ_CHUNK_BITS = 13;
/** Bound on r_i and d_i: q·2^77. */
export const EQ_BOUND = q << 77n;
/** Challenge bytes on the wire (52 bits). */
export const EQ_CHALLENGE_BYTES = 7;
const CHALLENGE_BITS = EQ_CHUNKS * EQ_CHUNK_BITS;

const PROOF = 'eq';

export interface EqRound1 {
  readonly commitment: Uint8Array;
}

export interface EqRound2 {
  readonly cTilde: readonly bigint[];
  readonly CTilde: bigint;
  readonly u: Uint8Array;
  readonly d: readonly bigint[];
  readonly D: readonly bigint[];
  readonly nu: bigint;
}

/** e ←$ [0, 2^52). */
export function eqChallenge(): bigint {
  return randomBelow(1n << BigInt(CHALLENGE_BITS));
}

/** e_i = (e >> 13i) mod 2^13. */
const chunk = (e: bigint, i: number): bigint => (e >> BigInt(EQ_CHUNK_BITS * i)) & ((1n << BigInt(EQ_CHUNK_BITS)) - 1n);

/** The prover (P1), with its Paillier secret key (for fast encryption) and the witness (x, R, β). */
export class EqProver {
  readonly round1: EqRound1;
  #secrets: { x: bigint; R: bigint; beta: bigint; mu: bigint; rs: bigint[]; Rs: bigint[]; u: Uint8Array } | undefined;
  readonly #cTilde: readonly bigint[];
  readonly #CTilde: bigint;
  readonly #n: bigint;
  readonly #pPrime: bigint;
  readonly #sk: PaillierSecretKey;

  constructor(
    sk: PaillierSecretKey,
    grp: PedersenGroup,
    x: bigint,
    R: bigint,
    beta: bigint,
    ctx: InteractiveProofContext,
  ) {
    const n = sk.n;
    if (x < 0n || x >= n || R <= 0n || R >= n || beta < 0n || beta >= grp.pPrime) {
      throw internal('Π_eq witness', 'x ∈ [0, N), R ∈ [1, N), β ∈ [0, P′)');
    }
    const mu = randomBelow(grp.pPrime);
    const rs = Array.from({ length: EQ_CHUNKS }, () => randomBelow(EQ_BOUND));
    const Rs = Array.from({ length: EQ_CHUNKS }, () => randomUnit(n));
    const cTilde = rs.map((ri, i) => sk.encrypt(ri, Rs[i]));
    const r = rs.reduce((acc, ri, i) => acc + (ri << BigInt(EQ_CHUNK_BITS * i)), 0n);
    const CTilde = grp.mul(grp.powG(r), grp.powH(mu));
    const { commitment, u } = commit(`${ctx.protocol}/${PROOF}`, ctx.ctxSid, ctx.pid1, [cTilde, CTilde]);
    this.round1 = { commitment };
    this.#cTilde = cTilde;
    this.#CTilde = CTilde;
    this.#n = n;
    this.#pPrime = grp.pPrime;
    this.#sk = sk;
    this.#secrets = { x, R, beta, mu, rs, Rs, u };
  }

  /** Round 2 for challenge e. Throws on a second call. */
  respond(e: bigint): EqRound2 {
    const s = this.#secrets;
    if (s === undefined) throw internal('Π_eq prover', 'a single response');
    this.#secrets = undefined;
    if (typeof e !== 'bigint' || e < 0n || e >= 1n << BigInt(CHALLENGE_BITS)) {
      throw internal('Π_eq challenge', 'a 52-bit challenge');
    }
    const d = s.rs.map((ri, i) => chunk(e, i) * s.x + ri);
    const D = s.Rs.map((Ri, i) => (this.#sk.publicKey.arith.powMod(s.R, chunk(e, i), this.#n) * Ri) % this.#n);
    const nu = (e * s.beta + s.mu) % this.#pPrime;
    s.rs.fill(0n);
    s.Rs.fill(0n);
    return { cTilde: this.#cTilde, CTilde: this.#CTilde, u: s.u, d, D, nu };
  }

  abort(): void {
    if (this.#secrets !== undefined) {
      this.#secrets.rs.fill(0n);
      this.#secrets.Rs.fill(0n);
      this.#secrets.u.fill(0);
    }
    this.#secrets = undefined;
  }
}

/**
 * Verifies Π_eq. `pk` must have passed every acceptance rule (Π_N and the sieve) first; that is what
 * its type says.
 */
export function verifyEq(
  pk: AcceptedPaillierKey,
  grp: PedersenGroup,
  c: bigint,
  com: bigint,
  round1: EqRound1,
  e: bigint,
  round2: EqRound2,
  ctx: InteractiveProofContext,
): void {
  const code = rejectCode(ctx.protocol);
  const fail = (check: string): never => {
    throw rejected(code, PROOF, check);
  };
  const { n, n2 } = pk;
  assertBytes(round1.commitment, COMMITMENT_BYTES, 'Π_eq commitment');
  assertBytes(round2.u, COMMITMENT_KEY_BYTES, 'Π_eq opening');
  assertCount(round2.cTilde, EQ_CHUNKS, 'Π_eq c̃');
  assertCount(round2.d, EQ_CHUNKS, 'Π_eq d');
  assertCount(round2.D, EQ_CHUNKS, 'Π_eq D');
  if (typeof e !== 'bigint' || e < 0n || e >= 1n << BigInt(CHALLENGE_BITS)) fail('challenge of 52 bits');
  if (n <= q << 143n) fail('N > q·2^143');
  if (grp.p <= q << 131n) fail('P > q·2^131');
  for (const ct of round2.cTilde) if (typeof ct !== 'bigint' || ct <= 0n || ct >= n2) fail('0 < c̃_i < N²');
  if (typeof round2.CTilde !== 'bigint' || round2.CTilde <= 0n || round2.CTilde >= grp.p) fail('0 < C̃ < P');
  verifyOpening(
    round1.commitment,
    round2.u,
    `${ctx.protocol}/${PROOF}`,
    ctx.ctxSid,
    ctx.pid1,
    [round2.cTilde, round2.CTilde],
    code,
  );
  if (!grp.isSubgroupElement(com)) fail('0 < Com < P and Com^P′ ≡ 1');
  if (!grp.isSubgroupElement(round2.CTilde)) fail('C̃^P′ ≡ 1');
  for (const di of round2.d) if (typeof di !== 'bigint' || di < 0n || di >= EQ_BOUND) fail('0 ≤ d_i < q·2^77');
  for (const Di of round2.D) if (typeof Di !== 'bigint' || Di <= 0n || Di >= n) fail('0 < D_i < N');
  if (typeof round2.nu !== 'bigint' || round2.nu < 0n || round2.nu >= grp.pPrime) fail('0 ≤ ν < P′');
  if (typeof c !== 'bigint' || c <= 0n || c >= n2) fail('0 < c < N²');
  let prod = c % n;
  for (let i = 0; i < EQ_CHUNKS; i++) prod = (((prod * (round2.D[i] ?? 0n)) % n) * (round2.cTilde[i] ?? 0n)) % n;
  if (gcd(prod, n) !== 1n) fail('gcd(c·Π(D_i·c̃_i) mod N, N) = 1');
  for (let i = 0; i < EQ_CHUNKS; i++) {
    const lhs = ((round2.cTilde[i] ?? 0n) * pk.arith.powMod(c, chunk(e, i), n2)) % n2;
    if (lhs !== pk.encrypt(round2.d[i] ?? 0n, round2.D[i] ?? 0n)) fail('c̃_i·c^(e_i) ≡ Enc(d_i; D_i)');
  }
  const d = round2.d.reduce((acc, di, i) => acc + (di << BigInt(EQ_CHUNK_BITS * i)), 0n);
  const lhs = grp.mul(grp.arith.powMod(com, e, grp.p), round2.CTilde);
  const rhs = grp.mul(grp.powG(d), grp.powH(round2.nu));
  if (lhs !== rhs) fail('Com^e·C̃ ≡ g_P^d·h_P^ν');
}

/** Wire, round 1: the 32-byte commitment. */
export function writeEqRound1(w: WireWriter, m: EqRound1): void {
  w.bytes(m.commitment, COMMITMENT_BYTES);
}
export function readEqRound1(r: WireReader): EqRound1 {
  return { commitment: r.bytes(COMMITMENT_BYTES, 'Π_eq commitment') };
}

/** Wire, challenge: 7 bytes, value < 2^52. */
export function writeEqChallenge(w: WireWriter, e: bigint): void {
  w.fixed(e, EQ_CHALLENGE_BYTES);
}
export function readEqChallenge(r: WireReader): bigint {
  return r.fixed(EQ_CHALLENGE_BYTES, 'Π_eq challenge', 1n << BigInt(CHALLENGE_BITS));
}

/** Wire, round 2: c̃[4] (512 B), C̃ (256 B), u (32 B), d[4] (bounded by q·2^77), D[4] (256 B), ν (256 B). */
export function writeEqRound2(w: WireWriter, m: EqRound2): void {
  for (const c of m.cTilde) w.fixed(c, ELEMENT2_BYTES);
  w.fixed(m.CTilde, ELEMENT_BYTES);
  w.bytes(m.u, COMMITMENT_KEY_BYTES);
  for (const di of m.d) w.bounded(di, EQ_BOUND);
  for (const Di of m.D) w.fixed(Di, ELEMENT_BYTES);
  w.fixed(m.nu, ELEMENT_BYTES);
}
export function readEqRound2(r: WireReader): EqRound2 {
  const cTilde = r.array(EQ_CHUNKS, (i) => r.fixed(ELEMENT2_BYTES, `Π_eq c̃[${i}]`));
  const CTilde = r.fixed(ELEMENT_BYTES, 'Π_eq C̃');
  const u = r.bytes(COMMITMENT_KEY_BYTES, 'Π_eq opening');
  const d = r.array(EQ_CHUNKS, (i) => r.bounded(EQ_BOUND, `Π_eq d[${i}]`));
  const D = r.array(EQ_CHUNKS, (i) => r.fixed(ELEMENT_BYTES, `Π_eq D[${i}]`));
  const nu = r.fixed(ELEMENT_BYTES, 'Π_eq ν');
  return { cTilde, CTilde, u, d, D, nu };
}

export function encodeEqRound2(m: EqRound2): Uint8Array {
  assertCount(m.cTilde, EQ_CHUNKS, 'Π_eq c̃');
  assertCount(m.d, EQ_CHUNKS, 'Π_eq d');
  assertCount(m.D, EQ_CHUNKS, 'Π_eq D');
  return encodeWith((w) => writeEqRound2(w, m));
}
export function decodeEqRound2(bytes: Uint8Array): EqRound2 {
  return decodeAll(bytes, readEqRound2);
}
