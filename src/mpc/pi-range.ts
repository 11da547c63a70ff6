/**
 * Π_range (§2.3): the Pedersen-committed x1 lies in (−q·2^64, q·2^64), interactive with 50 binary
 * challenges. Π_PDL alone accepts x1 + j·q; this bound is what keeps the plaintext of the signing
 * ciphertext small enough that decrypting it reveals nothing of the client's secrets.
 *
 * Shape: the prover commits (with a labelled hash commitment, §1.7) to c̃_i = 2^(x_i)·√h_P^(r_i); the
 * verifier sends 50 random bits; the prover opens and answers d_i = x_i + e_i·x, f_i = r_i + e_i·β mod P′.
 * The verifier squares each c̃_i, which maps whatever the prover picked into the order-P′ subgroup, and
 * checks g_P^(d_i)·h_P^(f_i) = c̃_i²·Com^(e_i).
 *
 * The prover's state answers one challenge only: two answers for one round 1 reveal x.
 *
 * @example
 * const prover = new RangeProver(grp, x1, beta, { protocol: 'dkg', ctxSid: sid1, pid1 });
 * send(prover.round1);                       // K1
 * const e = rangeChallenge();                // K2, client
 * const round2 = prover.respond(e);          // K3
 * verifyRange(grp, com, prover.round1, e, round2, ctx); // client
 */
import { assertBytes, assertCount, internal, rejected } from './assert.js';
import { randomBelow } from './bigint.js';
import { commit, COMMITMENT_BYTES, COMMITMENT_KEY_BYTES, verifyOpening } from './commitment.js';
import { q } from './curve.js';
import type { PedersenGroup } from './pedersen.js';
import { rejectCode, type Protocol } from './session.js';
import { decodeAll, ELEMENT_BYTES, encodeWith, type WireReader, type WireWriter } from './wire.js';

/** Binary challenges of the interactive Π_range. */
export const RANGE_REPETITIONS = 50;
/** Bound on x_i and d_i: q·2^64. */
export const RANGE_BOUND = q << 64n;
/** Challenge bytes on the wire (50 bits). */
export const RANGE_CHALLENGE_BYTES = 7;

const PROOF = 'range';

/** Where the round-1 commitment lives: Com_P1("<protocol>/range"; ctx_sid; [c̃_0..c̃_49]). */
export interface InteractiveProofContext {
  readonly protocol: Protocol;
  /** The committer's fresh 16-byte contribution (sid1 or rnd_P1), sent in the same message. */
  readonly ctxSid: Uint8Array;
  /** pid of the prover, P1. */
  readonly pid1: Uint8Array;
}

export interface RangeRound1 {
  readonly commitment: Uint8Array;
}

export interface RangeRound2 {
  readonly cTilde: readonly bigint[];
  readonly u: Uint8Array;
  readonly d: readonly bigint[];
  readonly f: readonly bigint[];
}

/** 50 random challenge bits, e ←$ [0, 2^50); e_i = (e >> i) & 1. */
export function rangeChallenge(): bigint {
  return randomBelow(1n << BigInt(RANGE_REPETITIONS));
}

const bit = (e: bigint, i: number): bigint => (e >> BigInt(i)) & 1n;

/** The prover (P1). Holds x, β and its randomness until `respond`, which it allows once. */
export class RangeProver {
  readonly round1: RangeRound1;
  #secrets: { x: bigint; beta: bigint; xs: bigint[]; rs: bigint[]; u: Uint8Array } | undefined;
  readonly #cTilde: readonly bigint[];
  readonly #pPrime: bigint;

  constructor(grp: PedersenGroup, x: bigint, beta: bigint, ctx: InteractiveProofContext) {
    if (x < 0n || beta < 0n || beta >= grp.pPrime) throw internal('Π_range witness', 'x ≥ 0 and β ∈ [0, P′)');
    const xs = Array.from({ length: RANGE_REPETITIONS }, () => randomBelow(RANGE_BOUND));
    const rs = Array.from({ length: RANGE_REPETITIONS }, () => randomBelow(grp.pPrime));
    const cTilde = xs.map((xi, i) => grp.mul(grp.powSqrtG(xi), grp.powSqrtH(rs[i] ?? 0n)));
    const { commitment, u } = commit(`${ctx.protocol}/${PROOF}`, ctx.ctxSid, ctx.pid1, [cTilde]);
    this.round1 = { commitment };
    this.#cTilde = cTilde;
    this.#pPrime = grp.pPrime;
    this.#secrets = { x, beta, xs, rs, u };
  }

