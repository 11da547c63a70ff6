/**
 * Recover (§3.5): a fresh signing pair and a fresh Paillier key from a completed backup pair (b1, b2).
 * It is keygen's Paillier part run on b1 with Q1 := B1, plus a commit–reveal coin flip δ = δ1 + δ2 mod q
 * that re-splits the key: x1′ = b1 + δ (an integer, not reduced), x2′ = (b2 − δ) mod q and
 * c_key′ = c_b ⊕ δ. Q never changes.
 *
 *     R1  P1→P2  rnd_P1, epoch′, Com_P1("recover/delta"; rnd_P1; δ1), N′, c_b = Enc_N′(b1), Com,
 *                Π_eq and Π_range round 1, (Ñ, g̃, h̃) and, unless the client has pinned them, Π_IC
 *     R2  P2→P1  rnd_P2, δ2, B2, Π_DL(B2; sid, aux 2), e_eq, e_range, kV
 *     R3  P1→P2  sid, δ1 and its opening u, Π_DL(B1; aux 1), Π_PDL(c_b, N′, B1; aux 0),
 *                Π_eq and Π_range round 2, Π_N σ[4]
 *     R4  P2→P1  sid, confirm = RO(label "recover/confirm", sid, Q, N′, c_key′)
 *
 * sid = RO(label "recover/sid", wallet_key_id, backup_pair_id, epoch′, pid1, pid2, rnd_P1, rnd_P2)
 * binds the backup pair consumed and the new epoch, and becomes the new signing pair's id. The
 * client's B2 with Π_DL is its proof that it holds the backup share: the custodian checks that B2 is
 * the stored B2 (so B1 + B2 = Q) before it reveals anything that depends on b1. The client checks that
 * B1 = Q − B2 is the stored B1 and that N′ and c_b pass every rule keygen applies to N and c_key.
 *
 * The backup shares are only read, never modified or erased; an aborted party keeps only its error,
 * and neither party yields a result before its last check (R3 for the client, R4 for the custodian),
 * so an abort leaves every earlier pair as it was. What a valid R4 does to the earlier signing pairs
 * (suspend them all, §3.5) belongs to the custodian rules; the results here name the new pair, its
 * epoch and the backup pair it came from, in the shape of keygen's results.
 *
 * @example
 * const p1 = createRecoverP1({ pid1, pid2, share: custodianBackupShare, epoch: 1n, primeSource, intCommitment });
 * const p2 = createRecoverP2({ pid1, pid2, share: clientBackupShare, icPin });
 * // …run R1–R4 as for keygen; both results carry the backup's publicKey and a fresh signing share.
 */
import type { TandemError } from '../errors.js';
import { internal, malformed, rejected } from './assert.js';
import { decodeBackupShare, type BackupShare } from './backup-share.js';
import { equalBytes, mod, randomBelow, randomUnit } from './bigint.js';
import { commit, COMMITMENT_BYTES, COMMITMENT_KEY_BYTES, verifyOpening } from './commitment.js';
import { q, type Point } from './curve.js';
import { intCommitmentPin, IntCommitmentParams } from './int-commitment.js';
import type { KeygenResult, MpcParty } from './keygen.js';
import { bigintArith, type ModArith } from './modexp.js';
import { label, ro } from './oracle.js';
import { checkPaillierModulus, generatePaillierKey, PaillierPublicKey, type PaillierSecretKey } from './paillier.js';
import { checkPid, guarded, taggedMessage, toEpoch, untaggedMessage } from './party.js';
import { pedersenGroup } from './pedersen.js';
import { proveDl, readDlProof, verifyDl, writeDlProof, type DlProof } from './pi-dl.js';
import {
  eqChallenge,
  EqProver,
  readEqChallenge,
  readEqRound1,
  readEqRound2,
  verifyEq,
  writeEqChallenge,
  writeEqRound1,
  writeEqRound2,
  type EqRound1,
  type EqRound2,
} from './pi-eq.js';
import { readIcBundle, verifyIc, writeIcBundle, type IcProof } from './pi-ic.js';
import {
  acceptPaillierModulus,
  modulusChallenge,
  N_CHALLENGE_BYTES,
  proveModulus,
  readModulusProof,
  writeModulusProof,
} from './pi-n.js';
import { provePdl, readPdlProof, verifyPdl, writePdlProof, type PdlProof } from './pi-pdl.js';
import {
  rangeChallenge,
  RangeProver,
  readRangeChallenge,
  readRangeRound1,
  readRangeRound2,
  verifyRange,
  writeRangeChallenge,
  writeRangeRound1,
  writeRangeRound2,
  type InteractiveProofContext,
  type RangeRound1,
  type RangeRound2,
} from './pi-range.js';
import type { PrimeSource } from './primes.js';
import { CONTRIBUTION_BYTES, freshContribution, recoverSid, SID_BYTES } from './session.js';
import { encodeClientShare, encodeCustodianShare } from './share.js';
import { ELEMENT2_BYTES, ELEMENT_BYTES, type WireReader, type WireWriter } from './wire.js';

