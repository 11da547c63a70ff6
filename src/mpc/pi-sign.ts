/**
 * Π_sign (§2.8): the client's signing ciphertext c is well formed. It proves, for the verifier's own
 * m, r, Q2 and R2, that there are integers w1, w2 < q·2^193, w3 < q²·2^321 and w4 ∈ Z*_N with
 *
 *     w1·R2 = G,   w2·R2 = Q2,   c = Enc_N(w1·m + w2·r + w3·q; w4) · C′^(w1·r)  (mod N²)
 *
 * so that whatever c the custodian accepts decrypts to the one correct value: the defence against the
 * Lindell17 abort attack (CVE-2023-33242), where a malformed c such as c·c_key^δ makes the outcome
 * depend on a bit of x1. Tandem runs only this proof-carrying mode.
 *
 * The integers are committed to in the custodian's unknown-order group (Ñ, g̃, h̃), whose binding holds
 * against the client because the custodian made it (§1.3, §2.6). The challenge is 128 bits, Fiat–Shamir
 * over everything above plus (Ñ, g̃, h̃) (Δ6), sid and aux = 0.
 *
 * Shaped for presignatures (§4): a `SignProver` is built once r is known, after presign, and does every
 * costly exponentiation then (W_j, W′_j, G′, Q2′, r_e^N, B = (C′^r)^(w1′)); its `prove(c, m)` is left
 * with integer multiply-adds, one hash and one 128-bit exponent mod N. It proves once: a second call
 * would reuse the same commitments under another challenge and reveal the witness.
 *
 * The verifier takes the N²-exponentiation as a function, so the custodian can pass its CRT one
 * (`PaillierSecretKey.powModN2`), and it takes m, r, Q2 and R2 from its own state, never from the prover.
 *
 * @example
 * const prover = new SignProver({ ic, pk, cPrime, Q2, R2, r }, { w1, w2, w3: rho, w4: rc });
 * const proof = prover.prove(c, m, { protocol: 'sign', sid, aux: 0 });
 * verifySign({ ic, pk, cPrime, c, Q2, R2, m, r }, proof, { protocol: 'sign', sid, aux: 0 }, sk.powModN2.bind(sk));
 */
import { assertCount, internal, rejected } from './assert.js';
import { bytesToBigint, gcd, mod, randomBelow, randomUnit } from './bigint.js';
import { G, isValidNonIdentity, q, type Point } from './curve.js';
import { u64 } from './encoding.js';
import type { IntCommitmentParams } from './int-commitment.js';
import { label, ro128 } from './oracle.js';
import type { PaillierPublicKey } from './paillier.js';
import { assertProofContext, rejectCode, type ProofContext } from './session.js';
import { boundBytes, decodeAll, ELEMENT2_BYTES, ELEMENT_BYTES, encodeWith, type WireReader, type WireWriter } from './wire.js';

const PROOF = 'pi_sign';

/** The shift q·2^64 added to c_key before signing: C′ = c_key ⊕ q·2^64. */
export const SIGN_SHIFT: bigint = q << 64n;
/** ρ ←$ [0, q²·2^128). */
export const SIGN_RHO_BOUND: bigint = (q * q) << 128n;
/** w1′, w2′ ←$ [0, q·2^192). */
export const SIGN_W12_MASK: bigint = q << 192n;
/** w3′ ←$ [0, q²·2^320). */
export const SIGN_W3_MASK: bigint = (q * q) << 320n;
/** z1, z2 < q·2^193. */
export const SIGN_Z12_BOUND: bigint = q << 193n;
/** z3 < q²·2^321. */
export const SIGN_Z3_BOUND: bigint = (q * q) << 321n;
/** Bits of slack: u_j ←$ [0, Ñ·2^64), u′_j ←$ [0, Ñ·2^256), v_j < Ñ·2^257. */
const U_SHIFT = 64n;
const U_PRIME_SHIFT = 256n;
const V_SHIFT = 257n;
/** The challenge is int_be of 16 bytes. */
export const SIGN_CHALLENGE_BYTES = 16;
/** On the wire v_j is bounded by 2^2048·2^257 (Ñ is not known to the decoder; the verifier checks Ñ·2^257). */
const V_WIRE_BOUND = 1n << (2048n + V_SHIFT);

