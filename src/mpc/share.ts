/**
 * The key state each party keeps after a run that creates a signing pair (§3 "Key state"), as compact,
 * versioned bytes: what the client writes to its keychain and what the custodian stores (encrypted at
 * rest) with the pair.
 *
 * Layout: `version (1) ‖ kind (1) ‖ fields`, every field at the fixed width of §1.8 (ids 32, epoch 8,
 * pids 16, point 33, scalar 32, Z_N / Z_Ñ 256, Z_N² 512, a Paillier prime 128) except the custodian's
 * integer x1 (u16-length minimal bytes), and nothing after the last field. The kind byte keeps one
 * party's share from ever parsing as the other's.
 *
 * Decoding is a boundary like any received message: random, truncated or inconsistent bytes fail with
 * `MALFORMED_MESSAGE` naming the field, never a crash. The load checks of §3 ("Checks when a key is
 * loaded") run in the decoders: Q on the curve and ≠ O, c_key valid, and for the custodian
 * Dec(c_key) = x1; the client also re-derives its Π_IC pin from (Ñ, g̃, h̃) and compares.
 *
 * The decoded objects hold secrets (x1, the Paillier key, x2): use them for one operation and drop them.
 *
 * @example
 * const share = encodeClientShare({ walletKeyId: sid, pairId: sid, epoch: 0n, pid1, pid2, Q, x2, n, cKey, ic, icPin });
 * decodeClientShare(share).Q.equals(Q);
 */
import { malformed } from './assert.js';
import { bitLength, equalBytes, gcd } from './bigint.js';
import type { Point } from './curve.js';
import { intCommitmentPin, IntCommitmentParams, IC_MODULUS_BITS } from './int-commitment.js';
import { bigintArith, type ModArith } from './modexp.js';
import { PAILLIER_BITS, PAILLIER_PRIME_BITS, PaillierSecretKey } from './paillier.js';
import { ID_BYTES, PID_BYTES } from './session.js';
import { decodeAll, ELEMENT2_BYTES, ELEMENT_BYTES, encodeWith, type WireReader, type WireWriter } from './wire.js';

/** The only share format version so far. */
export const SHARE_VERSION = 1;
/** Kind bytes: whose share, for which protocol. */
export const SHARE_KIND_CUSTODIAN_ECDSA = 0x01;
export const SHARE_KIND_CLIENT_ECDSA = 0x02;

const EPOCH_BYTES = 8;
const PRIME_BYTES = PAILLIER_PRIME_BITS / 8;
const PIN_BYTES = 32;
/** x1 is an integer below N (it is a Paillier plaintext), so below 2^2048. */
const X1_BOUND = 1n << BigInt(PAILLIER_BITS);

/** What both parties' shares name: the key, the pair, its epoch and the two parties (§1.8). */
export interface PairIdentity {
  /** The keygen sid; names the key for its whole life. */
  readonly walletKeyId: Uint8Array;
  /** The sid of the run that created this pair. */
  readonly pairId: Uint8Array;
  readonly epoch: bigint;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
}

/** The custodian's (P1's) key state for one signing pair. */
export interface CustodianShare extends PairIdentity {
  readonly Q: Point;
  /** x1 as an integer, not reduced mod q (it must keep matching the plaintext of c_key, §6). */
  readonly x1: bigint;
  readonly paillier: PaillierSecretKey;
  readonly cKey: bigint;
  readonly ic: IntCommitmentParams;
}

/** The client's (P2's) key state for one signing pair. */
export interface ClientShare extends PairIdentity {
  readonly Q: Point;
  /** x2 ∈ [1, q). */
  readonly x2: bigint;
  /** The custodian's Paillier modulus, accepted (§1.3) when the pair was created. */
  readonly n: bigint;
  readonly cKey: bigint;
  readonly ic: IntCommitmentParams;
  /** SHA-256(Enc(Ñ, g̃, h̃)), pinned when Π_IC was verified. */
  readonly icPin: Uint8Array;
}

function writeIdentity(w: WireWriter, s: PairIdentity): void {
  w.bytes(s.walletKeyId, ID_BYTES);
  w.bytes(s.pairId, ID_BYTES);
  w.fixed(s.epoch, EPOCH_BYTES);
  w.bytes(s.pid1, PID_BYTES);
  w.bytes(s.pid2, PID_BYTES);
}

function readIdentity(r: WireReader): PairIdentity {
  return {
    walletKeyId: r.bytes(ID_BYTES, 'share wallet_key_id'),
    pairId: r.bytes(ID_BYTES, 'share pair_id'),
    epoch: r.fixed(EPOCH_BYTES, 'share epoch'),
    pid1: r.bytes(PID_BYTES, 'share pid1'),
    pid2: r.bytes(PID_BYTES, 'share pid2'),
  };
}

function readHeader(r: WireReader, kind: number): void {
  const [version] = r.bytes(1, 'share version');
  if (version !== SHARE_VERSION) throw malformed('share version', `version ${SHARE_VERSION}`);
  const [k] = r.bytes(1, 'share kind');
  if (k !== kind) throw malformed('share kind', kind === SHARE_KIND_CLIENT_ECDSA ? 'a client ECDSA share' : 'a custodian ECDSA share');
}

function writeIc(w: WireWriter, ic: IntCommitmentParams): void {
  w.fixed(ic.nTilde, ELEMENT_BYTES);
  w.fixed(ic.g, ELEMENT_BYTES);
  w.fixed(ic.h, ELEMENT_BYTES);
}