/** What a Recover party outputs: keygen's {share, publicKey} (a signing share, share.ts) plus the pair's names. */
export interface RecoverResult extends KeygenResult {
  /** The new signing pair's id (the recover sid) and epoch′. */
  readonly pairId: Uint8Array;
  readonly epoch: bigint;
  readonly walletKeyId: Uint8Array;
  /** The backup pair consumed (it stays valid, §3.5). */
  readonly backupPairId: Uint8Array;
}

/** Round tags, the first byte of each message (keygen 0x11–0x14, signing 0x20–0x24, backup 0x31–0x34). */
export const RECOVER_TAGS = { R1: 0x41, R2: 0x42, R3: 0x43, R4: 0x44 } as const;
type Round = keyof typeof RECOVER_TAGS;

const CODE = 'RECOVER_FAILED';
const STEP = 'recover';
const EPOCH_BYTES = 8;
const CONFIRM_BYTES = 32;
const DELTA_COMMITMENT = 'recover/delta';

const fail = (check: string): never => {
  throw rejected(CODE, STEP, check);
};

const tagged = (round: Round, write: (w: WireWriter) => void): Uint8Array => taggedMessage(RECOVER_TAGS[round], write);
const untagged = <T>(m: Uint8Array, round: Round, read: (r: WireReader) => T): T =>
  untaggedMessage(m, RECOVER_TAGS[round], `the recover message ${round}`, read);

/** confirm = RO(label "recover/confirm", sid, Q, N′, c_key′). */
function confirmation(sid: Uint8Array, Q: Point, n: bigint, cKey: bigint): Uint8Array {
  return ro(label('recover/confirm'), sid, Q, n, cKey);
}

function names(b: BackupShare, sid: Uint8Array, epoch: bigint): Omit<RecoverResult, 'share' | 'publicKey'> {
  return { pairId: sid.slice(), epoch, walletKeyId: b.walletKeyId.slice(), backupPairId: b.pairId.slice() };
}

// ---------------------------------------------------------------------------------------------------
// P1, the custodian

export interface RecoverP1Options {
  /** pid_P1 and pid_P2, from the authenticated channel (pid2 is the recovering device's). */
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /**
   * The custodian's backup share bytes (backup-share.ts) of a completed, never superseded backup pair;
   * for a self-managed pair, the b1 fetched from the webhook and re-encoded after checking b1·G = B1.
   */
  readonly share: Uint8Array;
  /** epoch′ of the new signing pair: the wallet's highest epoch for the curve plus one. */
  readonly epoch: number | bigint;
  readonly intCommitment: { readonly params: IntCommitmentParams; readonly proof: IcProof };
  /** Whether R1 carries Π_IC; false once the client has pinned the parameters. Default true. */
  readonly sendIcProof?: boolean;
  readonly primeSource: PrimeSource;
  /** A fresh key from the custodian's pool instead; it must never be used for another pair. */
  readonly paillierKey?: PaillierSecretKey;
  readonly arith?: ModArith;
}