/** b^e mod N², for e ≥ 0. The custodian passes its CRT version. */
export type PowModN2 = (base: bigint, exp: bigint) => bigint;

/** What both parties know (the verifier from its own state): everything but m and c. */
export interface SignSetup {
  readonly ic: IntCommitmentParams;
  readonly pk: PaillierPublicKey;
  /** C′ = c_key ⊕ q·2^64. */
  readonly cPrime: bigint;
  readonly Q2: Point;
  readonly R2: Point;
  /** r = R.x mod q, 0 < r < q. */
  readonly r: bigint;
}

export interface SignStatement extends SignSetup {
  readonly c: bigint;
  /** m = int_be(digest) mod q, the verifier's own. */
  readonly m: bigint;
}

export interface SignWitness {
  /** k2^(−1) mod q */
  readonly w1: bigint;
  /** w1·x2 mod q */
  readonly w2: bigint;
  /** ρ */
  readonly w3: bigint;
  /** rc */
  readonly w4: bigint;
}

export interface SignProof {
  /** W_1..W_3 */
  readonly W: readonly bigint[];
  /** W′_1..W′_3 */
  readonly Wp: readonly bigint[];
  readonly Gp: Point;
  readonly Q2p: Point;
  readonly Ce: bigint;
  /** e < 2^128 */
  readonly e: bigint;
  /** z_1..z_3 */
  readonly z: readonly bigint[];
  /** v_1..v_3 */
  readonly v: readonly bigint[];
  readonly z4: bigint;
}

/** C′ = c_key ⊕ q·2^64 = c_key·(1 + q·2^64·N) mod N². */
export function shiftedKeyCiphertext(pk: PaillierPublicKey, cKey: bigint): bigint {
  return pk.addPlain(cKey, SIGN_SHIFT);
}

/** e = int_be(RO_128(label, Ñ, g̃, h̃, N, C′, c, Q2, R2, m, r, W1..3, W1′..3′, G′, Q2′, C_e, sid, aux)). */
function challenge(
  st: SignStatement,
  W: readonly bigint[],
  Wp: readonly bigint[],
  Gp: Point,
  Q2p: Point,
  Ce: bigint,
  ctx: ProofContext,
): bigint {
  const { ic } = st;
  return bytesToBigint(
    ro128(
      label(`${ctx.protocol}/${PROOF}`),
      ic.nTilde,
      ic.g,
      ic.h,
      st.pk.n,
      st.cPrime,
      st.c,
      st.Q2,
      st.R2,
      st.m,
      st.r,
      ...W,
      ...Wp,
      Gp,
      Q2p,
      Ce,
      ctx.sid,
      u64(ctx.aux),
    ),
  );
}

/**
 * The prover, built offline (after presign, before m). Holds the witness and the proof randomness in
 * private fields until `prove` (once) or `erase`.
 */
export class SignProver {
  readonly #setup: SignSetup;
  #secret:
    | {
        readonly w: readonly bigint[];
        readonly w4: bigint;
        readonly u: bigint[];
        readonly wp: bigint[];
        readonly up: bigint[];
        readonly re: bigint;
        readonly reN: bigint;
        readonly B: bigint;
        readonly T0: bigint;
        readonly W: readonly bigint[];
        readonly Wp: readonly bigint[];
        readonly Gp: Point;
        readonly Q2p: Point;
      }
    | undefined;

