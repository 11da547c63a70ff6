/**
 * What only the file keychain has to get right beyond the shared contract: permissions on disk, the
 * leftovers of a crash, damaged files, keys that do not fit a file name, and file-system failures
 * surfacing as KEYCHAIN_FAILED without a share's bytes in the error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileKeychain } from '../../src/adapters/node/file-keychain.js';
import { TandemError } from '../../src/errors.js';

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tandem-file-keychain-'));
  dir = join(root, 'keychain');
});

afterEach(async () => {
  await chmod(dir, 0o700).catch(() => {});
  await rm(root, { recursive: true, force: true });
});

const bytes = (...b: number[]) => Uint8Array.from(b);
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
const fileOf = (key: string) => join(dir, createHash('sha256').update(key, 'utf8').digest('hex'));
const isRoot = process.getuid?.() === 0;

describe('file keychain on disk', () => {
  it('creates its directory 0700 (parents too) and writes each entry 0600', async () => {
    const nested = join(root, 'a', 'b', 'keychain');
    const k = new FileKeychain(nested);
    await k.set('w/SECP256K1/p', bytes(1));
    expect(await modeOf(nested)).toBe(0o700);
    expect(await modeOf(join(root, 'a'))).toBe(0o700);
    const [entry] = await readdir(nested);
    expect(entry).toMatch(/^[0-9a-f]{64}$/);
    expect(await modeOf(join(nested, entry!))).toBe(0o600);
  });

  it("leaves an existing directory's permissions to the app", async () => {
    await mkdir(dir, { mode: 0o750 });
    await chmod(dir, 0o750);
    await new FileKeychain(dir).set('w/SECP256K1/p', bytes(1));
    expect(await modeOf(dir)).toBe(0o750);
  });

  it('keeps one file per entry and no temp file after writes, refusals and races', async () => {
    const k = new FileKeychain(dir);
    await k.set('w/SECP256K1/p', bytes(1));
    await k.set('w/SECP256K1/p', bytes(1));
    await expect(k.set('w/SECP256K1/p', bytes(2))).rejects.toMatchObject({ code: 'KEYCHAIN_FAILED' });
    await Promise.allSettled([k.set('w/ED25519/q', bytes(1)), k.set('w/ED25519/q', bytes(2)), k.set('w/ED25519/q', bytes(3))]);
    expect((await readdir(dir)).sort()).toEqual([fileOf('w/ED25519/q'), fileOf('w/SECP256K1/p')].map((f) => f.slice(dir.length + 1)).sort());
  });

  it('ignores and removes temp files a crash left behind, and ignores foreign files', async () => {
    await mkdir(dir, { recursive: true });
    const stale = join(dir, '.tmp-0123456789abcdef');
    await writeFile(stale, randomBytes(40));
    const old = new Date(Date.now() - 3_600_000);
    await utimes(stale, old, old);
    await writeFile(join(dir, '.DS_Store'), 'finder');
    await writeFile(join(dir, 'README'), 'not an entry');

    const k = new FileKeychain(dir);
    expect(await k.keys('')).toEqual([]);
    await k.set('w/SECP256K1/p', bytes(1, 2));
    expect(await k.keys('')).toEqual(['w/SECP256K1/p']);
    expect(await k.get('w/SECP256K1/p')).toEqual(bytes(1, 2));
    const left = await readdir(dir);
    expect(left).not.toContain('.tmp-0123456789abcdef');
    expect(left).toEqual(expect.arrayContaining(['.DS_Store', 'README']));
  });

  it('reports a damaged entry file as KEYCHAIN_FAILED instead of returning its bytes', async () => {
    const k = new FileKeychain(dir);
    await k.set('w/SECP256K1/a', bytes(1));
    await writeFile(fileOf('w/SECP256K1/a'), 'garbage');
    await expect(k.get('w/SECP256K1/a')).rejects.toMatchObject({ code: 'KEYCHAIN_FAILED', shortMessage: expect.stringMatching(/damaged/) });
    await expect(k.keys('w/')).rejects.toMatchObject({ code: 'KEYCHAIN_FAILED' });

    // an intact entry under another key's name is damage too: it must not be read as that key's share
    await rm(fileOf('w/SECP256K1/a'));
    await k.set('w/SECP256K1/b', bytes(2));
    await copyFile(fileOf('w/SECP256K1/b'), fileOf('w/SECP256K1/a'));
    await expect(k.get('w/SECP256K1/a')).rejects.toMatchObject({ code: 'KEYCHAIN_FAILED' });
    await expect(k.set('w/SECP256K1/a', bytes(2))).rejects.toMatchObject({ code: 'KEYCHAIN_FAILED' });
  });
});

describe('file keychain input', () => {
  it('takes keys of 1 to 512 characters, longer than any one file name', async () => {
    const k = new FileKeychain(dir);
    const ascii = `${'w'.repeat(128)}/SECP256K1/${'p'.repeat(512 - 139)}`;
    const astral = '😀'.repeat(256); // 512 UTF-16 units, 1,024 UTF-8 bytes
    await k.set(ascii, bytes(1));
    await k.set(astral, bytes(2));
    expect(await k.keys('')).toEqual([ascii, astral].sort());
    expect(await k.get(astral)).toEqual(bytes(2));
  });

  it('refuses an empty, too long or ill-formed key, and a value that is not bytes, with INVALID_INPUT', async () => {
    const k = new FileKeychain(dir);
    for (const key of ['', 'x'.repeat(513), 'w/\ud800/p']) {
      await expect(k.set(key, bytes(1))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(k.get(key)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(k.delete(key)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    await expect(k.set('w/SECP256K1/p', [1, 2] as unknown as Uint8Array)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await k.keys('')).toEqual([]);
  });
});

describe('file keychain failures', () => {
  it.skipIf(isRoot)('turns an unreadable directory into KEYCHAIN_FAILED', async () => {
    const k = new FileKeychain(dir);
    await k.set('w/SECP256K1/p', bytes(1));
    await chmod(dir, 0o000);
    const fresh = new FileKeychain(dir);
    for (const attempt of [() => k.get('w/SECP256K1/p'), () => k.set('w/SECP256K1/q', bytes(2)), () => k.keys('w/'), () => fresh.keys('')]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'KEYCHAIN_FAILED', details: { causeCode: 'EACCES' } });
    }
  });

  it('turns a directory path that is a file into KEYCHAIN_FAILED, and recovers once it is fixed', async () => {
    await writeFile(dir, 'in the way');
    const k = new FileKeychain(dir);
    const err = await k.set('w/SECP256K1/p', bytes(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TandemError);
    expect(err).toMatchObject({ code: 'KEYCHAIN_FAILED', details: { op: 'set', key: 'w/SECP256K1/p', causeCode: 'EEXIST' } });
    expect((err as TandemError).cause).toBeInstanceOf(Error);
    await rm(dir);
    await k.set('w/SECP256K1/p', bytes(1));
    expect(await k.get('w/SECP256K1/p')).toEqual(bytes(1));
  });

  it('never puts the bytes of a share in an error', async () => {
    const secret = new Uint8Array(randomBytes(32));
    const other = new Uint8Array(randomBytes(32));
    const k = new FileKeychain(dir);
    await k.set('w/SECP256K1/p', secret);
    const errors: unknown[] = [await k.set('w/SECP256K1/p', other).catch((e: unknown) => e)];

    await writeFile(join(root, 'file'), 'in the way');
    errors.push(await new FileKeychain(join(root, 'file')).set('w/SECP256K1/p', secret).catch((e: unknown) => e));

    const entry = await readFile(fileOf('w/SECP256K1/p'));
    await writeFile(fileOf('w/SECP256K1/p'), entry.subarray(0, 8)); // truncated: header without the key
    errors.push(await k.get('w/SECP256K1/p').catch((e: unknown) => e));

    for (const err of errors) {
      expect(err).toMatchObject({ code: 'KEYCHAIN_FAILED' });
      const text = errorText(err);
      for (const s of [secret, other]) {
        const b = Buffer.from(s);
        for (const form of [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.toString('latin1'), [...s].join(',')]) {
          expect(text).not.toContain(form);
        }
      }
    }
  });
});

/** Everything an app could print or send: message, stack, JSON and the whole cause chain. */
function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined; e = e instanceof Error ? e.cause : undefined) {
    parts.push(String(e), JSON.stringify(e) ?? '');
    if (e instanceof Error) parts.push(e.message, e.stack ?? '');
    if (e instanceof TandemError) parts.push(JSON.stringify(e.details));
  }
  return parts.join('\n');
}
