/**
 * Backup (§3.4): a fresh backup share pair (b1, b2) of the same key x, made from the current signing
 * pair (x1, x2) by a commit–reveal coin flip δ = δ1 + δ2 mod q, with b1 = x1 + δ and b2 = x2 − δ:
 *
 *     B1  P1→P2  rnd_P1, Com_P1("backup/delta"; rnd_P1; δ1)
 *     B2  P2→P1  rnd_P2, δ2
 *     B3  P1→P2  sid, δ1 and its opening u, B1 = b1·G, Π_DL(B1; sid, aux 1)
 *     B4  P2→P1  sid, B2 = b2·G, Π_DL(B2; sid, aux 2), confirm = RO(label "backup/confirm", sid, Q, B1, B2)
 *
 * sid = RO(label "backup/sid", wallet_key_id, pair_id, epoch, method, pid1, pid2, rnd_P1, rnd_P2) binds
 * the source signing pair and the method, and becomes the backup pair id. Both parties check
 * B1 + B2 = Q, so the new pair is of the same key or nothing comes out. The signing pair is only read:
 * its share bytes are never written to or erased, so an abort leaves it exactly as it was. δ1, δ2 and δ
 * live only inside one step and are never stored; the commitment key is zeroed after B3 or on abort.
 *
 * The client outputs its backup share at B3 (with B4), after every check; the custodian outputs its
 * own only on a valid B4. Every message is hostile until checked: round tag, sizes and points at
 * decoding, then sid, proofs and sums. Any failure aborts with `BACKUP_FAILED` or
 * `MALFORMED_MESSAGE`; the aborted party keeps only the error and throws it again on every call.
 *
 * Which earlier same-method pair the new one replaces, and when, is the custodian rules' business
 * (§3.4 "Superseding"): the result names the method and the source signing pair for them.
 *
 * @example
 * const p1 = createBackupP1({ pid1, pid2, share: custodianSigningShare, method: 'PASSWORD' });
 * const p2 = createBackupP2({ pid1, pid2, share: clientSigningShare, method: 'PASSWORD' });
 * const [b1] = p1.start(); p2.start();
 * const { messages: [b2] } = p2.receive(b1);
 * const { messages: [b3] } = p1.receive(b2);
 * const { messages: [b4], result: client } = p2.receive(b3);
 * const { result: custodian } = p1.receive(b4); // custodian.publicKey === client.publicKey
 */
import type { TandemError } from '../errors.js';
import { BACKUP_METHODS, type BackupMethodName } from '../types.js';
import { internal, malformed, rejected } from './assert.js';
import { equalBytes, mod, randomBelow } from './bigint.js';
import { encodeBackupShare } from './backup-share.js';
import { commit, COMMITMENT_BYTES, COMMITMENT_KEY_BYTES, verifyOpening } from './commitment.js';
import { G, q, type Point } from './curve.js';
import type { KeygenResult, MpcParty } from './keygen.js';
import { bigintArith, type ModArith } from './modexp.js';
import { label, ro } from './oracle.js';
import { checkPid, guarded, taggedMessage, untaggedMessage } from './party.js';
import { proveDl, readDlProof, verifyDl, writeDlProof, type DlProof } from './pi-dl.js';
import { backupSid, CONTRIBUTION_BYTES, freshContribution, SID_BYTES } from './session.js';
import { decodeClientShare, decodeCustodianShare } from './share.js';
import type { WireReader, WireWriter } from './wire.js';

/** What a Backup party outputs: its backup share bytes (backup-share.ts), Q, and what names the pair. */
export interface BackupResult extends KeygenResult {
  /** The new backup pair's id (the backup sid). */
  readonly backupPairId: Uint8Array;
  readonly walletKeyId: Uint8Array;
  /** The signing pair the backup was made from, and its epoch (unchanged by Backup). */
  readonly sourcePairId: Uint8Array;
  readonly sourceEpoch: bigint;
  readonly method: BackupMethodName;
  /** B1 and B2, compressed hex: the custodian records them, and checks a fetched b1 against B1. */
  readonly B1: string;
  readonly B2: string;
}

/** Round tags, the first byte of each message (keygen 0x11–0x14, signing 0x20–0x24, recover 0x41–0x44). */
export const BACKUP_TAGS = { B1: 0x31, B2: 0x32, B3: 0x33, B4: 0x34 } as const;
type Round = keyof typeof BACKUP_TAGS;

const CODE = 'BACKUP_FAILED';
const STEP = 'backup';
const CONFIRM_BYTES = 32;
const DELTA_COMMITMENT = 'backup/delta';