type P1State =
  | { readonly kind: 'new' }
  | {
      readonly kind: 'awaitR2';
      readonly backup: BackupShare;
      readonly sk: PaillierSecretKey;
      readonly rB: bigint;
      readonly cB: bigint;
      readonly delta1: bigint;
      readonly rnd1: Uint8Array;
      readonly u: Uint8Array;
      readonly eq: EqProver;
      readonly range: RangeProver;
    }
  | { readonly kind: 'awaitR4'; readonly sid: Uint8Array; readonly confirm: Uint8Array; readonly result: RecoverResult }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The custodian's Recover party. `start` returns [R1]; R2 → [R3]; R4 → the result. */
export class RecoverP1 implements MpcParty<RecoverResult> {
  readonly #pid1: Uint8Array;
  readonly #pid2: Uint8Array;
  readonly #share: Uint8Array;
  readonly #epoch: bigint;
  readonly #ic: { readonly params: IntCommitmentParams; readonly proof: IcProof };
  readonly #sendIcProof: boolean;
  readonly #primeSource: PrimeSource;
  #paillierKey: PaillierSecretKey | undefined;
  readonly #arith: ModArith;
  #state: P1State = { kind: 'new' };

  constructor(options: RecoverP1Options) {
    this.#pid1 = checkPid(options.pid1, 'pid1');
    this.#pid2 = checkPid(options.pid2, 'pid2');
    if (!(options.share instanceof Uint8Array)) throw malformed('share', 'bytes');
    this.#share = options.share;
    this.#epoch = toEpoch(options.epoch);
    this.#ic = options.intCommitment;
    this.#sendIcProof = options.sendIcProof ?? true;
    this.#primeSource = options.primeSource;
    this.#paillierKey = options.paillierKey;
    this.#arith = options.arith ?? bigintArith;
  }

