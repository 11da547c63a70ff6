/**
 * The custodian's online step (§3.2, S4 → signature) and the final checks both sides run on a
 * signature: decryption, low-s, the recovery id, and ECDSA verification under Q before anything is
 * returned.
 *
 * The step is pure. The server does the bookkeeping around it (src/custodian's rules, over its store):
 *
 *     sid = signMessageSid(s4)
 *     use = await rules.usePresignature({ walletId, pairId, sid: hex(sid), s4 })   // marks it used first
 *     if (use.kind === 'cached') return use.answer                                // identical resend
 *     out = signer.sign({ presignature: use.secret, s4, checkRequest })
 *     if (out.ok) await rules.recordSignature({ walletId, sid: hex(sid), answer: out.answer })
 *     else await rules.recordSignFailure({ walletId, pairId, sid: hex(sid),
 *                                          reason: out.reason === 'request' ? 'abort' : out.reason })
 *
 * The outcome says why a run failed, because the lock rule (§5.2) depends on it:
 * - `request`: the hook refused the request (a typed digest that does not match its payload, a policy
 *   refusal). Nothing was decrypted. Not a cryptographic failure.
 * - `proof`: S4 was malformed or Π_sign was rejected (or c was invalid). Nothing was decrypted.
 *   Counted; repeated ones lock the pair.
 * - `verify`: Π_sign was accepted but the signature did not verify under Q (or s = 0). Impossible unless
 *   soundness broke or state is corrupt: the server locks the pair at once.
 *
 * Before decrypting, the custodian blinds c with a fresh N-th residue s^N (§6 "Side channels"): the
 * plaintext is unchanged, but the base of its secret-exponent exponentiation is no longer the client's
 * choice. A `CustodianSigner` can make those residues ahead of time (`precompute`), with the other
 * per-pair work (Q2, C′, the g̃, h̃ tables), so the online step is verification and decryption only.
 *
 * @example
 * const signer = new CustodianSigner(decodeCustodianShare(bytes));
 * const out = signer.sign({ presignature: secret, s4, checkRequest: (req) => req.digest });
 * if (out.ok) reply(out.answer);
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { TandemError, toTandemError } from '../errors.js';
import { internal, rejected } from './assert.js';
import { equalBytes, mod, modInverse, randomUnit, toFixedBytes } from './bigint.js';
import { G, q, type Point } from './curve.js';
import { shiftedKeyCiphertext, verifySign, type PowModN2 } from './pi-sign.js';
import type { PaillierSecretKey } from './paillier.js';
import type { CustodianShare } from './share.js';
import {
  decodePresignatureRecord,
  decodeSignature,
  decodeSignS4,
  digestToScalar,
  encodeSignature,
  type PresignatureRecordData,
  type RecoverableSignature,
  type SignRequest,
  type SignS4,
} from './sign-wire.js';

const CODE = 'SIGN_FAILED';
const STEP = 'sign';

/**
 * The custodian's request check (§3.2 steps 3–4), called before anything is decrypted: recompute the
 * digest of a typed kind from its payload, log a raw one, run the operator's policy. Returns the digest
 * to sign, which must equal the request's; throws (POLICY_REFUSED, SIGN_FAILED, …) to refuse.
 */
export type CheckRequest = (request: SignRequest) => Uint8Array;
export type CheckRequestAsync = (request: SignRequest) => Uint8Array | Promise<Uint8Array>;

export type SignFailureReason = 'request' | 'proof' | 'verify';

export type CustodianSignOutcome =
  | {
      readonly ok: true;
      readonly signature: RecoverableSignature;
      /** encodeSignature(signature): what the server stores as the answer to a resend and sends back. */
      readonly answer: Uint8Array;
    }
  | { readonly ok: false; readonly reason: SignFailureReason; readonly error: TandemError };

export interface CustodianSignInput {
  /** The presignature record's secret bytes, from the store; zeroed here once read. */
  readonly presignature: Uint8Array;
  /** The S4 bytes exactly as received. */
  readonly s4: Uint8Array;
}

const failure = (reason: SignFailureReason, err: unknown): CustodianSignOutcome => ({
  ok: false,
  reason,
  error: toTandemError(err, CODE),
});

/**
 * The custodian's per-pair signing state: the share, Q2 = Q − (x1 mod q)·G and C′ = c_key ⊕ q·2^64,
 * computed once (§4 "per signing pair"), and the sids it has already signed with, so that this object
 * never runs one presignature twice even if the store were to let it.
 */