  constructor(setup: SignSetup, witness: SignWitness, powModN2?: PowModN2) {
    const { ic, pk, cPrime, R2, r } = setup;
    const { w1, w2, w3, w4 } = witness;
    if (w1 <= 0n || w1 >= q || w2 < 0n || w2 >= q || w3 < 0n || w3 >= SIGN_RHO_BOUND) {
      throw internal('Π_sign witness', 'w1 ∈ [1, q), w2 ∈ [0, q), w3 ∈ [0, q²·2^128)');
    }
    if (w4 <= 0n || w4 >= pk.n) throw internal('Π_sign witness', 'w4 ∈ [1, N)');
    if (r <= 0n || r >= q) throw internal('Π_sign r', 'a value in (0, q)');
    const pow = powModN2 ?? ((b: bigint, e: bigint) => pk.arith.powMod(b, e, pk.n2));
    const nT = ic.nTilde;
    const w = [w1, w2, w3];
    const u = w.map(() => randomBelow(nT << U_SHIFT));
    const W = w.map((wj, j) => ic.commit(wj, u[j] ?? 0n));
    const wp = [randomBelow(SIGN_W12_MASK), randomBelow(SIGN_W12_MASK), randomBelow(SIGN_W3_MASK)];
    const up = w.map(() => randomBelow(nT << U_PRIME_SHIFT));
    const Wp = wp.map((wj, j) => ic.commit(wj, up[j] ?? 0n));
    const [w1p = 0n, w2p = 0n, w3p = 0n] = wp;
    // G′ = w1′·R2, Q2′ = w2′·R2, with w′ reduced mod q for the curve (a zero reduction, ≈ 2^−256, would
    // make G′ = O, which the verifier refuses; the caller then simply presigns again).
    const s1 = mod(w1p, q);
    const s2 = mod(w2p, q);
    if (s1 === 0n || s2 === 0n) throw internal('Π_sign nonce', 'w1′, w2′ not multiples of q');
    const Gp = R2.multiply(s1);
    const Q2p = R2.multiply(s2);
    const re = randomUnit(pk.n);
    const reN = pow(re, pk.n);
    const B = pow(pow(cPrime, r), w1p);
    const T0 = w2p * r + w3p * q;
    this.#setup = setup;
    this.#secret = { w, w4, u, wp, up, re, reN, B, T0, W, Wp, Gp, Q2p };
  }