  #abort = (error: TandemError): void => {
    const s = this.#state;
    if (s.kind === 'awaitR2') {
      s.eq.abort();
      s.range.abort();
      s.u.fill(0);
    } else if (s.kind === 'awaitR4') {
      s.result.share.fill(0);
    }
    this.#paillierKey = undefined;
    this.#state = { kind: 'aborted', error };
  };

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      const s = this.#state;
      if (s.kind === 'aborted') throw s.error;
      if (s.kind !== 'new') throw internal('recover P1', 'start called once, first');
      const backup = decodeBackupShare(this.#share, 'custodian-backup');
      if (this.#epoch <= backup.epoch) throw internal('epoch′', 'above the epoch of the backup’s source pair');
      const arith = this.#arith;
      const sk = this.#paillierKey ?? generatePaillierKey(this.#primeSource, arith);
      this.#paillierKey = undefined;
      const grp = pedersenGroup(arith);
      const rB = randomUnit(sk.n);
      const cB = sk.encrypt(backup.b, rB);
      const beta = randomBelow(grp.pPrime);
      const com = grp.commit(backup.b, beta);
      const delta1 = randomBelow(q); // δ1 ←$ [0, q) (§1.4)
      const rnd1 = freshContribution();
      const { commitment, u } = commit(DELTA_COMMITMENT, rnd1, this.#pid1, [delta1]);
      const ctx: InteractiveProofContext = { protocol: 'recover', ctxSid: rnd1, pid1: this.#pid1 };
      const eq = new EqProver(sk, grp, backup.b, rB, beta, ctx);
      const range = new RangeProver(grp, backup.b, beta, ctx);
      const r1 = tagged('R1', (w) => {
        w.bytes(rnd1, CONTRIBUTION_BYTES);
        w.fixed(this.#epoch, EPOCH_BYTES);
        w.bytes(commitment, COMMITMENT_BYTES);
        w.fixed(sk.n, ELEMENT_BYTES);
        w.fixed(cB, ELEMENT2_BYTES);
        w.fixed(com, ELEMENT_BYTES);
        writeEqRound1(w, eq.round1);
        writeRangeRound1(w, range.round1);
        const { params, proof } = this.#ic;
        w.bytes(new Uint8Array([this.#sendIcProof ? 1 : 0]), 1);
        if (this.#sendIcProof) writeIcBundle(w, params, proof);
        else writeIcParams(w, params);
      });
      this.#state = { kind: 'awaitR2', backup, sk, rB, cB, delta1, rnd1, u, eq, range };
      return [r1];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: RecoverResult } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitR2':
          return { messages: [this.#onR2(s, message)] };
        case 'awaitR4':
          return { messages: [], result: this.#onR4(s, message) };
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of recover');
      }
    });
  }

  #onR2(s: Extract<P1State, { kind: 'awaitR2' }>, message: Uint8Array): Uint8Array {
    const m = decodeRecoverR2(message);
    const b = s.backup;
    const sid = recoverSid({
      walletKeyId: b.walletKeyId,
      backupPairId: b.pairId,
      epoch: this.#epoch,
      pid1: this.#pid1,
      pid2: this.#pid2,
      rndP1: s.rnd1,
      rndP2: m.rnd2,
    });
    // The client's proof that it holds the backup: its B2 is the stored one (so B1 + B2 = Q, checked
    // when the share was decoded), and it knows b2.
    if (!m.B2.equals(b.B2)) fail('B2 equals the stored B2');
    verifyDl(m.B2, m.dl, { protocol: 'recover', sid, aux: 2 });

    const dl1 = proveDl(b.b, b.B1, { protocol: 'recover', sid, aux: 1 });
    const pdl = provePdl(s.sk, s.cB, b.B1, b.b, s.rB, { protocol: 'recover', sid });
    const eq2 = s.eq.respond(m.eEq);
    const range2 = s.range.respond(m.eRange);
    const sigma = proveModulus(s.sk, m.kV, this.#pid1, { protocol: 'recover', sid });
    const r3 = tagged('R3', (w) => {
      w.bytes(sid, SID_BYTES);
      w.scalar(s.delta1);
      w.bytes(s.u, COMMITMENT_KEY_BYTES);
      writeDlProof(w, dl1);
      writePdlProof(w, pdl);
      writeEqRound2(w, eq2);
      writeRangeRound2(w, range2);
      writeModulusProof(w, sigma);
    });
    // δ lives only in this expression; x1′ = b1 + δ ∈ [1, 2q) stays an integer (§3.5).
    const delta = mod(s.delta1 + m.delta2, q);
    const x1 = b.b + delta;
    const cKey = s.sk.publicKey.addPlain(s.cB, delta);
    const share = encodeCustodianShare({
      walletKeyId: b.walletKeyId,
      pairId: sid,
      epoch: this.#epoch,
      pid1: this.#pid1,
      pid2: this.#pid2,
      Q: b.Q,
      x1,
      paillier: s.sk,
      cKey,
      ic: this.#ic.params,
    });
    s.u.fill(0);
    // The share is made now but released only on a valid R4.
    this.#state = {
      kind: 'awaitR4',
      sid,
      confirm: confirmation(sid, b.Q, s.sk.n, cKey),
      result: { share, publicKey: b.Q.toHex(true), ...names(b, sid, this.#epoch) },
    };
    return r3;
  }

  #onR4(s: Extract<P1State, { kind: 'awaitR4' }>, message: Uint8Array): RecoverResult {
    const m = decodeRecoverR4(message);
    if (!equalBytes(m.sid, s.sid)) fail('sid matches the session');
    if (!equalBytes(m.confirm, s.confirm)) fail('R4 confirmation matches');
    this.#state = { kind: 'done' };
    return s.result;
  }
}

function writeIcParams(w: WireWriter, params: IntCommitmentParams): void {
  w.fixed(params.nTilde, ELEMENT_BYTES);
  w.fixed(params.g, ELEMENT_BYTES);
  w.fixed(params.h, ELEMENT_BYTES);
}

function readIcParams(r: WireReader, arith: ModArith): IntCommitmentParams {
  const nTilde = r.fixed(ELEMENT_BYTES, 'Ñ');
  const g = r.fixed(ELEMENT_BYTES, 'g̃');
  const h = r.fixed(ELEMENT_BYTES, 'h̃');
  if (nTilde <= 1n) throw malformed('Ñ', 'an integer > 1');
  return new IntCommitmentParams(nTilde, g, h, arith);
}

/** The custodian's Recover party (P1). */
export function createRecoverP1(options: RecoverP1Options): RecoverP1 {
  return new RecoverP1(options);
}

// ---------------------------------------------------------------------------------------------------
// P2, the client

export interface RecoverP2Options {
  /** pid_P1 and pid_P2, from the authenticated channel (pid2 is this device's). */
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** The client's backup share bytes (backup-share.ts), decrypted: only read, never modified. */
  readonly share: Uint8Array;
  /** The pinned SHA-256(Enc(Ñ, g̃, h̃)), if any; without one, R1 must carry Π_IC. */
  readonly icPin?: Uint8Array;
  /** When the client knows which epoch′ to expect, R1 must announce it. */
  readonly expectedEpoch?: number | bigint;
  readonly arith?: ModArith;
}

type P2State =
  | { readonly kind: 'new' }
  | { readonly kind: 'awaitR1' }
  | {
      readonly kind: 'awaitR3';
      readonly r1: RecoverR1;
      readonly backup: BackupShare;
      readonly icPin: Uint8Array;
      readonly sid: Uint8Array;
      readonly delta2: bigint;
      readonly eEq: bigint;
      readonly eRange: bigint;
      readonly kV: Uint8Array;
    }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The client's Recover party. `start` returns []; R1 → [R2]; R3 → [R4] and the result. */
export class RecoverP2 implements MpcParty<RecoverResult> {
  readonly #pid1: Uint8Array;
  readonly #pid2: Uint8Array;
  readonly #share: Uint8Array;
  readonly #icPin: Uint8Array | undefined;
  readonly #expectedEpoch: bigint | undefined;
  readonly #arith: ModArith;
  #state: P2State = { kind: 'new' };

  constructor(options: RecoverP2Options) {
    this.#pid1 = checkPid(options.pid1, 'pid1');
    this.#pid2 = checkPid(options.pid2, 'pid2');
    if (!(options.share instanceof Uint8Array)) throw malformed('share', 'bytes');
    this.#share = options.share;
    if (options.icPin !== undefined && (!(options.icPin instanceof Uint8Array) || options.icPin.length !== 32)) {
      throw malformed('Π_IC pin', '32 bytes');
    }
    this.#icPin = options.icPin?.slice();
    this.#expectedEpoch = options.expectedEpoch === undefined ? undefined : toEpoch(options.expectedEpoch);
    this.#arith = options.arith ?? bigintArith;
  }

  #abort = (error: TandemError): void => {
    const s = this.#state;
    if (s.kind === 'awaitR3') s.kV.fill(0);
    this.#state = { kind: 'aborted', error };
  };

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      const s = this.#state;
      if (s.kind === 'aborted') throw s.error;
      if (s.kind !== 'new') throw internal('recover P2', 'start called once, first');
      // Fail before any message if the backup share is not a valid client backup share (§3 load checks).
      decodeBackupShare(this.#share, 'client-backup');
      this.#state = { kind: 'awaitR1' };
      return [];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: RecoverResult } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitR1':
          return { messages: [this.#onR1(message)] };
        case 'awaitR3':
          return this.#onR3(s, message);
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of recover');
      }
    });
  }

  #onR1(message: Uint8Array): Uint8Array {
    const arith = this.#arith;
    const grp = pedersenGroup(arith);
    const r1 = decodeRecoverR1(message, arith);
    const backup = decodeBackupShare(this.#share, 'client-backup');
    if (this.#expectedEpoch !== undefined && r1.epoch !== this.#expectedEpoch) fail('epoch′ is the expected one');
    if (r1.epoch <= backup.epoch) fail('epoch′ above the backup’s source epoch');
    // As K1 (§3.1): the N′ rules of §1.3 except Π_N, c_b valid, Com in the subgroup, Ñ, g̃, h̃ proven or pinned.
    checkPaillierModulus(r1.n, CODE, arith);
    if (!new PaillierPublicKey(r1.n, arith).isValidCiphertext(r1.cB)) fail('c_b valid');
    if (!grp.isSubgroupElement(r1.com)) fail('Com^P′ ≡ 1');
    let icPin: Uint8Array;
    if (this.#icPin !== undefined) {
      icPin = intCommitmentPin(r1.ic);
      if (!equalBytes(icPin, this.#icPin)) fail('Ñ, g̃, h̃ match the pinned hash');
    } else {
      verifyIc(r1.ic, r1.icProof ?? fail('Π_IC present (no pinned parameters)'), 'recover');
      icPin = intCommitmentPin(r1.ic);
    }

    const rnd2 = freshContribution();
    const delta2 = randomBelow(q);
    const sid = recoverSid({
      walletKeyId: backup.walletKeyId,
      backupPairId: backup.pairId,
      epoch: r1.epoch,
      pid1: this.#pid1,
      pid2: this.#pid2,
      rndP1: r1.rnd1,
      rndP2: rnd2,
    });
    const dl = proveDl(backup.b, backup.B2, { protocol: 'recover', sid, aux: 2 });
    const eEq = eqChallenge();
    const eRange = rangeChallenge();
    const kV = modulusChallenge();
    const r2 = tagged('R2', (w) => {
      w.bytes(rnd2, CONTRIBUTION_BYTES);
      w.scalar(delta2);
      w.point(backup.B2);
      writeDlProof(w, dl);
      writeEqChallenge(w, eEq);
      writeRangeChallenge(w, eRange);
      w.bytes(kV, N_CHALLENGE_BYTES);
    });
    this.#state = { kind: 'awaitR3', r1: { ...r1, icProof: undefined }, backup, icPin, sid, delta2, eEq, eRange, kV };
    return r2;
  }

  #onR3(
    s: Extract<P2State, { kind: 'awaitR3' }>,
    message: Uint8Array,
  ): { readonly messages: Uint8Array[]; readonly result: RecoverResult } {
    const { r1, sid, backup } = s;
    const m = decodeRecoverR3(message);
    if (!equalBytes(m.sid, sid)) fail('sid matches the session');
    // B1 := Q − b2·G, which must be the B1 of the backup metadata (the share decoder checked B1 + B2 = Q).
    const B1 = backup.Q.subtract(backup.B2);
    if (!B1.equals(backup.B1)) fail('Q − b2·G equals the stored B1');
    verifyDl(B1, m.dl, { protocol: 'recover', sid, aux: 1 });
    const arith = this.#arith;
    const grp = pedersenGroup(arith);
    const pk = acceptPaillierModulus(r1.n, s.kV, m.sigma, this.#pid1, { protocol: 'recover', sid }, arith);
    verifyPdl(pk, r1.cB, B1, m.pdl, { protocol: 'recover', sid });
    const ctx: InteractiveProofContext = { protocol: 'recover', ctxSid: r1.rnd1, pid1: this.#pid1 };
    verifyEq(pk, grp, r1.cB, r1.com, r1.eq1, s.eEq, m.eq2, ctx);
    verifyRange(grp, r1.com, r1.range1, s.eRange, m.range2, ctx);
    verifyOpening(r1.comDelta, m.u, DELTA_COMMITMENT, r1.rnd1, this.#pid1, [m.delta1], CODE);

    // Every check of R3 has passed: only now does the client derive its share, confirm and output it.
    const delta = mod(m.delta1 + s.delta2, q);
    const x2 = mod(backup.b - delta, q);
    if (x2 === 0n) fail('x2′ ≠ 0');
    const cKey = pk.addPlain(r1.cB, delta);
    const r4 = tagged('R4', (w) => {
      w.bytes(sid, SID_BYTES);
      w.bytes(confirmation(sid, backup.Q, r1.n, cKey), CONFIRM_BYTES);
    });
    const share = encodeClientShare({
      walletKeyId: backup.walletKeyId,
      pairId: sid,
      epoch: r1.epoch,
      pid1: this.#pid1,
      pid2: this.#pid2,
      Q: backup.Q,
      x2,
      n: r1.n,
      cKey,
      ic: r1.ic,
      icPin: s.icPin,
    });
    s.kV.fill(0);
    this.#state = { kind: 'done' };
    return { messages: [r4], result: { share, publicKey: backup.Q.toHex(true), ...names(backup, sid, r1.epoch) } };
  }
}

/** The client's Recover party (P2). */
export function createRecoverP2(options: RecoverP2Options): RecoverP2 {
  return new RecoverP2(options);
}

// ---------------------------------------------------------------------------------------------------
// Message decoders: bytes → fields, with every check that needs no session state.

export interface RecoverR1 {
  readonly rnd1: Uint8Array;
  readonly epoch: bigint;
  readonly comDelta: Uint8Array;
  readonly n: bigint;
  readonly cB: bigint;
  readonly com: bigint;
  readonly eq1: EqRound1;
  readonly range1: RangeRound1;
  readonly ic: IntCommitmentParams;
  readonly icProof: IcProof | undefined;
}
export interface RecoverR2 {
  readonly rnd2: Uint8Array;
  readonly delta2: bigint;
  readonly B2: Point;
  readonly dl: DlProof;
  readonly eEq: bigint;
  readonly eRange: bigint;
  readonly kV: Uint8Array;
}
export interface RecoverR3 {
  readonly sid: Uint8Array;
  readonly delta1: bigint;
  readonly u: Uint8Array;
  readonly dl: DlProof;
  readonly pdl: PdlProof;
  readonly eq2: EqRound2;
  readonly range2: RangeRound2;
  readonly sigma: bigint[];
}
export interface RecoverR4 {
  readonly sid: Uint8Array;
  readonly confirm: Uint8Array;
}

export function decodeRecoverR1(message: Uint8Array, arith: ModArith = bigintArith): RecoverR1 {
  const p = pedersenGroup(arith).p;
  return untagged(message, 'R1', (r) => {
    const rnd1 = r.bytes(CONTRIBUTION_BYTES, 'rnd_P1');
    const epoch = r.fixed(EPOCH_BYTES, 'epoch');
    const comDelta = r.bytes(COMMITMENT_BYTES, 'δ1 commitment');
    const n = r.fixed(ELEMENT_BYTES, 'N′');
    const cB = r.fixed(ELEMENT2_BYTES, 'c_b');
    const com = r.fixed(ELEMENT_BYTES, 'Com', p);
    const eq1 = readEqRound1(r);
    const range1 = readRangeRound1(r);
    const [flag] = r.bytes(1, 'Π_IC flag');
    if (flag !== 0 && flag !== 1) throw malformed('Π_IC flag', '0 or 1');
    const bundle = flag === 1 ? readIcBundle(r, arith) : { params: readIcParams(r, arith), proof: undefined };
    return { rnd1, epoch, comDelta, n, cB, com, eq1, range1, ic: bundle.params, icProof: bundle.proof };
  });
}

export function decodeRecoverR2(message: Uint8Array): RecoverR2 {
  return untagged(message, 'R2', (r) => ({
    rnd2: r.bytes(CONTRIBUTION_BYTES, 'rnd_P2'),
    delta2: r.scalar('δ2'),
    B2: r.point('B2'),
    dl: readDlProof(r),
    eEq: readEqChallenge(r),
    eRange: readRangeChallenge(r),
    kV: r.bytes(N_CHALLENGE_BYTES, 'Π_N kV'),
  }));
}

export function decodeRecoverR3(message: Uint8Array): RecoverR3 {
  return untagged(message, 'R3', (r) => ({
    sid: r.bytes(SID_BYTES, 'sid'),
    delta1: r.scalar('δ1'),
    u: r.bytes(COMMITMENT_KEY_BYTES, 'δ1 opening'),
    dl: readDlProof(r),
    pdl: readPdlProof(r),
    eq2: readEqRound2(r),
    range2: readRangeRound2(r),
    sigma: readModulusProof(r),
  }));
}

export function decodeRecoverR4(message: Uint8Array): RecoverR4 {
  return untagged(message, 'R4', (r) => ({
    sid: r.bytes(SID_BYTES, 'sid'),
    confirm: r.bytes(CONFIRM_BYTES, 'confirm'),
  }));
}

