/**
 * SIMULATED MPC — a test double, not a protocol. It lets the lifecycle, the custodian rules and the
 * walk-through run before the real protocols (src/mpc) are wired in, with the same party shapes, shares
 * that really are additive shares of one key, re-sharings that really preserve the key, and signatures
 * that really verify. It is NOT secure: its signing step sends the client's share to the custodian.
 * It is exported only from the `testing` entry point and must never be on a production path.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import type { ClientMpc, Party, ReplacementProofContext, ShareResult } from '../adapters/ports.js';
import { TandemError } from '../errors.js';
import type { Curve } from '../types.js';

interface Group {
  readonly id: number;
  readonly n: bigint;
  readonly pointBytes: number;
  mulBase(k: bigint): Uint8Array;
  add(a: Uint8Array, b: Uint8Array): Uint8Array;
  /** Throws on a malformed or identity point. */
  check(p: Uint8Array): Uint8Array;
}

const secp: Group = {
  id: 1,
  n: secp256k1.Point.Fn.ORDER,
  pointBytes: 33,
  mulBase: (k) => secp256k1.Point.BASE.multiply(k).toBytes(true),
  add: (a, b) => secp256k1.Point.fromBytes(a).add(secp256k1.Point.fromBytes(b)).toBytes(true),
  check: (p) => {
    const pt = secp256k1.Point.fromBytes(p);
    pt.assertValidity();
    return pt.toBytes(true);
  },
};

const ed: Group = {
  id: 2,
  n: ed25519.Point.Fn.ORDER,
  pointBytes: 32,
  mulBase: (k) => ed25519.Point.BASE.multiply(k).toBytes(),
  add: (a, b) => ed25519.Point.fromBytes(a).add(ed25519.Point.fromBytes(b)).toBytes(),
  check: (p) => {
    const pt = ed25519.Point.fromBytes(p);
    if (pt.is0() || pt.isSmallOrder()) throw new Error('small order');
    return pt.toBytes();
  },
};

const groupOf = (curve: Curve): Group => (curve === 'SECP256K1' ? secp : ed);

const SIM_MAGIC = 0x53; // 'S': these bytes came from the simulation, never from src/mpc
const SIM_VERSION = 1;

const toBig = (b: Uint8Array): bigint => (b.length === 0 ? 0n : BigInt('0x' + bytesToHex(b)));
const to32 = (x: bigint): Uint8Array => hexToBytes(x.toString(16).padStart(64, '0'));
const mod = (a: bigint, n: bigint) => ((a % n) + n) % n;
const randomScalar = (g: Group): bigint => {
  for (;;) {
    const k = mod(toBig(randomBytes(48)), g.n);
    if (k !== 0n) return k;
  }
};

const malformed = (what: string) => new TandemError('MALFORMED_MESSAGE', { details: { what, simulated: true } });

/** Share bytes: magic, version, group id, scalar (32), public key. */
function encodeShare(g: Group, x: bigint, publicKey: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(SIM_MAGIC, SIM_VERSION, g.id), to32(x), publicKey);
}

function decodeShare(curve: Curve, bytes: Uint8Array): { x: bigint; publicKey: Uint8Array } {
  const g = groupOf(curve);
  if (bytes.length !== 3 + 32 + g.pointBytes || bytes[0] !== SIM_MAGIC || bytes[1] !== SIM_VERSION || bytes[2] !== g.id) {
    throw malformed('share');
  }
  const x = toBig(bytes.subarray(3, 35));
  if (x === 0n || x >= g.n) throw malformed('share');
  return { x, publicKey: g.check(bytes.subarray(35)) };
}

function readPoint(g: Group, bytes: Uint8Array | undefined): Uint8Array {
  if (!bytes || bytes.length !== g.pointBytes) throw malformed('point');
  try {
    return g.check(bytes);
  } catch (cause) {
    throw new TandemError('MALFORMED_MESSAGE', { details: { what: 'point', simulated: true }, cause });
  }
}

function readScalar(g: Group, bytes: Uint8Array | undefined): bigint {
  if (!bytes || bytes.length !== 32) throw malformed('scalar');
  const x = toBig(bytes);
  if (x >= g.n) throw malformed('scalar');
  return x;
}

const equal = (a: Uint8Array, b: Uint8Array) => bytesToHex(a) === bytesToHex(b);

