/**
 * The client's side of every protocol, for real: party P2 of ECDSA-2PC on SECP256K1 (keygen, Backup,
 * Recover, presign + S4) and of two-of-two FROST on ED25519 (keygen, Backup, Recover, sign), behind
 * the one `ClientMpc` port the wallet machine speaks (src/adapters/ports.ts). This file only composes
 * the parties of src/mpc; every protocol rule lives in the party that runs it.
 *
 * Why it is shaped so:
 * - Each method checks its inputs at once and returns a factory; the party itself is built only when
 *   the custodian's `ready` names both party ids. So a wrong share, curve, method or request fails
 *   before a session (and the custodian's lease) is opened, and a retried session gets a fresh party.
 * - The share bytes are copied when the method is called: the caller may zero its buffer once the run
 *   ends (the machine does), and the ECDSA parties read the bytes lazily. Nothing is kept in module
 *   state; a factory's closure holds its copy only as long as the caller holds the factory.
 * - ECDSA signing is one session: presign S0–S3, then S4 as the reply to S3 (from a presignature that
 *   exists only inside this party and is spent at once), then the custodian's answer, which is checked
 *   under Q before the 64-byte r ‖ s (low s) leaves. S4 carries the request as the custodian compares
 *   it, so `s4Request` below must build exactly the bytes src/server builds.
 * - The port's types are restated here, not imported: src/mpc imports nothing from the rest of the SDK
 *   (DESIGN §2, test/mpc/imports.test.ts), and test/mpc/client-mpc.test.ts checks both stay the same.
 *
 * @example
 * const mpc = clientMpc();
 * const { result } = await custodian.runProtocol({ op: 'generate', curve: 'SECP256K1', idempotencyKey }, mpc.generate('SECP256K1'));
 * mpc.publicKeyOf('SECP256K1', result.share) === result.publicKey; // true
 */
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { isTandemError, TandemError } from '../errors.js';
import { BACKUP_METHODS, CURVES, type BackupMethodName, type Curve } from '../types.js';
import { internal, malformed } from './assert.js';
import { decodeBackupShare, BACKUP_SHARE_KINDS } from './backup-share.js';
import { createBackupP2 } from './backup.js';
import { toFixedBytes } from './bigint.js';
import { createFrostKeygenP2 } from './frost-dkg.js';
import { createFrostBackupP2, createFrostRecoverP2 } from './frost-reshare.js';
import { decodeFrostShare, type FrostShareKind } from './frost-share.js';
import { createFrostSignP2, FROST_SIGNATURE_BYTES, verifyEd25519Strict } from './frost-sign.js';
import { createKeygenP2, type MpcParty } from './keygen.js';
import { guarded } from './party.js';
import { createPresignP2, type ClientPresignature } from './presign.js';
import { createRecoverP2 } from './recover.js';
import { decodeClientShare, SHARE_KIND_CLIENT_ECDSA, type ClientShare } from './share.js';
import { proveCurrentBackup, type ReplacementContext } from './backup-proof.js';
import { combineBackupShares, type EjectedKey } from './eject.js';
import { checkSignatureAnswer } from './sign.js';
import { assertSignRequest, DIGEST_BYTES, SIGN_KINDS, type SignKind, type SignRequest as MpcSignRequest } from './sign-wire.js';

// ---------------------------------------------------------------------------------------------------
// The port, restated (src/adapters/ports.ts: SessionInfo, PartyFactory, SignRequest, ShareResult, ClientMpc)

/** Both parties' ids, from the custodian's `ready` (and, for a replacement by proof, its challenge). */
export interface SessionInfo {
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly challenge?: Uint8Array;
  readonly replaces?: string;
}

/** Builds the client's party of one session from the custodian's `ready`. */
export type PartyFactory<Result> = (session: SessionInfo) => MpcParty<Result>;

/** A sign request as the custodian's schema has it (digest in hex). */
export interface ClientSignRequest {
  readonly kind: 'raw' | 'eip191' | 'eip712' | 'evmTransaction' | 'solanaMessage' | 'solanaTransaction';
  readonly digest: string;
  readonly payload?: unknown;
}

export interface ShareResult {
  /** The client's share, serialised (versioned bytes). */
  readonly share: Uint8Array;
  /** The key's public point, hex: compressed secp256k1 (33 bytes) or ed25519 (32 bytes). */
  readonly publicKey: string;
  /**
   * The id of the pair this run made (hex of the session id bound into the share): the custodian's
   * outcome must name the same pair, or the client would file the share under another pair's id.
   */
  readonly pairId?: string;
}

