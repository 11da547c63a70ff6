/**
 * KeyGen (§3.1): the two-party DKG, custodian = P1, client = P2, four messages.
 *
 *     K1  P1→P2  sid1, epoch′, Com_P1("dkg/Q1"; sid1; Q1), N, c_key, Com, Π_eq and Π_range round 1,
 *                (Ñ, g̃, h̃) and, unless the client has pinned them, Π_IC
 *     K2  P2→P1  sid2, Q2, Π_DL(Q2; aux 2), e_eq, e_range, kV
 *     K3  P1→P2  sid, opening of Q1, Q1, Π_DL(Q1; aux 1), Π_PDL, Π_eq and Π_range round 2, Π_N σ[4]
 *     K4  P2→P1  sid, confirm = RO(label "dkg/confirm", sid, Q, N, c_key)
 *
 * Each party is a pure state object (`start` / `receive`, no I/O, timers or globals); the custodian's
 * prime source (or a key from its pool) and the arithmetic backend are injected. Every message is
 * hostile until every check of §3.1 and §5.1 has passed, in the spec's order. Any failure aborts: the
 * party erases its session secrets, keeps only the fact that it aborted, and throws the typed error
 * again on every later call. Neither party yields a result before its last check (K3 for the client,
 * K4 for the custodian), so an aborted run leaves no usable state.
 *
 * Binding: the sid is RO(label "dkg/sid", epoch′, pid1, pid2, sid1, sid2) with both pids from the
 * authenticated channel (the options, never the peer's claim); every proof binds label, sid and the
 * sender's role; the interactive proofs' commitments bind sid1 and pid1; K3 and K4 repeat sid so a
 * message from another session is rejected before anything else is read. Each message starts with a
 * one-byte round tag, so a skipped, repeated or reordered message is rejected as the wrong round.
 *
 * @example
 * const p1 = createKeygenP1({ pid1, pid2, epoch: 0n, primeSource, intCommitment });
 * const p2 = createKeygenP2({ pid1, pid2 });
 * const [k1] = p1.start(); p2.start();
 * const { messages: [k2] } = p2.receive(k1);
 * const { messages: [k3] } = p1.receive(k2);
 * const { messages: [k4], result: client } = p2.receive(k3);
 * const { result: custodian } = p1.receive(k4);  // client.publicKey === custodian.publicKey
 */
import { TandemError } from '../errors.js';
import { assertBytes, internal, malformed, rejected } from './assert.js';
import { equalBytes, randomBelow, randomUnit } from './bigint.js';
import { commit, COMMITMENT_BYTES, COMMITMENT_KEY_BYTES, verifyOpening } from './commitment.js';
import { G, randomScalar, type Point } from './curve.js';
import { intCommitmentPin, IntCommitmentParams } from './int-commitment.js';
import { bigintArith, type ModArith } from './modexp.js';
import { label, ro } from './oracle.js';
import {
  checkPaillierModulus,
  generatePaillierKey,
  PaillierPublicKey,
  type PaillierSecretKey,
} from './paillier.js';
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
import { checkPid, guarded, taggedMessage, toEpoch, untaggedMessage } from './party.js';
import type { PrimeSource } from './primes.js';
import { CONTRIBUTION_BYTES, dkgSid, freshContribution, SID_BYTES } from './session.js';
import { encodeClientShare, encodeCustodianShare } from './share.js';
import { ELEMENT2_BYTES, ELEMENT_BYTES, type WireReader, type WireWriter } from './wire.js';

/**
 * One party of a two-party protocol: the shape of `Party` in src/adapters/ports.ts (restated here
 * because src/mpc imports nothing from the rest of the SDK).
 */
export interface MpcParty<Result> {
  start(): Uint8Array[];
  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: Result };
}

/** What a keygen party outputs: its serialised share (share.ts) and Q as compressed hex. */
export interface KeygenResult {
  readonly share: Uint8Array;
  readonly publicKey: string;
}

/** Round tags, the first byte of each message. */
export const KEYGEN_TAGS = { K1: 0x11, K2: 0x12, K3: 0x13, K4: 0x14 } as const;
type Round = keyof typeof KEYGEN_TAGS;

