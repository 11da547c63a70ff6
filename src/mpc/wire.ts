/**
 * The fixed-width wire encoding of §1.8. Fields of a fixed modulus travel at fixed width (scalars 32,
 * points 33, Z_N / Z_P / Z_Ñ elements 256, Z_N² elements 512 bytes); bounded integers (responses) as a
 * u16 length and minimal bytes; arrays with the exact counts of §1.2 and no count on the wire. So every
 * value has exactly one encoding, and a reader can reject anything else before a byte of it is used.
 *
 * The reader never reads past its input, never allocates more than its input, and every failure is a
 * `MALFORMED_MESSAGE` naming the field. Checks that need a modulus the reader does not know (v < N,
 * gcd, subgroup) belong to the proof verifiers.
 *
 * @example
 * const w = new WireWriter(); w.point(Q); w.scalar(z); const bytes = w.finish();
 * const r = new WireReader(bytes); const Q2 = r.point('Q'); const z2 = r.scalar('z'); r.end();
 */
import { concatBytes } from '@noble/hashes/utils.js';
import { internal, malformed } from './assert.js';
import { bitLength, bytesToBigint, minBytes, toFixedBytes } from './bigint.js';
import { decodePoint, POINT_BYTES, q, SCALAR_BYTES, type Point } from './curve.js';

/** Width of Z_N, Z_P and Z_Ñ elements (2048-bit moduli). */
export const ELEMENT_BYTES = 256;
/** Width of Z_N² elements. */
export const ELEMENT2_BYTES = 512;

/** The byte size of the largest value below `bound`, i.e. the most a bounded field may use. */
export function boundBytes(bound: bigint): number {
  return Math.ceil(bitLength(bound - 1n) / 8);
}

export class WireWriter {
  readonly #parts: Uint8Array[] = [];

  /** Raw bytes of a fixed length the reader knows (ids, commitments, keys). */
  bytes(b: Uint8Array, length: number): this {
    if (b.length !== length) throw internal('wire bytes', `${length} bytes`);
    this.#parts.push(b.slice());
    return this;
  }

  /** A scalar mod q, 32 bytes. */
  scalar(v: bigint): this {
    if (v < 0n || v >= q) throw internal('wire scalar', 'a scalar in [0, q)');
    this.#parts.push(toFixedBytes(v, SCALAR_BYTES));
    return this;
  }

  /** A point, 33 bytes compressed. */
  point(P: Point): this {
    if (P.is0()) throw internal('wire point', 'a point other than O');
    this.#parts.push(P.toBytes(true));
    return this;
  }

  /** A non-negative integer at fixed width (256 for Z_N, Z_P, Z_Ñ; 512 for Z_N²). */
  fixed(v: bigint, width: number): this {
    this.#parts.push(toFixedBytes(v, width));
    return this;
  }

  /** A bounded integer 0 ≤ v < bound: be16(len) ‖ minbytes(v). */
  bounded(v: bigint, bound: bigint): this {
    if (v < 0n || v >= bound) throw internal('wire bounded', 'a value below its bound');
    const b = minBytes(v);
    if (b.length > 0xffff) throw internal('wire bounded', 'at most 65535 bytes');
    this.#parts.push(new Uint8Array([b.length >> 8, b.length & 0xff]), b);
    return this;
  }

  finish(): Uint8Array {
    return concatBytes(...this.#parts);
  }
}

export class WireReader {
  readonly #bytes: Uint8Array;
  #pos = 0;

  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) throw malformed('message', 'bytes');
    this.#bytes = bytes;
  }

  #take(n: number, field: string, expected: string): Uint8Array {
    if (this.#bytes.length - this.#pos < n) throw malformed(field, expected);
    const out = this.#bytes.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  bytes(length: number, field: string): Uint8Array {
    return this.#take(length, field, `${length} bytes`);
  }

  /** A scalar: 32 bytes, < q, and ≥ 1 when `nonzero` (shares and nonces). */
  scalar(field: string, opts: { readonly nonzero?: boolean } = {}): bigint {
    const v = bytesToBigint(this.#take(SCALAR_BYTES, field, 'a 32-byte scalar'));
    if (v >= q) throw malformed(field, 'a scalar below q');
    if (opts.nonzero === true && v === 0n) throw malformed(field, 'a non-zero scalar');
    return v;
  }

  /** A point: 33 bytes, 02/03, x < p, on the curve, ≠ O (§5.1). */
  point(field: string): Point {
    return decodePoint(this.#take(POINT_BYTES, field, 'a 33-byte point'), field);
  }

  /** A fixed-width element; `bound`, when given, is checked (v < bound). */
  fixed(width: number, field: string, bound?: bigint): bigint {
    const v = bytesToBigint(this.#take(width, field, `a ${width}-byte element`));
    if (bound !== undefined && v >= bound) throw malformed(field, 'a value below its modulus');
    return v;
  }

  /**
   * A bounded integer 0 ≤ v < bound: be16 length, then minimal bytes. Rejects a length beyond the
   * bound's byte size (before reading it), a leading zero byte, and v ≥ bound.
   */
  bounded(bound: bigint, field: string): bigint {
    const lenBytes = this.#take(2, field, 'a 2-byte length');
    const len = ((lenBytes[0] ?? 0) << 8) | (lenBytes[1] ?? 0);
    if (len > boundBytes(bound)) throw malformed(field, `at most ${boundBytes(bound)} bytes`);
    const b = this.#take(len, field, `${len} bytes`);
    if (len > 0 && b[0] === 0) throw malformed(field, 'a minimal encoding (no leading zero)');
    const v = bytesToBigint(b);
    if (v >= bound) throw malformed(field, 'a value below its bound');
    return v;
  }

  /** `count` entries read by `read`: the exact counts of §1.2, with no count on the wire. */
  array<T>(count: number, read: (i: number) => T): T[] {
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(read(i));
    return out;
  }

  /** The message must end here: trailing bytes are malformed. */
  end(): void {
    if (this.#pos !== this.#bytes.length) throw malformed('message', 'no trailing bytes');
  }
}

/** Runs `read` over all of `bytes` and requires it to consume them exactly. */
export function decodeAll<T>(bytes: Uint8Array, read: (r: WireReader) => T): T {
  const r = new WireReader(bytes);
  const out = read(r);
  r.end();
  return out;
}

/** Runs `write` into a fresh writer. */
export function encodeWith(write: (w: WireWriter) => void): Uint8Array {
  const w = new WireWriter();
  write(w);
  return w.finish();
}