const fail = (check: string): never => {
  throw rejected(CODE, STEP, check);
};

const tagged = (round: Round, write: (w: WireWriter) => void): Uint8Array => taggedMessage(BACKUP_TAGS[round], write);
const untagged = <T>(m: Uint8Array, round: Round, read: (r: WireReader) => T): T =>
  untaggedMessage(m, BACKUP_TAGS[round], `the backup message ${round}`, read);

/** confirm = RO(label "backup/confirm", sid, Q, B1, B2). */
function confirmation(sid: Uint8Array, Q: Point, B1: Point, B2: Point): Uint8Array {
  return ro(label('backup/confirm'), sid, Q, B1, B2);
}

function checkMethod(method: BackupMethodName): BackupMethodName {
  if (!(BACKUP_METHODS as readonly string[]).includes(method)) throw internal('backup method', 'a backup method name');
  return method;
}

export interface BackupOptions {
  /** pid_P1 and pid_P2, from the authenticated channel (they may differ from the ones the share names). */
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** This party's signing share bytes (share.ts): only read, never modified. */
  readonly share: Uint8Array;
  readonly method: BackupMethodName;
  /** The arithmetic backend for loading the share (the custodian's Dec(c_key) = x1 check). */
  readonly arith?: ModArith;
}

/** The public facts of the source signing pair, taken from the share once it has been decoded and checked. */
interface Source {
  readonly walletKeyId: Uint8Array;
  readonly pairId: Uint8Array;
  readonly epoch: bigint;
  readonly Q: Point;
}

function resultOf(
  kind: 'custodian-backup' | 'client-backup',
  src: Source,
  sid: Uint8Array,
  method: BackupMethodName,
  pids: { pid1: Uint8Array; pid2: Uint8Array },
  B1: Point,
  B2: Point,
  b: bigint,
): BackupResult {
  const share = encodeBackupShare({
    kind,
    walletKeyId: src.walletKeyId,
    pairId: sid,
    sourcePairId: src.pairId,
    epoch: src.epoch,
    method,
    pid1: pids.pid1,
    pid2: pids.pid2,
    Q: src.Q,
    B1,
    B2,
    b,
  });
  return {
    share,
    publicKey: src.Q.toHex(true),
    backupPairId: sid.slice(),
    walletKeyId: src.walletKeyId.slice(),
    sourcePairId: src.pairId.slice(),
    sourceEpoch: src.epoch,
    method,
    B1: B1.toHex(true),
    B2: B2.toHex(true),
  };
}

// ---------------------------------------------------------------------------------------------------
// P1, the custodian

type P1State =
  | { readonly kind: 'new' }
  | {
      readonly kind: 'awaitB2';
      readonly src: Source;
      readonly x1: bigint;
      readonly delta1: bigint;
      readonly rnd1: Uint8Array;
      readonly u: Uint8Array;
    }
  | { readonly kind: 'awaitB4'; readonly src: Source; readonly sid: Uint8Array; readonly B1: Point; readonly b1: bigint }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The custodian's Backup party. `start` returns [B1]; B2 → [B3]; B4 → the result. */
export class BackupP1 implements MpcParty<BackupResult> {
  readonly #pid1: Uint8Array;
  readonly #pid2: Uint8Array;
  readonly #share: Uint8Array;
  readonly #method: BackupMethodName;
  readonly #arith: ModArith;
  #state: P1State = { kind: 'new' };

  constructor(options: BackupOptions) {
    this.#pid1 = checkPid(options.pid1, 'pid1');
    this.#pid2 = checkPid(options.pid2, 'pid2');
    if (!(options.share instanceof Uint8Array)) throw malformed('share', 'bytes');
    this.#share = options.share;
    this.#method = checkMethod(options.method);
    this.#arith = options.arith ?? bigintArith;
  }

