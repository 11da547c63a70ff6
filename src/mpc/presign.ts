/**
 * Presign (§3.2 S0–S3) and the client's presignatures (§4): the message-independent part of signing,
 * run ahead of time so that signing itself is one message, S4, and cheap.
 *
 *     S0  P2→P1  rnd_P2, wallet_key_id, pair_id, epoch
 *     S1  P1→P2  rnd_P1, Com_P1("sign/R1"; sid; R1, Π_DL(R1; sid, 1))
 *     S2  P2→P1  sid, R2 = k2·G, Π_DL(R2; sid, 2)          → P1 outputs its presignature record
 *     S3  P1→P2  sid, opening, R1, Π_DL(R1; sid, 1)        → P2 outputs a ClientPresignature
 *
 * The custodian commits to R1 before it sees R2, and the client picks R2 before it sees R1, so neither
 * chooses its nonce as a function of the other's. sid = RO(label "sign/sid", wallet_key_id, pair_id,
 * epoch, pid1, pid2, rnd_P2, rnd_P1), with both pids from the authenticated channel.
 *
 * Both parties are pure state objects in keygen's shape (`start` / `receive`); any failure aborts the
 * party, erases its nonce, and throws the same typed error on every later call.
 *
 * What each side keeps:
 * - The custodian gets the bytes of its presignature record (sid, pair, k1, R, R2) at S2, to persist
 *   (encrypted at rest) as an unused presignature *before* it sends S3. The pair-status and cap checks
 *   of S0 and the single-use bookkeeping are the server's (src/custodian), not this file's.
 * - The client gets a `ClientPresignature`: an object with private fields, in memory only, never
 *   serialisable, that has already done all of §4's offline work (w1, w2, ρ, rc, rc^N, C′^(w1·r), and
 *   the Π_sign prover's commitments). Its `sign(request)` produces S4 exactly once; the
 *   `ClientPresignatures` store hands each presignature out exactly once.
 *
 * @example
 * const p2 = createPresignP2({ share: clientShare, pid1, pid2 });
 * const p1 = createPresignP1({ pair: custodianShare, pid1, pid2 });
 * const [s0] = p2.start(); p1.start();
 * const { messages: [s1] } = p1.receive(s0);
 * const { messages: [s2] } = p2.receive(s1);
 * const { messages: [s3], result: record } = p1.receive(s2);   // persist record.secret under record.sid
 * const { result: presignature } = p2.receive(s3);             // keep in memory only
 * const s4 = presignature.sign({ kind: 'raw', payload: new Uint8Array(), digest });
 */
import { TandemError } from '../errors.js';
import { assertBytes, internal, malformed, rejected } from './assert.js';
import { equalBytes, mod, modInverse, randomBelow, randomUnit } from './bigint.js';
import { commit, verifyOpening } from './commitment.js';
import { G, q, randomScalar, type Point } from './curve.js';
import type { MpcParty } from './keygen.js';
import { bigintArith, type ModArith } from './modexp.js';
import { PaillierPublicKey } from './paillier.js';
import { encodeDlProof, proveDl, verifyDl, type DlProof } from './pi-dl.js';
import { shiftedKeyCiphertext, SignProver, SIGN_RHO_BOUND } from './pi-sign.js';
import type { ClientShare, PairIdentity } from './share.js';
import { checkPid, guarded } from './party.js';
import { freshContribution, signSid } from './session.js';
import {
  assertSignRequest,
  decodeSignS0,
  decodeSignS1,
  decodeSignS2,
  decodeSignS3,
  digestToScalar,
  encodePresignatureRecord,
  encodeSignS0,
  encodeSignS1,
  encodeSignS2,
  encodeSignS3,
  encodeSignS4,
  type SignRequest,
} from './sign-wire.js';

const CODE = 'SIGN_FAILED';
const STEP = 'presign';
const R1_COMMITMENT = 'sign/R1';

const fail = (check: string): never => {
  throw rejected(CODE, STEP, check);
};

/** r = R.x mod q; 0 when R = O. */
function rOf(R: Point): bigint {
  return R.is0() ? 0n : mod(R.toAffine().x, q);
}

/** The commitment's items: R1 and the canonical bytes of its proof. */
const r1Items = (R1: Point, dl: DlProof) => [R1, encodeDlProof(dl)];

// ---------------------------------------------------------------------------------------------------
// P1, the custodian

export interface PresignP1Options {
  /** The signing pair (a decoded custodian share will do): wallet_key_id, pair_id, epoch. */
  readonly pair: Pick<PairIdentity, 'walletKeyId' | 'pairId' | 'epoch'>;
  /** pid_P1 and pid_P2, from the authenticated channel. */
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
}

