/**
 * The CUSTOM backup method: the app keeps the data key wherever it likes — its own backend, a platform
 * keystore, a hardware token — through three callbacks. Whoever the app lets read that store and holds
 * the custodian backup share (the custodian) could together decrypt the client backup share; the app
 * documents that for its users.
 *
 * The method is the boundary between the wallet and app code, so it checks both directions: it hands
 * the callbacks a copy of the key (the wallet wipes its own as soon as the step ends), takes back only
 * exactly 32 bytes (anything else is DECRYPT_FAILED, `null` is BACKUP_KEY_NOT_FOUND), and turns a
 * callback's exception into BACKUP_METHOD_FAILED without repeating its text, which may hold anything.
 * A TandemError the app throws on purpose (say BACKUP_METHOD_AUTH_EXPIRED from its own sign-in) passes
 * through unchanged, so the app can choose the code its UI branches on.
 *
 * Browser-safe: no Node built-ins.
 */
import { TandemError } from '../errors.js';
import type { BackupMethod, BackupMethodOptions } from './ports.js';

/**
 * What the app provides. The data key is a secret: keep it where only the user can reach it, and never
 * log it.
 */
export interface CustomBackupCallbacks {
  /**
   * Keeps `dataKey` (32 bytes, a copy the app may hold on to) under `backupPairId`. Must keep the first key
   * stored under an id: storing the same bytes again must succeed (the wallet retries steps), different
   * bytes must throw, or a completed backup could be silently destroyed.
   */
  store(backupPairId: string, dataKey: Uint8Array): Promise<void>;
  /** The key stored under `backupPairId`, or `null` when there is none. */
  load(backupPairId: string): Promise<Uint8Array | null>;
  /**
   * Forgets the key of a backup that was replaced; a missing key is not an error. Without it the app keeps
   * every superseded key (harmless to the wallet: the custodian has superseded its backup pair).
   */
  delete?(backupPairId: string): Promise<void>;
}

const METHOD = 'CUSTOM';
const PAIR_ID = /^[A-Za-z0-9_-]{1,128}$/;
const DATA_KEY = 32;

/**
 * @example
 * const custom = new CustomBackupMethod({
 *   store: (id, key) => api.put(`/backup-keys/${id}`, key),
 *   load: async (id) => (await api.get(`/backup-keys/${id}`)) ?? null,
 *   delete: (id) => api.delete(`/backup-keys/${id}`),
 * });
 * const wallet = await createTandemWallet({ custodian, keychain, mpc, backupMethods: { CUSTOM: custom } });
 */
export class CustomBackupMethod implements BackupMethod {
  readonly name = METHOD;
  private readonly callbacks: CustomBackupCallbacks;

  constructor(callbacks: CustomBackupCallbacks) {
    for (const name of ['store', 'load'] as const) {
      if (typeof callbacks?.[name] !== 'function') {
        throw new TandemError('INVALID_INPUT', { message: `Expected a ${name} callback.`, details: { method: METHOD, field: name } });
      }
    }
    if (callbacks.delete !== undefined && typeof callbacks.delete !== 'function') {
      throw new TandemError('INVALID_INPUT', { message: 'Expected the delete callback to be a function.', details: { method: METHOD, field: 'delete' } });
    }
    // Bound now, so an app's object with methods keeps its `this`, and later changes to it do not matter.
    this.callbacks = {
      store: callbacks.store.bind(callbacks),
      load: callbacks.load.bind(callbacks),
      ...(callbacks.delete ? { delete: callbacks.delete.bind(callbacks) } : {}),
    };
  }

  async storeKey(backupPairId: string, dataKey: Uint8Array, _options: BackupMethodOptions): Promise<null> {
    assertPairId(backupPairId);
    if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY) {
      throw new TandemError('INVALID_INPUT', { message: `Expected a ${DATA_KEY}-byte data key.`, details: { method: METHOD, backupPairId } });
    }
    await this.run('store', backupPairId, () => this.callbacks.store(backupPairId, new Uint8Array(dataKey)));
    return null;
  }

  async loadKey(backupPairId: string, _wrappedKey: Uint8Array | null, _options: BackupMethodOptions): Promise<Uint8Array> {
    assertPairId(backupPairId);
    const key: unknown = await this.run('load', backupPairId, () => this.callbacks.load(backupPairId));
    if (key === null || key === undefined) throw new TandemError('BACKUP_KEY_NOT_FOUND', { details: { method: METHOD, backupPairId } });
    if (!(key instanceof Uint8Array) || key.length !== DATA_KEY) {
      throw new TandemError('DECRYPT_FAILED', {
        message: `The app's load callback returned something other than a ${DATA_KEY}-byte data key.`,
        details: { method: METHOD, backupPairId, reason: 'malformed', kind: kindOf(key), ...(key instanceof Uint8Array ? { length: key.length } : {}) },
      });
    }
    // A copy: the wallet wipes what it gets, and the app's buffer is the app's. Not `slice`: on a Node
    // buffer that is a view of the same memory.
    return new Uint8Array(key);
  }

  async deleteKey(backupPairId: string): Promise<void> {
    assertPairId(backupPairId);
    const remove = this.callbacks.delete;
    if (remove) await this.run('delete', backupPairId, () => remove(backupPairId));
  }

  private async run<T>(op: 'store' | 'load' | 'delete', backupPairId: string, callback: () => Promise<T>): Promise<T> {
    try {
      return await callback();
    } catch (err) {
      if (err instanceof TandemError) throw err;
      throw new TandemError('BACKUP_METHOD_FAILED', {
        message: `The app's ${op} callback failed.`,
        details: { method: METHOD, backupPairId, op, reason: 'callback', causeKind: err instanceof Error ? err.name : typeof err },
        cause: err,
      });
    }
  }
}

function assertPairId(backupPairId: unknown): asserts backupPairId is string {
  if (typeof backupPairId !== 'string' || !PAIR_ID.test(backupPairId)) {
    const got = typeof backupPairId === 'string' ? `${backupPairId.length} characters` : typeof backupPairId;
    throw new TandemError('INVALID_INPUT', { message: `Expected a backup pair id of 1 to 128 letters, digits, '_' or '-', got ${got}.`, details: { method: METHOD } });
  }
}

const kindOf = (v: unknown) => (v instanceof Uint8Array ? 'Uint8Array' : Array.isArray(v) ? 'array' : v instanceof ArrayBuffer ? 'ArrayBuffer' : typeof v);