  #abort = (error: TandemError): void => {
    const s = this.#state;
    if (s.kind === 'awaitB2') s.u.fill(0);
    this.#state = { kind: 'aborted', error };
  };

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      const s = this.#state;
      if (s.kind === 'aborted') throw s.error;
      if (s.kind !== 'new') throw internal('backup P1', 'start called once, first');
      // The load checks of §3 (Q valid, c_key valid, Dec(c_key) = x1) run in the decoder.
      const { walletKeyId, pairId, epoch, Q, x1 } = decodeCustodianShare(this.#share, this.#arith);
      const delta1 = randomBelow(q); // δ1 ←$ [0, q) (§1.4)
      const rnd1 = freshContribution();
      const { commitment, u } = commit(DELTA_COMMITMENT, rnd1, this.#pid1, [delta1]);
      const b1msg = tagged('B1', (w) => {
        w.bytes(rnd1, CONTRIBUTION_BYTES);
        w.bytes(commitment, COMMITMENT_BYTES);
      });
      this.#state = { kind: 'awaitB2', src: { walletKeyId, pairId, epoch, Q }, x1, delta1, rnd1, u };
      return [b1msg];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: BackupResult } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitB2':
          return { messages: [this.#onB2(s, message)] };
        case 'awaitB4':
          return { messages: [], result: this.#onB4(s, message) };
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of backup');
      }
    });
  }

  #onB2(s: Extract<P1State, { kind: 'awaitB2' }>, message: Uint8Array): Uint8Array {
    const m = decodeBackupB2(message);
    const sid = backupSid({
      walletKeyId: s.src.walletKeyId,
      pairId: s.src.pairId,
      epoch: s.src.epoch,
      method: this.#method,
      pid1: this.#pid1,
      pid2: this.#pid2,
      rndP1: s.rnd1,
      rndP2: m.rnd2,
    });
    // b1 = (x1 + δ) mod q with δ = δ1 + δ2 mod q; x1 is an integer (not reduced after a recover).
    const b1 = mod(s.x1 + s.delta1 + m.delta2, q);
    if (b1 === 0n) fail('b1 ≠ 0');
    const B1 = G.multiply(b1);
    const dl = proveDl(b1, B1, { protocol: 'backup', sid, aux: 1 });
    const b3 = tagged('B3', (w) => {
      w.bytes(sid, SID_BYTES);
      w.scalar(s.delta1);
      w.bytes(s.u, COMMITMENT_KEY_BYTES);
      w.point(B1);
      writeDlProof(w, dl);
    });
    s.u.fill(0);
    this.#state = { kind: 'awaitB4', src: s.src, sid, B1, b1 };
    return b3;
  }

  #onB4(s: Extract<P1State, { kind: 'awaitB4' }>, message: Uint8Array): BackupResult {
    const m = decodeBackupB4(message);
    if (!equalBytes(m.sid, s.sid)) fail('sid matches the session');
    verifyDl(m.B2, m.dl, { protocol: 'backup', sid: s.sid, aux: 2 });
    if (!s.B1.add(m.B2).equals(s.src.Q)) fail('B1 + B2 = Q');
    if (!equalBytes(m.confirm, confirmation(s.sid, s.src.Q, s.B1, m.B2))) fail('B4 confirmation matches');
    this.#state = { kind: 'done' };
    return resultOf('custodian-backup', s.src, s.sid, this.#method, { pid1: this.#pid1, pid2: this.#pid2 }, s.B1, m.B2, s.b1);
  }
}

/** The custodian's Backup party (P1). */
export function createBackupP1(options: BackupOptions): BackupP1 {
  return new BackupP1(options);
}

// ---------------------------------------------------------------------------------------------------
// P2, the client

type P2State =
  | { readonly kind: 'new' }
  | { readonly kind: 'awaitB1' }
  | {
      readonly kind: 'awaitB3';
      readonly src: Source;
      readonly x2: bigint;
      readonly delta2: bigint;
      readonly rnd1: Uint8Array;
      readonly comDelta: Uint8Array;
      readonly sid: Uint8Array;
    }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The client's Backup party. `start` returns []; B1 → [B2]; B3 → [B4] and the result. */
export class BackupP2 implements MpcParty<BackupResult> {
  readonly #pid1: Uint8Array;
  readonly #pid2: Uint8Array;
  readonly #share: Uint8Array;
  readonly #method: BackupMethodName;
  readonly #arith: ModArith;
  #state: P2State = { kind: 'new' };

  constructor(options: BackupOptions) {
    this.#pid1 = checkPid(options.pid1, 'pid1');
    this.#pid2 = checkPid(options.pid2, 'pid2');
    if (!(options.share instanceof Uint8Array)) throw malformed('share', 'bytes');
    this.#share = options.share;
    this.#method = checkMethod(options.method);
    this.#arith = options.arith ?? bigintArith;
  }

