/**
 * Two-party FROST key generation and re-sharing on ed25519, built on noble's `ed25519_FROST.DKG`
 * (the frost-rs split-round DKG: Feldman commitments to a degree-1 polynomial per party, a proof of
 * knowledge of its constant term, and a share of it for the other party). Custodian = P1 = identifier
 * 1, client = P2 = identifier 2; five messages:
 *
 *     M1  P1→P2  rnd1, epoch, [wallet_key_id, source pair_id], Com_P1("frost/<p>/round1"; rnd1; pid1; pkg1)
 *     M2  P2→P1  rnd2, pkg2 = (identifier 2, C2,0, C2,1, proof of knowledge)
 *     M3  P1→P2  sid, opening of pkg1, pkg1, f1(2)
 *     M4  P2→P1  sid, f2(1), proof of Y2′ (frost-dl.ts, aux 2)
 *     M5  P1→P2  sid, proof of Y1′ (aux 1)
 *
 * P1 commits to its package before it sees P2's and opens it only after, so neither party chooses its
 * polynomial as a function of the other's (commit–reveal randomness). The f_i(j) travel in the clear
 * inside the frame: the channel is authenticated and encrypted (ECDSA-2PC §1.8 "Transport").
 *
 * Keygen draws both constant terms at random. **Re-sharing** (Backup, Recover) is the same run with
 * the constant terms fixed: each party deals a_i = λ_i·s_i, its Lagrange-weighted old Shamir share, so
 * Σ a_i = λ_1·s_1 + λ_2·s_2 = x, the *interpolated* key (a plain sum s_1 + s_2 would be another key).
 * Each checks the other's constant-term commitment against its old verifying share (C_j,0 = λ_j·Y_j)
 * and the new group key against the old one (Y′ = Y); the new shares s_j′ = f_1(j) + f_2(j) lie on a
 * fresh random line through x, noble rebuilds the verifying shares Y_j′ = s_j′·G from the summed
 * commitments, and each party proves its Y_j′ bound to sid, Y′, Y1′ and Y2′ — a key confirmation.
 * The new set gets its own pair id (the sid) in the share bytes; the old shares are input only.
 *
 * Any failure aborts: the party erases its DKG state, keeps only the error, and throws it again on
 * every later call. P1 yields its result on a valid M4; P2 on a valid M5.
 *
 * @example
 * const p1 = createFrostKeygenP1({ pid1, pid2, epoch: 0 });
 * const p2 = createFrostKeygenP2({ pid1, pid2 });
 * const [m1] = p1.start(); p2.start();
 * const [m2] = p2.receive(m1).messages; const [m3] = p1.receive(m2).messages;
 * const [m4] = p2.receive(m3).messages; const { messages: [m5], result: custodian } = p1.receive(m4);
 * const { result: client } = p2.receive(m5); // client.publicKey === custodian.publicKey
 */
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import type { DKG_Round1, DKG_Secret } from '@noble/curves/abstract/frost.js';
import type { TandemError } from '../errors.js';
import type { BackupMethodName } from '../types.js';
import { internal, malformed, rejected } from './assert.js';
import { equalBytes } from './bigint.js';
import { commit, COMMITMENT_BYTES, COMMITMENT_KEY_BYTES, verifyOpening } from './commitment.js';
import {
  decodeEdPoint,
  ED_SCALAR_BYTES,
  EdPoint,
  Fn,
  identifierBytes,
  identifierOf,
  lagrange,
  otherRole,
  readEdPoint,
  readEdScalar,
  readIdentifier,
  samePoint,
  SIGNERS,
  writeEdScalar,
} from './frost-curve.js';
import { proveEdDl, readEdDlProof, verifyEdDl, writeEdDlProof, type EdDlProof, type FrostProtocol } from './frost-dl.js';
import {
  checked,
  checkPid,
  frame,
  frostBackupSid,
  frostDkgSid,
  frostRecoverSid,
  guarded,
  toEpoch,
  unframe,
  type FrostParty,
  type FrostShareResult,
} from './frost-session.js';
import { decodeFrostShare, encodeFrostShare, frostShareKind, isBackupKind, roleOfKind, type FrostShare } from './frost-share.js';
import { CONTRIBUTION_BYTES, freshContribution, ID_BYTES, rejectCode, SID_BYTES, type Role } from './session.js';
import type { WireReader, WireWriter } from './wire.js';

export type FrostDkgProtocol = Exclude<FrostProtocol, 'sign'>;

const EPOCH_BYTES = 8;
const POK_BYTES = 64;