/** What the custodian persists at S2, before it sends S3: the record's bytes (secret: they hold k1). */
export interface PresignP1Result {
  readonly sid: Uint8Array;
  readonly secret: Uint8Array;
}

type P1State =
  | { readonly kind: 'new' }
  | { readonly kind: 'awaitS0' }
  | {
      readonly kind: 'awaitS2';
      readonly sid: Uint8Array;
      readonly k1: bigint;
      readonly R1: Point;
      readonly dl: DlProof;
      readonly u: Uint8Array;
    }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The custodian's presign party. `start` returns [] (the client speaks first); S0 → [S1]; S2 → [S3] and the record. */
export class PresignP1 implements MpcParty<PresignP1Result> {
  readonly #pair: { readonly walletKeyId: Uint8Array; readonly pairId: Uint8Array; readonly epoch: bigint };
  readonly #pid1: Uint8Array;
  readonly #pid2: Uint8Array;
  #state: P1State = { kind: 'new' };

  constructor(options: PresignP1Options) {
    const { walletKeyId, pairId, epoch } = options.pair;
    assertBytes(walletKeyId, 32, 'wallet_key_id');
    assertBytes(pairId, 32, 'pair_id');
    if (typeof epoch !== 'bigint' || epoch < 0n || epoch >= 1n << 64n) throw internal('epoch', 'an integer in [0, 2^64)');
    this.#pair = { walletKeyId: walletKeyId.slice(), pairId: pairId.slice(), epoch };
    this.#pid1 = checkPid(options.pid1, 'pid1');
    this.#pid2 = checkPid(options.pid2, 'pid2');
  }

