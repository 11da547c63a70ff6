/**
 * Identities and session ids (§1.8, Δ8). A sid is derived from one fresh 16-byte contribution per
 * party, so neither controls it, and binds the parties' pids and what the run works on (wallet key id,
 * pair id, epoch, backup method). Every proof then hashes sid and the sender's role, so a transcript
 * from one session, protocol or direction is worthless in any other (DESIGN §5).
 *
 * pids come from the authenticated channel, never from the peer's own claim.
 *
 * @example
 * const sid = dkgSid({ epoch: 0, pid1, pid2, sid1, sid2 });
 */
import { randomBytes } from '@noble/hashes/utils.js';
import type { ErrorCode } from '../errors.js';
import { BACKUP_METHODS, type BackupMethodName } from '../types.js';
import { assertBytes, malformed } from './assert.js';
import { u64 } from './encoding.js';
import { label, ro, ro128 } from './oracle.js';

/** The protocols of §3 that run proofs; the first part of every label. */
export type Protocol = 'dkg' | 'sign' | 'backup' | 'recover' | 'refresh';
/** Sender roles: 1 = P1 = custodian, 2 = P2 = client. */
export type Role = 1 | 2;
/** aux of a proof: the sender's role, or 0 where the spec fixes it (Π_PDL, Π_sign, Π_IC). */
export type Aux = 0 | Role;

/** What every Fiat–Shamir proof binds: the protocol (its label), the session and the sender. */
export interface ProofContext {
  readonly protocol: Protocol;
  readonly sid: Uint8Array;
  readonly aux: Aux;
}

export const SID_BYTES = 32;
export const CONTRIBUTION_BYTES = 16;
export const PID_BYTES = 16;
export const ID_BYTES = 32;

/** The error code a failed check reports in each protocol. */
export function rejectCode(protocol: Protocol): ErrorCode {
  switch (protocol) {
    case 'dkg':
    case 'refresh':
      return 'DKG_FAILED';
    case 'sign':
      return 'SIGN_FAILED';
    case 'backup':
      return 'BACKUP_FAILED';
    case 'recover':
      return 'RECOVER_FAILED';
  }
}

export function assertProofContext(ctx: ProofContext): void {
  assertBytes(ctx.sid, SID_BYTES, 'sid');
  if (ctx.aux !== 0 && ctx.aux !== 1 && ctx.aux !== 2) throw malformed('aux', '0, 1 or 2');
}

/** pid_X = RO_128(label "pid", identity_X), from the party's authenticated long-term identity. */
export function derivePid(identity: Uint8Array): Uint8Array {
  if (!(identity instanceof Uint8Array) || identity.length === 0) throw malformed('identity', 'non-empty bytes');
  return ro128(label('pid'), identity);
}

/** A party's fresh 16-byte sid contribution (sid1/sid2, rnd_P1/rnd_P2). */
export function freshContribution(): Uint8Array {
  return randomBytes(CONTRIBUTION_BYTES);
}

type Epoch = number | bigint;

function checkCommon(pid1: Uint8Array, pid2: Uint8Array, c1: Uint8Array, c2: Uint8Array): void {
  assertBytes(pid1, PID_BYTES, 'pid1');
  assertBytes(pid2, PID_BYTES, 'pid2');
  assertBytes(c1, CONTRIBUTION_BYTES, 'sid contribution of P1');
  assertBytes(c2, CONTRIBUTION_BYTES, 'sid contribution of P2');
}

/** Keygen: RO(label "dkg/sid", epoch′, pid1, pid2, sid1, sid2). It becomes wallet_key_id = pair_id. */
export function dkgSid(a: {
  readonly epoch: Epoch;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly sid1: Uint8Array;
  readonly sid2: Uint8Array;
}): Uint8Array {
  checkCommon(a.pid1, a.pid2, a.sid1, a.sid2);
  return ro(label('dkg/sid'), u64(a.epoch), a.pid1, a.pid2, a.sid1, a.sid2);
}

/** Sign: RO(label "sign/sid", wallet_key_id, pair_id, epoch, pid1, pid2, rnd_P2, rnd_P1). */
export function signSid(a: {
  readonly walletKeyId: Uint8Array;
  readonly pairId: Uint8Array;
  readonly epoch: Epoch;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly rndP1: Uint8Array;
  readonly rndP2: Uint8Array;
}): Uint8Array {
  checkCommon(a.pid1, a.pid2, a.rndP1, a.rndP2);
  assertBytes(a.walletKeyId, ID_BYTES, 'wallet_key_id');
  assertBytes(a.pairId, ID_BYTES, 'pair_id');
  return ro(label('sign/sid'), a.walletKeyId, a.pairId, u64(a.epoch), a.pid1, a.pid2, a.rndP2, a.rndP1);
}

/** Backup: RO(label "backup/sid", wallet_key_id, pair_id, epoch, method, pid1, pid2, rnd_P1, rnd_P2). */
export function backupSid(a: {
  readonly walletKeyId: Uint8Array;
  readonly pairId: Uint8Array;
  readonly epoch: Epoch;
  readonly method: BackupMethodName;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly rndP1: Uint8Array;
  readonly rndP2: Uint8Array;
}): Uint8Array {
  checkCommon(a.pid1, a.pid2, a.rndP1, a.rndP2);
  assertBytes(a.walletKeyId, ID_BYTES, 'wallet_key_id');
  assertBytes(a.pairId, ID_BYTES, 'pair_id');
  if (!(BACKUP_METHODS as readonly string[]).includes(a.method)) throw malformed('method', 'a backup method name');
  return ro(
    label('backup/sid'),
    a.walletKeyId,
    a.pairId,
    u64(a.epoch),
    a.method,
    a.pid1,
    a.pid2,
    a.rndP1,
    a.rndP2,
  );
}

/** Recover: RO(label "recover/sid", wallet_key_id, backup_pair_id, epoch′, pid1, pid2, rnd_P1, rnd_P2). */
export function recoverSid(a: {
  readonly walletKeyId: Uint8Array;
  readonly backupPairId: Uint8Array;
  readonly epoch: Epoch;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly rndP1: Uint8Array;
  readonly rndP2: Uint8Array;
}): Uint8Array {
  checkCommon(a.pid1, a.pid2, a.rndP1, a.rndP2);
  assertBytes(a.walletKeyId, ID_BYTES, 'wallet_key_id');
  assertBytes(a.backupPairId, ID_BYTES, 'backup_pair_id');
  return ro(label('recover/sid'), a.walletKeyId, a.backupPairId, u64(a.epoch), a.pid1, a.pid2, a.rndP1, a.rndP2);
}

/** Refresh: RO(label "refresh/sid", wallet_key_id, pair_id, epoch′, pid1, pid2, rnd_P1, rnd_P2). */
export function refreshSid(a: {
  readonly walletKeyId: Uint8Array;
  readonly pairId: Uint8Array;
  readonly epoch: Epoch;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly rndP1: Uint8Array;
  readonly rndP2: Uint8Array;
}): Uint8Array {
  checkCommon(a.pid1, a.pid2, a.rndP1, a.rndP2);
  assertBytes(a.walletKeyId, ID_BYTES, 'wallet_key_id');
  assertBytes(a.pairId, ID_BYTES, 'pair_id');
  return ro(label('refresh/sid'), a.walletKeyId, a.pairId, u64(a.epoch), a.pid1, a.pid2, a.rndP1, a.rndP2);
}
