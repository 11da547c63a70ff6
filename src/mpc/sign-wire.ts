/**
 * The bytes of signing (§3.2): the presign messages S0–S3, the online message S4 with its sign request,
 * the custodian's presignature record, and the signature it answers with. Every decoder is a boundary:
 * exact sizes, round tag first, no trailing bytes, points on the curve and ≠ O, scalars below q, and
 * anything else is `MALFORMED_MESSAGE` naming the field (assert.ts). Checks that need session state
 * (sid, the pair, the proofs) belong to the parties in presign.ts and sign.ts.
 *
 * One-byte round tags (0x20–0x24) keep a message of one round, or of keygen, from parsing as another.
 * S2–S4 repeat the sid, so the custodian can find the session (or the stored presignature) a message
 * belongs to before it reads anything else.
 *
 * @example
 * const s4 = encodeSignS4({ sid, request: { kind: 'raw', payload: new Uint8Array(), digest }, c, proof });
 * decodeSignS4(s4).request.digest; // digest
 */
import { assertBytes, internal, malformed } from './assert.js';
import { bytesToBigint } from './bigint.js';
import { COMMITMENT_BYTES, COMMITMENT_KEY_BYTES } from './commitment.js';
import { q, SCALAR_BYTES, type Point } from './curve.js';
import { readDlProof, writeDlProof, type DlProof } from './pi-dl.js';
import { readSignProof, writeSignProof, type SignProof } from './pi-sign.js';
import { CONTRIBUTION_BYTES, ID_BYTES, SID_BYTES } from './session.js';
import { decodeAll, ELEMENT2_BYTES, encodeWith, type WireReader, type WireWriter } from './wire.js';

/** Round tags, the first byte of each signing message. */
export const SIGN_TAGS = { S0: 0x20, S1: 0x21, S2: 0x22, S3: 0x23, S4: 0x24 } as const;
export type SignRound = keyof typeof SIGN_TAGS;

const EPOCH_BYTES = 8;
export const DIGEST_BYTES = 32;

// ---------------------------------------------------------------------------------------------------
// The sign request

/** The secp256k1 request kinds (§3.2); the Solana kinds belong to the ED25519 path. */
export const SIGN_KINDS = ['raw', 'eip191', 'eip712', 'evmTransaction'] as const;
export type SignKind = (typeof SIGN_KINDS)[number];

/**
 * The largest payload S4 carries. An EVM transaction's calldata or an EIP-712 document is far smaller in
 * practice; the cap only keeps a hostile length from making the custodian allocate without limit.
 */
export const MAX_SIGN_PAYLOAD_BYTES = 256 * 1024;

/**
 * {kind, payload, digest}: src/mpc carries it and signs m = int_be(digest) mod q; the custodian's hook
 * recomputes the digest of a typed kind from the payload (viem, in src/chains) and may refuse. A `raw`
 * request has an empty payload.
 */
export interface SignRequest {
  readonly kind: SignKind;
  readonly payload: Uint8Array;
  readonly digest: Uint8Array;
}

/** Checks a request before it is signed or encoded: a known kind, a bounded payload (empty for raw), 32-byte digest. */
export function assertSignRequest(request: SignRequest): void {
  if (typeof request !== 'object' || request === null) throw malformed('sign request', 'an object');
  if (!(SIGN_KINDS as readonly unknown[]).includes(request.kind)) throw malformed('sign request kind', SIGN_KINDS.join(', '));
  if (!(request.payload instanceof Uint8Array) || request.payload.length > MAX_SIGN_PAYLOAD_BYTES) {
    throw malformed('sign request payload', `at most ${MAX_SIGN_PAYLOAD_BYTES} bytes`);
  }
  if (request.kind === 'raw' && request.payload.length !== 0) throw malformed('sign request payload', 'empty for raw');
  assertBytes(request.digest, DIGEST_BYTES, 'sign request digest');
}

/** kind (1 byte: its index in SIGN_KINDS) ‖ be32(len(payload)) ‖ payload ‖ digest (32). */
export function writeSignRequest(w: WireWriter, request: SignRequest): void {
  assertSignRequest(request);
  const len = request.payload.length;
  w.bytes(new Uint8Array([SIGN_KINDS.indexOf(request.kind)]), 1);
  w.bytes(new Uint8Array([len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff]), 4);
  w.bytes(request.payload, len);
  w.bytes(request.digest, DIGEST_BYTES);
}

export function readSignRequest(r: WireReader): SignRequest {
  const [k = 0xff] = r.bytes(1, 'sign request kind');
  const kind = SIGN_KINDS[k];
  if (kind === undefined) throw malformed('sign request kind', SIGN_KINDS.join(', '));
  const lb = r.bytes(4, 'sign request payload length');
  const len = Number(bytesToBigint(lb));
  if (len > MAX_SIGN_PAYLOAD_BYTES) throw malformed('sign request payload', `at most ${MAX_SIGN_PAYLOAD_BYTES} bytes`);
  if (kind === 'raw' && len !== 0) throw malformed('sign request payload', 'empty for raw');
  const payload = r.bytes(len, 'sign request payload');
  const digest = r.bytes(DIGEST_BYTES, 'sign request digest');
  return { kind, payload, digest };
}