  #abort = (error: TandemError): void => {
    const s = this.#state;
    if (s.kind === 'awaitS2') s.u.fill(0);
    this.#state = { kind: 'aborted', error };
  };

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      const s = this.#state;
      if (s.kind === 'aborted') throw s.error;
      if (s.kind !== 'new') throw internal('presign P1', 'start called once, first');
      this.#state = { kind: 'awaitS0' };
      return [];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: PresignP1Result } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitS0':
          return { messages: [this.#onS0(message)] };
        case 'awaitS2':
          return this.#onS2(s, message);
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of presign');
      }
    });
  }

  #onS0(message: Uint8Array): Uint8Array {
    const s0 = decodeSignS0(message);
    const pair = this.#pair;
    if (!equalBytes(s0.walletKeyId, pair.walletKeyId)) fail('wallet_key_id names this pair');
    if (!equalBytes(s0.pairId, pair.pairId)) fail('pair_id names this pair');
    if (s0.epoch !== pair.epoch) fail('epoch matches the pair');
    const rndP1 = freshContribution();
    const sid = signSid({ ...pair, pid1: this.#pid1, pid2: this.#pid2, rndP1, rndP2: s0.rndP2 });
    const k1 = randomScalar();
    const R1 = G.multiply(k1);
    const dl = proveDl(k1, R1, { protocol: 'sign', sid, aux: 1 });
    const { commitment, u } = commit(R1_COMMITMENT, sid, this.#pid1, r1Items(R1, dl));
    this.#state = { kind: 'awaitS2', sid, k1, R1, dl, u };
    return encodeSignS1({ rndP1, commitment });
  }

  #onS2(
    s: Extract<P1State, { kind: 'awaitS2' }>,
    message: Uint8Array,
  ): { readonly messages: Uint8Array[]; readonly result: PresignP1Result } {
    const s2 = decodeSignS2(message);
    if (!equalBytes(s2.sid, s.sid)) fail('sid matches the session');
    verifyDl(s2.R2, s2.dl, { protocol: 'sign', sid: s.sid, aux: 2 });
    const R = s2.R2.multiply(s.k1);
    if (R.is0()) fail('R ≠ O');
    if (rOf(R) === 0n) fail('r = R.x mod q ≠ 0');
    const secret = encodePresignatureRecord({ ...this.#pair, sid: s.sid, k1: s.k1, R, R2: s2.R2 });
    const s3 = encodeSignS3({ sid: s.sid, u: s.u, R1: s.R1, dl: s.dl });
    s.u.fill(0);
    this.#state = { kind: 'done' };
    return { messages: [s3], result: { sid: s.sid.slice(), secret } };
  }
}

/** The custodian's presign party (P1). */
export function createPresignP1(options: PresignP1Options): PresignP1 {
  return new PresignP1(options);
}

// ---------------------------------------------------------------------------------------------------
// P2, the client

export interface PresignP2Options {
  /** The client's decoded share (share.ts); keep one object per pair so the g̃, h̃ tables are built once. */
  readonly share: ClientShare;
  /** pid_P1 and pid_P2, from the authenticated channel. */
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly arith?: ModArith;
}

type P2State =
  | { readonly kind: 'new' }
  | { readonly kind: 'awaitS1'; readonly rndP2: Uint8Array }
  | { readonly kind: 'awaitS3'; readonly sid: Uint8Array; readonly k2: bigint; readonly R2: Point; readonly commitment: Uint8Array }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The client's presign party. `start` returns [S0]; S1 → [S2]; S3 → the ClientPresignature. */
export class PresignP2 implements MpcParty<ClientPresignature> {
  readonly #share: ClientShare;
  readonly #pid1: Uint8Array;
  readonly #pid2: Uint8Array;
  readonly #arith: ModArith;
  #state: P2State = { kind: 'new' };

  constructor(options: PresignP2Options) {
    this.#share = options.share;
    this.#pid1 = checkPid(options.pid1, 'pid1');
    this.#pid2 = checkPid(options.pid2, 'pid2');
    this.#arith = options.arith ?? bigintArith;
  }

  #abort = (error: TandemError): void => {
    this.#state = { kind: 'aborted', error };
  };

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      const s = this.#state;
      if (s.kind === 'aborted') throw s.error;
      if (s.kind !== 'new') throw internal('presign P2', 'start called once, first');
      const rndP2 = freshContribution();
      const { walletKeyId, pairId, epoch } = this.#share;
      this.#state = { kind: 'awaitS1', rndP2 };
      return [encodeSignS0({ rndP2, walletKeyId, pairId, epoch })];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: ClientPresignature } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitS1':
          return { messages: [this.#onS1(s, message)] };
        case 'awaitS3':
          return { messages: [], result: this.#onS3(s, message) };
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of presign');
      }
    });
  }

  #onS1(s: Extract<P2State, { kind: 'awaitS1' }>, message: Uint8Array): Uint8Array {
    const s1 = decodeSignS1(message);
    const { walletKeyId, pairId, epoch } = this.#share;
    const sid = signSid({ walletKeyId, pairId, epoch, pid1: this.#pid1, pid2: this.#pid2, rndP1: s1.rndP1, rndP2: s.rndP2 });
    const k2 = randomScalar();
    const R2 = G.multiply(k2);
    const dl = proveDl(k2, R2, { protocol: 'sign', sid, aux: 2 });
    this.#state = { kind: 'awaitS3', sid, k2, R2, commitment: s1.commitment };
    return encodeSignS2({ sid, R2, dl });
  }

  #onS3(s: Extract<P2State, { kind: 'awaitS3' }>, message: Uint8Array): ClientPresignature {
    const s3 = decodeSignS3(message);
    if (!equalBytes(s3.sid, s.sid)) fail('sid matches the session');
    verifyOpening(s.commitment, s3.u, R1_COMMITMENT, s.sid, this.#pid1, r1Items(s3.R1, s3.dl), CODE);
    verifyDl(s3.R1, s3.dl, { protocol: 'sign', sid: s.sid, aux: 1 });
    const R = s3.R1.multiply(s.k2);
    if (R.is0()) fail('R ≠ O');
    const r = rOf(R);
    if (r === 0n) fail('r = R.x mod q ≠ 0');
    const presignature = new ClientPresignature(this.#share, s.sid, s.k2, s.R2, R, r, this.#arith);
    this.#state = { kind: 'done' };
    return presignature;
  }
}

/** The client's presign party (P2). */
export function createPresignP2(options: PresignP2Options): PresignP2 {
  return new PresignP2(options);
}

// ---------------------------------------------------------------------------------------------------
// The client's presignature

/**
 * One client presignature, in memory only (§4). Everything m-independent is computed in the
 * constructor (§4's "client, offline" column); `sign(request)` does the online column and works once:
 * it drops the secrets *before* computing S4, so no second S4 can ever exist for this presignature, not
 * even after an exception. It has no serialisable state: `toJSON` says so instead of leaking.
 */
export class ClientPresignature {
  readonly #sid: Uint8Array;
  readonly #pairId: Uint8Array;
  readonly #R: Point;
  #secret:
    | {
        readonly w1: bigint;
        readonly M0: bigint;
        readonly rcN: bigint;
        readonly A: bigint;
        readonly n: bigint;
        readonly n2: bigint;
        readonly prover: SignProver;
      }
    | undefined;

  /** Built by PresignP2 at S3; not for direct use. */
  constructor(share: ClientShare, sid: Uint8Array, k2: bigint, R2: Point, R: Point, r: bigint, arith: ModArith = bigintArith) {
    this.#sid = sid.slice();
    this.#pairId = share.pairId.slice();
    this.#R = R;
    const pk = new PaillierPublicKey(share.n, arith);
    const { n, n2 } = pk;
    const cPrime = shiftedKeyCiphertext(pk, share.cKey);
    const w1 = modInverse(k2, q);
    const w2 = (w1 * share.x2) % q;
    const rho = randomBelow(SIGN_RHO_BOUND);
    const rc = randomUnit(n); // [1, N) with gcd(rc, N) = 1
    const rcN = arith.powMod(rc, n, n2);
    // The exponent w1·r is the integer product, not reduced mod q (§3.2).
    const A = arith.powMod(cPrime, w1 * r, n2);
    const M0 = w2 * r + rho * q;
    const Q2 = G.multiply(share.x2);
    const prover = new SignProver({ ic: share.ic, pk, cPrime, Q2, R2, r }, { w1, w2, w3: rho, w4: rc });
    this.#secret = { w1, M0, rcN, A, n, n2, prover };
  }

  /** The sid that names this presignature (a copy). */
  get sid(): Uint8Array {
    return this.#sid.slice();
  }

  /** The signing pair it belongs to (a copy). */
  get pairId(): Uint8Array {
    return this.#pairId.slice();
  }

  /** R = k1·k2·G, public once presign is done. */
  get R(): Point {
    return this.#R;
  }

  /** False once `sign` or `burn` has run. */
  get usable(): boolean {
    return this.#secret !== undefined;
  }

  /**
   * S4 = (sid, request, c, Π_sign) for this request, once. A second call, or a call after `burn`,
   * throws SIGN_FAILED. Keep the returned bytes only for an identical resend until the custodian answers.
   */
  sign(request: SignRequest): Uint8Array {
    assertSignRequest(request);
    const s = this.#secret;
    if (s === undefined) throw rejected(CODE, STEP, 'presignature unused');
    this.#secret = undefined; // taken before anything that depends on m is computed (§4 rule 2)
    try {
      const m = digestToScalar(request.digest);
      const M = s.w1 * m + s.M0;
      const c = (((1n + mod(M, s.n) * s.n) % s.n2) * ((s.rcN * s.A) % s.n2)) % s.n2;
      const proof = s.prover.prove(c, m, { protocol: 'sign', sid: this.#sid, aux: 0 });
      return encodeSignS4({ sid: this.#sid, request: { ...request, payload: request.payload.slice() }, c, proof });
    } finally {
      s.prover.erase();
    }
  }

  /** Drops the secrets unused (§4 rule 4). */
  burn(): void {
    this.#secret?.prover.erase();
    this.#secret = undefined;
  }

  toJSON(): { readonly presignature: string } {
    return { presignature: 'in memory only' };
  }
}

const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * The client's presignatures, in memory only (§4): never persisted, so no restored snapshot can hold
 * one to reuse; a reload loses them. `take` removes a presignature before the caller can sign with it,
 * so each is handed out once.
 */
export class ClientPresignatures {
  readonly #byPair = new Map<string, ClientPresignature[]>();

  /** Adds a fresh presignature (a used or burned one is refused). */
  add(p: ClientPresignature): void {
    if (!(p instanceof ClientPresignature) || !p.usable) throw internal('presignature', 'an unused ClientPresignature');
    const key = hexOf(p.pairId);
    const list = this.#byPair.get(key) ?? [];
    if (list.some((x) => equalBytes(x.sid, p.sid))) throw internal('presignature', 'a presignature not already stored');
    list.push(p);
    this.#byPair.set(key, list);
  }

  /** How many unused presignatures the pair has. */
  count(pairId: Uint8Array): number {
    return (this.#byPair.get(hexOf(pairId)) ?? []).filter((p) => p.usable).length;
  }

  /** Takes out the oldest unused presignature of the pair (or the one named by sid); undefined if none. */
  take(pairId: Uint8Array, sid?: Uint8Array): ClientPresignature | undefined {
    const key = hexOf(pairId);
    const list = (this.#byPair.get(key) ?? []).filter((p) => p.usable);
    const i = sid === undefined ? 0 : list.findIndex((p) => equalBytes(p.sid, sid));
    const p = i < 0 ? undefined : list[i];
    if (p !== undefined) list.splice(i, 1);
    if (list.length === 0) this.#byPair.delete(key);
    else this.#byPair.set(key, list);
    return p;
  }

  /** Burns every presignature of the pair (its status changed), or of every pair. */
  burn(pairId?: Uint8Array): void {
    const keys = pairId === undefined ? [...this.#byPair.keys()] : [hexOf(pairId)];
    for (const k of keys) {
      for (const p of this.#byPair.get(k) ?? []) p.burn();
      this.#byPair.delete(k);
    }
  }

  toJSON(): { readonly presignatures: string } {
    return { presignatures: 'in memory only' };
  }
}
