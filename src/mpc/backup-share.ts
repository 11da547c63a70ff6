/**
 * The backup share pair of §3.4 as compact versioned bytes: what the custodian keeps in its backup
 * store (b1, encrypted at rest) and what the client encrypts under a fresh data key (b2). Kept apart
 * from share.ts because a backup share is not a signing share: it has no Paillier key and cannot sign,
 * and the kind byte makes sure neither decoder ever reads the other's bytes.
 *
 * Layout (nothing after the last field):
 *
 *     version (1) = 1 ‖ kind (1) ‖ wallet_key_id (32) ‖ pair_id (32) ‖ source pair_id (32)
 *     ‖ source epoch (8) ‖ method (1-byte length ‖ UTF-8) ‖ pid1 (16) ‖ pid2 (16)
 *     ‖ Q (33) ‖ B1 (33) ‖ B2 (33) ‖ b (32)
 *
 * - kind 0x03 is the custodian's backup share (b = b1), 0x04 the client's (b = b2). 0x01/0x02 are the
 *   signing kinds of share.ts and 0x21–0x24 the ED25519 kinds.
 * - pair_id is the backup pair id (the backup sid); source pair_id and epoch name the signing pair the
 *   backup was made from (§1.8).
 * - The decoder runs the load checks of §3 for a backup share: every point on the curve and ≠ O,
 *   b ∈ [1, q), b·G = B_own and B1 + B2 = Q. A tampered or foreign share therefore fails with
 *   `MALFORMED_MESSAGE` naming the field; it can never stand for a different key.
 *
 * The decoded object holds a secret (b): use it for one operation and drop it.
 *
 * @example
 * const bytes = encodeBackupShare({ kind: 'client-backup', walletKeyId, pairId, sourcePairId, epoch: 0n,
 *   method: 'PASSWORD', pid1, pid2, Q, B1, B2, b: b2 });
 * decodeBackupShare(bytes, 'client-backup').Q.equals(Q); // true
 */
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { BACKUP_METHODS, type BackupMethodName } from '../types.js';
import { internal, malformed } from './assert.js';
import { G, type Point } from './curve.js';
import { ID_BYTES, PID_BYTES } from './session.js';
import { decodeAll, encodeWith } from './wire.js';

export const BACKUP_SHARE_VERSION = 1;
export const BACKUP_SHARE_KINDS = { 'custodian-backup': 0x03, 'client-backup': 0x04 } as const;
export type BackupShareKind = keyof typeof BACKUP_SHARE_KINDS;

const EPOCH_BYTES = 8;

export interface BackupShare {
  readonly kind: BackupShareKind;
  /** The keygen sid; names the key for its whole life. */
  readonly walletKeyId: Uint8Array;
  /** The backup pair id: the sid of the Backup run that made this pair. */
  readonly pairId: Uint8Array;
  /** The signing pair the backup was made from, and its epoch. */
  readonly sourcePairId: Uint8Array;
  readonly epoch: bigint;
  readonly method: BackupMethodName;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly Q: Point;
  readonly B1: Point;
  readonly B2: Point;
  /** b1 (custodian) or b2 (client), ∈ [1, q). A secret. */
  readonly b: bigint;
}

/** The share's own public share: B1 for the custodian's, B2 for the client's. */
export function ownBackupPoint(s: BackupShare): Point {
  return s.kind === 'custodian-backup' ? s.B1 : s.B2;
}

export function encodeBackupShare(s: BackupShare): Uint8Array {
  const method = utf8ToBytes(s.method);
  if (!(BACKUP_METHODS as readonly string[]).includes(s.method)) throw internal('backup method', 'a backup method name');
  return encodeWith((w) => {
    w.bytes(new Uint8Array([BACKUP_SHARE_VERSION, BACKUP_SHARE_KINDS[s.kind]]), 2);
    w.bytes(s.walletKeyId, ID_BYTES);
    w.bytes(s.pairId, ID_BYTES);
    w.bytes(s.sourcePairId, ID_BYTES);
    w.fixed(s.epoch, EPOCH_BYTES);
    w.bytes(new Uint8Array([method.length]), 1);
    w.bytes(method, method.length);
    w.bytes(s.pid1, PID_BYTES);
    w.bytes(s.pid2, PID_BYTES);
    w.point(s.Q);
    w.point(s.B1);
    w.point(s.B2);
    w.scalar(s.b);
  });
}

/** Parses and checks a backup share of `kind` (see the module comment). Any failure is MALFORMED_MESSAGE. */
export function decodeBackupShare(bytes: Uint8Array, kind: BackupShareKind): BackupShare {
  return decodeAll(bytes, (r) => {
    const [version] = r.bytes(1, 'share version');
    if (version !== BACKUP_SHARE_VERSION) throw malformed('share version', `version ${BACKUP_SHARE_VERSION}`);
    const [k] = r.bytes(1, 'share kind');
    if (k !== BACKUP_SHARE_KINDS[kind]) throw malformed('share kind', `a ${kind} share`);
    const walletKeyId = r.bytes(ID_BYTES, 'share wallet_key_id');
    const pairId = r.bytes(ID_BYTES, 'share pair_id');
    const sourcePairId = r.bytes(ID_BYTES, 'share source pair_id');
    const epoch = r.fixed(EPOCH_BYTES, 'share epoch');
    const [len] = r.bytes(1, 'share method length');
    const name = new TextDecoder().decode(r.bytes(len ?? 0, 'share method'));
    const method = BACKUP_METHODS.find((m) => m === name);
    if (method === undefined) throw malformed('share method', 'a backup method name');
    const pid1 = r.bytes(PID_BYTES, 'share pid1');
    const pid2 = r.bytes(PID_BYTES, 'share pid2');
    const Q = r.point('share Q');
    const B1 = r.point('share B1');
    const B2 = r.point('share B2');
    const b = r.scalar('share b', { nonzero: true });
    const share: BackupShare = { kind, walletKeyId, pairId, sourcePairId, epoch, method, pid1, pid2, Q, B1, B2, b };
    if (!G.multiply(b).equals(ownBackupPoint(share))) throw malformed('share b', 'the secret of its public share');
    if (!B1.add(B2).equals(Q)) throw malformed('share Q', 'B1 + B2');
    return share;
  });
}

/** The key's public point of a backup share (either kind), compressed hex; MALFORMED_MESSAGE otherwise. */
export function backupSharePublicKey(bytes: Uint8Array): string {
  const kind = bytes instanceof Uint8Array && bytes[1] === BACKUP_SHARE_KINDS['custodian-backup'] ? 'custodian-backup' : 'client-backup';
  return decodeBackupShare(bytes, kind).Q.toHex(true);
}