/** m = int_be(digest) mod q (Δ13). */
export function digestToScalar(digest: Uint8Array): bigint {
  assertBytes(digest, DIGEST_BYTES, 'digest');
  return bytesToBigint(digest) % q;
}

// ---------------------------------------------------------------------------------------------------
// Messages

export interface SignS0 {
  readonly rndP2: Uint8Array;
  readonly walletKeyId: Uint8Array;
  readonly pairId: Uint8Array;
  readonly epoch: bigint;
}

export interface SignS1 {
  readonly rndP1: Uint8Array;
  /** Com_P1("sign/R1"; sid; R1, Π_DL(R1)) */
  readonly commitment: Uint8Array;
}

export interface SignS2 {
  readonly sid: Uint8Array;
  readonly R2: Point;
  readonly dl: DlProof;
}

export interface SignS3 {
  readonly sid: Uint8Array;
  /** The opening key of S1's commitment. */
  readonly u: Uint8Array;
  readonly R1: Point;
  readonly dl: DlProof;
}

export interface SignS4 {
  readonly sid: Uint8Array;
  readonly request: SignRequest;
  readonly c: bigint;
  readonly proof: SignProof;
}

function tagged(round: SignRound, write: (w: WireWriter) => void): Uint8Array {
  return encodeWith((w) => {
    w.bytes(new Uint8Array([SIGN_TAGS[round]]), 1);
    write(w);
  });
}

function untagged<T>(message: Uint8Array, round: SignRound, read: (r: WireReader) => T): T {
  if (!(message instanceof Uint8Array)) throw malformed('message', 'bytes');
  return decodeAll(message, (r) => {
    const [tag] = r.bytes(1, 'round');
    if (tag !== SIGN_TAGS[round]) throw malformed('round', `the signing message ${round}`);
    return read(r);
  });
}

export function encodeSignS0(m: SignS0): Uint8Array {
  return tagged('S0', (w) => {
    w.bytes(m.rndP2, CONTRIBUTION_BYTES);
    w.bytes(m.walletKeyId, ID_BYTES);
    w.bytes(m.pairId, ID_BYTES);
    w.fixed(m.epoch, EPOCH_BYTES);
  });
}

export function decodeSignS0(message: Uint8Array): SignS0 {
  return untagged(message, 'S0', (r) => ({
    rndP2: r.bytes(CONTRIBUTION_BYTES, 'rnd_P2'),
    walletKeyId: r.bytes(ID_BYTES, 'wallet_key_id'),
    pairId: r.bytes(ID_BYTES, 'pair_id'),
    epoch: r.fixed(EPOCH_BYTES, 'epoch'),
  }));
}

export function encodeSignS1(m: SignS1): Uint8Array {
  return tagged('S1', (w) => {
    w.bytes(m.rndP1, CONTRIBUTION_BYTES);
    w.bytes(m.commitment, COMMITMENT_BYTES);
  });
}

export function decodeSignS1(message: Uint8Array): SignS1 {
  return untagged(message, 'S1', (r) => ({
    rndP1: r.bytes(CONTRIBUTION_BYTES, 'rnd_P1'),
    commitment: r.bytes(COMMITMENT_BYTES, 'R1 commitment'),
  }));
}

export function encodeSignS2(m: SignS2): Uint8Array {
  return tagged('S2', (w) => {
    w.bytes(m.sid, SID_BYTES);
    w.point(m.R2);
    writeDlProof(w, m.dl);
  });
}

export function decodeSignS2(message: Uint8Array): SignS2 {
  return untagged(message, 'S2', (r) => ({ sid: r.bytes(SID_BYTES, 'sid'), R2: r.point('R2'), dl: readDlProof(r) }));
}

export function encodeSignS3(m: SignS3): Uint8Array {
  return tagged('S3', (w) => {
    w.bytes(m.sid, SID_BYTES);
    w.bytes(m.u, COMMITMENT_KEY_BYTES);
    w.point(m.R1);
    writeDlProof(w, m.dl);
  });
}

export function decodeSignS3(message: Uint8Array): SignS3 {
  return untagged(message, 'S3', (r) => ({
    sid: r.bytes(SID_BYTES, 'sid'),
    u: r.bytes(COMMITMENT_KEY_BYTES, 'R1 opening'),
    R1: r.point('R1'),
    dl: readDlProof(r),
  }));
}

export function encodeSignS4(m: SignS4): Uint8Array {
  return tagged('S4', (w) => {
    w.bytes(m.sid, SID_BYTES);
    writeSignRequest(w, m.request);
    w.fixed(m.c, ELEMENT2_BYTES);
    writeSignProof(w, m.proof);
  });
}