export class CustodianSigner {
  readonly #share: CustodianShare;
  readonly #Q2: Point;
  readonly #cPrime: bigint;
  readonly #pow: PowModN2;
  readonly #blinds: bigint[] = [];
  readonly #used = new Set<string>();

  constructor(share: CustodianShare) {
    this.#share = share;
    const x1q = mod(share.x1, q);
    const Q2 = x1q === 0n ? share.Q : share.Q.subtract(G.multiply(x1q));
    if (Q2.is0()) throw internal('custodian share', 'Q ≠ x1·G');
    this.#Q2 = Q2;
    this.#cPrime = shiftedKeyCiphertext(share.paillier.publicKey, share.cKey);
    this.#pow = custodianPowModN2(share.paillier);
  }

  /** Q2 = Q − (x1 mod q)·G, the client's public share as the custodian derives it. */
  get Q2(): Point {
    return this.#Q2;
  }

  /** Offline work: the g̃, h̃ tables and `blinds` blinding residues s^N mod N² for later signatures. */
  precompute(blinds = 1): void {
    const { ic } = this.#share;
    ic.powG(1n);
    ic.powH(1n);
    for (let i = 0; i < blinds; i++) this.#blinds.push(this.#newBlind());
  }

  #newBlind(): bigint {
    const n = this.#share.paillier.n;
    return this.#pow(randomUnit(n), n);
  }

  /** S4 → signature, with a synchronous request check. */
  sign(input: CustodianSignInput & { readonly checkRequest: CheckRequest }): CustodianSignOutcome {
    const opened = this.#open(input);
    if (!opened.ok) return opened.outcome;
    let digest: Uint8Array;
    try {
      digest = input.checkRequest(opened.s4.request);
    } catch (err) {
      return failure('request', err);
    }
    return this.#finish(opened.s4, opened.rec, digest);
  }

  /** S4 → signature, with a request check that may be asynchronous (an HTTP policy hook). */
  async signAsync(input: CustodianSignInput & { readonly checkRequest: CheckRequestAsync }): Promise<CustodianSignOutcome> {
    const opened = this.#open(input);
    if (!opened.ok) return opened.outcome;
    let digest: Uint8Array;
    try {
      digest = await input.checkRequest(opened.s4.request);
    } catch (err) {
      return failure('request', err);
    }
    return this.#finish(opened.s4, opened.rec, digest);
  }

  /**
   * Reads the record (then zeroes its bytes) and S4. A record of another pair is a caller bug and
   * throws; so does a presignature this signer already ran. A malformed S4, or one whose sid is not
   * the record's, is the client's failure: `proof`.
   */
  #open(
    input: CustodianSignInput,
  ): { readonly ok: false; readonly outcome: CustodianSignOutcome } | { readonly ok: true; readonly s4: SignS4; readonly rec: PresignatureRecordData } {
    const share = this.#share;
    const rec = decodePresignatureRecord(input.presignature);
    input.presignature.fill(0);
    if (!equalBytes(rec.pairId, share.pairId) || !equalBytes(rec.walletKeyId, share.walletKeyId) || rec.epoch !== share.epoch) {
      throw internal('presignature', 'a record of this signing pair');
    }
    const key = hex(rec.sid);
    if (this.#used.has(key)) throw rejected(CODE, STEP, 'presignature unused');
    this.#used.add(key);
    try {
      const s4 = decodeSignS4(input.s4);
      if (!equalBytes(s4.sid, rec.sid)) throw rejected(CODE, STEP, 'S4 sid names the presignature');
      return { ok: true, s4, rec };
    } catch (err) {
      return { ok: false, outcome: failure('proof', err) };
    }
  }

  #finish(s4: SignS4, rec: PresignatureRecordData, digest: Uint8Array): CustodianSignOutcome {
    const share = this.#share;
    const sk = share.paillier;
    const pk = sk.publicKey;
    if (!(digest instanceof Uint8Array) || !equalBytes(digest, s4.request.digest)) {
      return failure('request', rejected(CODE, STEP, 'the checked digest is the request digest'));
    }
    const m = digestToScalar(digest);
    const r = mod(rec.R.toAffine().x, q);
    try {
      verifySign(
        { ic: share.ic, pk, cPrime: this.#cPrime, c: s4.c, Q2: this.#Q2, R2: rec.R2, m, r },
        s4.proof,
        { protocol: 'sign', sid: rec.sid, aux: 0 },
        this.#pow,
      );
      if (!pk.isValidCiphertext(s4.c)) throw rejected(CODE, STEP, 'c valid');
    } catch (err) {
      return failure('proof', err);
    }
    // Π_sign accepted: from here on any failure means broken soundness or corrupt state.
    try {
      const blind = this.#blinds.shift() ?? this.#newBlind();
      const s0 = sk.decrypt((s4.c * blind) % pk.n2);
      const s1 = s0 >= (pk.n + 1n) / 2n ? mod(s0 - pk.n, q) : s0 % q;
      const sig = finishSignature(rec.R, s1, rec.k1);
      assertSignatureVerifies(share.Q, digest, sig);
      return { ok: true, signature: sig, answer: encodeSignature(sig) };
    } catch (err) {
      return failure('verify', err);
    }
  }
}

