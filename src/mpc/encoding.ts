/**
 * `Enc`, the hash-input encoding of §1.5. Every item carries its length (arrays their count), so two
 * different item lists never encode to the same bytes: the defence against TSSHOCK's α-shuffle, where
 * an ambiguous encoding let a prover move bytes between adjacent fields.
 *
 * Items are typed, because the same number means different bytes as an integer (minimal bytes), as a
 * 32-bit field or as a 64-bit field: `u32(v)` and `u64(v)` say which. A string is its UTF-8 bytes.
 *
 * @example
 * encode(label('dkg/sid'), u64(0), pid1, pid2, sid1, sid2)
 */
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { internal } from './assert.js';
import { minBytes } from './bigint.js';
import { isPoint, type Point } from './curve.js';

/** A 32-bit field (`l`). */
export class U32 {
  constructor(readonly value: number) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw internal('u32', 'an integer in [0, 2^32)');
  }
}

/** A 64-bit field (`aux`, `epoch`). */
export class U64 {
  readonly value: bigint;
  constructor(value: bigint | number) {
    const v = typeof value === 'number' ? (Number.isSafeInteger(value) ? BigInt(value) : -1n) : value;
    if (v < 0n || v >= 1n << 64n) throw internal('u64', 'an integer in [0, 2^64)');
    this.value = v;
  }
}

export const u32 = (v: number): U32 => new U32(v);
export const u64 = (v: bigint | number): U64 => new U64(v);

export type EncItem = Uint8Array | string | bigint | Point | U32 | U64 | readonly EncItem[];

function be32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, false);
  return out;
}

function prefixed(b: Uint8Array): Uint8Array[] {
  return [be32(b.length), b];
}

function encodeInto(item: EncItem, out: Uint8Array[]): void {
  if (item instanceof Uint8Array) {
    out.push(...prefixed(item));
  } else if (typeof item === 'string') {
    out.push(...prefixed(utf8ToBytes(item)));
  } else if (typeof item === 'bigint') {
    if (item < 0n) throw internal('Enc', 'a non-negative integer');
    out.push(...prefixed(minBytes(item)));
  } else if (item instanceof U32) {
    out.push(be32(4), be32(item.value));
  } else if (item instanceof U64) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, item.value, false);
    out.push(be32(8), b);
  } else if (Array.isArray(item)) {
    if (item.length > 0xffff_ffff) throw internal('Enc', 'an array of fewer than 2^32 items');
    out.push(be32(item.length));
    for (const x of item as readonly EncItem[]) encodeInto(x, out);
  } else if (isPoint(item)) {
    // O has no encoding (§1.5): every point is checked before it is hashed, so this is a caller bug.
    if (item.is0()) throw internal('Enc', 'a point other than O');
    out.push(be32(33), item.toBytes(true));
  } else {
    throw internal('Enc', 'bytes, a string, an integer, a point, u32, u64 or an array');
  }
}

/** Enc(i_1) ‖ … ‖ Enc(i_n). */
export function encode(...items: readonly EncItem[]): Uint8Array {
  const out: Uint8Array[] = [];
  for (const item of items) encodeInto(item, out);
  return concatBytes(...out);
}