const CODE = 'DKG_FAILED';
const STEP = 'dkg';
const EPOCH_BYTES = 8;
const CONFIRM_BYTES = 32;
const Q1_COMMITMENT = 'dkg/Q1';

const fail = (check: string): never => {
  throw rejected(CODE, STEP, check);
};

/** confirm = RO(label "dkg/confirm", sid, Q, N, c_key). */
function confirmation(sid: Uint8Array, Q: Point, n: bigint, cKey: bigint): Uint8Array {
  return ro(label('dkg/confirm'), sid, Q, n, cKey);
}

function tagged(round: Round, write: (w: WireWriter) => void): Uint8Array {
  return taggedMessage(KEYGEN_TAGS[round], write);
}

/** Reads a whole message of `round`: the tag first, then `read`, then nothing may be left. */
function untagged<T>(message: Uint8Array, round: Round, read: (r: WireReader) => T): T {
  return untaggedMessage(message, KEYGEN_TAGS[round], `the keygen message ${round}`, read);
}


// ---------------------------------------------------------------------------------------------------
// P1, the custodian

export interface KeygenP1Options {
  /** pid_P1 and pid_P2, from the authenticated channel. */
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** epoch′ of the new pair (0 for a wallet's first keygen on the curve), announced in K1. */
  readonly epoch: number | bigint;
  /** The deployment's integer-commitment parameters and their Π_IC (§2.6). */
  readonly intCommitment: { readonly params: IntCommitmentParams; readonly proof: IcProof };
  /** Whether K1 carries Π_IC; false once the client has pinned the parameters. Default true. */
  readonly sendIcProof?: boolean;
  /** Where the fresh Paillier key's primes come from (Node's generatePrimeSync on the server). */
  readonly primeSource: PrimeSource;
  /** A key taken from the custodian's pool instead (§3.1); it must never be used for another pair. */
  readonly paillierKey?: PaillierSecretKey;
  readonly arith?: ModArith;
}

type P1State =
  | { readonly kind: 'new' }
  | {
      readonly kind: 'awaitK2';
      readonly sk: PaillierSecretKey;
      readonly x1: bigint;
      readonly rKey: bigint;
      readonly Q1: Point;
      readonly cKey: bigint;
      readonly sid1: Uint8Array;
      readonly u: Uint8Array;
      readonly eq: EqProver;
      readonly range: RangeProver;
    }
  | {
      readonly kind: 'awaitK4';
      readonly sid: Uint8Array;
      readonly confirm: Uint8Array;
      readonly share: Uint8Array;
      readonly publicKey: string;
    }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The custodian's keygen party. `start` returns [K1]; K2 → [K3]; K4 → the result. */
export class KeygenP1 implements MpcParty<KeygenResult> {
  readonly #pid1: Uint8Array;
  readonly #pid2: Uint8Array;
  readonly #epoch: bigint;
  readonly #ic: { readonly params: IntCommitmentParams; readonly proof: IcProof };
  readonly #sendIcProof: boolean;
  readonly #primeSource: PrimeSource;
  #paillierKey: PaillierSecretKey | undefined;
  readonly #arith: ModArith;
  #state: P1State = { kind: 'new' };

  constructor(options: KeygenP1Options) {
    this.#pid1 = checkPid(options.pid1, 'pid1');
    this.#pid2 = checkPid(options.pid2, 'pid2');
    this.#epoch = toEpoch(options.epoch);
    this.#ic = options.intCommitment;
    this.#sendIcProof = options.sendIcProof ?? true;
    this.#primeSource = options.primeSource;
    this.#paillierKey = options.paillierKey;
    this.#arith = options.arith ?? bigintArith;
  }

