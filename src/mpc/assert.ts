/**
 * Boundary checks for src/mpc. Every value from the other party passes one of these before anything
 * else touches it, so nothing malformed travels inward (STYLE.md). The errors name the field and the
 * rule that failed, never the value: a rejected value may be a secret the peer sent by mistake, and
 * error details end up in logs (DESIGN §6).
 *
 * Two kinds of failure, kept apart on purpose:
 * - `malformed`: the bytes or shapes are wrong (length, count, encoding, a static bound). Always
 *   `MALFORMED_MESSAGE`.
 * - `rejected`: a well-formed value fails a cryptographic check (a proof equation, a range that depends
 *   on a modulus, an opening). The code is the one of the protocol that ran it (`DKG_FAILED`, …).
 */
import { TandemError, type ErrorCode } from '../errors.js';

/** A decoding or shape failure. `expected` says what was wanted, in words; never the value received. */
export function malformed(field: string, expected: string): TandemError {
  return new TandemError('MALFORMED_MESSAGE', { details: { field, expected } });
}

/** A failed cryptographic check of `proof` (or of a protocol step), reported with the protocol's code. */
export function rejected(code: ErrorCode, proof: string, check: string): TandemError {
  return new TandemError(code, { details: { proof, check } });
}

/** A caller-side bug (a local value that should never be out of range). */
export function internal(what: string, expected: string): TandemError {
  return new TandemError('INTERNAL', { details: { field: what, expected } });
}

export function assertBytes(value: unknown, length: number, field: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) throw malformed(field, `${length} bytes`);
}

/** Bytes of one of the given lengths (a commitment context is 16 or 32 bytes). */
export function assertBytesOf(value: unknown, lengths: readonly number[], field: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || !lengths.includes(value.length)) {
    throw malformed(field, `${lengths.join(' or ')} bytes`);
  }
}

/** An array of exactly `count` entries (the fixed repetition counts of §1.2). */
export function assertCount<T>(value: readonly T[], count: number, field: string): void {
  if (!Array.isArray(value) || value.length !== count) throw malformed(field, `exactly ${count} entries`);
}
