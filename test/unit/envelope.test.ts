import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newDataKey, openBackupShare, parseEnvelope, sealBackupShare } from '../../src/machines/envelope.js';

describe('backup envelope', () => {
  const share = new Uint8Array(70).map((_, i) => i);

  it('round-trips with and without a wrapped key', () => {
    for (const wrappedKey of [null, new Uint8Array([1, 2, 3])]) {
      const dataKey = newDataKey();
      const bytes = sealBackupShare({ backupPairId: 'bkp_1', dataKey, wrappedKey, share });
      const env = parseEnvelope(bytes);
      expect(env.wrappedKey).toEqual(wrappedKey);
      expect(openBackupShare({ backupPairId: 'bkp_1', dataKey, envelope: env })).toEqual(share);
    }
  });

  it('fails with DECRYPT_FAILED under another pair id, another key or any flipped bit', () => {
    const dataKey = newDataKey();
    const bytes = sealBackupShare({ backupPairId: 'bkp_1', dataKey, wrappedKey: null, share });
    expect(() => openBackupShare({ backupPairId: 'bkp_2', dataKey, envelope: parseEnvelope(bytes) })).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
    expect(() => openBackupShare({ backupPairId: 'bkp_1', dataKey: newDataKey(), envelope: parseEnvelope(bytes) })).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
    fc.assert(
      fc.property(fc.integer({ min: 3, max: bytes.length - 1 }), fc.integer({ min: 0, max: 7 }), (i, bit) => {
        const t = bytes.slice();
        t[i]! ^= 1 << bit;
        expect(() => openBackupShare({ backupPairId: 'bkp_1', dataKey, envelope: parseEnvelope(t) })).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects malformed bytes with a typed error, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        try {
          parseEnvelope(bytes);
        } catch (e) {
          expect(e).toMatchObject({ code: 'DECRYPT_FAILED' });
        }
      }),
      { numRuns: 500 },
    );
  });
});