  #abort = (error: TandemError): void => {
    this.#state = { kind: 'aborted', error };
  };

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      const s = this.#state;
      if (s.kind === 'aborted') throw s.error;
      if (s.kind !== 'new') throw internal('backup P2', 'start called once, first');
      // Fail before any message if the signing share is not a valid client share.
      decodeClientShare(this.#share, this.#arith);
      this.#state = { kind: 'awaitB1' };
      return [];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: BackupResult } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitB1':
          return { messages: [this.#onB1(message)] };
        case 'awaitB3':
          return this.#onB3(s, message);
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of backup');
      }
    });
  }

  #onB1(message: Uint8Array): Uint8Array {
    const m = decodeBackupB1(message);
    const { walletKeyId, pairId, epoch, Q, x2 } = decodeClientShare(this.#share, this.#arith);
    const delta2 = randomBelow(q);
    const rnd2 = freshContribution();
    const pids = { pid1: this.#pid1, pid2: this.#pid2 };
    const sid = backupSid({ walletKeyId, pairId, epoch, method: this.#method, ...pids, rndP1: m.rnd1, rndP2: rnd2 });
    const b2msg = tagged('B2', (w) => {
      w.bytes(rnd2, CONTRIBUTION_BYTES);
      w.scalar(delta2);
    });
    const src = { walletKeyId, pairId, epoch, Q };
    this.#state = { kind: 'awaitB3', src, x2, delta2, rnd1: m.rnd1, comDelta: m.comDelta, sid };
    return b2msg;
  }

  #onB3(s: Extract<P2State, { kind: 'awaitB3' }>, message: Uint8Array): { readonly messages: Uint8Array[]; readonly result: BackupResult } {
    const { sid, src } = s;
    const m = decodeBackupB3(message);
    if (!equalBytes(m.sid, sid)) fail('sid matches the session');
    verifyOpening(s.comDelta, m.u, DELTA_COMMITMENT, s.rnd1, this.#pid1, [m.delta1], CODE);
    verifyDl(m.B1, m.dl, { protocol: 'backup', sid, aux: 1 });
    const b2 = mod(s.x2 - m.delta1 - s.delta2, q);
    if (b2 === 0n) fail('b2 ≠ 0');
    const B2 = G.multiply(b2);
    if (!m.B1.add(B2).equals(src.Q)) fail('B1 + b2·G = Q');

    // Every check of B3 has passed: only now does the client prove B2, confirm and output its share.
    const dl = proveDl(b2, B2, { protocol: 'backup', sid, aux: 2 });
    const b4 = tagged('B4', (w) => {
      w.bytes(sid, SID_BYTES);
      w.point(B2);
      writeDlProof(w, dl);
      w.bytes(confirmation(sid, src.Q, m.B1, B2), CONFIRM_BYTES);
    });
    this.#state = { kind: 'done' };
    const result = resultOf('client-backup', src, sid, this.#method, { pid1: this.#pid1, pid2: this.#pid2 }, m.B1, B2, b2);
    return { messages: [b4], result };
  }
}

/** The client's Backup party (P2). */
export function createBackupP2(options: BackupOptions): BackupP2 {
  return new BackupP2(options);
}

// ---------------------------------------------------------------------------------------------------
// Message decoders: bytes → fields, with every check that needs no session state.

export interface BackupB1 {
  readonly rnd1: Uint8Array;
  readonly comDelta: Uint8Array;
}
export interface BackupB2 {
  readonly rnd2: Uint8Array;
  readonly delta2: bigint;
}
export interface BackupB3 {
  readonly sid: Uint8Array;
  readonly delta1: bigint;
  readonly u: Uint8Array;
  readonly B1: Point;
  readonly dl: DlProof;
}
export interface BackupB4 {
  readonly sid: Uint8Array;
  readonly B2: Point;
  readonly dl: DlProof;
  readonly confirm: Uint8Array;
}

export function decodeBackupB1(message: Uint8Array): BackupB1 {
  return untagged(message, 'B1', (r) => ({
    rnd1: r.bytes(CONTRIBUTION_BYTES, 'rnd_P1'),
    comDelta: r.bytes(COMMITMENT_BYTES, 'δ1 commitment'),
  }));
}

export function decodeBackupB2(message: Uint8Array): BackupB2 {
  return untagged(message, 'B2', (r) => ({
    rnd2: r.bytes(CONTRIBUTION_BYTES, 'rnd_P2'),
    delta2: r.scalar('δ2'),
  }));
}

export function decodeBackupB3(message: Uint8Array): BackupB3 {
  return untagged(message, 'B3', (r) => ({
    sid: r.bytes(SID_BYTES, 'sid'),
    delta1: r.scalar('δ1'),
    u: r.bytes(COMMITMENT_KEY_BYTES, 'δ1 opening'),
    B1: r.point('B1'),
    dl: readDlProof(r),
  }));
}

export function decodeBackupB4(message: Uint8Array): BackupB4 {
  return untagged(message, 'B4', (r) => ({
    sid: r.bytes(SID_BYTES, 'sid'),
    B2: r.point('B2'),
    dl: readDlProof(r),
    confirm: r.bytes(CONFIRM_BYTES, 'confirm'),
  }));
}
