import { describe, expect, it } from 'vitest';
import { MemoryKeychain } from '../../src/adapters/memory-keychain.js';
import { Vault } from '../../src/machines/vault.js';

describe('vault', () => {
  it('hands out opaque handles, zeroes bytes on delete and reports lost handles as SHARE_LOST', () => {
    const vault = new Vault();
    const secret = new Uint8Array([1, 2, 3]);
    const h = vault.put(secret, 'share');
    expect(h).toMatch(/^vault:share:[0-9a-f]{16}$/);
    expect(vault.get(h)).toBe(secret);
    vault.delete(h);
    expect(secret).toEqual(new Uint8Array(3));
    expect(() => vault.get(h)).toThrow(expect.objectContaining({ code: 'SHARE_LOST' }));
    vault.put(new Uint8Array(1), 'x');
    vault.wipe();
    expect(vault.size).toBe(0);
  });
});

describe('memory keychain', () => {
  it('never overwrites an entry in place, and lists by prefix', async () => {
    const k = new MemoryKeychain();
    await k.set('w/SECP256K1/a', new Uint8Array([1]));
    await k.set('w/SECP256K1/a', new Uint8Array([1]));
    await expect(k.set('w/SECP256K1/a', new Uint8Array([2]))).rejects.toMatchObject({ code: 'KEYCHAIN_FAILED' });
    await k.set('w/ED25519/b', new Uint8Array([3]));
    expect(await k.keys('w/')).toEqual(['w/ED25519/b', 'w/SECP256K1/a']);
    expect(await k.get('w/SECP256K1/a')).toEqual(new Uint8Array([1]));
    await k.delete('w/SECP256K1/a');
    expect(await k.get('w/SECP256K1/a')).toBeUndefined();
    k.failNextWrite();
    await expect(k.set('w/x/y', new Uint8Array([1]))).rejects.toMatchObject({ code: 'KEYCHAIN_FAILED' });
    await k.set('w/x/y', new Uint8Array([1]));
  });
});