/** One party's public DKG round-1 package as it travels: identifier, C_i,0, C_i,1, proof of knowledge. */
interface Package {
  readonly C0: EdPoint;
  readonly C1: EdPoint;
  readonly pok: Uint8Array;
}

function toNoble(role: Role, p: Package): DKG_Round1 {
  return { identifier: identifierOf(role), commitment: [p.C0.toBytes(), p.C1.toBytes()], proofOfKnowledge: p.pok } as DKG_Round1;
}

function fromNoble(pub: DKG_Round1): Package {
  const [c0, c1] = pub.commitment;
  if (c0 === undefined || c1 === undefined) throw internal('DKG round 1', 'two commitments');
  return { C0: EdPoint.fromBytes(c0), C1: EdPoint.fromBytes(c1), pok: pub.proofOfKnowledge.slice() };
}

function writePackage(w: WireWriter, role: Role, p: Package): void {
  w.bytes(identifierBytes(role), ED_SCALAR_BYTES);
  w.bytes(p.C0.toBytes(), 32);
  w.bytes(p.C1.toBytes(), 32);
  w.bytes(p.pok, POK_BYTES);
}

function readPackage(r: WireReader, role: Role): Package {
  readIdentifier(r, role, 'identifier');
  const C0 = readEdPoint(r, 'C0');
  const C1 = readEdPoint(r, 'C1');
  const pok = r.bytes(POK_BYTES, 'proof of knowledge');
  decodeEdPoint(pok.subarray(0, 32), 'proof of knowledge R');
  readScalarBytes(pok.subarray(32), 'proof of knowledge z');
  return { C0, C1, pok };
}

function readScalarBytes(b: Uint8Array, field: string): void {
  if (b.length !== ED_SCALAR_BYTES) throw malformed(field, 'a 32-byte scalar');
  try {
    Fn.fromBytes(b);
  } catch {
    throw malformed(field, 'a scalar below ℓ');
  }
}

function packageItems(role: Role, p: Package): Uint8Array[] {
  return [identifierBytes(role), p.C0.toBytes(), p.C1.toBytes(), p.pok];
}

/** What a run works on, per protocol. */
type Job =
  | { readonly protocol: 'dkg' }
  | { readonly protocol: 'backup'; readonly source: FrostShare; readonly method: BackupMethodName }
  | { readonly protocol: 'recover'; readonly source: FrostShare };

interface Common {
  readonly role: Role;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly job: Job;
}

function loadSource(bytes: Uint8Array, role: Role, protocol: 'backup' | 'recover', pid1: Uint8Array, pid2: Uint8Array): FrostShare {
  const share = decodeFrostShare(bytes);
  const code = rejectCode(protocol);
  if (roleOfKind(share.kind) !== role) throw rejected(code, protocol, `the share is one of role ${role}`);
  const wantBackup = protocol === 'recover';
  if (isBackupKind(share.kind) !== wantBackup) {
    throw rejected(code, protocol, wantBackup ? 'recover starts from a backup share' : 'backup starts from a signing share');
  }
  // Recover authorises a new device (ECDSA-2PC §3.5): the custodian must be the same party, the client
  // need not — its credential is new. Backup runs on the device that holds the signing pair.
  if (!equalBytes(share.pid1, pid1)) throw rejected(code, protocol, 'the share belongs to this custodian');
  if (protocol === 'backup' && !equalBytes(share.pid2, pid2)) throw rejected(code, protocol, 'the share belongs to these parties');
  return share;
}

function sidOf(c: Common, epoch: bigint, rnd1: Uint8Array, rnd2: Uint8Array): Uint8Array {
  const { pid1, pid2, job } = c;
  switch (job.protocol) {
    case 'dkg':
      return frostDkgSid({ epoch, pid1, pid2, rnd1, rnd2 });
    case 'backup':
      return frostBackupSid({
        walletKeyId: job.source.walletKeyId,
        pairId: job.source.pairId,
        epoch,
        method: job.method,
        pid1,
        pid2,
        rnd1,
        rnd2,
      });
    case 'recover':
      return frostRecoverSid({ walletKeyId: job.source.walletKeyId, backupPairId: job.source.pairId, epoch, pid1, pid2, rnd1, rnd2 });
  }
}

