import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { G, q } from '../../src/mpc/curve.js';
import { boundBytes, decodeAll, encodeWith, WireReader } from '../../src/mpc/wire.js';
import { errorCode } from './helpers.js';

const BOUND = q << 64n;

describe('fixed-width wire encoding (§1.8)', () => {
  it('round-trips scalars, points, fixed elements, bounded integers and bytes (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: q - 1n }),
        fc.bigInt({ min: 1n, max: 10_000n }),
        fc.bigInt({ min: 0n, max: (1n << 2048n) - 1n }),
        fc.bigInt({ min: 0n, max: BOUND - 1n }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (s, k, el, b, bytes) => {
          const P = G.multiply(k);
          const enc = encodeWith((w) => w.scalar(s).point(P).fixed(el, 256).bounded(b, BOUND).bytes(bytes, 16));
          const out = decodeAll(enc, (r) => [r.scalar('s'), r.point('P'), r.fixed(256, 'el'), r.bounded(BOUND, 'b'), r.bytes(16, 'x')] as const);
          expect(out[0]).toBe(s);
          expect(out[1].equals(P)).toBe(true);
          expect(out[2]).toBe(el);
          expect(out[3]).toBe(b);
          expect(out[4]).toEqual(bytes);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('bounded integers: 0 is the empty string; leading zeros, over-long lengths and v ≥ bound are malformed', () => {
    expect(encodeWith((w) => w.bounded(0n, BOUND))).toEqual(new Uint8Array([0, 0]));
    const read = (bytes: number[]): string => errorCode(() => decodeAll(Uint8Array.from(bytes), (r) => r.bounded(BOUND, 'z')));
    expect(read([0, 0])).toBe('none');
    expect(read([0, 1, 0])).toBe('MALFORMED_MESSAGE'); // 0 with a leading zero
    expect(read([0, 2, 0, 5])).toBe('MALFORMED_MESSAGE'); // leading zero
    expect(read([0, boundBytes(BOUND) + 1, ...new Array<number>(boundBytes(BOUND) + 1).fill(1)])).toBe('MALFORMED_MESSAGE');
    expect(read([0, 3, 1, 2])).toBe('MALFORMED_MESSAGE'); // truncated
    expect(read([0, 1, 5, 9])).toBe('MALFORMED_MESSAGE'); // trailing byte
    const atBound = encodeWith((w) => w.fixed(BOUND, boundBytes(BOUND)));
    expect(errorCode(() => decodeAll(Uint8Array.from([0, atBound.length, ...atBound]), (r) => r.bounded(BOUND, 'z')))).toBe(
      'MALFORMED_MESSAGE',
    );
    expect(boundBytes(512n)).toBe(2);
    expect(boundBytes(256n)).toBe(1);
  });

  it('scalars ≥ q, zero where non-zero is required, and bad points are malformed', () => {
    const qBytes = encodeWith((w) => w.fixed(q, 32));
    expect(errorCode(() => decodeAll(qBytes, (r) => r.scalar('s')))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => decodeAll(new Uint8Array(32), (r) => r.scalar('k', { nonzero: true })))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => decodeAll(new Uint8Array(32), (r) => r.scalar('z')))).toBe('none');
    const P = G.toBytes(true);
    const bad = (mutate: (b: Uint8Array) => void): string => {
      const b = P.slice();
      mutate(b);
      return errorCode(() => decodeAll(b, (r) => r.point('P')));
    };
    expect(bad(() => undefined)).toBe('none');
    expect(bad((b) => (b[0] = 0x04))).toBe('MALFORMED_MESSAGE');
    expect(bad((b) => (b[0] = 0x00))).toBe('MALFORMED_MESSAGE');
    expect(bad((b) => b.fill(0xff, 1))).toBe('MALFORMED_MESSAGE'); // x ≥ p
    expect(bad((b) => b.fill(0, 1))).toBe('MALFORMED_MESSAGE'); // x = 0: not on the curve
    expect(errorCode(() => decodeAll(new Uint8Array(1), (r) => r.point('P')))).toBe('MALFORMED_MESSAGE'); // 00 (O)
    expect(errorCode(() => decodeAll(G.toBytes(false), (r) => r.point('P')))).toBe('MALFORMED_MESSAGE'); // uncompressed
  });

  it('random bytes never crash a reader: a value or MALFORMED_MESSAGE (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const code = errorCode(() =>
          decodeAll(bytes, (r) => [r.point('P'), r.bounded(BOUND, 'b'), r.scalar('s'), r.fixed(256, 'x', 1n << 2040n)]),
        );
        expect(['none', 'MALFORMED_MESSAGE']).toContain(code);
      }),
      { numRuns: 500 },
    );
  });

  it('a reader rejects non-bytes input', () => {
    // @ts-expect-error: not bytes
    expect(errorCode(() => new WireReader('abc'))).toBe('MALFORMED_MESSAGE');
  });
});
