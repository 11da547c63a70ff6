/**
 * CUSTOM is the boundary with the app's own code: what it hands the callbacks, what it accepts back, and
 * how a callback's failure surfaces — always typed, never with the key or the callback's text in it.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CustomBackupMethod, type CustomBackupCallbacks } from '../../src/adapters/custom-backup-method.js';
import { TandemError, type ErrorCode } from '../../src/errors.js';

const PAIR = 'bkp_0123456789abcdef01234567';
const dataKey = new Uint8Array(randomBytes(32));
const otherKey = new Uint8Array(randomBytes(32));
const CALLBACK_TEXT = 'db password hunter2 leaked in a stack';

/** An app store that keeps the first key per id, as the callbacks' contract asks. */
function appStore(): CustomBackupCallbacks & { readonly entries: Map<string, Uint8Array>; calls: string[] } {
  const entries = new Map<string, Uint8Array>();
  const calls: string[] = [];
  return {
    entries,
    calls,
    async store(id, key) {
      calls.push(`store:${id}`);
      const existing = entries.get(id);
      if (existing && Buffer.compare(existing, key) !== 0) throw new Error(`refusing to overwrite ${Buffer.from(existing).toString('hex')} with ${Buffer.from(key).toString('hex')}`);
      entries.set(id, key);
    },
    async load(id) {
      calls.push(`load:${id}`);
      return entries.get(id) ?? null;
    },
    async delete(id) {
      calls.push(`delete:${id}`);
      entries.delete(id);
    },
  };
}

function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined; e = e instanceof Error ? e.cause : undefined) {
    parts.push(String(e), JSON.stringify(e) ?? '');
    if (e instanceof Error) parts.push(e.message, e.stack ?? '');
    if (e instanceof TandemError) parts.push(JSON.stringify(e.details), e.shortMessage);
  }
  return parts.join('\n');
}