/** Round 1 of noble's DKG: random constant term for keygen, a_i = λ_i·s_i for a re-sharing. */
function round1(c: Common): { readonly secret: DKG_Secret; readonly pkg: Package } {
  let fixed: Uint8Array | undefined;
  if (c.job.protocol !== 'dkg') fixed = Fn.toBytes(Fn.mul(lagrange(c.role), c.job.source.s));
  try {
    const r = ed25519_FROST.DKG.round1(identifierOf(c.role), SIGNERS, fixed);
    return { secret: r.secret, pkg: fromNoble(r.public) };
  } finally {
    fixed?.fill(0);
  }
}

/** The checks on the peer's package that need no noble call: its constant term, for a re-sharing. */
function checkPeerPackage(c: Common, peer: Package, fail: (check: string) => never): void {
  if (c.job.protocol === 'dkg') return;
  const peerRole = otherRole(c.role);
  const Yold = peerRole === 1 ? c.job.source.Y1 : c.job.source.Y2;
  if (!peer.C0.equals(Yold.multiplyUnsafe(lagrange(peerRole)))) fail('the peer deals its Lagrange-weighted old share (C0 = λ·Y_old)');
}

interface Finished {
  readonly share: FrostShare;
  readonly Y1: EdPoint;
  readonly Y2: EdPoint;
}

/** Round 3 of noble's DKG plus the group-key check; returns the party's new share state. */
function finish(
  c: Common,
  sid: Uint8Array,
  epoch: bigint,
  secret: DKG_Secret,
  peer: Package,
  received: bigint,
  fail: (check: string) => never,
): Finished {
  const peerRole = otherRole(c.role);
  const shareBytes = Fn.toBytes(received);
  const key = checked(fail, 'the received share matches its commitments', () =>
    ed25519_FROST.DKG.round3(secret, [toNoble(peerRole, peer)], [{ identifier: identifierOf(peerRole), signingShare: shareBytes }]),
  );
  shareBytes.fill(0);
  const [y] = key.public.commitments;
  const y1 = key.public.verifyingShares[identifierOf(1)];
  const y2 = key.public.verifyingShares[identifierOf(2)];
  if (y === undefined || y1 === undefined || y2 === undefined) return fail('the key package is complete');
  const Y = EdPoint.fromBytes(y);
  const Y1 = EdPoint.fromBytes(y1);
  const Y2 = EdPoint.fromBytes(y2);
  if (Y.is0() || Y.isSmallOrder()) fail('Y is a valid key');
  const { job } = c;
  if (job.protocol !== 'dkg' && !samePoint(Y, job.source.Y)) fail('the group key is unchanged');
  const sBytes = key.secret.signingShare;
  const s = Fn.fromBytes(sBytes);
  sBytes.fill(0);
  if (s === 0n) fail('the new share is not zero');
  // Rebuilt verifying shares must interpolate to the key (noble computed them from the summed commitments).
  if (!Y1.multiplyUnsafe(lagrange(1)).add(Y2.multiplyUnsafe(lagrange(2))).equals(Y)) fail('λ1·Y1′ + λ2·Y2′ = Y');
  const set = job.protocol === 'backup' ? 'backup' : 'signing';
  const share: FrostShare = {
    kind: frostShareKind(c.role, set),
    walletKeyId: job.protocol === 'dkg' ? sid : job.source.walletKeyId,
    pairId: sid,
    // A backup pair records the epoch of the signing pair it was made from; keygen and recover the new epoch′.
    epoch: job.protocol === 'backup' ? job.source.epoch : epoch,
    pid1: c.pid1,
    pid2: c.pid2,
    Y,
    Y1,
    Y2,
    s,
  };
  return { share, Y1, Y2 };
}

function proofContext(c: Common, sid: Uint8Array, aux: Role, f: Finished) {
  return { protocol: c.job.protocol, sid, aux, context: [f.share.Y.toBytes(), f.Y1.toBytes(), f.Y2.toBytes()] };
}

// ---------------------------------------------------------------------------------------------------
// P1, the custodian

type P1State =
  | { readonly kind: 'new' }
  | {
      readonly kind: 'awaitM2';
      readonly rnd1: Uint8Array;
      readonly u: Uint8Array;
      readonly secret: DKG_Secret;
      readonly pkg: Package;
    }
  | { readonly kind: 'awaitM4'; readonly sid: Uint8Array; readonly secret: DKG_Secret; readonly peer: Package }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The custodian's side of keygen, backup or recover. `start` → [M1]; M2 → [M3]; M4 → [M5] and the result. */
export class FrostDkgP1 implements FrostParty<FrostShareResult> {
  readonly #c: Common;
  readonly #epoch: bigint;
  #state: P1State = { kind: 'new' };