/** Additive key generation: each side picks a scalar, they swap public points, Q = X1 + X2. */
function keygenParty(curve: Curve, first: boolean): Party<ShareResult> {
  const g = groupOf(curve);
  const x = randomScalar(g);
  const X = g.mulBase(x);
  let sent = false;
  return {
    start: () => (first ? ((sent = true), [X]) : []),
    receive(msg) {
      const other = readPoint(g, msg);
      const Q = g.add(X, other);
      const messages = sent ? [] : [X];
      return { messages, result: { share: encodeShare(g, x, Q), publicKey: bytesToHex(Q) } };
    },
  };
}

/**
 * Re-sharing (Backup and Recover have the same shape here): the client picks its new share y2 and sends
 * d = x2 - y2 with Y2 = y2·G; the custodian's new share is y1 = x1 + d, and both check Y1 + Y2 = Q.
 */
function reshareClient(curve: Curve, oldShare: Uint8Array): Party<ShareResult> {
  const g = groupOf(curve);
  const { x, publicKey } = decodeShare(curve, oldShare);
  const y = randomScalar(g);
  const Y = g.mulBase(y);
  return {
    start: () => [concatBytes(to32(mod(x - y, g.n)), Y)],
    receive(msg) {
      const Y1 = readPoint(g, msg);
      if (!equal(g.add(Y1, Y), publicKey)) throw new TandemError('DKG_FAILED', { details: { simulated: true } });
      return { messages: [], result: { share: encodeShare(g, y, publicKey), publicKey: bytesToHex(publicKey) } };
    },
  };
}

function reshareCustodian(curve: Curve, oldShare: Uint8Array): Party<ShareResult> {
  const g = groupOf(curve);
  const { x, publicKey } = decodeShare(curve, oldShare);
  return {
    start: () => [],
    receive(msg) {
      if (msg.length !== 32 + g.pointBytes) throw malformed('reshare');
      const d = readScalar(g, msg.subarray(0, 32));
      const Y2 = readPoint(g, msg.subarray(32));
      const y = mod(x + d, g.n);
      if (y === 0n) throw malformed('reshare');
      const Y1 = g.mulBase(y);
      if (!equal(g.add(Y1, Y2), publicKey)) throw new TandemError('DKG_FAILED', { details: { simulated: true } });
      return { messages: [Y1], result: { share: encodeShare(g, y, publicKey), publicKey: bytesToHex(publicKey) } };
    },
  };
}

/** INSECURE by design: the client hands its share to the custodian, which signs with the sum. */
function signClient(curve: Curve, share: Uint8Array, digest: Uint8Array): Party<{ signature: Uint8Array }> {
  const { x } = decodeShare(curve, share);
  return {
    start: () => [concatBytes(to32(x), digest)],
    receive(msg) {
      if (msg.length !== 64) throw malformed('signature');
      return { messages: [], result: { signature: msg.slice() } };
    },
  };
}

function signCustodian(curve: Curve, share: Uint8Array, digest: Uint8Array): Party<{ signature: Uint8Array }> {
  const g = groupOf(curve);
  const { x, publicKey } = decodeShare(curve, share);
  return {
    start: () => [],
    receive(msg) {
      const x2 = readScalar(g, msg.subarray(0, 32));
      if (!equal(msg.subarray(32), digest)) throw malformed('digest');
      const secret = mod(x + x2, g.n);
      const signature = curve === 'SECP256K1' ? secp256k1.sign(digest, to32(secret), { prehash: false }) : ed25519SignWithScalar(secret, publicKey, digest);
      return { messages: [signature], result: { signature } };
    },
  };
}

/** RFC 8032 signing from a bare scalar (an additive key has no seed); the nonce is random. */
function ed25519SignWithScalar(s: bigint, publicKey: Uint8Array, message: Uint8Array): Uint8Array {
  const n = ed.n;
  const r = randomScalar(ed);
  const R = ed25519.Point.BASE.multiply(r).toBytes();
  const k = mod(toBigLE(sha512(concatBytes(R, publicKey, message))), n);
  const S = mod(r + k * s, n);
  return concatBytes(R, to32(S).reverse());
}

const toBigLE = (b: Uint8Array) => toBig(b.slice().reverse());

function verify(curve: Curve, publicKey: string, digest: Uint8Array, signature: Uint8Array): boolean {
  try {
    return curve === 'SECP256K1'
      ? secp256k1.verify(signature, digest, hexToBytes(publicKey), { prehash: false, lowS: true })
      : ed25519.verify(signature, digest, hexToBytes(publicKey), { zip215: false });
  } catch {
    return false;
  }
}

