import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { G, Point } from '../../src/mpc/curve.js';
import { encode, u32, U32, u64, U64, type EncItem } from '../../src/mpc/encoding.js';
import { ro } from '../../src/mpc/oracle.js';
import { errorCode } from './helpers.js';

const hex = (b: Uint8Array): string => bytesToHex(b);

/**
 * Injectivity is per schema: the RO call sites fix the type of every position (an integer and a byte
 * string of its minimal bytes share an encoding, as in cb-mpc). So the property is that, for any schema,
 * a parser that knows only the schema recovers the values from Enc exactly and consumes every byte:
 * Enc has a left inverse, hence is injective.
 */
type Schema = 'bytes' | 'int' | 'point' | 'u32' | 'u64' | { readonly array: Schema };

const schemaArb: fc.Arbitrary<Schema> = fc.letrec<{ s: Schema }>((tie) => ({
  s: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Schema>('bytes', 'int', 'point', 'u32', 'u64'),
    tie('s').map((inner) => ({ array: inner })),
  ),
})).s;

function valueArb(s: Schema): fc.Arbitrary<EncItem> {
  if (s === 'bytes') return fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.string({ maxLength: 6 }));
  if (s === 'int') return fc.bigInt({ min: 0n, max: (1n << 90n) - 1n });
  if (s === 'point') return fc.bigInt({ min: 1n, max: 500n }).map((k) => G.multiply(k));
  if (s === 'u32') return fc.nat().map((v) => u32(v));
  if (s === 'u64') return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => u64(v));
  return fc.array(valueArb(s.array), { maxLength: 3 });
}

const listArb = fc
  .array(schemaArb, { maxLength: 6 })
  .chain((schema) => fc.tuple(fc.constant(schema), fc.tuple(...schema.map(valueArb))));

/** A parser for Enc that knows only the schema. Throws on anything not exactly one encoding. */
function parse(bytes: Uint8Array, schema: readonly Schema[]): unknown[] {
  let pos = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const be32 = (): number => {
    if (pos + 4 > bytes.length) throw new Error('short');
    const v = view.getUint32(pos, false);
    pos += 4;
    return v;
  };
  const take = (n: number): Uint8Array => {
    if (pos + n > bytes.length) throw new Error('short');
    pos += n;
    return bytes.slice(pos - n, pos);
  };
  const one = (s: Schema): unknown => {
    if (s === 'bytes') return ['b', hex(take(be32()))];
    if (s === 'int') {
      const b = take(be32());
      if (b.length > 0 && b[0] === 0) throw new Error('not minimal');
      return ['i', b.length === 0 ? '0' : BigInt('0x' + hex(b)).toString()];
    }
    if (s === 'point') {
      if (be32() !== 33) throw new Error('point length');
      return ['p', Point.fromBytes(take(33)).toHex(true)];
    }
    if (s === 'u32') {
      if (be32() !== 4) throw new Error('u32 length');
      return ['u32', be32()];
    }
    if (s === 'u64') {
      if (be32() !== 8) throw new Error('u64 length');
      return ['u64', BigInt('0x' + hex(take(8))).toString()];
    }
    const count = be32();
    return ['a', Array.from({ length: count }, () => one(s.array))];
  };
  const out = schema.map(one);
  if (pos !== bytes.length) throw new Error('trailing bytes');
  return out;
}

/** The values as the parser reports them. */
function describeValues(items: readonly EncItem[]): unknown[] {
  const d = (x: EncItem): unknown => {
    if (x instanceof Uint8Array) return ['b', hex(x)];
    if (typeof x === 'string') return ['b', hex(utf8ToBytes(x))];
    if (typeof x === 'bigint') return ['i', x.toString()];
    if (Array.isArray(x)) return ['a', (x as readonly EncItem[]).map(d)];
    if (x instanceof Point) return ['p', x.toHex(true)];
    if (x instanceof U32) return ['u32', x.value];
    return ['u64', String((x as U64).value)];
  };
  return items.map(d);
}

describe('Enc (§1.5)', () => {
  it('encodes each row as the spec says', () => {
    expect(hex(encode(new Uint8Array([0xaa, 0xbb])))).toBe('00000002aabb');
    expect(hex(encode('AB'))).toBe('000000024142');
    expect(hex(encode(0n))).toBe('00000000');
    expect(hex(encode(0x0100n))).toBe('000000020100');
    expect(hex(encode(u32(2112)))).toBe('0000000400000840');
    expect(hex(encode(u64(2)))).toBe('000000080000000000000002');
    expect(hex(encode(G))).toBe('00000021' + G.toHex(true));
    expect(hex(encode([1n, new Uint8Array([7])]))).toBe('00000002' + '0000000101' + '0000000107');
    expect(hex(encode([]))).toBe('00000000');
  });

  it('refuses a negative integer, O and out-of-range fields', () => {
    expect(errorCode(() => encode(-1n))).toBe('INTERNAL');
    expect(errorCode(() => encode(Point.ZERO))).toBe('INTERNAL');
    expect(errorCode(() => encode([1n, [Point.ZERO]]))).toBe('INTERNAL');
    expect(errorCode(() => u32(2 ** 32))).toBe('INTERNAL');
    expect(errorCode(() => u32(-1))).toBe('INTERNAL');
    expect(errorCode(() => u64(1n << 64n))).toBe('INTERNAL');
    expect(errorCode(() => u64(-1))).toBe('INTERNAL');
  });

  it("the spec's injectivity cases (cb-mpc test_ro.cpp) give different RO outputs", () => {
    const b = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
    expect(hex(ro(b('AABBCCDD'), b('EEFF')))).not.toBe(hex(ro(b('AABB'), b('CCDDEEFF'))));
    expect(hex(ro(b(''), b('AABBCC')))).not.toBe(hex(ro(b('AABBCC'))));
    expect(hex(ro([b('AABB'), b('CCDD')]))).not.toBe(hex(ro(b('AABB'), b('CCDD'))));
    expect(hex(ro([1n, 2n]))).not.toBe(hex(ro(1n, 2n)));
    // same number, different types
    expect(hex(encode(u32(5)))).not.toBe(hex(encode(5n)));
    expect(hex(encode(u64(5)))).not.toBe(hex(encode(u32(5))));
  });

  it('is injective: a schema-only parser recovers every value list exactly (property)', () => {
    fc.assert(
      fc.property(listArb, ([schema, values]) => {
        expect(parse(encode(...values), schema)).toEqual(describeValues(values));
      }),
      { numRuns: 1000 },
    );
  });

  it('is injective: two value lists of one schema encode alike only when equal (property)', () => {
    const pairArb = fc
      .array(schemaArb, { minLength: 1, maxLength: 4 })
      .chain((schema) => fc.tuple(fc.tuple(...schema.map(valueArb)), fc.tuple(...schema.map(valueArb))));
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        const same = JSON.stringify(describeValues(a)) === JSON.stringify(describeValues(b));
        expect(hex(encode(...a)) === hex(encode(...b))).toBe(same);
      }),
      { numRuns: 1000 },
    );
  });

  it('is injective under the α-shuffle: moving bytes between adjacent fields changes the encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 16 }), fc.nat(), (a, b, k) => {
        const joined = concatBytes(a, b);
        const cut = k % (joined.length + 1);
        fc.pre(cut !== a.length);
        expect(hex(encode(joined.slice(0, cut), joined.slice(cut)))).not.toBe(hex(encode(a, b)));
      }),
      { numRuns: 1000 },
    );
  });

});
