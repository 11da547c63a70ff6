/**
 * One contract for every Keychain (DESIGN §2): the lifecycle is tested against MemoryKeychain, so a
 * real keychain must behave exactly like it — above all, never overwrite an entry in place, even when
 * two writers race. IndexedDB runs on fake-indexeddb here; the real browser run is BROWSER-TESTING.md's.
 */
import 'fake-indexeddb/auto';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdbKeychain } from '../../src/adapters/idb-keychain.js';
import { MemoryKeychain } from '../../src/adapters/memory-keychain.js';
import { FileKeychain } from '../../src/adapters/node/file-keychain.js';
import type { Keychain } from '../../src/adapters/ports.js';
import { TandemError } from '../../src/errors.js';

interface Storage {
  readonly keychain: Keychain;
  /** A second instance over the same storage, as after a restart; absent where nothing persists. */
  readonly reopen?: () => Keychain;
  readonly dispose?: () => Promise<void>;
}

let dbCounter = 0;

const subjects: { name: string; persistent: boolean; open: () => Promise<Storage> }[] = [
  { name: 'MemoryKeychain', persistent: false, open: async () => ({ keychain: new MemoryKeychain() }) },
  {
    name: 'IdbKeychain',
    persistent: true,
    open: async () => {
      const names = { dbName: `tandem-contract-${++dbCounter}`, storeName: 'keychain' };
      return { keychain: new IdbKeychain(names), reopen: () => new IdbKeychain(names) };
    },
  },
  {
    name: 'FileKeychain',
    persistent: true,
    open: async () => {
      const root = await mkdtemp(join(tmpdir(), 'tandem-keychain-'));
      const directory = join(root, 'keychain');
      return {
        keychain: new FileKeychain(directory),
        reopen: () => new FileKeychain(directory),
        dispose: () => rm(root, { recursive: true, force: true }),
      };
    },
  },
];

const bytes = (...b: number[]) => Uint8Array.from(b);
const OVERWRITE = { code: 'KEYCHAIN_FAILED', shortMessage: 'A keychain entry is never overwritten in place.' };