export interface ClientMpc {
  generate(curve: Curve): PartyFactory<ShareResult>;
  backup(curve: Curve, signingShare: Uint8Array, method: BackupMethodName): PartyFactory<ShareResult>;
  recover(curve: Curve, backupShare: Uint8Array): PartyFactory<ShareResult>;
  sign(curve: Curve, signingShare: Uint8Array, request: ClientSignRequest, message: Uint8Array): PartyFactory<{ readonly signature: Uint8Array }>;
  publicKeyOf(curve: Curve, share: Uint8Array): string;
  verify(curve: Curve, publicKey: string, message: Uint8Array, signature: Uint8Array): boolean;
  combineBackupShares(curve: Curve, clientBackupShare: Uint8Array, custodianBackupShare: Uint8Array): EjectedKey;
  proveCurrentBackup(curve: Curve, clientBackupShare: Uint8Array, context: ReplacementContext): Uint8Array;
}

// ---------------------------------------------------------------------------------------------------
// Boundary checks

const invalid = (message: string, details: Record<string, string> = {}): TandemError => new TandemError('INVALID_INPUT', { message, details });

function checkCurve(curve: Curve): Curve {
  if (!(CURVES as readonly unknown[]).includes(curve)) throw invalid('Unknown curve.', { curve: String(curve) });
  return curve;
}

function checkMethod(method: BackupMethodName): BackupMethodName {
  if (!(BACKUP_METHODS as readonly unknown[]).includes(method)) throw invalid('Unknown backup method.', { method: String(method) });
  return method;
}

function copyOf(bytes: Uint8Array, field: string): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw malformed(field, 'bytes');
  return bytes.slice();
}

/** Runs a share decoder; whatever it throws becomes MALFORMED_MESSAGE (the port's promise for a bad share). */
function parsing<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (isTandemError(err, 'MALFORMED_MESSAGE')) throw err;
    throw new TandemError('MALFORMED_MESSAGE', { details: { field: 'share' }, cause: err });
  }
}

type SecpClientKind = 'client-signing' | 'client-backup';

/** The kind of a client SECP256K1 share, read from its kind byte; the decoders then check everything. */
function secpKind(share: Uint8Array): SecpClientKind {
  if (!(share instanceof Uint8Array) || share.length < 2) throw malformed('share', 'a client SECP256K1 share');
  if (share[1] === SHARE_KIND_CLIENT_ECDSA) return 'client-signing';
  if (share[1] === BACKUP_SHARE_KINDS['client-backup']) return 'client-backup';
  throw malformed('share kind', 'a client SECP256K1 share (signing or backup)');
}

/** Decodes a client SECP256K1 share of `want` kind (all load checks) and returns its compressed Q. */
function secpPublicKey(share: Uint8Array, want?: SecpClientKind): string {
  return parsing(() => {
    const kind = secpKind(share);
    if (want !== undefined && kind !== want) throw malformed('share kind', `a ${want} SECP256K1 share`);
    return kind === 'client-signing' ? decodeClientShare(share).Q.toHex(true) : decodeBackupShare(share, 'client-backup').Q.toHex(true);
  });
}

/** Decodes a client ED25519 share (of `want` kind, when given; all load checks) and returns Y. */
function edPublicKey(share: Uint8Array, want?: FrostShareKind): string {
  return parsing(() => {
    const s = decodeFrostShare(share);
    if (s.kind !== 'client-signing' && s.kind !== 'client-backup') throw malformed('share kind', 'a client ED25519 share (signing or backup)');
    if (want !== undefined && s.kind !== want) throw malformed('share kind', `a ${want} ED25519 share`);
    return s.Y.toHex();
  });
}

/** The hex of `digest` without a `0x`, lower case; undefined if it is not hex of whole bytes. */
function digestHex(digest: unknown): string | undefined {
  if (typeof digest !== 'string') return undefined;
  const h = digest.startsWith('0x') || digest.startsWith('0X') ? digest.slice(2) : digest;
  return /^([0-9a-fA-F]{2})*$/.test(h) ? h.toLowerCase() : undefined;
}

const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** The request must name the bytes being signed: its digest is `message` in hex. */
function checkRequestNames(request: ClientSignRequest, message: Uint8Array): void {
  if (typeof request !== 'object' || request === null) throw invalid('A sign request is { kind, digest, payload? }.');
  const claimed = digestHex(request.digest);
  if (claimed === undefined) throw invalid('The sign request digest must be hex.', { field: 'digest' });
  if (claimed !== hexOf(message)) throw invalid('The sign request digest is not the message being signed.', { kind: String(request.kind) });
}

// ---------------------------------------------------------------------------------------------------
// The sign request inside S4

/**
 * The ECDSA sign request that S4 carries for a request of the custodian's schema: the kind, the
 * payload as the UTF-8 of its JSON (empty when there is none), and the 32-byte digest. The custodian
 * compares it byte for byte with the request its session started with, computed by this same function
 * (src/server/sessions.ts). The Solana kinds are not ECDSA requests: INVALID_INPUT.
 *
 * @example
 * s4Request({ kind: 'eip191', payload: { message: 'hello' }, digest: '0x…' }, digest).payload; // utf8('{"message":"hello"}')
 */