/** Asserts the code, and that nothing an app could print repeats a key or the callback's own text. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<TandemError> {
  const err = await promise.then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TandemError);
  expect((err as TandemError).code).toBe(code);
  const text = errorText(err);
  for (const key of [dataKey, otherKey]) {
    const b = Buffer.from(key);
    for (const form of [b.toString('hex'), b.toString('base64'), b.toString('base64url'), [...key].join(',')]) expect(text).not.toContain(form);
  }
  expect(text).not.toContain(CALLBACK_TEXT);
  expect(text).not.toContain('hunter2');
  return err as TandemError;
}

describe('CUSTOM backup method', () => {
  it('round-trips a data key through the callbacks, and stores nothing itself', async () => {
    const app = appStore();
    const custom = new CustomBackupMethod(app);
    expect(custom.name).toBe('CUSTOM');
    expect(await custom.storeKey(PAIR, dataKey, {})).toBeNull();
    expect(await custom.loadKey(PAIR, null, {})).toEqual(dataKey);
    await custom.deleteKey(PAIR);
    await rejectsWith(custom.loadKey(PAIR, null, {}), 'BACKUP_KEY_NOT_FOUND');
    expect(app.calls).toEqual([`store:${PAIR}`, `load:${PAIR}`, `delete:${PAIR}`, `load:${PAIR}`]);
  });

  it('hands the app a copy it may keep, and returns a copy the wallet may wipe', async () => {
    const app = appStore();
    const custom = new CustomBackupMethod(app);
    const mine = dataKey.slice();
    await custom.storeKey(PAIR, mine, {});
    mine.fill(0); // the wallet wipes its data key when the step ends
    expect(app.entries.get(PAIR)).toEqual(dataKey);
    const loaded = await custom.loadKey(PAIR, null, {});
    loaded.fill(0);
    expect(app.entries.get(PAIR)).toEqual(dataKey);
  });

  it('re-stores the same key (a retried step) and surfaces the refusal of a different one as BACKUP_METHOD_FAILED', async () => {
    const custom = new CustomBackupMethod(appStore());
    await custom.storeKey(PAIR, dataKey, {});
    await custom.storeKey(PAIR, dataKey.slice(), {});
    const err = await rejectsWith(custom.storeKey(PAIR, otherKey, {}), 'BACKUP_METHOD_FAILED');
    expect(err.details).toMatchObject({ method: 'CUSTOM', backupPairId: PAIR, op: 'store', reason: 'callback', causeKind: 'Error' });
    expect(err.cause).toBeInstanceOf(Error);
    expect(await custom.loadKey(PAIR, null, {})).toEqual(dataKey);
  });

  it('wraps every callback failure — thrown, rejected, a non-Error — as BACKUP_METHOD_FAILED with a cause but not its text', async () => {
    const failures: Array<[string, () => never | Promise<never>]> = [
      ['Error', () => Promise.reject(new Error(CALLBACK_TEXT))],
      ['TypeError', () => {
        throw new TypeError(CALLBACK_TEXT);
      }],
      ['string', () => Promise.reject(CALLBACK_TEXT)],
    ];
    for (const [causeKind, fail] of failures) {
      const custom = new CustomBackupMethod({ store: fail, load: fail, delete: fail });
      for (const [op, call] of [
        ['store', () => custom.storeKey(PAIR, dataKey, {})],
        ['load', () => custom.loadKey(PAIR, null, {})],
        ['delete', () => custom.deleteKey(PAIR)],
      ] as const) {
        const err = await rejectsWith(call(), 'BACKUP_METHOD_FAILED');
        expect(err.details).toEqual({ method: 'CUSTOM', backupPairId: PAIR, op, reason: 'callback', causeKind });
        expect(err.cause).toBeDefined();
      }
    }
  });

  it("passes a TandemError the app throws on purpose through unchanged", async () => {
    const own = new TandemError('BACKUP_METHOD_AUTH_EXPIRED', { details: { method: 'CUSTOM' } });
    const custom = new CustomBackupMethod({ store: () => Promise.reject(own), load: () => Promise.reject(own) });
    expect(await custom.storeKey(PAIR, dataKey, {}).catch((e: unknown) => e)).toBe(own);
    expect(await custom.loadKey(PAIR, null, {}).catch((e: unknown) => e)).toBe(own);
  });

  it('treats null (and undefined) from load as BACKUP_KEY_NOT_FOUND', async () => {
    for (const nothing of [null, undefined]) {
      const custom = new CustomBackupMethod({ store: async () => {}, load: async () => nothing as unknown as null });
      const err = await rejectsWith(custom.loadKey(PAIR, null, {}), 'BACKUP_KEY_NOT_FOUND');
      expect(err.details).toEqual({ method: 'CUSTOM', backupPairId: PAIR });
    }
  });

  it('refuses anything but exactly 32 bytes from load with DECRYPT_FAILED, without echoing it', async () => {
    const returned: Array<[unknown, Record<string, unknown>]> = [
      [dataKey.subarray(0, 31), { kind: 'Uint8Array', length: 31 }],
      [new Uint8Array([...dataKey, 0]), { kind: 'Uint8Array', length: 33 }],
      [new Uint8Array(0), { kind: 'Uint8Array', length: 0 }],
      [[...dataKey], { kind: 'array' }],
      [dataKey.slice().buffer, { kind: 'ArrayBuffer' }],
      [Buffer.from(dataKey).toString('hex'), { kind: 'string' }],
      [{ key: dataKey }, { kind: 'object' }],
      [42, { kind: 'number' }],
    ];
    for (const [value, facts] of returned) {
      const custom = new CustomBackupMethod({ store: async () => {}, load: async () => value as Uint8Array });
      const err = await rejectsWith(custom.loadKey(PAIR, null, {}), 'DECRYPT_FAILED');
      expect(err.details).toEqual({ method: 'CUSTOM', backupPairId: PAIR, reason: 'malformed', ...facts });
    }
    // A Node Buffer is a Uint8Array: accepted, and copied into a plain one (Buffer#slice would share memory).
    const appBuffer = Buffer.from(dataKey);
    const custom = new CustomBackupMethod({ store: async () => {}, load: async () => appBuffer });
    const loaded = await custom.loadKey(PAIR, null, {});
    expect(Object.getPrototypeOf(loaded)).toBe(Uint8Array.prototype);
    expect(loaded).toEqual(dataKey);
    loaded.fill(0);
    expect(new Uint8Array(appBuffer)).toEqual(dataKey);
  });

  it('has nothing to delete without a delete callback', async () => {
    const app = appStore();
    const custom = new CustomBackupMethod({ store: app.store, load: app.load });
    await custom.storeKey(PAIR, dataKey, {});
    await custom.deleteKey(PAIR);
    expect(await custom.loadKey(PAIR, null, {})).toEqual(dataKey);
  });

  it("keeps an app object's `this`", async () => {
    class AppKeys {
      private readonly keys = new Map<string, Uint8Array>();
      async store(id: string, key: Uint8Array) {
        this.keys.set(id, key);
      }
      async load(id: string) {
        return this.keys.get(id) ?? null;
      }
    }
    const custom = new CustomBackupMethod(new AppKeys());
    await custom.storeKey(PAIR, dataKey, {});
    expect(await custom.loadKey(PAIR, null, {})).toEqual(dataKey);
  });

  it('refuses bad ids, keys and callbacks with INVALID_INPUT before calling the app', async () => {
    const app = appStore();
    const custom = new CustomBackupMethod(app);
    for (const id of ['', 'a/b', '../x', 'x'.repeat(129), "name' or 'x", 7 as unknown as string]) {
      await rejectsWith(custom.storeKey(id, dataKey, {}), 'INVALID_INPUT');
      await rejectsWith(custom.loadKey(id, null, {}), 'INVALID_INPUT');
      await rejectsWith(custom.deleteKey(id), 'INVALID_INPUT');
    }
    for (const key of [dataKey.subarray(0, 16), [...dataKey] as unknown as Uint8Array]) await rejectsWith(custom.storeKey(PAIR, key, {}), 'INVALID_INPUT');
    expect(app.calls).toEqual([]);
    const load = async () => null;
    for (const bad of [{ load }, { store: 'x', load }, { store: load, load, delete: 1 }, null]) {
      expect(() => new CustomBackupMethod(bad as unknown as CustomBackupCallbacks)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
  });
});