/** Ñ, g̃, h̃ with the structural checks Π_IC's verifier starts with (size, parity, 0 < g̃, h̃ < Ñ). */
function readIc(r: WireReader, arith: ModArith): IntCommitmentParams {
  const nTilde = r.fixed(ELEMENT_BYTES, 'share Ñ');
  const g = r.fixed(ELEMENT_BYTES, 'share g̃');
  const h = r.fixed(ELEMENT_BYTES, 'share h̃');
  if (bitLength(nTilde) !== IC_MODULUS_BITS || (nTilde & 1n) === 0n) throw malformed('share Ñ', 'an odd 2048-bit modulus');
  if (g === 0n || g >= nTilde || h === 0n || h >= nTilde) throw malformed('share g̃, h̃', 'elements in (0, Ñ)');
  return new IntCommitmentParams(nTilde, g, h, arith);
}

/** The custodian's share as bytes. */
export function encodeCustodianShare(s: CustodianShare): Uint8Array {
  const { p, q } = s.paillier.primes();
  return encodeWith((w) => {
    w.bytes(new Uint8Array([SHARE_VERSION, SHARE_KIND_CUSTODIAN_ECDSA]), 2);
    writeIdentity(w, s);
    w.point(s.Q);
    w.bounded(s.x1, X1_BOUND);
    w.fixed(p, PRIME_BYTES);
    w.fixed(q, PRIME_BYTES);
    w.fixed(s.cKey, ELEMENT2_BYTES);
    writeIc(w, s.ic);
  });
}

/**
 * Parses and checks a custodian share: Q on the curve and ≠ O, two distinct 1024-bit primes whose
 * product has 2048 bits, c_key valid, Dec(c_key) = x1.
 */
export function decodeCustodianShare(bytes: Uint8Array, arith: ModArith = bigintArith): CustodianShare {
  return decodeAll(bytes, (r) => {
    readHeader(r, SHARE_KIND_CUSTODIAN_ECDSA);
    const id = readIdentity(r);
    const Q = r.point('share Q');
    const x1 = r.bounded(X1_BOUND, 'share x1');
    const p = r.fixed(PRIME_BYTES, 'share p_N');
    const q = r.fixed(PRIME_BYTES, 'share q_N');
    const cKey = r.fixed(ELEMENT2_BYTES, 'share c_key');
    const ic = readIc(r, arith);
    if (bitLength(p) !== PAILLIER_PRIME_BITS || bitLength(q) !== PAILLIER_PRIME_BITS || p === q) {
      throw malformed('share Paillier primes', 'two distinct 1024-bit primes');
    }
    const n = p * q;
    if (bitLength(n) !== PAILLIER_BITS || (n & 1n) === 0n) throw malformed('share Paillier N', 'an odd 2048-bit N');
    let paillier: PaillierSecretKey;
    try {
      paillier = new PaillierSecretKey(p, q, arith);
    } catch {
      throw malformed('share Paillier primes', 'a usable Paillier key');
    }
    if (x1 >= n) throw malformed('share x1', 'an integer below N');
    if (!paillier.publicKey.isValidCiphertext(cKey)) throw malformed('share c_key', 'a valid ciphertext');
    if (paillier.decrypt(cKey) !== x1) throw malformed('share c_key', 'an encryption of x1');
    return { ...id, Q, x1, paillier, cKey, ic };
  });
}

/** The client's share as bytes. */
export function encodeClientShare(s: ClientShare): Uint8Array {
  return encodeWith((w) => {
    w.bytes(new Uint8Array([SHARE_VERSION, SHARE_KIND_CLIENT_ECDSA]), 2);
    writeIdentity(w, s);
    w.point(s.Q);
    w.scalar(s.x2);
    w.fixed(s.n, ELEMENT_BYTES);
    w.fixed(s.cKey, ELEMENT2_BYTES);
    writeIc(w, s.ic);
    w.bytes(s.icPin, PIN_BYTES);
  });
}

/**
 * Parses and checks a client share: Q on the curve and ≠ O, x2 ∈ [1, q), N odd with 2048 bits, c_key
 * valid under N, and the pin equal to SHA-256(Enc(Ñ, g̃, h̃)).
 */
export function decodeClientShare(bytes: Uint8Array, arith: ModArith = bigintArith): ClientShare {
  return decodeAll(bytes, (r) => {
    readHeader(r, SHARE_KIND_CLIENT_ECDSA);
    const id = readIdentity(r);
    const Q = r.point('share Q');
    const x2 = r.scalar('share x2', { nonzero: true });
    const n = r.fixed(ELEMENT_BYTES, 'share N');
    const cKey = r.fixed(ELEMENT2_BYTES, 'share c_key');
    const ic = readIc(r, arith);
    const icPin = r.bytes(PIN_BYTES, 'share Π_IC pin');
    if (bitLength(n) !== PAILLIER_BITS || (n & 1n) === 0n) throw malformed('share N', 'an odd 2048-bit N');
    if (cKey === 0n || cKey >= n * n || gcd(cKey, n) !== 1n) throw malformed('share c_key', 'a valid ciphertext');
    if (!equalBytes(intCommitmentPin(ic), icPin)) throw malformed('share Π_IC pin', 'SHA-256(Enc(Ñ, g̃, h̃))');
    return { ...id, Q, x2, n, cKey, ic, icPin };
  });
}

/** The key's public point of a client share, compressed hex (ClientMpc.publicKeyOf). */
export function clientSharePublicKey(bytes: Uint8Array): string {
  return decodeClientShare(bytes).Q.toHex(true);
}
