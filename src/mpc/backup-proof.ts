/**
 * Proof of the current backup (DESIGN §3, issue #10): before a completed backup of a method may be
 * replaced without the operator's step-up, the client proves it holds that backup's client share — a
 * proof of knowledge of b2 with B2 = b2·G (SECP256K1, Π_DL) or of s2 with Y2 = s2·B (ED25519, Schnorr).
 *
 * The proof is bound to the replacement session: its sid hashes a fresh challenge the custodian sends in
 * that session's `ready`, both party ids, the backup pair being replaced, its curve and method, so it is
 * worthless in any other session, for any other pair, or from another client. A thief with an unlocked
 * device but without the backup's secret (the password, the passkey…) cannot produce it.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import { TandemError } from '../errors.js';
import { BACKUP_METHODS, type BackupMethodName, type Curve } from '../types.js';
import { assertBytes } from './assert.js';
import { decodeBackupShare } from './backup-share.js';
import { decodePoint, type Point } from './curve.js';
import { decodeEdPoint, Fn, lagrange } from './frost-curve.js';
import { proveEdDl, readEdDlProof, verifyEdDl, writeEdDlProof } from './frost-dl.js';
import { decodeFrostShare } from './frost-share.js';
import { label, ro } from './oracle.js';
import { proveDl, readDlProof, verifyDl, writeDlProof } from './pi-dl.js';
import { PID_BYTES } from './session.js';
import { decodeAll, encodeWith } from './wire.js';

export const REPLACEMENT_CHALLENGE_BYTES = 32;

export interface ReplacementContext {
  /** The custodian's fresh challenge from the session's `ready`. */
  readonly challenge: Uint8Array;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** The completed backup pair being replaced (hex, as the custodian names it). */
  readonly backupPairId: string;
  readonly method: BackupMethodName;
}

function sidOf(curve: Curve, ctx: ReplacementContext): Uint8Array {
  assertBytes(ctx.challenge, REPLACEMENT_CHALLENGE_BYTES, 'challenge');
  assertBytes(ctx.pid1, PID_BYTES, 'pid1');
  assertBytes(ctx.pid2, PID_BYTES, 'pid2');
  if (!(BACKUP_METHODS as readonly string[]).includes(ctx.method)) throw new TandemError('INVALID_INPUT', { message: 'Unknown backup method.' });
  return ro(label('backup/replacement/sid'), curve, ctx.challenge, ctx.pid1, ctx.pid2, new TextEncoder().encode(ctx.backupPairId), ctx.method);
}

/** The client's proof that it holds the client backup share of `ctx.backupPairId`. */
export function proveCurrentBackup(curve: Curve, clientBackupShare: Uint8Array, ctx: ReplacementContext): Uint8Array {
  const sid = sidOf(curve, ctx);
  if (curve === 'SECP256K1') {
    const s = decodeBackupShare(clientBackupShare, 'client-backup');
    return encodeWith((w) => writeDlProof(w, proveDl(s.b, s.B2, { protocol: 'backup', sid, aux: 2 })));
  }
  const s = decodeFrostShare(clientBackupShare);
  if (s.kind !== 'client-backup') throw new TandemError('MALFORMED_MESSAGE', { message: 'The share is not a client backup share.' });
  return encodeWith((w) => writeEdDlProof(w, proveEdDl(s.s, s.Y2, { protocol: 'backup', sid, aux: 2, context: [s.Y.toBytes()] })));
}

/**
 * The client's public backup share of a pair, from what the custodian knows of it: its own backup share
 * (which carries both public shares), or — when self-managed — its public share and the key
 * (SECP256K1: B2 = Q − B1; ED25519: Y2 = (Y − λ1·Y1) / λ2).
 */
export function clientBackupPoint(curve: Curve, from: { custodianBackupShare: Uint8Array } | { publicKey: string; custodianPublicShare: string }): Uint8Array {
  if ('custodianBackupShare' in from) {
    if (curve === 'SECP256K1') return decodeBackupShare(from.custodianBackupShare, 'custodian-backup').B2.toBytes(true);
    return decodeFrostShare(from.custodianBackupShare).Y2.toBytes();
  }
  const hex = (h: string) => {
    try {
      return hexToBytes(h);
    } catch {
      throw new TandemError('MALFORMED_MESSAGE', { message: 'A public share is not hex.' });
    }
  };
  if (curve === 'SECP256K1') {
    const Q: Point = decodePoint(hex(from.publicKey), 'Q');
    const B1 = decodePoint(hex(from.custodianPublicShare), 'B1');
    return Q.subtract(B1).toBytes(true);
  }
  const Y = decodeEdPoint(hex(from.publicKey), 'Y');
  const Y1 = decodeEdPoint(hex(from.custodianPublicShare), 'Y1');
  return Y.subtract(Y1.multiply(lagrange(1))).multiply(Fn.inv(lagrange(2))).toBytes();
}

/**
 * The custodian's check. `clientPoint` is B2 / Y2 of the pair being replaced, `publicKey` the wallet key.
 * Any failure — malformed bytes or a proof that does not verify — is BACKUP_REPLACEMENT_UNAUTHORISED.
 */
export function verifyCurrentBackup(curve: Curve, clientPoint: Uint8Array, publicKey: Uint8Array, proof: Uint8Array, ctx: ReplacementContext): void {
  try {
    const sid = sidOf(curve, ctx);
    if (curve === 'SECP256K1') {
      const B2 = decodePoint(clientPoint, 'B2');
      verifyDl(B2, decodeAll(proof, (r) => readDlProof(r)), { protocol: 'backup', sid, aux: 2 });
      return;
    }
    const Y2 = decodeEdPoint(clientPoint, 'Y2');
    const Y = decodeEdPoint(publicKey, 'Y');
    verifyEdDl(Y2, decodeAll(proof, (r) => readEdDlProof(r, 'proof')), { protocol: 'backup', sid, aux: 2, context: [Y.toBytes()] });
  } catch (cause) {
    throw new TandemError('BACKUP_REPLACEMENT_UNAUTHORISED', { message: 'The proof of the current backup does not verify.', cause });
  }
}
