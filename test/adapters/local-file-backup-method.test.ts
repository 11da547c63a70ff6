/**
 * LOCAL_FILE on a real directory: the file's format and permissions, never overwriting a key, the
 * leftovers of a crash, damaged files, and file systems without hard links or permissions (FAT on a USB
 * stick), simulated by failing `link` and `chmod` the way vfat does. Every error is checked for the key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalFileBackupMethod } from '../../src/adapters/node/local-file-backup-method.js';
import { TandemError, type ErrorCode } from '../../src/errors.js';

/** Switches that make `node:fs/promises` behave like a FAT file system, or fail reads with EIO. */
const fsMode = vi.hoisted(() => ({ fat: false, failReads: false, calls: { link: 0, rename: 0 } }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const errno = (code: string) => Object.assign(new Error(`${code}: operation failed, '/secret/path'`), { code });
  const link: typeof real.link = async (from, to) => {
    fsMode.calls.link++;
    if (fsMode.fat) throw errno('EPERM');
    return real.link(from, to);
  };
  const rename: typeof real.rename = async (from, to) => {
    fsMode.calls.rename++;
    return real.rename(from, to);
  };
  const chmod: typeof real.chmod = async (path, mode) => {
    if (fsMode.fat) throw errno('EPERM');
    return real.chmod(path, mode);
  };
  const open = (async (...args: Parameters<typeof real.open>) => {
    const handle = await real.open(...args);
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'chmod' && fsMode.fat) return async () => Promise.reject(errno('EPERM'));
        if (prop === 'read' && fsMode.failReads) return async () => Promise.reject(errno('EIO'));
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }) as typeof real.open;
  return { ...real, link, rename, chmod, open, default: { ...real, link, rename, chmod, open } };
});

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tandem-local-file-'));
  dir = join(root, 'backups');
  fsMode.fat = false;
  fsMode.failReads = false;
  fsMode.calls = { link: 0, rename: 0 };
});

afterEach(async () => {
  fsMode.fat = false;
  fsMode.failReads = false;
  await rm(root, { recursive: true, force: true });
});

const PAIR = 'bkp_0123456789abcdef01234567';
const OTHER_PAIR = 'bkp_fedcba9876543210fedcba98';
const dataKey = new Uint8Array(randomBytes(32));
const otherKey = new Uint8Array(randomBytes(32));
const fileOf = (id: string) => join(dir, `tandem-backup-${id}.key`);
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

