/**
 * The browser's keychain: IndexedDB through idb-keyval, one object store of `walletId/curve/pairId` →
 * bytes. The "never overwritten in place" check and the write share one readwrite transaction, and
 * IndexedDB runs readwrite transactions on a store one after another, so two tabs (or two calls) that
 * race to write different bytes under one key cannot both win. Imports nothing from Node.
 */
import { createStore, del, get, keys, promisifyRequest, type UseStore } from 'idb-keyval';
import { TandemError } from '../errors.js';
import { equalBytes } from './memory-keychain.js';
import type { Keychain } from './ports.js';

export interface IdbKeychainOptions {
  /** The IndexedDB database; default `tandem`. idb-keyval opens one object store per database. */
  readonly dbName?: string;
  /** The object store inside it; default `keychain`. */
  readonly storeName?: string;
}

type SetOutcome = 'stored' | 'same' | 'different';

/**
 * @example
 * const keychain = new IdbKeychain();
 * await keychain.set(`${walletId}/SECP256K1/${pairId}`, share);
 */
export class IdbKeychain implements Keychain {
  private readonly store: UseStore;

  constructor(options: IdbKeychainOptions = {}) {
    this.store = createStore(options.dbName ?? 'tandem', options.storeName ?? 'keychain');
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = await this.attempt('get', key, () => get<unknown>(key, this.store));
    if (value === undefined) return undefined;
    if (!(value instanceof Uint8Array)) {
      throw new TandemError('KEYCHAIN_FAILED', { message: 'A keychain entry is not a byte array.', details: { key } });
    }
    // IndexedDB hands out a structured clone, so the caller already owns these bytes.
    return value;
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    if (!(value instanceof Uint8Array)) {
      throw new TandemError('INVALID_INPUT', { message: `Expected the keychain value to be a Uint8Array, got ${typeof value}.`, details: { key } });
    }
    // A structured clone of a view keeps its whole underlying buffer, which may hold other secrets:
    // store a copy of exactly these bytes.
    const copy = new Uint8Array(value);
    try {
      const outcome = await this.attempt('set', key, () =>
        this.store('readwrite', (store) => new Promise<SetOutcome>((resolve, reject) => {
          const read = store.get(key);
          read.onerror = () => reject(read.error);
          read.onsuccess = () => {
            try {
              const existing: unknown = read.result;
              if (existing === undefined) {
                store.add(copy, key);
                resolve(promisifyRequest(store.transaction).then(() => 'stored' as const));
              } else {
                resolve(existing instanceof Uint8Array && equalBytes(existing, copy) ? 'same' : 'different');
              }
            } catch (err) {
              reject(err);
            }
          };
        })),
      );
      if (outcome === 'different') {
        throw new TandemError('KEYCHAIN_FAILED', { message: 'A keychain entry is never overwritten in place.', details: { key } });
      }
    } finally {
      copy.fill(0);
    }
  }

  async delete(key: string): Promise<void> {
    await this.attempt('delete', key, () => del(key, this.store));
  }

  async keys(prefix: string): Promise<string[]> {
    const all = await this.attempt('keys', undefined, () => keys(this.store));
    return all.filter((k): k is string => typeof k === 'string' && k.startsWith(prefix)).sort();
  }

  /** IndexedDB's own errors (quota, a blocked upgrade, storage switched off) become KEYCHAIN_FAILED. */
  private async attempt<T>(op: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      if (cause instanceof TandemError) throw cause;
      throw new TandemError('KEYCHAIN_FAILED', { cause, details: { op, key, causeKind: cause instanceof Error ? cause.name : typeof cause } });
    }
  }
}
