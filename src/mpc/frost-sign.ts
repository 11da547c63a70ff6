/**
 * Two-of-two FROST signing (RFC 9591 §5) on ed25519 with noble's `ed25519_FROST`, custodian = P1 =
 * identifier 1, client = P2 = identifier 2; three messages:
 *
 *     S1  P1→P2  rnd1, wallet_key_id, pair_id, epoch, identifier 1, D1, E1        (round one of P1)
 *     S2  P2→P1  rnd2, sid, identifier 2, D2, E2, z2                    (rounds one and two of P2)
 *     S3  P1→P2  sid, z1
 *
 * P2 may send its commitments and its signature share together because P1's commitments are fixed
 * in S1 before P2 chooses anything: every commitment is published before any share is revealed, as
 * RFC 9591 requires. Each side checks the other's share (RFC 9591 §5.4), aggregates and accepts the
 * signature only if it passes *strict* RFC 8032 verification (`zip215: false`, as Solana verifies).
 *
 * Never mixing share sets: S1 announces the custodian share's wallet key id, pair id and epoch, and
 * the client refuses a different set before it commits to anything; the sid binds them (and the
 * message) again, and a backup share is refused as a signing share when the party is made.
 *
 * Nonces are single-use. They live only in a private field of the party that made them (the client's
 * never outlive one `receive` call), noble zeroes them when it uses them, the party erases them on
 * completion or abort, and a party runs once: a second `start`, or any message after the end, throws.
 * A party cannot be persisted and restored: it has no enumerable state, `toJSON` throws, and a
 * structured clone keeps neither its private fields nor its methods.
 *
 * @example
 * const p1 = createFrostSignP1({ pid1, pid2, share: custodianShare, message });
 * const p2 = createFrostSignP2({ pid1, pid2, share: clientShare, message });
 * const [s1] = p1.start(); p2.start();
 * const [s2] = p2.receive(s1).messages;
 * const { messages: [s3], result } = p1.receive(s2);   // result.signature: 64 bytes
 * p2.receive(s3).result;                               // the same signature
 */
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import type { FrostPublic, FrostSecret, NonceCommitments, Nonces } from '@noble/curves/abstract/frost.js';
import type { TandemError } from '../errors.js';
import { internal, malformed, rejected } from './assert.js';
import { equalBytes } from './bigint.js';
import { Fn, identifierBytes, identifierOf, readEdPoint, readEdScalar, readIdentifier, SIGNERS, writeEdScalar } from './frost-curve.js';
import { checked, checkPid, frame, frostSignSid, guarded, unframe, type FrostParty, type FrostSignResult } from './frost-session.js';
import { decodeFrostShare, isBackupKind, roleOfKind, type FrostShare } from './frost-share.js';
import { CONTRIBUTION_BYTES, freshContribution, ID_BYTES, SID_BYTES, type Role } from './session.js';
import type { WireReader, WireWriter } from './wire.js';

export const FROST_SIGNATURE_BYTES = 64;
const EPOCH_BYTES = 8;

export interface FrostSignOptions {
  /** pid_P1 and pid_P2, from the authenticated channel. */
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** This party's signing share bytes (frost-share.ts). */
  readonly share: Uint8Array;
  /** The exact bytes to sign (for Solana, the serialised transaction message). */
  readonly message: Uint8Array;
}

const fail = (check: string): never => {
  throw rejected('SIGN_FAILED', 'frost sign', check);
};