  /** Round 2 for challenge e. Throws on a second call: the randomness is gone. */
  respond(e: bigint): RangeRound2 {
    const s = this.#secrets;
    if (s === undefined) throw internal('Π_range prover', 'a single response');
    this.#secrets = undefined;
    if (typeof e !== 'bigint' || e < 0n || e >= 1n << BigInt(RANGE_REPETITIONS)) {
      throw internal('Π_range challenge', 'a 50-bit challenge');
    }
    const d = s.xs.map((xi, i) => xi + bit(e, i) * s.x);
    const f = s.rs.map((ri, i) => (ri + bit(e, i) * s.beta) % this.#pPrime);
    s.xs.fill(0n);
    s.rs.fill(0n);
    return { cTilde: this.#cTilde, u: s.u, d, f };
  }

  /** Erase on abort. */
  abort(): void {
    if (this.#secrets !== undefined) {
      this.#secrets.xs.fill(0n);
      this.#secrets.rs.fill(0n);
      this.#secrets.u.fill(0);
    }
    this.#secrets = undefined;
  }
}

/**
 * Verifies Π_range for Com against the round-1 commitment and the verifier's own challenge e. The 50
 * equations are checked at once with random 64-bit weights γ_i (as cb-mpc does): every C_i, g_P and
 * h_P lie in the group of prime order P′ (c̃_i is squared, Com is checked), so a batch passes with a
 * false equation with probability ≤ 2^−64.
 */
export function verifyRange(
  grp: PedersenGroup,
  com: bigint,
  round1: RangeRound1,
  e: bigint,
  round2: RangeRound2,
  ctx: InteractiveProofContext,
): void {
  const code = rejectCode(ctx.protocol);
  const fail = (check: string): never => {
    throw rejected(code, PROOF, check);
  };
  assertBytes(round1.commitment, COMMITMENT_BYTES, 'Π_range commitment');
  assertBytes(round2.u, COMMITMENT_KEY_BYTES, 'Π_range opening');
  assertCount(round2.cTilde, RANGE_REPETITIONS, 'Π_range c̃');
  assertCount(round2.d, RANGE_REPETITIONS, 'Π_range d');
  assertCount(round2.f, RANGE_REPETITIONS, 'Π_range f');
  if (typeof e !== 'bigint' || e < 0n || e >= 1n << BigInt(RANGE_REPETITIONS)) fail('challenge of 50 bits');
  for (const c of round2.cTilde) if (typeof c !== 'bigint' || c <= 0n || c >= grp.p) fail('0 < c̃_i < P');
  verifyOpening(round1.commitment, round2.u, `${ctx.protocol}/${PROOF}`, ctx.ctxSid, ctx.pid1, [round2.cTilde], code);
  if (grp.p <= 2n * RANGE_BOUND) fail('P > 2·q·2^64');
  if (!grp.isSubgroupElement(com)) fail('0 < Com < P and Com^P′ ≡ 1');
  for (const di of round2.d) if (typeof di !== 'bigint' || di < 0n || di >= RANGE_BOUND) fail('0 ≤ d_i < q·2^64');
  for (const fi of round2.f) if (typeof fi !== 'bigint' || fi < 0n || fi >= grp.pPrime) fail('0 ≤ f_i < P′');

  let sumD = 0n;
  let sumF = 0n;
  let comExp = 0n;
  let rhs = 1n;
  for (let i = 0; i < RANGE_REPETITIONS; i++) {
    const gamma = randomBelow(1n << 64n);
    sumD += gamma * (round2.d[i] ?? 0n);
    sumF += gamma * (round2.f[i] ?? 0n);
    if (bit(e, i) === 1n) comExp += gamma;
    rhs = grp.mul(rhs, grp.arith.powMod(round2.cTilde[i] ?? 0n, 2n * gamma, grp.p));
  }
  rhs = grp.mul(rhs, grp.arith.powMod(com, comExp, grp.p));
  const lhs = grp.mul(grp.powG(sumD % grp.pPrime), grp.powH(sumF % grp.pPrime));
  if (lhs !== rhs) fail('g_P^(d_i)·h_P^(f_i) ≡ c̃_i²·Com^(e_i)');
}

/** Wire, round 1: the 32-byte commitment. */
export function writeRangeRound1(w: WireWriter, m: RangeRound1): void {
  w.bytes(m.commitment, COMMITMENT_BYTES);
}
export function readRangeRound1(r: WireReader): RangeRound1 {
  return { commitment: r.bytes(COMMITMENT_BYTES, 'Π_range commitment') };
}

/** Wire, challenge: 7 bytes, value < 2^50. */
export function writeRangeChallenge(w: WireWriter, e: bigint): void {
  w.fixed(e, RANGE_CHALLENGE_BYTES);
}
export function readRangeChallenge(r: WireReader): bigint {
  return r.fixed(RANGE_CHALLENGE_BYTES, 'Π_range challenge', 1n << BigInt(RANGE_REPETITIONS));
}

/** Wire, round 2: c̃[50] (256 B), u (32 B), d[50] (bounded by q·2^64), f[50] (256 B). */
export function writeRangeRound2(w: WireWriter, m: RangeRound2): void {
  for (const c of m.cTilde) w.fixed(c, ELEMENT_BYTES);
  w.bytes(m.u, COMMITMENT_KEY_BYTES);
  for (const di of m.d) w.bounded(di, RANGE_BOUND);
  for (const fi of m.f) w.fixed(fi, ELEMENT_BYTES);
}
export function readRangeRound2(r: WireReader): RangeRound2 {
  const cTilde = r.array(RANGE_REPETITIONS, (i) => r.fixed(ELEMENT_BYTES, `Π_range c̃[${i}]`));
  const u = r.bytes(COMMITMENT_KEY_BYTES, 'Π_range opening');
  const d = r.array(RANGE_REPETITIONS, (i) => r.bounded(RANGE_BOUND, `Π_range d[${i}]`));
  const f = r.array(RANGE_REPETITIONS, (i) => r.fixed(ELEMENT_BYTES, `Π_range f[${i}]`));
  return { cTilde, u, d, f };
}

export function encodeRangeRound2(m: RangeRound2): Uint8Array {
  assertCount(m.cTilde, RANGE_REPETITIONS, 'Π_range c̃');
  assertCount(m.d, RANGE_REPETITIONS, 'Π_range d');
  assertCount(m.f, RANGE_REPETITIONS, 'Π_range f');
  return encodeWith((w) => writeRangeRound2(w, m));
}
export function decodeRangeRound2(bytes: Uint8Array): RangeRound2 {
  return decodeAll(bytes, readRangeRound2);
}

