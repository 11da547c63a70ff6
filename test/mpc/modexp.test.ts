import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bigintArith, FixedBase, windowedPowMod } from '../../src/mpc/modexp.js';
import { errorCode } from './helpers.js';

/** Square-and-multiply, the plainest reference. */
function naive(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n % m;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

describe('modular exponentiation backend (§4)', () => {
  it('the windowed reference equals square-and-multiply (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1n << 600n }),
        fc.bigInt({ min: 0n, max: 1n << 1200n }),
        fc.bigInt({ min: 2n, max: 1n << 600n }),
        (b, e, m) => {
          expect(windowedPowMod(b, e, m)).toBe(naive(b, e, m));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('handles the edges: exponent 0, base 0, base ≥ m, negative base, modulus 2', () => {
    expect(windowedPowMod(5n, 0n, 7n)).toBe(1n);
    expect(windowedPowMod(0n, 5n, 7n)).toBe(0n);
    expect(windowedPowMod(9n, 2n, 7n)).toBe(4n);
    expect(windowedPowMod(-2n, 3n, 7n)).toBe(6n);
    expect(windowedPowMod(3n, 5n, 2n)).toBe(1n);
    expect(bigintArith.powMod(2n, 10n, 1000n)).toBe(24n);
    expect(errorCode(() => windowedPowMod(2n, -1n, 7n))).toBe('INTERNAL');
    expect(errorCode(() => windowedPowMod(2n, 1n, 1n))).toBe('INTERNAL');
  });

  it('fixed-base tables give the same powers, and fall back past their size (property)', () => {
    const m = (1n << 521n) - 1n;
    const fb = new FixedBase(3n, m, 700);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 900n }), (e) => {
        expect(fb.pow(e)).toBe(naive(3n, e, m));
      }),
      { numRuns: 100 },
    );
    expect(fb.pow(0n)).toBe(1n);
    expect(fb.pow(1n)).toBe(3n);
  });
});
