import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { q } from '../../src/mpc/curve.js';
import { encode } from '../../src/mpc/encoding.js';
import { K_RO, label, ro, ro128, roBits, roNum, xof, XofStream } from '../../src/mpc/oracle.js';
import { itemsFromJson } from '../fixtures/mpc/items.js';
import { big, errorCode, vectors } from './helpers.js';

describe('random oracle and XOF (§1.6), against the committed vectors', () => {
  it('K_RO is the first 16 bytes of SHA-256("Tandem Random Oracle Key")', () => {
    expect(bytesToHex(K_RO)).toBe('6f43cd4bf7bc5bfc7715a63cadaf7e35');
    expect(bytesToHex(sha256(utf8ToBytes('Tandem Random Oracle Key')).slice(0, 16))).toBe(vectors.K_RO);
  });

  it('Enc, RO, RO_128 and RO_num (for q and a 2048-bit n) over an item list using every row', () => {
    const o = vectors.oracle;
    const items = itemsFromJson(o.items);
    expect(bytesToHex(encode(...items))).toBe(o.enc);
    expect(bytesToHex(ro(...items))).toBe(o.ro);
    expect(bytesToHex(ro128(...items))).toBe(o.ro128);
    expect(roNum(items, q)).toBe(big(o.roNumQ));
    const n = big(o.n2048);
    expect(n.toString(2).length).toBe(2048);
    expect(roNum(items, n)).toBe(big(o.roNumN));
  });

  it('RO_ℓ is a prefix of RO of ⌈ℓ/8⌉ bytes', () => {
    const full = ro('x');
    expect(roBits(128, 'x')).toEqual(full.slice(0, 16));
    expect(roBits(1, 'x')).toEqual(full.slice(0, 1));
    expect(roBits(256, 'x')).toEqual(full);
    expect(errorCode(() => roBits(257, 'x'))).toBe('INTERNAL');
    expect(errorCode(() => roBits(0, 'x'))).toBe('INTERNAL');
  });

  it('labels are TANDEM-ECDSA2PC-v1/<path>', () => {
    expect(label('sign/pi_sign')).toBe('TANDEM-ECDSA2PC-v1/sign/pi_sign');
  });

  it('the XOF is SHAKE256 (FIPS 202 vectors through Tandem’s own call)', () => {
    for (const v of vectors.xof.fips202) expect(bytesToHex(xof(hexToBytes(v.msg), 32))).toBe(v.out);
    const t = vectors.xof.tandem;
    expect(bytesToHex(xof(hexToBytes(t.seed), t.n))).toBe(t.out);
  });

  it('successive draws read consecutive bytes of one SHAKE256 stream (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 6 }), (seed, sizes) => {
        const s = new XofStream(seed);
        const drawn = concatBytes(...sizes.map((n) => s.next(n)));
        expect(drawn).toEqual(xof(seed, drawn.length));
      }),
      { numRuns: 100 },
    );
  });

  it('RO_num lies in [0, n) (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 2n, max: 1n << 300n }), fc.uint8Array({ maxLength: 8 }), (n, b) => {
        const v = roNum([b], n);
        expect(v >= 0n && v < n).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