/** Strict RFC 8032 verification, as Solana does it (no ZIP-215 leniency). */
export function verifyEd25519Strict(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

interface Loaded {
  readonly share: FrostShare;
  readonly secret: FrostSecret;
  readonly pub: FrostPublic;
  readonly message: Uint8Array;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
}

function load(o: FrostSignOptions, role: Role): Loaded {
  const pid1 = checkPid(o.pid1, 'pid1');
  const pid2 = checkPid(o.pid2, 'pid2');
  if (!(o.message instanceof Uint8Array)) throw malformed('message', 'bytes');
  const share = decodeFrostShare(o.share);
  if (isBackupKind(share.kind)) fail('a signing share, not a backup share');
  if (roleOfKind(share.kind) !== role) fail(`the share is one of role ${role}`);
  if (!equalBytes(share.pid1, pid1) || !equalBytes(share.pid2, pid2)) fail('the share belongs to these parties');
  const pub = {
    signers: { ...SIGNERS },
    commitments: [share.Y.toBytes()],
    verifyingShares: { [identifierOf(1)]: share.Y1.toBytes(), [identifierOf(2)]: share.Y2.toBytes() },
  } as FrostPublic;
  const secret = { identifier: identifierOf(role), signingShare: Fn.toBytes(share.s) } as FrostSecret;
  return { share, secret, pub, message: o.message.slice(), pid1, pid2 };
}

function readCommitments(r: WireReader, role: Role): NonceCommitments {
  readIdentifier(r, role, 'identifier');
  const hiding = readEdPoint(r, 'hiding commitment D').toBytes();
  const binding = readEdPoint(r, 'binding commitment E').toBytes();
  return { identifier: identifierOf(role), hiding, binding } as NonceCommitments;
}

function writeCommitments(w: WireWriter, role: Role, c: NonceCommitments): void {
  w.bytes(identifierBytes(role), 32);
  w.bytes(c.hiding, 32);
  w.bytes(c.binding, 32);
}

/** Aggregates both shares and checks the result strictly; throws SIGN_FAILED otherwise. */
function aggregate(l: Loaded, list: NonceCommitments[], z1: Uint8Array, z2: Uint8Array): Uint8Array {
  const signature = checked(fail, 'the signature shares aggregate', () =>
    ed25519_FROST.aggregate(l.pub, list, l.message, { [identifierOf(1)]: z1, [identifierOf(2)]: z2 }),
  );
  if (signature.length !== FROST_SIGNATURE_BYTES) fail('a 64-byte signature');
  if (!verifyEd25519Strict(signature, l.message, l.share.Y.toBytes())) fail('the signature verifies (RFC 8032, strict)');
  return signature;
}

function wipe(l: Loaded, nonces?: Nonces): void {
  l.secret.signingShare.fill(0);
  nonces?.hiding.fill(0);
  nonces?.binding.fill(0);
}

const NOT_SERIALISABLE = (): never => {
  throw internal('frost sign party', 'never serialised: signing state is single-use and lives in memory only');
};

// ---------------------------------------------------------------------------------------------------
// P1, the custodian

type P1State =
  | { readonly kind: 'new' }
  | { readonly kind: 'awaitS2'; readonly rnd1: Uint8Array; readonly nonces: Nonces; readonly mine: NonceCommitments }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The custodian's signing party. `start` → [S1]; S2 → [S3] and the signature. */
export class FrostSignP1 implements FrostParty<FrostSignResult> {
  readonly #l: Loaded;
  #state: P1State = { kind: 'new' };

  constructor(o: FrostSignOptions) {
    this.#l = load(o, 1);
  }

  #abort = (error: TandemError): void => {
    const s = this.#state;
    wipe(this.#l, s.kind === 'awaitS2' ? s.nonces : undefined);
    this.#state = { kind: 'aborted', error };
  };

  toJSON(): never {
    return NOT_SERIALISABLE();
  }

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      if (this.#state.kind !== 'new') throw internal('frost sign P1', 'start called once, first');
      const { nonces, commitments } = ed25519_FROST.commit(this.#l.secret);
      const rnd1 = freshContribution();
      const { share } = this.#l;
      const s1 = frame('sign', 1, 1, (w) => {
        w.bytes(rnd1, CONTRIBUTION_BYTES);
        w.bytes(share.walletKeyId, ID_BYTES);
        w.bytes(share.pairId, ID_BYTES);
        w.fixed(share.epoch, EPOCH_BYTES);
        writeCommitments(w, 1, commitments);
      });
      this.#state = { kind: 'awaitS2', rnd1, nonces, mine: commitments };
      return [s1];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: FrostSignResult } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitS2':
          return this.#onS2(s, message);
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of signing');
      }
    });
  }

  #onS2(
    s: Extract<P1State, { kind: 'awaitS2' }>,
    message: Uint8Array,
  ): { readonly messages: Uint8Array[]; readonly result: FrostSignResult } {
    const l = this.#l;
    const s2 = unframe(message, 'sign', 2, 2, (r) => ({
      rnd2: r.bytes(CONTRIBUTION_BYTES, 'rnd2'),
      sid: r.bytes(SID_BYTES, 'sid'),
      theirs: readCommitments(r, 2),
      z2: Fn.toBytes(readEdScalar(r, 'signature share z2')),
    }));
    const { share } = l;
    const sid = frostSignSid({
      walletKeyId: share.walletKeyId,
      pairId: share.pairId,
      epoch: share.epoch,
      pid1: l.pid1,
      pid2: l.pid2,
      rnd1: s.rnd1,
      rnd2: s2.rnd2,
      message: l.message,
    });
    if (!equalBytes(s2.sid, sid)) fail('sid matches the session (same share set and message)');
    const list = [s.mine, s2.theirs];
    const ok = checked(fail, "the client's signature share verifies", () =>
      ed25519_FROST.verifyShare(l.pub, list, l.message, identifierOf(2), s2.z2),
    );
    if (!ok) fail("the client's signature share verifies");
    const z1 = checked(fail, 'the custodian signs', () => ed25519_FROST.signShare(l.secret, l.pub, s.nonces, list, l.message));
    wipe(l, s.nonces);
    const signature = aggregate(l, list, z1, s2.z2);
    const s3 = frame('sign', 3, 1, (w) => {
      w.bytes(sid, SID_BYTES);
      writeEdScalar(w, z1);
    });
    this.#state = { kind: 'done' };
    return { messages: [s3], result: { signature } };
  }
}