export function decodeSignS4(message: Uint8Array): SignS4 {
  return untagged(message, 'S4', (r) => ({
    sid: r.bytes(SID_BYTES, 'sid'),
    request: readSignRequest(r),
    c: r.fixed(ELEMENT2_BYTES, 'c'),
    proof: readSignProof(r),
  }));
}

/** The sid of S2, S3 or S4, read without parsing the rest (to find the session or the presignature). */
export function signMessageSid(message: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array) || message.length < 1 + SID_BYTES) throw malformed('message', 'a signing message with a sid');
  const tag = message[0];
  if (tag !== SIGN_TAGS.S2 && tag !== SIGN_TAGS.S3 && tag !== SIGN_TAGS.S4) throw malformed('round', 'S2, S3 or S4');
  return message.slice(1, 1 + SID_BYTES);
}

// ---------------------------------------------------------------------------------------------------
// The custodian's presignature record (§4): what it persists at S2, encrypted at rest, as the opaque
// `secret` of src/custodian's PresignatureRecord.

export const PRESIGNATURE_RECORD_VERSION = 1;
/** Distinct from the share kinds (0x01, 0x02) so no share ever parses as a record. */
export const PRESIGNATURE_RECORD_KIND = 0x03;

export interface PresignatureRecordData {
  readonly sid: Uint8Array;
  readonly walletKeyId: Uint8Array;
  readonly pairId: Uint8Array;
  readonly epoch: bigint;
  /** The custodian's nonce, secret. */
  readonly k1: bigint;
  /** R = k1·R2. */
  readonly R: Point;
  /** The client's nonce point: Π_sign's statement needs it at S4. */
  readonly R2: Point;
}

/** version ‖ kind ‖ sid ‖ wallet_key_id ‖ pair_id ‖ epoch (8) ‖ k1 (32) ‖ R (33) ‖ R2 (33). */
export function encodePresignatureRecord(d: PresignatureRecordData): Uint8Array {
  if (d.k1 <= 0n || d.k1 >= q) throw internal('presignature k1', 'a scalar in [1, q)');
  return encodeWith((w) => {
    w.bytes(new Uint8Array([PRESIGNATURE_RECORD_VERSION, PRESIGNATURE_RECORD_KIND]), 2);
    w.bytes(d.sid, SID_BYTES);
    w.bytes(d.walletKeyId, ID_BYTES);
    w.bytes(d.pairId, ID_BYTES);
    w.fixed(d.epoch, EPOCH_BYTES);
    w.scalar(d.k1);
    w.point(d.R);
    w.point(d.R2);
  });
}

export function decodePresignatureRecord(bytes: Uint8Array): PresignatureRecordData {
  return decodeAll(bytes, (r) => {
    const [version, kind] = r.bytes(2, 'presignature record header');
    if (version !== PRESIGNATURE_RECORD_VERSION) throw malformed('presignature record version', `version ${PRESIGNATURE_RECORD_VERSION}`);
    if (kind !== PRESIGNATURE_RECORD_KIND) throw malformed('presignature record kind', 'a presignature record');
    return {
      sid: r.bytes(SID_BYTES, 'presignature sid'),
      walletKeyId: r.bytes(ID_BYTES, 'presignature wallet_key_id'),
      pairId: r.bytes(ID_BYTES, 'presignature pair_id'),
      epoch: r.fixed(EPOCH_BYTES, 'presignature epoch'),
      k1: r.scalar('presignature k1', { nonzero: true }),
      R: r.point('presignature R'),
      R2: r.point('presignature R2'),
    };
  });
}

// ---------------------------------------------------------------------------------------------------
// The signature

/** (r, s, v) with low s and v ∈ {0, 1, 2, 3} (§3.2 steps 9–10). */
export interface RecoverableSignature {
  readonly r: bigint;
  readonly s: bigint;
  readonly v: number;
}

export const SIGNATURE_BYTES = 2 * SCALAR_BYTES + 1;

/** r (32) ‖ s (32) ‖ v (1): the custodian's answer, and what it caches for an identical S4 resend. */
export function encodeSignature(sig: RecoverableSignature): Uint8Array {
  if (!Number.isInteger(sig.v) || sig.v < 0 || sig.v > 3) throw internal('signature v', '0, 1, 2 or 3');
  return encodeWith((w) => {
    w.scalar(sig.r);
    w.scalar(sig.s);
    w.bytes(new Uint8Array([sig.v]), 1);
  });
}

export function decodeSignature(bytes: Uint8Array): RecoverableSignature {
  return decodeAll(bytes, (r) => {
    const rr = r.scalar('signature r', { nonzero: true });
    const s = r.scalar('signature s', { nonzero: true });
    const [v = 0xff] = r.bytes(1, 'signature v');
    if (v > 3) throw malformed('signature v', '0, 1, 2 or 3');
    if (s > q >> 1n) throw malformed('signature s', 'a low s (≤ (q−1)/2)');
    return { r: rr, s, v };
  });
}