/**
 * b^e mod N² for the custodian, by CRT over p_N², q_N² (§4), with a shortcut for e = N, the costliest
 * exponent of Π_sign's check (z4^N) and of blinding (s^N): x^p mod p² depends only on x mod p, so
 * b^N = (b^(q_N))^(p_N) mod p_N² is ((b mod p_N)^(q_N mod (p_N−1)) mod p_N)^(p_N) mod p_N², half the work.
 */
export function custodianPowModN2(sk: PaillierSecretKey): PowModN2 {
  const { p, q: qN } = sk.primes();
  const { n, arith } = sk.publicKey;
  const p2 = p * p;
  const q2 = qN * qN;
  const qModP1 = qN % (p - 1n);
  const pModQ1 = p % (qN - 1n);
  const q2InvP2 = modInverse(q2, p2);
  return (b, e) => {
    if (e !== n) return sk.powModN2(b, e);
    const yp = arith.powMod(arith.powMod(b % p, qModP1, p), p, p2);
    const yq = arith.powMod(arith.powMod(b % qN, pModQ1, qN), qN, q2);
    return yq + q2 * mod((yp - yq) * q2InvP2, p2);
  };
}

/** One-shot form of `CustodianSigner.sign` (no per-pair caching). */
export function custodianSign(
  share: CustodianShare,
  input: CustodianSignInput & { readonly checkRequest: CheckRequest },
): CustodianSignOutcome {
  return new CustodianSigner(share).sign(input);
}

/**
 * §3.2 steps 8–10: s = s1·k1^(−1) mod q (≠ 0), low s, and v = ((R.y odd) XOR flip) + 2·[R.x ≥ q].
 */
export function finishSignature(R: Point, s1: bigint, k1: bigint): RecoverableSignature {
  const { x, y } = R.toAffine();
  const r = mod(x, q);
  let s = (s1 * modInverse(k1, q)) % q;
  if (s === 0n || r === 0n) throw rejected(CODE, STEP, 's ≠ 0');
  let flip = 0;
  if (s > q >> 1n) {
    s = q - s;
    flip = 1;
  }
  const v = (Number(y & 1n) ^ flip) + (x >= q ? 2 : 0);
  return { r, s, v };
}

/**
 * §3.2 step 11: (r, s) verifies on the 32-byte digest under Q with standard ECDSA (noble v2 with
 * `prehash: false`: the digest is the message hash, not hashed again), and recovering the public key
 * with v gives Q. Throws SIGN_FAILED otherwise.
 */
export function assertSignatureVerifies(Q: Point, digest: Uint8Array, sig: RecoverableSignature): void {
  const compact = new Uint8Array(64);
  compact.set(toFixedBytes(sig.r, 32), 0);
  compact.set(toFixedBytes(sig.s, 32), 32);
  let ok = false;
  try {
    ok = secp256k1.verify(compact, digest, Q.toBytes(true), { prehash: false, lowS: true });
  } catch {
    ok = false;
  }
  if (!ok) throw rejected(CODE, STEP, 'ECDSA verifies under Q');
  let recovered: Point | undefined;
  try {
    recovered = new secp256k1.Signature(sig.r, sig.s, sig.v).recoverPublicKey(digest);
  } catch {
    recovered = undefined;
  }
  if (recovered === undefined || !recovered.equals(Q)) throw rejected(CODE, STEP, 'the recovery id recovers Q');
}

/**
 * The client's check of the custodian's answer: decodes r ‖ s ‖ v (low s) and verifies it under the
 * pair's Q on the digest the client asked for. Throws SIGN_FAILED (or MALFORMED_MESSAGE) otherwise.
 */
export function checkSignatureAnswer(Q: Point, digest: Uint8Array, answer: Uint8Array): RecoverableSignature {
  const sig = decodeSignature(answer);
  assertSignatureVerifies(Q, digest, sig);
  return sig;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
