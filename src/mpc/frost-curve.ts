/**
 * Ed25519 as Tandem's FROST wrapper sees it: the boundary checks every received point and scalar
 * passes before noble's `ed25519_FROST` touches it, the two fixed participant identifiers, and the
 * Lagrange coefficients that turn the pair's Shamir shares into the key.
 *
 * Why checks of our own when noble already validates: noble throws plain `Error`s whose text we must
 * not forward (it may quote an input), and it accepts some encodings our wire must not (it decodes with
 * RFC 8032 rules but does not insist that a point re-encodes to the very bytes received). So a point is
 * accepted only if it is exactly 32 bytes, decodes strictly (y < p, no "negative zero" x), re-encodes to
 * the same bytes, is not the identity, not of small order and lies in the prime-order subgroup; a scalar
 * only if it is 32 little-endian bytes below ℓ. Every failure is `MALFORMED_MESSAGE` naming the field.
 *
 * Identifiers: the custodian is P1 and signs as FROST identifier 1, the client is P2 and signs as 2,
 * in every share set (ECDSA-2PC's roles). Share sets are told apart by their pair id and epoch, not by
 * identifiers, and re-sharing draws a fresh polynomial, so shares of different sets never combine.
 *
 * @example
 * const Y = readEdPoint(r, 'verifying key');
 * const x = lagrange(1) * s1 + lagrange(2) * s2; // mod ℓ: the key, which no party ever computes
 */
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { internal, malformed } from './assert.js';
import { equalBytes } from './bigint.js';
import type { Role } from './session.js';
import type { WireReader, WireWriter } from './wire.js';

export const EdPoint = ed25519.Point;
export type EdPoint = InstanceType<typeof ed25519.Point>;
/** The scalar field, ℓ = 2^252 + 27742317777372353535851937790883648493. */
export const Fn = ed25519_FROST.utils.Fn;
export const ED_POINT_BYTES = 32;
export const ED_SCALAR_BYTES = 32;
/** 2-of-2: both parties sign every time. */
export const SIGNERS = { min: 2, max: 2 } as const;

/** The FROST identifier (noble's canonical hex) of each role: custodian 1, client 2. */
export function identifierOf(role: Role): string {
  return ed25519_FROST.Identifier.fromNumber(role);
}

/** The identifier as its 32 wire bytes. */
export function identifierBytes(role: Role): Uint8Array {
  return Fn.toBytes(BigInt(role));
}

export function otherRole(role: Role): Role {
  return role === 1 ? 2 : 1;
}

/** λ_i for the signer set {1, 2}: λ_1 = 2, λ_2 = −1 (mod ℓ), so x = λ_1·s_1 + λ_2·s_2. */
export function lagrange(role: Role): bigint {
  const i = BigInt(role);
  const j = BigInt(otherRole(role));
  return Fn.div(j, Fn.sub(j, i));
}

/** Checks a decoded point against every rule of the module comment; throws MALFORMED_MESSAGE. */
export function decodeEdPoint(bytes: Uint8Array, field: string): EdPoint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== ED_POINT_BYTES) throw malformed(field, 'a 32-byte point');
  let P: EdPoint;
  try {
    P = EdPoint.fromBytes(bytes, false);
  } catch {
    throw malformed(field, 'a canonical ed25519 point encoding');
  }
  if (!equalBytes(P.toBytes(), bytes)) throw malformed(field, 'a canonical ed25519 point encoding');
  if (P.is0()) throw malformed(field, 'a point other than the identity');
  if (P.isSmallOrder()) throw malformed(field, 'a point not of small order');
  if (!P.isTorsionFree()) throw malformed(field, 'a point in the prime-order subgroup');
  return P;
}

/** A scalar: 32 little-endian bytes below ℓ, and ≠ 0 when `nonzero`. */
export function decodeEdScalar(bytes: Uint8Array, field: string, opts: { readonly nonzero?: boolean } = {}): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== ED_SCALAR_BYTES) throw malformed(field, 'a 32-byte scalar');
  let v: bigint;
  try {
    v = Fn.fromBytes(bytes);
  } catch {
    throw malformed(field, 'a scalar below ℓ');
  }
  if (opts.nonzero === true && v === 0n) throw malformed(field, 'a non-zero scalar');
  return v;
}

export function readEdPoint(r: WireReader, field: string): EdPoint {
  return decodeEdPoint(r.bytes(ED_POINT_BYTES, field), field);
}

export function readEdScalar(r: WireReader, field: string, opts: { readonly nonzero?: boolean } = {}): bigint {
  return decodeEdScalar(r.bytes(ED_SCALAR_BYTES, field), field, opts);
}

/** Reads the 32-byte identifier field and checks it is the one of `role` (the sender's). */
export function readIdentifier(r: WireReader, role: Role, field: string): void {
  const b = r.bytes(ED_SCALAR_BYTES, field);
  if (!equalBytes(b, identifierBytes(role))) throw malformed(field, `the identifier of role ${role}`);
}

export function writeEdPoint(w: WireWriter, P: EdPoint | Uint8Array): void {
  const b = P instanceof Uint8Array ? P : P.toBytes();
  if (b.length !== ED_POINT_BYTES) throw internal('ed25519 point', '32 bytes');
  w.bytes(b, ED_POINT_BYTES);
}

export function writeEdScalar(w: WireWriter, v: bigint | Uint8Array): void {
  const b = v instanceof Uint8Array ? v : Fn.toBytes(v);
  if (b.length !== ED_SCALAR_BYTES) throw internal('ed25519 scalar', '32 bytes');
  w.bytes(b, ED_SCALAR_BYTES);
}

/** Points compare by their canonical bytes. */
export function samePoint(a: EdPoint | Uint8Array, b: EdPoint | Uint8Array): boolean {
  const x = a instanceof Uint8Array ? a : a.toBytes();
  const y = b instanceof Uint8Array ? b : b.toBytes();
  return equalBytes(x, y);
}