  /** The proof for ciphertext c on the verifier's m (m ∈ [0, q)). Single use. */
  prove(c: bigint, m: bigint, ctx: ProofContext): SignProof {
    assertProofContext(ctx);
    const s = this.#secret;
    if (s === undefined) throw internal('Π_sign prover', 'a prover used once');
    this.#secret = undefined;
    if (m < 0n || m >= q) throw internal('Π_sign m', 'a value in [0, q)');
    const { pk } = this.#setup;
    const { n, n2 } = pk;
    const [w1p = 0n] = s.wp;
    const Tp = w1p * m + s.T0;
    const Ce = (((1n + mod(Tp, n) * n) % n2) * ((s.reN * s.B) % n2)) % n2;
    const st: SignStatement = { ...this.#setup, c, m };
    const e = challenge(st, s.W, s.Wp, s.Gp, s.Q2p, Ce, ctx);
    const z = s.wp.map((wj, j) => wj + e * (s.w[j] ?? 0n));
    const v = s.up.map((uj, j) => uj + e * (s.u[j] ?? 0n));
    const z4 = (s.re * pk.arith.powMod(s.w4, e, n)) % n;
    s.u.fill(0n);
    s.wp.fill(0n);
    s.up.fill(0n);
    return { W: s.W, Wp: s.Wp, Gp: s.Gp, Q2p: s.Q2p, Ce, e, z, v, z4 };
  }

  /** Drops the witness and the randomness without proving (a burned presignature). */
  erase(): void {
    const s = this.#secret;
    if (s === undefined) return;
    s.u.fill(0n);
    s.wp.fill(0n);
    s.up.fill(0n);
    this.#secret = undefined;
  }
}

/** Proves in one go (tests, and anything that does not precompute). */
export function proveSign(st: SignStatement, witness: SignWitness, ctx: ProofContext, powModN2?: PowModN2): SignProof {
  return new SignProver(st, witness, powModN2).prove(st.c, st.m, ctx);
}

/**
 * Verifies Π_sign (§2.8 steps 1–6, the range checks of step 3 ahead of the challenge of step 2); throws the protocol's failure code, details naming the check. The
 * validity of c (step 7) is the caller's, after the proof.
 */
export function verifySign(st: SignStatement, proof: SignProof, ctx: ProofContext, powModN2?: PowModN2): void {
  assertProofContext(ctx);
  const code = rejectCode(ctx.protocol);
  const fail = (check: string): never => {
    throw rejected(code, PROOF, check);
  };
  const { ic, pk, cPrime, c, Q2, R2, m, r } = st;
  const { n, n2 } = pk;
  const nT = ic.nTilde;
  const pow = powModN2 ?? ((b: bigint, e: bigint) => pk.arith.powMod(b, e, n2));
  const { W, Wp, Gp, Q2p, Ce, e, z, v, z4 } = proof;
  assertCount(W, 3, 'Π_sign W');
  assertCount(Wp, 3, 'Π_sign W′');
  assertCount(z, 3, 'Π_sign z');
  assertCount(v, 3, 'Π_sign v');

  // 1. points
  for (const [P, name] of [
    [Q2, 'Q2'],
    [R2, 'R2'],
    [Gp, 'G′'],
    [Q2p, 'Q2′'],
  ] as const) {
    if (!isValidNonIdentity(P)) fail(`${name} on the curve and ≠ O`);
  }
  // Everything hashed or exponentiated must be a non-negative integer (Enc refuses anything else).
  const ints = [cPrime, c, m, r, Ce, e, z4, ...W, ...Wp, ...z, ...v];
  if (ints.some((x) => typeof x !== 'bigint' || x < 0n)) fail('non-negative integers');
  // 3. ranges (before the challenge, unlike cb-mpc's order: all checks must pass either way, and a value
  // out of range is then reported as such rather than as a challenge mismatch)
  if (v.some((vj) => vj >= nT << V_SHIFT)) fail('0 ≤ v_j < Ñ·2^257');
  if (m >= q) fail('0 ≤ m < q');
  if (r <= 0n || r >= q) fail('0 < r < q');
  if ([...W, ...Wp].some((x) => x === 0n || x >= nT)) fail('0 < W_j, W′_j < Ñ');
  if (Ce === 0n || Ce >= n2) fail('0 < C_e < N²');
  if (cPrime === 0n || cPrime >= n2) fail('0 < C′ < N²');
  if (c === 0n || c >= n2) fail('0 < c < N²');
  const [z1 = 0n, z2 = 0n, z3 = 0n] = z;
  if (z1 >= SIGN_Z12_BOUND || z2 >= SIGN_Z12_BOUND) fail('0 ≤ z1, z2 < q·2^193');
  if (z3 >= SIGN_Z3_BOUND) fail('0 ≤ z3 < q²·2^321');
  if (z4 === 0n || z4 >= n || gcd(z4, n) !== 1n) fail('0 < z4 < N and gcd(z4, N) = 1');
  // 2. the challenge
  if (e !== challenge(st, W, Wp, Gp, Q2p, Ce, ctx)) fail('e = RO_128(…)');
  // 4. the curve equations
  if (!R2.multiplyUnsafe(mod(z1, q)).equals(G.multiplyUnsafe(e).add(Gp))) fail('z1·R2 = e·G + G′');
  if (!R2.multiplyUnsafe(mod(z2, q)).equals(Q2.multiplyUnsafe(e).add(Q2p))) fail('z2·R2 = e·Q2 + Q2′');
  // 5. the integer commitments
  for (let j = 0; j < 3; j++) {
    const lhs = ic.commit(z[j] ?? 0n, v[j] ?? 0n);
    const rhs = ((Wp[j] ?? 0n) * ic.arith.powMod(W[j] ?? 0n, e, nT)) % nT;
    if (lhs !== rhs) fail(`g̃^z_${j + 1}·h̃^v_${j + 1} ≡ W′_${j + 1}·W_${j + 1}^e`);
  }
  // 6. the Paillier equation: (1 + T″·N)·z4^N·(C′^r)^z1 ≡ C_e·c^e (mod N²)
  const T2 = z1 * m + z2 * r + z3 * q;
  const lhs = (((((1n + mod(T2, n) * n) % n2) * pow(z4, n)) % n2) * pow(pow(cPrime, r), z1)) % n2;
  const rhs = (Ce * pow(c, e)) % n2;
  if (lhs !== rhs) fail('(1 + T″·N)·z4^N·(C′^r)^z1 ≡ C_e·c^e');
}

/**
 * Wire: W[3], W′[3] (256 B each), G′, Q2′ (33 B), C_e (512 B), e (16 B), z1, z2 (bounded by q·2^193),
 * z3 (bounded by q²·2^321), v[3] (bounded by 2^2305 here; Ñ·2^257 in the verifier), z4 (256 B).
 */
export function writeSignProof(w: WireWriter, p: SignProof): void {
  assertCount(p.W, 3, 'Π_sign W');
  assertCount(p.Wp, 3, 'Π_sign W′');
  assertCount(p.z, 3, 'Π_sign z');
  assertCount(p.v, 3, 'Π_sign v');
  for (const x of p.W) w.fixed(x, ELEMENT_BYTES);
  for (const x of p.Wp) w.fixed(x, ELEMENT_BYTES);
  w.point(p.Gp);
  w.point(p.Q2p);
  w.fixed(p.Ce, ELEMENT2_BYTES);
  w.fixed(p.e, SIGN_CHALLENGE_BYTES);
  w.bounded(p.z[0] ?? 0n, SIGN_Z12_BOUND);
  w.bounded(p.z[1] ?? 0n, SIGN_Z12_BOUND);
  w.bounded(p.z[2] ?? 0n, SIGN_Z3_BOUND);
  for (const x of p.v) w.bounded(x, V_WIRE_BOUND);
  w.fixed(p.z4, ELEMENT_BYTES);
}

export function readSignProof(r: WireReader): SignProof {
  const W = r.array(3, (j) => r.fixed(ELEMENT_BYTES, `Π_sign W[${j + 1}]`));
  const Wp = r.array(3, (j) => r.fixed(ELEMENT_BYTES, `Π_sign W′[${j + 1}]`));
  const Gp = r.point('Π_sign G′');
  const Q2p = r.point('Π_sign Q2′');
  const Ce = r.fixed(ELEMENT2_BYTES, 'Π_sign C_e');
  const e = r.fixed(SIGN_CHALLENGE_BYTES, 'Π_sign e');
  const z = [
    r.bounded(SIGN_Z12_BOUND, 'Π_sign z1'),
    r.bounded(SIGN_Z12_BOUND, 'Π_sign z2'),
    r.bounded(SIGN_Z3_BOUND, 'Π_sign z3'),
  ];
  const v = r.array(3, (j) => r.bounded(V_WIRE_BOUND, `Π_sign v[${j + 1}]`));
  const z4 = r.fixed(ELEMENT_BYTES, 'Π_sign z4');
  return { W, Wp, Gp, Q2p, Ce, e, z, v, z4 };
}

export function encodeSignProof(p: SignProof): Uint8Array {
  return encodeWith((w) => writeSignProof(w, p));
}

export function decodeSignProof(bytes: Uint8Array): SignProof {
  return decodeAll(bytes, readSignProof);
}

/** The largest encoded proof, for size budgets: fixed parts plus every bounded field at its maximum. */
export const SIGN_PROOF_MAX_BYTES: number =
  6 * ELEMENT_BYTES +
  2 * 33 +
  ELEMENT2_BYTES +
  SIGN_CHALLENGE_BYTES +
  2 * (2 + boundBytes(SIGN_Z12_BOUND)) +
  (2 + boundBytes(SIGN_Z3_BOUND)) +
  3 * (2 + boundBytes(V_WIRE_BOUND)) +
  ELEMENT_BYTES;