// ---------------------------------------------------------------------------------------------------
// P2, the client

type P2State =
  | { readonly kind: 'new' }
  | { readonly kind: 'awaitS1' }
  | { readonly kind: 'awaitS3'; readonly sid: Uint8Array; readonly list: NonceCommitments[]; readonly z2: Uint8Array }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/** The client's signing party. `start` → []; S1 → [S2]; S3 → the signature. */
export class FrostSignP2 implements FrostParty<FrostSignResult> {
  readonly #l: Loaded;
  #state: P2State = { kind: 'new' };

  constructor(o: FrostSignOptions) {
    this.#l = load(o, 2);
  }

  #abort = (error: TandemError): void => {
    wipe(this.#l);
    this.#state = { kind: 'aborted', error };
  };

  toJSON(): never {
    return NOT_SERIALISABLE();
  }

  start(): Uint8Array[] {
    return guarded(this.#abort, () => {
      if (this.#state.kind !== 'new') throw internal('frost sign P2', 'start called once, first');
      this.#state = { kind: 'awaitS1' };
      return [];
    });
  }

  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: FrostSignResult } {
    return guarded(this.#abort, () => {
      const s = this.#state;
      switch (s.kind) {
        case 'awaitS1':
          return { messages: [this.#onS1(message)] };
        case 'awaitS3':
          return { messages: [], result: this.#onS3(s, message) };
        case 'aborted':
          throw s.error;
        case 'new':
          throw malformed('round', 'no message before start');
        case 'done':
          throw malformed('round', 'no message after the end of signing');
      }
    });
  }

  #onS1(message: Uint8Array): Uint8Array {
    const l = this.#l;
    const { share } = l;
    const s1 = unframe(message, 'sign', 1, 1, (r) => ({
      rnd1: r.bytes(CONTRIBUTION_BYTES, 'rnd1'),
      walletKeyId: r.bytes(ID_BYTES, 'wallet_key_id'),
      pairId: r.bytes(ID_BYTES, 'pair_id'),
      epoch: r.fixed(EPOCH_BYTES, 'epoch'),
      theirs: readCommitments(r, 1),
    }));
    if (!equalBytes(s1.walletKeyId, share.walletKeyId)) fail('the wallet key id is this share’s');
    if (!equalBytes(s1.pairId, share.pairId) || s1.epoch !== share.epoch) fail('both shares are of the same share set');
    const rnd2 = freshContribution();
    const sid = frostSignSid({
      walletKeyId: share.walletKeyId,
      pairId: share.pairId,
      epoch: share.epoch,
      pid1: l.pid1,
      pid2: l.pid2,
      rnd1: s1.rnd1,
      rnd2,
      message: l.message,
    });
    // The client's nonces exist only inside this call: made, used once by signShare (which zeroes them), wiped.
    const { nonces, commitments } = ed25519_FROST.commit(l.secret);
    const list = [s1.theirs, commitments];
    let z2: Uint8Array;
    try {
      z2 = checked(fail, 'the client signs', () => ed25519_FROST.signShare(l.secret, l.pub, nonces, list, l.message));
    } finally {
      wipe(l, nonces);
    }
    const s2 = frame('sign', 2, 2, (w) => {
      w.bytes(rnd2, CONTRIBUTION_BYTES);
      w.bytes(sid, SID_BYTES);
      writeCommitments(w, 2, commitments);
      writeEdScalar(w, z2);
    });
    this.#state = { kind: 'awaitS3', sid, list, z2 };
    return s2;
  }

  #onS3(s: Extract<P2State, { kind: 'awaitS3' }>, message: Uint8Array): FrostSignResult {
    const l = this.#l;
    const s3 = unframe(message, 'sign', 3, 1, (r) => ({
      sid: r.bytes(SID_BYTES, 'sid'),
      z1: Fn.toBytes(readEdScalar(r, 'signature share z1')),
    }));
    if (!equalBytes(s3.sid, s.sid)) fail('sid matches the session');
    const ok = checked(fail, "the custodian's signature share verifies", () =>
      ed25519_FROST.verifyShare(l.pub, s.list, l.message, identifierOf(1), s3.z1),
    );
    if (!ok) fail("the custodian's signature share verifies");
    const signature = aggregate(l, s.list, s3.z1, s.z2);
    this.#state = { kind: 'done' };
    return { signature };
  }
}

/** The custodian's ED25519 signing party. */
export function createFrostSignP1(o: FrostSignOptions): FrostSignP1 {
  return new FrostSignP1(o);
}

/** The client's ED25519 signing party. */
export function createFrostSignP2(o: FrostSignOptions): FrostSignP2 {
  return new FrostSignP2(o);
}