/** The file format written down independently of the implementation. */
function keyFileByHand(id: string, key: Uint8Array): Uint8Array {
  const body = Buffer.concat([Buffer.from('TBK'), Buffer.of(1, id.length), Buffer.from(id, 'ascii'), key]);
  const check = createHash('sha256').update('tandem/data-key/LOCAL_FILE\0').update(body).digest().subarray(0, 16);
  return new Uint8Array(Buffer.concat([body, check]));
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

/** Asserts the code, and that nothing an app could print repeats a key or a path. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, details?: Record<string, unknown>): Promise<TandemError> {
  const err = await promise.then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TandemError);
  const e = err as TandemError;
  expect(e.code).toBe(code);
  if (details) expect(e.details).toMatchObject(details);
  const text = errorText(e);
  for (const key of [dataKey, otherKey]) {
    const b = Buffer.from(key);
    for (const form of [b.toString('hex'), b.toString('base64'), b.toString('base64url'), [...key].join(',')]) expect(text).not.toContain(form);
  }
  expect(text).not.toContain('/secret/path');
  expect(JSON.stringify(e.details)).not.toContain(root);
  return e;
}

describe('LOCAL_FILE backup method', () => {
  it('stores the key in its own 0600 file in a 0700 directory it creates, loads it back, and deletes it', async () => {
    const method = new LocalFileBackupMethod(join(dir, 'nested'));
    dir = join(dir, 'nested');
    expect(method.name).toBe('LOCAL_FILE');
    expect(await method.storeKey(PAIR, dataKey, {})).toBeNull();
    expect(await modeOf(dir)).toBe(0o700);
    expect(await modeOf(join(root, 'backups'))).toBe(0o700);
    expect(await readdir(dir)).toEqual([`tandem-backup-${PAIR}.key`]);
    expect(await modeOf(fileOf(PAIR))).toBe(0o600);
    expect(new Uint8Array(await readFile(fileOf(PAIR)))).toEqual(keyFileByHand(PAIR, dataKey));

    const loaded = await method.loadKey(PAIR, null, {});
    expect(loaded).toEqual(dataKey);
    loaded.fill(0); // the wallet wipes it; the file is untouched
    expect(await method.loadKey(PAIR, null, {})).toEqual(dataKey);

    await method.deleteKey(PAIR);
    expect(await readdir(dir)).toEqual([]);
    await rejectsWith(method.loadKey(PAIR, null, {}), 'BACKUP_KEY_NOT_FOUND', { method: 'LOCAL_FILE', backupPairId: PAIR, reason: 'no_file' });
    await method.deleteKey(PAIR); // deleting again is fine
  });

  it("keeps several pairs side by side and leaves an existing directory's permissions and files alone", async () => {
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'holiday.jpg'), 'not ours');
    const method = new LocalFileBackupMethod(dir);
    await method.storeKey(PAIR, dataKey, {});
    await method.storeKey(OTHER_PAIR, otherKey, {});
    expect(await modeOf(dir)).toBe(0o755);
    expect(await method.loadKey(PAIR, null, {})).toEqual(dataKey);
    expect(await method.loadKey(OTHER_PAIR, null, {})).toEqual(otherKey);
    await method.deleteKey(PAIR);
    expect((await readdir(dir)).sort()).toEqual([`tandem-backup-${OTHER_PAIR}.key`, 'holiday.jpg'].sort());
  });

  it('resolves a relative directory once, against the working directory of its construction', () => {
    const method = new LocalFileBackupMethod('backups');
    expect(method.directory).toBe(join(process.cwd(), 'backups'));
  });

  it('re-stores the same key (a retried step) and refuses a different one, leaving the file as it was', async () => {
    const method = new LocalFileBackupMethod(dir);
    await method.storeKey(PAIR, dataKey, {});
    await method.storeKey(PAIR, dataKey.slice(), {});
    await rejectsWith(method.storeKey(PAIR, otherKey, {}), 'BACKUP_METHOD_FAILED', { method: 'LOCAL_FILE', backupPairId: PAIR, reason: 'exists' });
    // Another instance on the same directory (a second process) is refused the same way.
    await rejectsWith(new LocalFileBackupMethod(dir).storeKey(PAIR, otherKey, {}), 'BACKUP_METHOD_FAILED', { reason: 'exists' });
    expect(await method.loadKey(PAIR, null, {})).toEqual(dataKey);
    expect(await readdir(dir)).toEqual([`tandem-backup-${PAIR}.key`]);
  });

  it('lets exactly one of racing writers with different keys win', async () => {
    const keys = [dataKey, otherKey, new Uint8Array(randomBytes(32))];
    const results = await Promise.allSettled(keys.map((k) => new LocalFileBackupMethod(dir).storeKey(PAIR, k, {})));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [keys[i]!] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') await rejectsWith(Promise.reject(r.reason), 'BACKUP_METHOD_FAILED', { reason: 'exists' });
    expect(await new LocalFileBackupMethod(dir).loadKey(PAIR, null, {})).toEqual(won[0]);
    expect(await readdir(dir)).toEqual([`tandem-backup-${PAIR}.key`]);
  });

  it('reports a missing directory or file as BACKUP_KEY_NOT_FOUND, and never creates the directory to look', async () => {
    const method = new LocalFileBackupMethod(dir);
    await rejectsWith(method.loadKey(PAIR, null, {}), 'BACKUP_KEY_NOT_FOUND', { reason: 'no_directory' });
    await method.deleteKey(PAIR);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    await method.storeKey(OTHER_PAIR, otherKey, {});
    await rejectsWith(method.loadKey(PAIR, null, {}), 'BACKUP_KEY_NOT_FOUND', { reason: 'no_file' });
  });

  it('with createDirectory: false, fails a store to a missing directory (an unmounted stick) instead of creating it', async () => {
    const method = new LocalFileBackupMethod(dir, { createDirectory: false });
    await rejectsWith(method.storeKey(PAIR, dataKey, {}), 'BACKUP_METHOD_FAILED', { reason: 'no_directory', backupPairId: PAIR });
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    await mkdir(dir);
    await method.storeKey(PAIR, dataKey, {});
    expect(await method.loadKey(PAIR, null, {})).toEqual(dataKey);
  });

  it('reads a garbled, foreign, truncated, oversized or misplaced file as DECRYPT_FAILED, and never overwrites it', async () => {
    const method = new LocalFileBackupMethod(dir);
    await method.storeKey(PAIR, dataKey, {});
    const good = keyFileByHand(PAIR, dataKey);
    const flip = (i: number) => {
      const b = good.slice();
      b[i]! ^= 0x01;
      return b;
    };
    const damaged: Array<[string, Uint8Array]> = [
      ['malformed', new Uint8Array(0)],
      ['malformed', good.subarray(0, 4)],
      ['malformed', good.subarray(0, good.length - 1)],
      ['malformed', new Uint8Array([...good, 0])],
      ['malformed', new Uint8Array(1 << 20)],
      ['malformed', new TextEncoder().encode('{"key":"not ours"}')],
      ['malformed', flip(0)], // magic
      ['version', flip(3)],
      ['malformed', flip(4)], // id length
      ['checksum', flip(10)], // id
      ['checksum', flip(5 + PAIR.length + 7)], // key
      ['checksum', flip(good.length - 1)], // check
    ];
    for (const [reason, content] of damaged) {
      await writeFile(fileOf(PAIR), content);
      await rejectsWith(method.loadKey(PAIR, null, {}), 'DECRYPT_FAILED', { method: 'LOCAL_FILE', backupPairId: PAIR, reason });
      await rejectsWith(method.storeKey(PAIR, dataKey, {}), 'BACKUP_METHOD_FAILED', { reason: 'exists' });
      expect(Buffer.compare(await readFile(fileOf(PAIR)), content)).toBe(0); // not toEqual: slow on a MiB
    }
    // Another pair's intact file copied under this pair's name is not this pair's key: the id inside tells
    // (as it does when a case-insensitive file system gives two ids one name).
    await method.storeKey(OTHER_PAIR, otherKey, {});
    await copyFile(fileOf(OTHER_PAIR), fileOf(PAIR));
    await rejectsWith(method.loadKey(PAIR, null, {}), 'DECRYPT_FAILED', { reason: 'other_pair' });
    await rejectsWith(method.storeKey(PAIR, otherKey, {}), 'BACKUP_METHOD_FAILED', { reason: 'exists' });
  });

  it('removes the temp files a crash left for a pair when it stores or deletes that pair, and nothing else', async () => {
    await mkdir(dir);
    const stale = (id: string, n: string) => join(dir, `.tandem-backup-${id}.${n}.tmp`);
    await writeFile(stale(PAIR, '0123456789abcdef'), keyFileByHand(PAIR, otherKey));
    await writeFile(stale(OTHER_PAIR, '0123456789abcdef'), keyFileByHand(OTHER_PAIR, otherKey));
    await writeFile(join(dir, '.tandem-backup-notes.txt'), 'the user’s');
    const method = new LocalFileBackupMethod(dir);
    await method.storeKey(PAIR, dataKey, {});
    expect((await readdir(dir)).sort()).toEqual(['.tandem-backup-notes.txt', `.tandem-backup-${OTHER_PAIR}.0123456789abcdef.tmp`, `tandem-backup-${PAIR}.key`].sort());
    await method.deleteKey(OTHER_PAIR);
    expect((await readdir(dir)).sort()).toEqual(['.tandem-backup-notes.txt', `tandem-backup-${PAIR}.key`].sort());
  });

  it('works on a file system without hard links or permissions (FAT), by check-then-rename', async () => {
    fsMode.fat = true;
    const method = new LocalFileBackupMethod(join(dir, 'stick'));
    await method.storeKey(PAIR, dataKey, {});
    expect(fsMode.calls.link).toBe(1);
    expect(fsMode.calls.rename).toBe(1);
    await method.storeKey(PAIR, dataKey, {});
    await rejectsWith(method.storeKey(PAIR, otherKey, {}), 'BACKUP_METHOD_FAILED', { reason: 'exists' });
    expect(fsMode.calls.rename).toBe(1);
    expect(await method.loadKey(PAIR, null, {})).toEqual(dataKey);
    expect(await readdir(join(dir, 'stick'))).toEqual([`tandem-backup-${PAIR}.key`]);
  });

  it('turns file-system failures into BACKUP_METHOD_FAILED with the errno but without the path', async () => {
    await writeFile(dir, 'a file where the directory should be');
    const blocked = new LocalFileBackupMethod(join(dir, 'inside'));
    await rejectsWith(blocked.storeKey(PAIR, dataKey, {}), 'BACKUP_METHOD_FAILED', { op: 'store', reason: 'file_system', causeCode: 'ENOTDIR' });
    const onFile = new LocalFileBackupMethod(dir);
    const err = await rejectsWith(onFile.storeKey(PAIR, dataKey, {}), 'BACKUP_METHOD_FAILED', { op: 'store', reason: 'file_system', causeCode: 'EEXIST' });
    expect(err.cause).toBeInstanceOf(Error);
    await rm(dir);

    const method = new LocalFileBackupMethod(dir);
    await method.storeKey(PAIR, dataKey, {});
    fsMode.failReads = true;
    await rejectsWith(method.loadKey(PAIR, null, {}), 'BACKUP_METHOD_FAILED', { op: 'load', reason: 'file_system', causeCode: 'EIO' });
    await rejectsWith(method.storeKey(PAIR, otherKey, {}), 'BACKUP_METHOD_FAILED', { op: 'store', causeCode: 'EIO' });
    fsMode.failReads = false;

    // A directory under the key file's name: reading it fails, deleting it fails, and neither says more than the errno.
    await mkdir(fileOf(OTHER_PAIR));
    await rejectsWith(method.loadKey(OTHER_PAIR, null, {}), 'BACKUP_METHOD_FAILED', { op: 'load', causeCode: 'EISDIR' });
    await rejectsWith(method.deleteKey(OTHER_PAIR), 'BACKUP_METHOD_FAILED', { op: 'delete', reason: 'file_system' });
  });

  it('refuses bad ids, keys and directories with INVALID_INPUT before touching the disk', async () => {
    const method = new LocalFileBackupMethod(dir);
    for (const id of ['', '.', '..', 'a/b', '../escape', 'a\\b', 'x'.repeat(129), 'bkp_ä', 7 as unknown as string]) {
      await rejectsWith(method.storeKey(id, dataKey, {}), 'INVALID_INPUT');
      await rejectsWith(method.loadKey(id, null, {}), 'INVALID_INPUT');
      await rejectsWith(method.deleteKey(id), 'INVALID_INPUT');
    }
    for (const key of [dataKey.subarray(0, 31), new Uint8Array(33), [...dataKey] as unknown as Uint8Array]) {
      await rejectsWith(method.storeKey(PAIR, key, {}), 'INVALID_INPUT');
    }
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    await method.storeKey('x'.repeat(128), dataKey, {});
    expect(await method.loadKey('x'.repeat(128), null, {})).toEqual(dataKey);
    for (const bad of ['', undefined, 3]) expect(() => new LocalFileBackupMethod(bad as unknown as string)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
