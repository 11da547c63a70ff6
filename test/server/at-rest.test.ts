import { describe, expect, it } from 'vitest';
import { CustodianRules } from '../../src/custodian/rules.js';
import { encryptedStore, openValue, sealValue, type MasterKeys } from '../../src/server/at-rest.js';
import { SqliteStore } from '../../src/server/store/sqlite.js';

const keys = (current: string, entries: [string, number][]): MasterKeys => ({ current, keys: new Map(entries.map(([id, b]) => [id, new Uint8Array(32).fill(b)])) });

describe('custodian secrets at rest', () => {
  it('never writes a share in the clear, and reads it back through the key id', async () => {
    const sqlite = new SqliteStore(':memory:');
    const v1 = keys('k1', [['k1', 1]]);
    const rules = new CustodianRules({ store: encryptedStore(sqlite, v1) });
    const { walletId } = await rules.createWallet();
    const lease = await rules.acquireLease({ walletId, operation: 'generate', holder: 'h' });
    const share = new Uint8Array(48).map((_, i) => 200 - i);
    const pair = await rules.recordGeneratedPair({ walletId, curve: 'SECP256K1', leaseToken: lease.token, publicKey: '02'.padEnd(66, '1'), custodianShare: share, idempotencyKey: 'key-00000001' });
    await rules.confirmSigningPair({ walletId, pairId: pair.pairId, idempotencyKey: 'key-00000002' });

    const raw = sqlite.db.prepare('SELECT custodian_share FROM signing_pairs').get() as { custodian_share: Buffer };
    expect(Buffer.from(raw.custodian_share).includes(Buffer.from(share))).toBe(false);
    expect(raw.custodian_share.subarray(0, 4).toString()).toBe('tdm1');
    const request = { kind: 'raw', digest: '00' };
    expect((await rules.authorizeSign({ walletId, curve: 'SECP256K1', pairId: pair.pairId, request })).share).toEqual(share);

    // Rotation: a new current key still reads values sealed under the old one.
    const rotated = new CustodianRules({ store: encryptedStore(sqlite, keys('k2', [['k1', 1], ['k2', 2]])) });
    expect((await rotated.authorizeSign({ walletId, curve: 'SECP256K1', pairId: pair.pairId, request })).share).toEqual(share);
    // Without the old key it cannot.
    const lost = new CustodianRules({ store: encryptedStore(sqlite, keys('k2', [['k2', 2]])) });
    await expect(lost.authorizeSign({ walletId, curve: 'SECP256K1', pairId: pair.pairId, request })).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('binds a sealed value to its record: moved elsewhere or tampered, it does not open', () => {
    const k = keys('k1', [['k1', 7]]);
    const sealed = sealValue(k, 'signing/sig_1/share', new Uint8Array([1, 2, 3]));
    expect(openValue(k, 'signing/sig_1/share', sealed)).toEqual(new Uint8Array([1, 2, 3]));
    expect(() => openValue(k, 'signing/sig_2/share', sealed)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    const t = sealed.slice();
    t[t.length - 1]! ^= 1;
    expect(() => openValue(k, 'signing/sig_1/share', t)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => openValue(k, 'signing/sig_1/share', new Uint8Array([1, 2, 3]))).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