/** The client side of the simulation (its parties ignore the session's party ids). */
export function simulatedClientMpc(): ClientMpc {
  return {
    generate: (curve) => () => keygenParty(curve, true),
    backup: (curve, signingShare) => () => reshareClient(curve, signingShare),
    recover: (curve, backupShare) => () => reshareClient(curve, backupShare),
    sign: (curve, share, _request, message) => () => signClient(curve, share, message),
    publicKeyOf: (curve, share) => bytesToHex(decodeShare(curve, share).publicKey),
    verify,
    combineBackupShares(curve, client, custodian) {
      // Simulated shares are additive: the secret is their sum (ED25519 as a little-endian scalar).
      const g = groupOf(curve);
      const x = mod(decodeShare(curve, client).x + decodeShare(curve, custodian).x, g.n);
      const publicKey = bytesToHex(g.mulBase(x));
      if (publicKey !== bytesToHex(decodeShare(curve, client).publicKey)) throw malformed('backup shares');
      return { secret: curve === 'SECP256K1' ? to32(x) : to32(x).reverse(), publicKey };
    },
    proveCurrentBackup(curve, clientBackupShare, context) {
      // A plain Schnorr proof of the client share's scalar, bound to the context (the simulation's own).
      const g = groupOf(curve);
      const { x } = decodeShare(curve, clientBackupShare);
      const X = g.mulBase(x);
      const k = randomScalar(g);
      const R = g.mulBase(k);
      const e = replacementChallenge(g, R, X, context);
      return concatBytes(R, to32(mod(k + e * x, g.n)));
    },
  };
}

function replacementChallenge(g: Group, R: Uint8Array, X: Uint8Array, c: ReplacementProofContext): bigint {
  const te = new TextEncoder();
  return mod(toBig(sha512(concatBytes(te.encode('simulated/replacement'), R, X, c.challenge, c.pid1, c.pid2, te.encode(c.backupPairId), te.encode(c.method)))), g.n);
}

/**
 * The custodian's check of a simulated proof of the current backup, against its own backup share of the
 * pair (the client's public share is the key minus the custodian's, the shares being additive).
 */
export function simulatedVerifyCurrentBackup(curve: Curve, custodianBackupShare: Uint8Array, proof: Uint8Array, context: ReplacementProofContext): boolean {
  try {
    const g = groupOf(curve);
    const { x: x1, publicKey } = decodeShare(curve, custodianBackupShare);
    const negX1 = g.mulBase(mod(-x1, g.n));
    const X2 = g.add(publicKey, negX1);
    if (proof.length !== g.pointBytes + 32) return false;
    const R = g.check(proof.subarray(0, g.pointBytes));
    const z = toBig(proof.subarray(g.pointBytes));
    if (z >= g.n) return false;
    const e = replacementChallenge(g, R, X2, context);
    const rhs = e === 0n ? R : g.add(R, mulPoint(curve, X2, e));
    return equal(g.mulBase(z), rhs);
  } catch {
    return false;
  }
}

const mulPoint = (curve: Curve, P: Uint8Array, k: bigint): Uint8Array =>
  curve === 'SECP256K1' ? secp256k1.Point.fromBytes(P).multiply(k).toBytes(true) : ed25519.Point.fromBytes(P).multiply(k).toBytes();

/** The custodian side of the simulation; the memory custodian drives these parties. */
export interface CustodianMpc {
  generate(curve: Curve): Party<ShareResult>;
  backup(curve: Curve, custodianSigningShare: Uint8Array): Party<ShareResult>;
  recover(curve: Curve, custodianBackupShare: Uint8Array): Party<ShareResult>;
  sign(curve: Curve, custodianShare: Uint8Array, digest: Uint8Array): Party<{ signature: Uint8Array }>;
}

export function simulatedCustodianMpc(): CustodianMpc {
  return {
    generate: (curve) => keygenParty(curve, false),
    backup: reshareCustodian,
    recover: reshareCustodian,
    sign: signCustodian,
  };
}

/**
 * Test-only: the key a pair of simulated shares adds up to. Lets tests prove a re-sharing preserved the
 * key; the real protocols assemble the key only through an explicit eject.
 */
export function simulatedCombine(curve: Curve, a: Uint8Array, b: Uint8Array): string {
  const g = groupOf(curve);
  return bytesToHex(g.mulBase(mod(decodeShare(curve, a).x + decodeShare(curve, b).x, g.n)));
}
