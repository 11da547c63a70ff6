/**
 * What every FROST party shares: the message frame, the session ids, and the abort discipline.
 *
 * Frame: `tag (1) ‖ sender role (1) ‖ body`. The tag names protocol and round (0xA1… keygen, 0xB1…
 * backup, 0xC1… recover, 0xD1… sign), so a message of another protocol, a replayed, skipped or
 * reordered one is rejected as the wrong round before a byte of its body is read; the role byte must
 * be the sender the round belongs to. Every message after the first of each direction also carries
 * the sid, and every proof and commitment hashes label, sid (or the committer's contribution) and role.
 *
 * Session ids follow ECDSA-2PC §1.8 (one fresh 16-byte contribution per party, both pids from the
 * authenticated channel) under their own `frost/…` labels, so an ED25519 run can never share a sid
 * with a SECP256K1 one. The sign sid also binds the message, so two parties signing different bytes
 * fail on the sid before any share is checked.
 *
 * @example
 * const m = frame('dkg', 1, 1, (w) => w.bytes(rnd1, 16));
 * unframe(m, 'dkg', 1, 1, (r) => r.bytes(16, 'rnd1'));
 */
import { TandemError } from '../errors.js';
import { BACKUP_METHODS, type BackupMethodName } from '../types.js';
import { assertBytes, malformed } from './assert.js';
import { u64 } from './encoding.js';
import type { FrostProtocol } from './frost-dl.js';
import { label, ro } from './oracle.js';

export { checkPid, guarded, toEpoch } from './party.js';
import { CONTRIBUTION_BYTES, ID_BYTES, PID_BYTES, type Role } from './session.js';
import { decodeAll, encodeWith, type WireReader, type WireWriter } from './wire.js';

/**
 * One party of a two-party protocol: the shape of `Party` in src/adapters/ports.ts (restated because
 * src/mpc imports nothing from the rest of the SDK).
 */
export interface FrostParty<Result> {
  start(): Uint8Array[];
  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: Result };
}

/** What keygen, backup and recover output: versioned share bytes and the group key as 32-byte hex. */
export interface FrostShareResult {
  readonly share: Uint8Array;
  readonly publicKey: string;
}

/** What sign outputs: a 64-byte RFC 8032 signature. */
export interface FrostSignResult {
  readonly signature: Uint8Array;
}

const TAG_BASE: Record<FrostProtocol, number> = { dkg: 0xa0, backup: 0xb0, recover: 0xc0, sign: 0xd0 };

export function frostTag(protocol: FrostProtocol, round: number): number {
  return TAG_BASE[protocol] + round;
}

/** A whole message: tag, sender role, then `write`. */
export function frame(protocol: FrostProtocol, round: number, sender: Role, write: (w: WireWriter) => void): Uint8Array {
  return encodeWith((w) => {
    w.bytes(new Uint8Array([frostTag(protocol, round), sender]), 2);
    write(w);
  });
}

/** Reads a whole message of `round` from `sender`: the frame first, then `read`, then nothing may be left. */
export function unframe<T>(
  message: Uint8Array,
  protocol: FrostProtocol,
  round: number,
  sender: Role,
  read: (r: WireReader) => T,
): T {
  if (!(message instanceof Uint8Array)) throw malformed('message', 'bytes');
  return decodeAll(message, (r) => {
    const [tag, role] = r.bytes(2, 'frame');
    if (tag !== frostTag(protocol, round)) throw malformed('round', `the ${protocol} message ${round}`);
    if (role !== sender) throw malformed('sender role', `role ${sender}`);
    return read(r);
  });
}

/** Runs a noble call on peer data; a throw becomes `fail(check)` with no foreign text. */
export function checked<T>(fail: (check: string) => never, check: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof TandemError) throw err;
    return fail(check);
  }
}

function checkCommon(pid1: Uint8Array, pid2: Uint8Array, rnd1: Uint8Array, rnd2: Uint8Array): void {
  assertBytes(pid1, PID_BYTES, 'pid1');
  assertBytes(pid2, PID_BYTES, 'pid2');
  assertBytes(rnd1, CONTRIBUTION_BYTES, 'sid contribution of P1');
  assertBytes(rnd2, CONTRIBUTION_BYTES, 'sid contribution of P2');
}

/** Keygen: RO(label "frost/dkg/sid", epoch′, pid1, pid2, rnd1, rnd2); it becomes wallet_key_id = pair_id. */
export function frostDkgSid(a: {
  readonly epoch: bigint;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly rnd1: Uint8Array;
  readonly rnd2: Uint8Array;
}): Uint8Array {
  checkCommon(a.pid1, a.pid2, a.rnd1, a.rnd2);
  return ro(label('frost/dkg/sid'), u64(a.epoch), a.pid1, a.pid2, a.rnd1, a.rnd2);
}

/** Backup: RO(label "frost/backup/sid", wallet_key_id, pair_id, epoch, method, pid1, pid2, rnd1, rnd2). */
export function frostBackupSid(a: {
  readonly walletKeyId: Uint8Array;
  readonly pairId: Uint8Array;
  readonly epoch: bigint;
  readonly method: BackupMethodName;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly rnd1: Uint8Array;
  readonly rnd2: Uint8Array;
}): Uint8Array {
  checkCommon(a.pid1, a.pid2, a.rnd1, a.rnd2);
  assertBytes(a.walletKeyId, ID_BYTES, 'wallet_key_id');
  assertBytes(a.pairId, ID_BYTES, 'pair_id');
  if (!(BACKUP_METHODS as readonly string[]).includes(a.method)) throw malformed('method', 'a backup method name');
  return ro(label('frost/backup/sid'), a.walletKeyId, a.pairId, u64(a.epoch), a.method, a.pid1, a.pid2, a.rnd1, a.rnd2);
}

/** Recover: RO(label "frost/recover/sid", wallet_key_id, backup_pair_id, epoch′, pid1, pid2, rnd1, rnd2). */
export function frostRecoverSid(a: {
  readonly walletKeyId: Uint8Array;
  readonly backupPairId: Uint8Array;
  readonly epoch: bigint;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly rnd1: Uint8Array;
  readonly rnd2: Uint8Array;
}): Uint8Array {
  checkCommon(a.pid1, a.pid2, a.rnd1, a.rnd2);
  assertBytes(a.walletKeyId, ID_BYTES, 'wallet_key_id');
  assertBytes(a.backupPairId, ID_BYTES, 'backup_pair_id');
  return ro(label('frost/recover/sid'), a.walletKeyId, a.backupPairId, u64(a.epoch), a.pid1, a.pid2, a.rnd1, a.rnd2);
}

/** Sign: RO(label "frost/sign/sid", wallet_key_id, pair_id, epoch, pid1, pid2, rnd2, rnd1, message). */
export function frostSignSid(a: {
  readonly walletKeyId: Uint8Array;
  readonly pairId: Uint8Array;
  readonly epoch: bigint;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly rnd1: Uint8Array;
  readonly rnd2: Uint8Array;
  readonly message: Uint8Array;
}): Uint8Array {
  checkCommon(a.pid1, a.pid2, a.rnd1, a.rnd2);
  assertBytes(a.walletKeyId, ID_BYTES, 'wallet_key_id');
  assertBytes(a.pairId, ID_BYTES, 'pair_id');
  return ro(label('frost/sign/sid'), a.walletKeyId, a.pairId, u64(a.epoch), a.pid1, a.pid2, a.rnd2, a.rnd1, a.message);
}
