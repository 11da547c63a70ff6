/**
 * secp256k1 as this protocol sees it: the group order q, the generator G, and points that are always
 * valid and never O. noble does the arithmetic; this file adds the checks of §5.1 at the boundary so
 * the proofs can assume a `Point` they receive is on the curve and not the identity.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js';
import { malformed } from './assert.js';
import { randomInRange } from './bigint.js';

export type Point = WeierstrassPoint<bigint>;
export const Point = secp256k1.Point;

/** The group order q of §0, bits(q) = 256. */
export const q: bigint = Point.Fn.ORDER;
/** The generator G. */
export const G: Point = Point.BASE;

export const POINT_BYTES = 33;
export const SCALAR_BYTES = 32;

export function isPoint(value: unknown): value is Point {
  return value instanceof Point;
}

/** True when P is a valid curve point other than O (noble points may be built unchecked). */
export function isValidNonIdentity(P: Point): boolean {
  if (!isPoint(P) || P.is0()) return false;
  try {
    P.assertValidity();
    return true;
  } catch {
    return false;
  }
}

/** §5.1 "point": exactly 33 bytes, prefix 02 or 03, x < p, on the curve, ≠ O. */
export function decodePoint(bytes: Uint8Array, field: string): Point {
  if (bytes.length !== POINT_BYTES) throw malformed(field, 'a 33-byte compressed point');
  if (bytes[0] !== 0x02 && bytes[0] !== 0x03) throw malformed(field, 'a compressed point prefix 02 or 03');
  let P: Point;
  try {
    P = Point.fromBytes(bytes);
  } catch {
    throw malformed(field, 'a point on secp256k1');
  }
  if (P.is0()) throw malformed(field, 'a point other than O');
  return P;
}

/** A fresh share or nonce, k ←$ [1, q) (Δ3). */
export function randomScalar(): bigint {
  return randomInRange(1n, q);
}