  #abort = (error: TandemError): void => {
    const s = this.#state;
    if (s.kind === 'awaitK2') {
      s.eq.abort();
      s.range.abort();
      s.u.fill(0);
    } else if (s.kind === 'awaitK4') {
      s.share.fill(0);
    }
    this.#paillierKey = undefined;
    this.#state = { kind: 'aborted', error };
  };

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      const s = this.#state;
      if (s.kind === 'aborted') throw s.error;
      if (s.kind !== 'new') throw internal('keygen P1', 'start called once, first');
      const arith = this.#arith;
      const sk = this.#paillierKey ?? generatePaillierKey(this.#primeSource, arith);
      this.#paillierKey = undefined;
      const grp = pedersenGroup(arith);
      const x1 = randomScalar();
      const Q1 = G.multiply(x1);
      const rKey = randomUnit(sk.n);
      const cKey = sk.encrypt(x1, rKey);
      const beta = randomBelow(grp.pPrime);
      const com = grp.commit(x1, beta);
      const sid1 = freshContribution();
      const { commitment, u } = commit(Q1_COMMITMENT, sid1, this.#pid1, [Q1]);
      const ctx: InteractiveProofContext = { protocol: 'dkg', ctxSid: sid1, pid1: this.#pid1 };
      const eq = new EqProver(sk, grp, x1, rKey, beta, ctx);
      const range = new RangeProver(grp, x1, beta, ctx);
      const k1 = tagged('K1', (w) => {
        w.bytes(sid1, CONTRIBUTION_BYTES);
        w.fixed(this.#epoch, EPOCH_BYTES);
        w.bytes(commitment, COMMITMENT_BYTES);
        w.fixed(sk.n, ELEMENT_BYTES);
        w.fixed(cKey, ELEMENT2_BYTES);
        w.fixed(com, ELEMENT_BYTES);
        writeEqRound1(w, eq.round1);
        writeRangeRound1(w, range.round1);
        // 1 ‖ (Ñ, g̃, h̃, E, z[128]) with Π_IC, or 0 ‖ (Ñ, g̃, h̃) for a client that has pinned them.
        const { params, proof } = this.#ic;
        w.bytes(new Uint8Array([this.#sendIcProof ? 1 : 0]), 1);
        if (this.#sendIcProof) writeIcBundle(w, params, proof);
        else writeIcParams(w, params);
      });
      this.#state = { kind: 'awaitK2', sk, x1, rKey, Q1, cKey, sid1, u, eq, range };
      return [k1];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: KeygenResult } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitK2':
          return { messages: [this.#onK2(s, message)] };
        case 'awaitK4':
          return { messages: [], result: this.#onK4(s, message) };
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of keygen');
      }
    });
  }

  #onK2(s: Extract<P1State, { kind: 'awaitK2' }>, message: Uint8Array): Uint8Array {
    const k2 = decodeKeygenK2(message);
    const sid = dkgSid({ epoch: this.#epoch, pid1: this.#pid1, pid2: this.#pid2, sid1: s.sid1, sid2: k2.sid2 });
    verifyDl(k2.Q2, k2.dl, { protocol: 'dkg', sid, aux: 2 });
    const Q = s.Q1.add(k2.Q2);
    if (Q.is0()) fail('Q = Q1 + Q2 ≠ O');

    const dl1 = proveDl(s.x1, s.Q1, { protocol: 'dkg', sid, aux: 1 });
    const pdl = provePdl(s.sk, s.cKey, s.Q1, s.x1, s.rKey, { protocol: 'dkg', sid });
    const eq2 = s.eq.respond(k2.eEq);
    const range2 = s.range.respond(k2.eRange);
    const sigma = proveModulus(s.sk, k2.kV, this.#pid1, { protocol: 'dkg', sid });
    const k3 = tagged('K3', (w) => {
      w.bytes(sid, SID_BYTES);
      w.bytes(s.u, COMMITMENT_KEY_BYTES);
      w.point(s.Q1);
      writeDlProof(w, dl1);
      writePdlProof(w, pdl);
      writeEqRound2(w, eq2);
      writeRangeRound2(w, range2);
      writeModulusProof(w, sigma);
    });
    // The share is made now but released only on a valid K4 (§3.1: nothing persists without it).
    const share = encodeCustodianShare({
      walletKeyId: sid,
      pairId: sid,
      epoch: this.#epoch,
      pid1: this.#pid1,
      pid2: this.#pid2,
      Q,
      x1: s.x1,
      paillier: s.sk,
      cKey: s.cKey,
      ic: this.#ic.params,
    });
    s.u.fill(0);
    this.#state = {
      kind: 'awaitK4',
      sid,
      confirm: confirmation(sid, Q, s.sk.n, s.cKey),
      share,
      publicKey: Q.toHex(true),
    };
    return k3;
  }

  #onK4(s: Extract<P1State, { kind: 'awaitK4' }>, message: Uint8Array): KeygenResult {
    const k4 = decodeKeygenK4(message);
    if (!equalBytes(k4.sid, s.sid)) fail('sid matches the session');
    if (!equalBytes(k4.confirm, s.confirm)) fail('K4 confirmation matches');
    this.#state = { kind: 'done' };
    return { share: s.share, publicKey: s.publicKey };
  }
}

function writeIcParams(w: WireWriter, params: IntCommitmentParams): void {
  w.fixed(params.nTilde, ELEMENT_BYTES);
  w.fixed(params.g, ELEMENT_BYTES);
  w.fixed(params.h, ELEMENT_BYTES);
}

/** The custodian's keygen party (P1). */
export function createKeygenP1(options: KeygenP1Options): KeygenP1 {
  return new KeygenP1(options);
}

// ---------------------------------------------------------------------------------------------------
// P2, the client

export interface KeygenP2Options {
  /** pid_P1 and pid_P2, from the authenticated channel. */
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /**
   * The pinned SHA-256(Enc(Ñ, g̃, h̃)) when the client has verified Π_IC before; K1's parameters must
   * then match it. Without a pin, K1 must carry Π_IC, which is verified and pinned into the share.
   */
  readonly icPin?: Uint8Array;
  /** When the client knows which epoch′ to expect (for example from its start-up sync), K1 must announce it. */
  readonly expectedEpoch?: number | bigint;
  readonly arith?: ModArith;
}

type P2State =
  | { readonly kind: 'new' }
  | { readonly kind: 'awaitK1' }
  | {
      readonly kind: 'awaitK3';
      readonly k1: KeygenK1;
      readonly icPin: Uint8Array;
      readonly sid: Uint8Array;
      readonly x2: bigint;
      readonly Q2: Point;
      readonly eEq: bigint;
      readonly eRange: bigint;
      readonly kV: Uint8Array;
    }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The client's keygen party. `start` returns []; K1 → [K2]; K3 → [K4] and the result. */
export class KeygenP2 implements MpcParty<KeygenResult> {
  readonly #pid1: Uint8Array;
  readonly #pid2: Uint8Array;
  readonly #icPin: Uint8Array | undefined;
  readonly #expectedEpoch: bigint | undefined;
  readonly #arith: ModArith;
  #state: P2State = { kind: 'new' };

  constructor(options: KeygenP2Options) {
    this.#pid1 = checkPid(options.pid1, 'pid1');
    this.#pid2 = checkPid(options.pid2, 'pid2');
    if (options.icPin !== undefined) assertBytes(options.icPin, 32, 'Π_IC pin');
    this.#icPin = options.icPin?.slice();
    this.#expectedEpoch = options.expectedEpoch === undefined ? undefined : toEpoch(options.expectedEpoch);
    this.#arith = options.arith ?? bigintArith;
  }

  #abort = (error: TandemError): void => {
    const s = this.#state;
    if (s.kind === 'awaitK3') s.kV.fill(0);
    this.#state = { kind: 'aborted', error };
  };

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      const s = this.#state;
      if (s.kind === 'aborted') throw s.error;
      if (s.kind !== 'new') throw internal('keygen P2', 'start called once, first');
      this.#state = { kind: 'awaitK1' };
      return [];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: KeygenResult } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitK1':
          return { messages: [this.#onK1(message)] };
        case 'awaitK3':
          return this.#onK3(s, message);
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of keygen');
      }
    });
  }

  #onK1(message: Uint8Array): Uint8Array {
    const arith = this.#arith;
    const grp = pedersenGroup(arith);
    const k1 = decodeKeygenK1(message, arith);
    if (this.#expectedEpoch !== undefined && k1.epoch !== this.#expectedEpoch) fail('epoch′ is the expected one');
    // §1.3 except Π_N (which needs K2's kV): size, parity, sieve, compositeness.
    checkPaillierModulus(k1.n, CODE, arith);
    if (!new PaillierPublicKey(k1.n, arith).isValidCiphertext(k1.cKey)) fail('c_key valid');
    if (!grp.isSubgroupElement(k1.com)) fail('Com^P′ ≡ 1');
    let icPin: Uint8Array;
    if (this.#icPin !== undefined) {
      icPin = intCommitmentPin(k1.ic);
      if (!equalBytes(icPin, this.#icPin)) fail('Ñ, g̃, h̃ match the pinned hash');
    } else {
      verifyIc(k1.ic, k1.icProof ?? fail('Π_IC present (no pinned parameters)'), 'dkg');
      icPin = intCommitmentPin(k1.ic);
    }

    const x2 = randomScalar();
    const Q2 = G.multiply(x2);
    const sid2 = freshContribution();
    const sid = dkgSid({ epoch: k1.epoch, pid1: this.#pid1, pid2: this.#pid2, sid1: k1.sid1, sid2 });
    const dl = proveDl(x2, Q2, { protocol: 'dkg', sid, aux: 2 });
    const eEq = eqChallenge();
    const eRange = rangeChallenge();
    const kV = modulusChallenge();
    const k2 = tagged('K2', (w) => {
      w.bytes(sid2, CONTRIBUTION_BYTES);
      w.point(Q2);
      writeDlProof(w, dl);
      writeEqChallenge(w, eEq);
      writeRangeChallenge(w, eRange);
      w.bytes(kV, N_CHALLENGE_BYTES);
    });
    this.#state = { kind: 'awaitK3', k1: { ...k1, icProof: undefined }, icPin, sid, x2, Q2, eEq, eRange, kV };
    return k2;
  }

  #onK3(
    s: Extract<P2State, { kind: 'awaitK3' }>,
    message: Uint8Array,
  ): { readonly messages: Uint8Array[]; readonly result: KeygenResult } {
    const { k1, sid } = s;
    const k3 = decodeKeygenK3(message);
    if (!equalBytes(k3.sid, sid)) fail('sid matches the session');
    verifyOpening(k1.comQ1, k3.u, Q1_COMMITMENT, k1.sid1, this.#pid1, [k3.Q1], CODE);
    verifyDl(k3.Q1, k3.dl, { protocol: 'dkg', sid, aux: 1 });
    const Q = k3.Q1.add(s.Q2);
    if (Q.is0()) fail('Q = Q1 + Q2 ≠ O');
    const arith = this.#arith;
    const grp = pedersenGroup(arith);
    const pk = acceptPaillierModulus(k1.n, s.kV, k3.sigma, this.#pid1, { protocol: 'dkg', sid }, arith);
    verifyPdl(pk, k1.cKey, k3.Q1, k3.pdl, { protocol: 'dkg', sid });
    const ctx: InteractiveProofContext = { protocol: 'dkg', ctxSid: k1.sid1, pid1: this.#pid1 };
    verifyEq(pk, grp, k1.cKey, k1.com, k1.eq1, s.eEq, k3.eq2, ctx);
    verifyRange(grp, k1.com, k1.range1, s.eRange, k3.range2, ctx);

    // Every check of K3 has passed: only now does the client confirm and output its share.
    const k4 = tagged('K4', (w) => {
      w.bytes(sid, SID_BYTES);
      w.bytes(confirmation(sid, Q, k1.n, k1.cKey), CONFIRM_BYTES);
    });
    const share = encodeClientShare({
      walletKeyId: sid,
      pairId: sid,
      epoch: k1.epoch,
      pid1: this.#pid1,
      pid2: this.#pid2,
      Q,
      x2: s.x2,
      n: k1.n,
      cKey: k1.cKey,
      ic: k1.ic,
      icPin: s.icPin,
    });
    s.kV.fill(0);
    this.#state = { kind: 'done' };
    return { messages: [k4], result: { share, publicKey: Q.toHex(true) } };
  }
}

function readIcParams(r: WireReader, arith: ModArith): IntCommitmentParams {
  const nTilde = r.fixed(ELEMENT_BYTES, 'Ñ');
  const g = r.fixed(ELEMENT_BYTES, 'g̃');
  const h = r.fixed(ELEMENT_BYTES, 'h̃');
  if (nTilde <= 1n) throw malformed('Ñ', 'an integer > 1');
  return new IntCommitmentParams(nTilde, g, h, arith);
}

/** The client's keygen party (P2). */
export function createKeygenP2(options: KeygenP2Options): KeygenP2 {
  return new KeygenP2(options);
}

// ---------------------------------------------------------------------------------------------------
// Message decoders: bytes → fields, with every check that needs no session state (sizes, counts,
// static bounds, points on the curve). Anything else is MALFORMED_MESSAGE naming the field.

export interface KeygenK1 {
  readonly sid1: Uint8Array;
  readonly epoch: bigint;
  readonly comQ1: Uint8Array;
  readonly n: bigint;
  readonly cKey: bigint;
  readonly com: bigint;
  readonly eq1: EqRound1;
  readonly range1: RangeRound1;
  readonly ic: IntCommitmentParams;
  /** Absent when the custodian relies on the client's pin. */
  readonly icProof: IcProof | undefined;
}

export interface KeygenK2 {
  readonly sid2: Uint8Array;
  readonly Q2: Point;
  readonly dl: DlProof;
  readonly eEq: bigint;
  readonly eRange: bigint;
  readonly kV: Uint8Array;
}

export interface KeygenK3 {
  readonly sid: Uint8Array;
  readonly u: Uint8Array;
  readonly Q1: Point;
  readonly dl: DlProof;
  readonly pdl: PdlProof;
  readonly eq2: EqRound2;
  readonly range2: RangeRound2;
  readonly sigma: bigint[];
}

export interface KeygenK4 {
  readonly sid: Uint8Array;
  readonly confirm: Uint8Array;
}

export function decodeKeygenK1(message: Uint8Array, arith: ModArith = bigintArith): KeygenK1 {
  const p = pedersenGroup(arith).p;
  return untagged(message, 'K1', (r) => {
    const sid1 = r.bytes(CONTRIBUTION_BYTES, 'sid1');
    const epoch = r.fixed(EPOCH_BYTES, 'epoch');
    const comQ1 = r.bytes(COMMITMENT_BYTES, 'Q1 commitment');
    const n = r.fixed(ELEMENT_BYTES, 'N');
    const cKey = r.fixed(ELEMENT2_BYTES, 'c_key');
    const com = r.fixed(ELEMENT_BYTES, 'Com', p);
    const eq1 = readEqRound1(r);
    const range1 = readRangeRound1(r);
    const [flag] = r.bytes(1, 'Π_IC flag');
    if (flag !== 0 && flag !== 1) throw malformed('Π_IC flag', '0 or 1');
    const bundle = flag === 1 ? readIcBundle(r, arith) : { params: readIcParams(r, arith), proof: undefined };
    return { sid1, epoch, comQ1, n, cKey, com, eq1, range1, ic: bundle.params, icProof: bundle.proof };
  });
}

export function decodeKeygenK2(message: Uint8Array): KeygenK2 {
  return untagged(message, 'K2', (r) => ({
    sid2: r.bytes(CONTRIBUTION_BYTES, 'sid2'),
    Q2: r.point('Q2'),
    dl: readDlProof(r),
    eEq: readEqChallenge(r),
    eRange: readRangeChallenge(r),
    kV: r.bytes(N_CHALLENGE_BYTES, 'Π_N kV'),
  }));
}

export function decodeKeygenK3(message: Uint8Array): KeygenK3 {
  return untagged(message, 'K3', (r) => ({
    sid: r.bytes(SID_BYTES, 'sid'),
    u: r.bytes(COMMITMENT_KEY_BYTES, 'Q1 opening'),
    Q1: r.point('Q1'),
    dl: readDlProof(r),
    pdl: readPdlProof(r),
    eq2: readEqRound2(r),
    range2: readRangeRound2(r),
    sigma: readModulusProof(r),
  }));
}

export function decodeKeygenK4(message: Uint8Array): KeygenK4 {
  return untagged(message, 'K4', (r) => ({
    sid: r.bytes(SID_BYTES, 'sid'),
    confirm: r.bytes(CONFIRM_BYTES, 'confirm'),
  }));
}