export function s4Request(request: ClientSignRequest, digest: Uint8Array): MpcSignRequest {
  const kind = request.kind;
  if (!(SIGN_KINDS as readonly string[]).includes(kind)) {
    throw invalid('Only raw, eip191, eip712 and evmTransaction requests are signed with SECP256K1.', { kind: String(kind) });
  }
  let payload = new Uint8Array(0);
  if ('payload' in request && request.payload !== undefined) {
    let json: string | undefined;
    try {
      json = JSON.stringify(request.payload);
    } catch (cause) {
      throw new TandemError('INVALID_INPUT', { message: 'The sign request payload is not JSON.', cause });
    }
    if (json === undefined) throw invalid('The sign request payload is not JSON.');
    payload = utf8ToBytes(json);
  }
  return { kind: kind as SignKind, payload, digest: copyOf(digest, 'digest') };
}

// ---------------------------------------------------------------------------------------------------
// Parties

/**
 * A party whose result is the port's {share, publicKey, pairId}: the ECDSA results name more, and the
 * pair id is read back from the share the run produced, so it is the one the share is bound to.
 */
function shareParty(party: MpcParty<{ readonly share: Uint8Array; readonly publicKey: string }>, pairIdOf: (share: Uint8Array) => Uint8Array): MpcParty<ShareResult> {
  return {
    start: () => party.start(),
    receive(message) {
      const r = party.receive(message);
      if (r.result === undefined) return { messages: r.messages };
      const { share, publicKey } = r.result;
      return { messages: r.messages, result: { share, publicKey, pairId: bytesToHex(pairIdOf(share)) } };
    },
  };
}

const signingPairId = (share: Uint8Array) => decodeClientShare(share).pairId;
const backupPairId = (share: Uint8Array) => decodeBackupShare(share, 'client-backup').pairId;
const frostPairId = (share: Uint8Array) => decodeFrostShare(share).pairId;

type EcdsaSignState =
  | { readonly kind: 'new' }
  | { readonly kind: 'presigning' }
  | { readonly kind: 'awaitAnswer' }
  | { readonly kind: 'done' }
  | { readonly kind: 'aborted'; readonly error: TandemError };

/**
 * ECDSA sign as one client party: `start` → [S0]; S1 → [S2]; S3 → [S4]; the answer r ‖ s ‖ v → the
 * signature. The presignature never leaves this party and signs exactly once, at S3; any failure
 * burns it and leaves the party aborted, throwing the same error on every later call.
 */
function ecdsaSignParty(share: ClientShare, request: MpcSignRequest, digest: Uint8Array, session: SessionInfo): MpcParty<{ readonly signature: Uint8Array }> {
  const presign = createPresignP2({ share, pid1: session.pid1, pid2: session.pid2 });
  let presignature: ClientPresignature | undefined;
  let state: EcdsaSignState = { kind: 'new' };
  const abort = (error: TandemError): void => {
    presignature?.burn();
    presignature = undefined;
    state = { kind: 'aborted', error };
  };
  return {
    start: () =>
      guarded(abort, () => {
        if (state.kind === 'aborted') throw state.error;
        if (state.kind !== 'new') throw internal('sign P2', 'start called once, first');
        const messages = presign.start();
        state = { kind: 'presigning' };
        return messages;
      }),
    receive: (message) =>
      guarded(abort, () => {
        switch (state.kind) {
          case 'presigning': {
            const r = presign.receive(message);
            if (r.result === undefined) return { messages: r.messages };
            presignature = r.result;
            const s4 = presignature.sign(request);
            presignature = undefined;
            state = { kind: 'awaitAnswer' };
            return { messages: [...r.messages, s4] };
          }
          case 'awaitAnswer': {
            const sig = checkSignatureAnswer(share.Q, digest, message);
            const signature = new Uint8Array(64);
            signature.set(toFixedBytes(sig.r, 32), 0);
            signature.set(toFixedBytes(sig.s, 32), 32);
            state = { kind: 'done' };
            return { messages: [], result: { signature } };
          }
          case 'aborted':
            throw state.error;
          case 'new':
            throw malformed('round', 'no message before start');
          case 'done':
            throw malformed('round', 'no message after the end of signing');
        }
      }),
  };
}

function signSecp(shareBytes: Uint8Array, request: ClientSignRequest, message: Uint8Array): PartyFactory<{ readonly signature: Uint8Array }> {
  if (message.length !== DIGEST_BYTES) throw invalid('A SECP256K1 message is a 32-byte digest.');
  const digest = message.slice();
  const req = s4Request(request, digest);
  try {
    assertSignRequest(req);
  } catch (cause) {
    throw new TandemError('INVALID_INPUT', { message: 'The sign request cannot travel in S4.', details: { kind: req.kind }, cause });
  }
  // Decoded once per request: its g̃, h̃ tables then serve every session this factory makes.
  const share = parsing(() => {
    if (secpKind(shareBytes) !== 'client-signing') throw malformed('share kind', 'a client-signing SECP256K1 share');
    return decodeClientShare(shareBytes);
  });
  return (session) => ecdsaSignParty(share, req, digest, session);
}

