/**
 * The key state of one party in one ED25519 share set, as compact versioned bytes: what the client
 * writes to its keychain (or encrypts as its backup share) and what the custodian stores.
 *
 * Layout (234 bytes, nothing after the last field):
 *
 *     version (1) = 1 ‖ kind (1) ‖ wallet_key_id (32) ‖ pair_id (32) ‖ epoch (8, big-endian)
 *     ‖ pid1 (16) ‖ pid2 (16) ‖ Y (32) ‖ Y_1 (32) ‖ Y_2 (32) ‖ s (32, little-endian)
 *
 * - `kind` says whose share and which set it belongs to: custodian or client, signing or backup. A
 *   backup share never parses as a signing share (signing refuses it) and a signing share is never
 *   the input of a Recover. The kinds are disjoint from the SECP256K1 ones (share.ts), so neither
 *   decoder reads the other curve's bytes.
 * - `pair_id` names the share set (the sid of the run that made it) and `epoch` the signing pair it
 *   is or was made from. Every protocol announces and binds both, so shares of two sets are never mixed.
 * - Y is the group key; Y_1 and Y_2 the verifying shares of identifiers 1 (custodian) and 2 (client);
 *   s the party's signing share, a Shamir share: x = λ_1·s_1 + λ_2·s_2 (frost-curve.ts).
 *
 * The decoder is a boundary like any received message: it checks every point (canonical, prime order,
 * not small order), s ∈ [1, ℓ), s·G = Y_own and λ_1·Y_1 + λ_2·Y_2 = Y, and fails with
 * `MALFORMED_MESSAGE` naming the field, never a crash.
 *
 * @example
 * const bytes = encodeFrostShare({ kind: 'client-signing', walletKeyId, pairId, epoch: 0n, pid1, pid2, Y, Y1, Y2, s });
 * decodeFrostShare(bytes).Y.equals(Y); // true
 */
import { malformed } from './assert.js';
import { bytesToBigint, toFixedBytes } from './bigint.js';
import {
  decodeEdScalar,
  ED_SCALAR_BYTES,
  EdPoint,
  Fn,
  lagrange,
  readEdPoint,
  writeEdPoint,
  writeEdScalar,
} from './frost-curve.js';
import { ID_BYTES, PID_BYTES, type Role } from './session.js';
import { decodeAll, encodeWith } from './wire.js';

export const FROST_SHARE_VERSION = 1;
export const FROST_SHARE_BYTES = 234;

/** Kind bytes. 0x01/0x02 are the ECDSA kinds of share.ts. */
export const FROST_SHARE_KINDS = {
  'custodian-signing': 0x21,
  'client-signing': 0x22,
  'custodian-backup': 0x23,
  'client-backup': 0x24,
} as const;
export type FrostShareKind = keyof typeof FROST_SHARE_KINDS;

export interface FrostShare {
  readonly kind: FrostShareKind;
  readonly walletKeyId: Uint8Array;
  readonly pairId: Uint8Array;
  readonly epoch: bigint;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** The group (verifying) key. */
  readonly Y: EdPoint;
  /** Verifying share of identifier 1 (custodian). */
  readonly Y1: EdPoint;
  /** Verifying share of identifier 2 (client). */
  readonly Y2: EdPoint;
  /** This party's signing share, ∈ [1, ℓ). A secret: use for one operation and drop. */
  readonly s: bigint;
}

const EPOCH_BYTES = 8;

export function roleOfKind(kind: FrostShareKind): Role {
  return kind.startsWith('custodian') ? 1 : 2;
}

export function isBackupKind(kind: FrostShareKind): boolean {
  return kind.endsWith('backup');
}

export function frostShareKind(role: Role, set: 'signing' | 'backup'): FrostShareKind {
  return `${role === 1 ? 'custodian' : 'client'}-${set}`;
}

/** The share's own verifying share. */
export function ownVerifyingShare(share: FrostShare): EdPoint {
  return roleOfKind(share.kind) === 1 ? share.Y1 : share.Y2;
}

export function encodeFrostShare(share: FrostShare): Uint8Array {
  const sBytes = Fn.toBytes(share.s);
  try {
    return encodeWith((w) => {
      w.bytes(new Uint8Array([FROST_SHARE_VERSION, FROST_SHARE_KINDS[share.kind]]), 2);
      w.bytes(share.walletKeyId, ID_BYTES);
      w.bytes(share.pairId, ID_BYTES);
      w.bytes(toFixedBytes(share.epoch, EPOCH_BYTES), EPOCH_BYTES);
      w.bytes(share.pid1, PID_BYTES);
      w.bytes(share.pid2, PID_BYTES);
      writeEdPoint(w, share.Y);
      writeEdPoint(w, share.Y1);
      writeEdPoint(w, share.Y2);
      writeEdScalar(w, sBytes);
    });
  } finally {
    sBytes.fill(0);
  }
}

/** Parses and checks share bytes (see the module comment). Any failure is MALFORMED_MESSAGE. */
export function decodeFrostShare(bytes: Uint8Array): FrostShare {
  if (!(bytes instanceof Uint8Array)) throw malformed('share', 'bytes');
  if (bytes.length !== FROST_SHARE_BYTES) throw malformed('share', `${FROST_SHARE_BYTES} bytes`);
  return decodeAll(bytes, (r) => {
    const [version, kindByte] = r.bytes(2, 'share header');
    if (version !== FROST_SHARE_VERSION) throw malformed('share version', `version ${FROST_SHARE_VERSION}`);
    const kind = (Object.keys(FROST_SHARE_KINDS) as FrostShareKind[]).find((k) => FROST_SHARE_KINDS[k] === kindByte);
    if (kind === undefined) throw malformed('share kind', 'an ed25519 share kind');
    const walletKeyId = r.bytes(ID_BYTES, 'wallet_key_id');
    const pairId = r.bytes(ID_BYTES, 'pair_id');
    const epoch = bytesToBigint(r.bytes(EPOCH_BYTES, 'epoch'));
    const pid1 = r.bytes(PID_BYTES, 'pid1');
    const pid2 = r.bytes(PID_BYTES, 'pid2');
    const Y = readEdPoint(r, 'Y');
    const Y1 = readEdPoint(r, 'Y1');
    const Y2 = readEdPoint(r, 'Y2');
    const sBytes = r.bytes(ED_SCALAR_BYTES, 's');
    const s = decodeEdScalar(sBytes, 's', { nonzero: true });
    sBytes.fill(0);
    const share: FrostShare = { kind, walletKeyId, pairId, epoch, pid1, pid2, Y, Y1, Y2, s };
    if (!EdPoint.BASE.multiply(s).equals(ownVerifyingShare(share))) throw malformed('s', 'the secret of its verifying share');
    const interpolated = Y1.multiplyUnsafe(lagrange(1)).add(Y2.multiplyUnsafe(lagrange(2)));
    if (!interpolated.equals(Y)) throw malformed('Y', 'λ1·Y1 + λ2·Y2');
    return share;
  });
}

/** The group key of share bytes, as 32-byte hex; throws MALFORMED_MESSAGE on anything malformed. */
export function frostPublicKeyOf(bytes: Uint8Array): string {
  return decodeFrostShare(bytes).Y.toHex();
}