describe.each(subjects)('$name keeps the Keychain contract', ({ persistent, open }) => {
  let storage: Storage;
  let k: Keychain;

  beforeEach(async () => {
    storage = await open();
    k = storage.keychain;
  });

  afterEach(async () => {
    await storage.dispose?.();
  });

  it('starts empty: a missing key reads as undefined and deleting it is fine', async () => {
    expect(await k.get('w/SECP256K1/p')).toBeUndefined();
    expect(await k.keys('')).toEqual([]);
    await k.delete('w/SECP256K1/p');
  });

  it('stores, reads and deletes entries', async () => {
    await k.set('w/SECP256K1/p1', bytes(1, 2, 3));
    await k.set('w/ED25519/p2', bytes(4));
    await k.set('w/ED25519/empty', new Uint8Array(0));
    expect(await k.get('w/SECP256K1/p1')).toEqual(bytes(1, 2, 3));
    expect(await k.get('w/ED25519/empty')).toEqual(new Uint8Array(0));
    await k.delete('w/SECP256K1/p1');
    expect(await k.get('w/SECP256K1/p1')).toBeUndefined();
    expect(await k.get('w/ED25519/p2')).toEqual(bytes(4));
    // a deleted key is free again, for any bytes
    await k.set('w/SECP256K1/p1', bytes(9));
    expect(await k.get('w/SECP256K1/p1')).toEqual(bytes(9));
  });

  it('lists keys by prefix, sorted', async () => {
    for (const key of ['w1/SECP256K1/b', 'w1/ED25519/a', 'w10/SECP256K1/c', 'w2/ED25519/d']) await k.set(key, bytes(1));
    expect(await k.keys('w1/')).toEqual(['w1/ED25519/a', 'w1/SECP256K1/b']);
    expect(await k.keys('w1')).toEqual(['w1/ED25519/a', 'w1/SECP256K1/b', 'w10/SECP256K1/c']);
    expect(await k.keys('w1/SECP256K1/')).toEqual(['w1/SECP256K1/b']);
    expect(await k.keys('')).toEqual(['w1/ED25519/a', 'w1/SECP256K1/b', 'w10/SECP256K1/c', 'w2/ED25519/d']);
    expect(await k.keys('w3/')).toEqual([]);
  });

  it('treats keys as opaque strings: case, dots and slashes are just characters', async () => {
    const keys = ['A/SECP256K1/p', 'a/SECP256K1/p', '../escape', 'w/../../etc', 'wället/ED25519/π'];
    for (const [i, key] of keys.entries()) await k.set(key, bytes(i));
    for (const [i, key] of keys.entries()) expect(await k.get(key)).toEqual(bytes(i));
    expect(await k.keys('')).toEqual([...keys].sort());
  });

  it('keeps binary values intact', async () => {
    const share = new Uint8Array(randomBytes(64 * 1024));
    await k.set('w/SECP256K1/big', share);
    const read = await k.get('w/SECP256K1/big');
    // compared as base64: a deep equal over 64 Ki elements is slow
    expect(read && Buffer.from(read).toString('base64')).toBe(Buffer.from(share).toString('base64'));
  });

  it('returns copies, never aliases, and stores only the bytes of a view', async () => {
    const input = bytes(1, 2, 3);
    await k.set('w/SECP256K1/p', input);
    input.fill(0);
    const first = (await k.get('w/SECP256K1/p'))!;
    expect(first).toEqual(bytes(1, 2, 3));
    first.fill(7);
    expect(await k.get('w/SECP256K1/p')).toEqual(bytes(1, 2, 3));

    const buffer = bytes(0xee, 0xee, 4, 5, 6, 0xee);
    await k.set('w/SECP256K1/view', buffer.subarray(2, 5));
    const read = (await k.get('w/SECP256K1/view'))!;
    expect(read).toEqual(bytes(4, 5, 6));
    expect(read.buffer.byteLength).toBe(3);

    // A Node Buffer's slice() is a view of the same memory: the keychain must still copy.
    const nodeBuffer = Buffer.from([8, 9, 10]);
    await k.set('w/SECP256K1/buffer', nodeBuffer);
    nodeBuffer.fill(0);
    expect(await k.get('w/SECP256K1/buffer')).toEqual(bytes(8, 9, 10));
  });

  it('accepts the same bytes again as a no-op', async () => {
    await k.set('w/SECP256K1/p', bytes(1, 2, 3));
    await k.set('w/SECP256K1/p', bytes(1, 2, 3));
    expect(await k.get('w/SECP256K1/p')).toEqual(bytes(1, 2, 3));
    expect(await k.keys('w/')).toEqual(['w/SECP256K1/p']);
  });

  it('refuses different bytes under an existing key and keeps the old value', async () => {
    await k.set('w/SECP256K1/p', bytes(1, 2, 3));
    for (const other of [bytes(1, 2, 4), bytes(1, 2), bytes(1, 2, 3, 0), new Uint8Array(0)]) {
      const err = await k.set('w/SECP256K1/p', other).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TandemError);
      expect(err).toMatchObject({ ...OVERWRITE, details: { key: 'w/SECP256K1/p' } });
    }
    expect(await k.get('w/SECP256K1/p')).toEqual(bytes(1, 2, 3));
  });

  it('lets exactly one of several concurrent conflicting writes win', async () => {
    const values = Array.from({ length: 8 }, (_, i) => bytes(i, i, i));
    const results = await Promise.allSettled(values.map((v) => k.set('w/SECP256K1/race', v)));
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject(OVERWRITE);
    expect(await k.get('w/SECP256K1/race')).toEqual(values[winners[0]!]);
  });

  it('lets concurrent writes of the same bytes all succeed', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => k.set('w/SECP256K1/same', bytes(5, 5))));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill('fulfilled'));
    expect(await k.get('w/SECP256K1/same')).toEqual(bytes(5, 5));
  });

  describe('over persistent storage', () => {
    it.runIf(persistent)('shows a fresh instance what an earlier one stored', async () => {
      await k.set('w/SECP256K1/p', bytes(1, 2, 3));
      await k.set('w/ED25519/q', bytes(4));
      await k.set('w/ED25519/gone', bytes(5));
      await k.delete('w/ED25519/gone');
      const again = storage.reopen!();
      expect(await again.keys('w/')).toEqual(['w/ED25519/q', 'w/SECP256K1/p']);
      expect(await again.get('w/SECP256K1/p')).toEqual(bytes(1, 2, 3));
      await again.set('w/SECP256K1/p', bytes(1, 2, 3));
      await expect(again.set('w/SECP256K1/p', bytes(9))).rejects.toMatchObject(OVERWRITE);
    });

    it.runIf(persistent)('lets exactly one of two instances racing with different bytes win', async () => {
      const other = storage.reopen!();
      await other.keys(''); // opened before the race, as a second tab or process would be
      for (let round = 0; round < 5; round++) {
        const key = `w/SECP256K1/race-${round}`;
        const results = await Promise.allSettled([k.set(key, bytes(1, round)), other.set(key, bytes(2, round))]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const winner = results[0]!.status === 'fulfilled' ? bytes(1, round) : bytes(2, round);
        expect(await k.get(key)).toEqual(winner);
        expect(await other.get(key)).toEqual(winner);
      }
    });
  });
});