  constructor(c: Common, epoch: bigint) {
    this.#c = c;
    this.#epoch = epoch;
  }

  #fail = (check: string): never => {
    throw rejected(rejectCode(this.#c.job.protocol), `frost ${this.#c.job.protocol}`, check);
  };

  #abort = (error: TandemError): void => {
    const s = this.#state;
    if (s.kind === 'awaitM2') {
      s.u.fill(0);
      ed25519_FROST.DKG.clean(s.secret);
    } else if (s.kind === 'awaitM4') {
      ed25519_FROST.DKG.clean(s.secret);
    }
    this.#state = { kind: 'aborted', error };
  };

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      if (this.#state.kind !== 'new') throw internal('frost P1', 'start called once, first');
      const { protocol } = this.#c.job;
      const { secret, pkg } = round1(this.#c);
      const rnd1 = freshContribution();
      const { commitment, u } = commit(`frost/${protocol}/round1`, rnd1, this.#c.pid1, packageItems(1, pkg));
      const m1 = frame(protocol, 1, 1, (w) => {
        w.bytes(rnd1, CONTRIBUTION_BYTES);
        w.fixed(this.#epoch, EPOCH_BYTES);
        const { job } = this.#c;
        if (job.protocol !== 'dkg') {
          w.bytes(job.source.walletKeyId, ID_BYTES);
          w.bytes(job.source.pairId, ID_BYTES);
        }
        w.bytes(commitment, COMMITMENT_BYTES);
      });
      this.#state = { kind: 'awaitM2', rnd1, u, secret, pkg };
      return [m1];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: FrostShareResult } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitM2':
          return { messages: [this.#onM2(s, message)] };
        case 'awaitM4':
          return this.#onM4(s, message);
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of the run');
      }
    });
  }

  #onM2(s: Extract<P1State, { kind: 'awaitM2' }>, message: Uint8Array): Uint8Array {
    const { protocol } = this.#c.job;
    const m2 = unframe(message, protocol, 2, 2, (r) => ({ rnd2: r.bytes(CONTRIBUTION_BYTES, 'rnd2'), pkg: readPackage(r, 2) }));
    const sid = sidOf(this.#c, this.#epoch, s.rnd1, m2.rnd2);
    checkPeerPackage(this.#c, m2.pkg, this.#fail);
    const out = checked(this.#fail, "the peer's proof of knowledge verifies", () =>
      ed25519_FROST.DKG.round2(s.secret, [toNoble(2, m2.pkg)]),
    );
    const f12 = out[identifierOf(2)]?.signingShare ?? this.#fail('a share for the client');
    const m3 = frame(protocol, 3, 1, (w) => {
      w.bytes(sid, SID_BYTES);
      w.bytes(s.u, COMMITMENT_KEY_BYTES);
      writePackage(w, 1, s.pkg);
      writeEdScalar(w, f12);
    });
    f12.fill(0);
    s.u.fill(0);
    this.#state = { kind: 'awaitM4', sid, secret: s.secret, peer: m2.pkg };
    return m3;
  }

  #onM4(
    s: Extract<P1State, { kind: 'awaitM4' }>,
    message: Uint8Array,
  ): { readonly messages: Uint8Array[]; readonly result: FrostShareResult } {
    const { protocol } = this.#c.job;
    const m4 = unframe(message, protocol, 4, 2, (r) => ({
      sid: r.bytes(SID_BYTES, 'sid'),
      f21: readEdScalar(r, 'share f2(1)', { nonzero: true }),
      proof: readEdDlProof(r, 'proof of Y2′'),
    }));
    if (!equalBytes(m4.sid, s.sid)) this.#fail('sid matches the session');
    const f = finish(this.#c, s.sid, this.#epoch, s.secret, s.peer, m4.f21, this.#fail);
    verifyEdDl(f.Y2, m4.proof, proofContext(this.#c, s.sid, 2, f));
    const proof: EdDlProof = proveEdDl(f.share.s, f.Y1, proofContext(this.#c, s.sid, 1, f));
    const m5 = frame(protocol, 5, 1, (w) => {
      w.bytes(s.sid, SID_BYTES);
      writeEdDlProof(w, proof);
    });
    this.#state = { kind: 'done' };
    return { messages: [m5], result: { share: encodeFrostShare(f.share), publicKey: f.share.Y.toHex() } };
  }
}

// ---------------------------------------------------------------------------------------------------
// P2, the client

type P2State =
  | { readonly kind: 'new' }
  | { readonly kind: 'awaitM1' }
  | {
      readonly kind: 'awaitM3';
      readonly rnd1: Uint8Array;
      readonly epoch: bigint;
      readonly com: Uint8Array;
      readonly sid: Uint8Array;
      readonly secret: DKG_Secret;
    }
  | { readonly kind: 'awaitM5'; readonly sid: Uint8Array; readonly finished: Finished }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The client's side of keygen, backup or recover. `start` → []; M1 → [M2]; M3 → [M4]; M5 → the result. */
export class FrostDkgP2 implements FrostParty<FrostShareResult> {
  readonly #c: Common;
  readonly #expectedEpoch: bigint | undefined;
  #state: P2State = { kind: 'new' };

  constructor(c: Common, expectedEpoch: bigint | undefined) {
    this.#c = c;
    this.#expectedEpoch = expectedEpoch;
  }

  #fail = (check: string): never => {
    throw rejected(rejectCode(this.#c.job.protocol), `frost ${this.#c.job.protocol}`, check);
  };

  #abort = (error: TandemError): void => {
    const s = this.#state;
    if (s.kind === 'awaitM3') ed25519_FROST.DKG.clean(s.secret);
    this.#state = { kind: 'aborted', error };
  };

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      if (this.#state.kind !== 'new') throw internal('frost P2', 'start called once, first');
      this.#state = { kind: 'awaitM1' };
      return [];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: FrostShareResult } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitM1':
          return { messages: [this.#onM1(message)] };
        case 'awaitM3':
          return { messages: [this.#onM3(s, message)] };
        case 'awaitM5':
          return { messages: [], result: this.#onM5(s, message) };
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of the run');
      }
    });
  }

  #onM1(message: Uint8Array): Uint8Array {
    const { job } = this.#c;
    const { protocol } = job;
    const m1 = unframe(message, protocol, 1, 1, (r) => {
      const rnd1 = r.bytes(CONTRIBUTION_BYTES, 'rnd1');
      const epoch = r.fixed(EPOCH_BYTES, 'epoch');
      const source = job.protocol === 'dkg' ? undefined : { walletKeyId: r.bytes(ID_BYTES, 'wallet_key_id'), pairId: r.bytes(ID_BYTES, 'pair_id') };
      return { rnd1, epoch, source, com: r.bytes(COMMITMENT_BYTES, 'round-1 commitment') };
    });
    if (job.protocol !== 'dkg') {
      const src = m1.source;
      if (src === undefined || !equalBytes(src.walletKeyId, job.source.walletKeyId)) this.#fail('the wallet key id is this share’s');
      if (!equalBytes(src?.pairId ?? new Uint8Array(0), job.source.pairId)) this.#fail('both parties start from the same share set');
    }
    if (job.protocol === 'backup' && m1.epoch !== job.source.epoch) this.#fail('the epoch is the signing pair’s');
    if (job.protocol === 'recover' && m1.epoch <= job.source.epoch) this.#fail('the new epoch is above the backup’s');
    if (this.#expectedEpoch !== undefined && m1.epoch !== this.#expectedEpoch) this.#fail('the epoch is the expected one');

    const { secret, pkg } = round1(this.#c);
    const rnd2 = freshContribution();
    const sid = sidOf(this.#c, m1.epoch, m1.rnd1, rnd2);
    const m2 = frame(protocol, 2, 2, (w) => {
      w.bytes(rnd2, CONTRIBUTION_BYTES);
      writePackage(w, 2, pkg);
    });
    this.#state = { kind: 'awaitM3', rnd1: m1.rnd1, epoch: m1.epoch, com: m1.com, sid, secret };
    return m2;
  }

  #onM3(s: Extract<P2State, { kind: 'awaitM3' }>, message: Uint8Array): Uint8Array {
    const { protocol } = this.#c.job;
    const code = rejectCode(protocol);
    const m3 = unframe(message, protocol, 3, 1, (r) => ({
      sid: r.bytes(SID_BYTES, 'sid'),
      u: r.bytes(COMMITMENT_KEY_BYTES, 'round-1 opening'),
      pkg: readPackage(r, 1),
      f12: readEdScalar(r, 'share f1(2)', { nonzero: true }),
    }));
    if (!equalBytes(m3.sid, s.sid)) this.#fail('sid matches the session');
    verifyOpening(s.com, m3.u, `frost/${protocol}/round1`, s.rnd1, this.#c.pid1, packageItems(1, m3.pkg), code);
    checkPeerPackage(this.#c, m3.pkg, this.#fail);
    const out = checked(this.#fail, "the peer's proof of knowledge verifies", () =>
      ed25519_FROST.DKG.round2(s.secret, [toNoble(1, m3.pkg)]),
    );
    const f21 = out[identifierOf(1)]?.signingShare ?? this.#fail('a share for the custodian');
    const f = finish(this.#c, s.sid, s.epoch, s.secret, m3.pkg, m3.f12, this.#fail);
    const proof = proveEdDl(f.share.s, f.Y2, proofContext(this.#c, s.sid, 2, f));
    const m4 = frame(protocol, 4, 2, (w) => {
      w.bytes(s.sid, SID_BYTES);
      writeEdScalar(w, f21);
      writeEdDlProof(w, proof);
    });
    f21.fill(0);
    this.#state = { kind: 'awaitM5', sid: s.sid, finished: f };
    return m4;
  }

  #onM5(s: Extract<P2State, { kind: 'awaitM5' }>, message: Uint8Array): FrostShareResult {
    const { protocol } = this.#c.job;
    const m5 = unframe(message, protocol, 5, 1, (r) => ({ sid: r.bytes(SID_BYTES, 'sid'), proof: readEdDlProof(r, 'proof of Y1′') }));
    if (!equalBytes(m5.sid, s.sid)) this.#fail('sid matches the session');
    const f = s.finished;
    verifyEdDl(f.Y1, m5.proof, proofContext(this.#c, s.sid, 1, f));
    this.#state = { kind: 'done' };
    return { share: encodeFrostShare(f.share), publicKey: f.share.Y.toHex() };
  }
}

// ---------------------------------------------------------------------------------------------------
// Keygen

export interface FrostKeygenP1Options {
  /** pid_P1 and pid_P2, from the authenticated channel. */
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** epoch′ of the new pair (0 for a wallet's first keygen on the curve), announced in M1. */
  readonly epoch: number | bigint;
}

export interface FrostKeygenP2Options {
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** When the client knows which epoch′ to expect, M1 must announce it. */
  readonly expectedEpoch?: number | bigint;
}

/** The custodian's ED25519 keygen party. */
export function createFrostKeygenP1(o: FrostKeygenP1Options): FrostDkgP1 {
  return new FrostDkgP1({ role: 1, pid1: checkPid(o.pid1, 'pid1'), pid2: checkPid(o.pid2, 'pid2'), job: { protocol: 'dkg' } }, toEpoch(o.epoch));
}

/** The client's ED25519 keygen party. */
export function createFrostKeygenP2(o: FrostKeygenP2Options): FrostDkgP2 {
  return new FrostDkgP2(
    { role: 2, pid1: checkPid(o.pid1, 'pid1'), pid2: checkPid(o.pid2, 'pid2'), job: { protocol: 'dkg' } },
    o.expectedEpoch === undefined ? undefined : toEpoch(o.expectedEpoch),
  );
}

// ---------------------------------------------------------------------------------------------------
// Re-sharing (used by frost-reshare.ts)

export interface ReshareArgs {
  readonly role: Role;
  readonly protocol: 'backup' | 'recover';
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly share: Uint8Array;
  readonly method?: BackupMethodName;
  /** P1: the epoch′ of a Recover. P2: an expected epoch′ of a Recover (optional). */
  readonly epoch?: number | bigint;
}

/** Builds a re-sharing party; the source share is decoded and checked here, before any message. */
export function createReshareParty(a: ReshareArgs): FrostDkgP1 | FrostDkgP2 {
  const pid1 = checkPid(a.pid1, 'pid1');
  const pid2 = checkPid(a.pid2, 'pid2');
  const source = loadSource(a.share, a.role, a.protocol, pid1, pid2);
  let job: Job;
  if (a.protocol === 'backup') {
    if (a.method === undefined) throw internal('backup', 'a backup method');
    job = { protocol: 'backup', source, method: a.method };
  } else {
    job = { protocol: 'recover', source };
  }
  const c: Common = { role: a.role, pid1, pid2, job };
  if (a.role === 1) {
    let epoch = source.epoch;
    if (a.protocol === 'recover') {
      if (a.epoch === undefined) throw internal('recover', 'the new epoch′');
      epoch = toEpoch(a.epoch);
      if (epoch <= source.epoch) throw internal('recover', 'an epoch′ above the backup’s');
    }
    return new FrostDkgP1(c, epoch);
  }
  return new FrostDkgP2(c, a.epoch === undefined || a.protocol === 'backup' ? undefined : toEpoch(a.epoch));
}