function signEd(shareBytes: Uint8Array, request: ClientSignRequest, message: Uint8Array): PartyFactory<{ readonly signature: Uint8Array }> {
  if (request.kind !== 'raw' && request.kind !== 'solanaMessage' && request.kind !== 'solanaTransaction') {
    throw invalid('Only raw, solanaMessage and solanaTransaction requests are signed with ED25519.', { kind: String(request.kind) });
  }
  edPublicKey(shareBytes, 'client-signing');
  const msg = message.slice();
  return ({ pid1, pid2 }) => createFrostSignP2({ pid1, pid2, share: shareBytes.slice(), message: msg.slice() });
}

function verifySecp(publicKey: string, message: Uint8Array, signature: Uint8Array): boolean {
  if (message.length !== DIGEST_BYTES || signature.length !== 64) return false;
  return secp256k1.verify(signature, message, hexToBytes(publicKey), { prehash: false, lowS: true });
}

// ---------------------------------------------------------------------------------------------------
// The client

/**
 * The real client side of the protocols (party P2 of ECDSA-2PC, identifier 2 of FROST).
 *
 * @example
 * const mpc = clientMpc();
 * const { result } = await custodian.runProtocol(
 *   { op: 'sign', curve: 'SECP256K1', pairId, request, idempotencyKey },
 *   mpc.sign('SECP256K1', share, request, digest),
 * );
 * mpc.verify('SECP256K1', publicKey, digest, result.signature); // true
 */
export function clientMpc(): ClientMpc {
  return {
    generate(curve) {
      checkCurve(curve);
      return curve === 'SECP256K1'
        ? ({ pid1, pid2 }) => shareParty(createKeygenP2({ pid1, pid2 }), signingPairId)
        : ({ pid1, pid2 }) => shareParty(createFrostKeygenP2({ pid1, pid2 }), frostPairId);
    },

    backup(curve, signingShare, method) {
      checkCurve(curve);
      checkMethod(method);
      const share = copyOf(signingShare, 'share');
      if (curve === 'SECP256K1') {
        secpPublicKey(share, 'client-signing');
        return ({ pid1, pid2 }) => shareParty(createBackupP2({ pid1, pid2, share: share.slice(), method }), backupPairId);
      }
      edPublicKey(share, 'client-signing');
      return ({ pid1, pid2 }) => shareParty(createFrostBackupP2({ pid1, pid2, share: share.slice(), method }), frostPairId);
    },

    recover(curve, backupShare) {
      checkCurve(curve);
      const share = copyOf(backupShare, 'share');
      if (curve === 'SECP256K1') {
        secpPublicKey(share, 'client-backup');
        return ({ pid1, pid2 }) => shareParty(createRecoverP2({ pid1, pid2, share: share.slice() }), signingPairId);
      }
      edPublicKey(share, 'client-backup');
      return ({ pid1, pid2 }) => shareParty(createFrostRecoverP2({ pid1, pid2, share: share.slice() }), frostPairId);
    },

    sign(curve, signingShare, request, message) {
      checkCurve(curve);
      const share = copyOf(signingShare, 'share');
      if (!(message instanceof Uint8Array)) throw invalid('The message to sign must be bytes.');
      const msg = message.slice();
      checkRequestNames(request, msg);
      return curve === 'SECP256K1' ? signSecp(share, request, msg) : signEd(share, request, msg);
    },

    publicKeyOf(curve, share) {
      checkCurve(curve);
      return curve === 'SECP256K1' ? secpPublicKey(share) : edPublicKey(share);
    },

    combineBackupShares: (curve, clientBackupShare, custodianBackupShare) => combineBackupShares(checkCurve(curve), clientBackupShare, custodianBackupShare),
    proveCurrentBackup: (curve, clientBackupShare, context) => proveCurrentBackup(checkCurve(curve), clientBackupShare, context),

    verify(curve, publicKey, message, signature) {
      try {
        if (typeof publicKey !== 'string' || !(message instanceof Uint8Array) || !(signature instanceof Uint8Array)) return false;
        if (curve === 'SECP256K1') return verifySecp(publicKey, message, signature);
        if (curve === 'ED25519') {
          if (signature.length !== FROST_SIGNATURE_BYTES) return false;
          return verifyEd25519Strict(signature, message, hexToBytes(publicKey));
        }
        return false;
      } catch {
        return false;
      }
    },
  };
}
