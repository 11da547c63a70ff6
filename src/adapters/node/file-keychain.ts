/**
 * A keychain in a directory, for Node apps and CLIs (never the browser bundle: it imports Node built-ins).
 *
 * One file per entry, named by the SHA-256 of the key in lower-case hex, with the key itself in the
 * file's header. Names derived from the key bytes themselves (base64url and the like) do not work here:
 * ids may be 128 characters each, so a `walletId/curve/pairId` key does not fit in one 255-byte file
 * name, and on the case-insensitive file systems of macOS and Windows a case-sensitive encoding can
 * map two keys to one file.
 *
 * A write goes to a private temp file (0600, fsynced) which is then hard-linked to the entry's name:
 * `link` fails when the name exists, so of two writers racing with different bytes exactly one wins,
 * and a reader never sees a half-written entry. Temp files are named `.tmp-…`, never listed, and a
 * crash's leftovers are removed on first use.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TandemError } from '../../errors.js';
import { equalBytes } from '../memory-keychain.js';
import type { Keychain } from '../ports.js';
import { errnoOf, ignoreMissing, syncDirectory, writePrivateFile } from './private-files.js';

const MAX_KEY_LENGTH = 512;
const ENTRY_NAME = /^[0-9a-f]{64}$/;
const TEMP_PREFIX = '.tmp-';
/** "TKC" and the format version. */
const MAGIC = Uint8Array.of(0x54, 0x4b, 0x43, 0x01);
/** Magic, then the key's UTF-8 length as a big-endian u16. */
const HEADER_LENGTH = MAGIC.length + 2;
/** A concurrent delete or another instance's temp clean-up can undo one try at a write; a few more do. */
const MAX_PLACE_ATTEMPTS = 3;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

type Placement = 'stored' | 'same' | 'different' | 'retry';

/**
 * @example
 * const keychain = new FileKeychain(join(os.homedir(), '.tandem', 'keychain'));
 * await keychain.set(`${walletId}/SECP256K1/${pairId}`, share);
 */
export class FileKeychain implements Keychain {
  /** Absolute, so a later `process.chdir` does not move the keychain. */
  readonly directory: string;
  private ready: Promise<void> | undefined;

  /** Creates `directory` (mode 0700) on first use if it is missing. */
  constructor(directory: string) {
    this.directory = resolve(directory);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const name = entryName(key);
    try {
      await this.prepare();
      return await this.readEntry(name, key);
    } catch (err) {
      throw failure('get', key, err);
    }
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    const name = entryName(key);
    if (!(value instanceof Uint8Array)) {
      throw new TandemError('INVALID_INPUT', { message: `Expected the keychain value to be a Uint8Array, got ${typeof value}.`, details: { key } });
    }
    const content = encodeEntry(key, value);
    try {
      await this.prepare();
      for (let attempt = 1; ; attempt++) {
        const placement = await this.place(name, key, content, value);
        if (placement === 'stored') return await syncDirectory(this.directory);
        if (placement === 'same') return;
        if (placement === 'different') {
          throw new TandemError('KEYCHAIN_FAILED', { message: 'A keychain entry is never overwritten in place.', details: { key } });
        }
        if (attempt === MAX_PLACE_ATTEMPTS) {
          throw new TandemError('KEYCHAIN_FAILED', { message: 'The keychain entry kept changing while it was written.', details: { key } });
        }
      }
    } catch (err) {
      throw failure('set', key, err);
    } finally {
      content.fill(0);
    }
  }

  async delete(key: string): Promise<void> {
    const name = entryName(key);
    try {
      await this.prepare();
      await unlink(join(this.directory, name)).catch(ignoreMissing);
      await syncDirectory(this.directory);
    } catch (err) {
      throw failure('delete', key, err);
    }
  }

  async keys(prefix: string): Promise<string[]> {
    try {
      await this.prepare();
      const names = (await readdir(this.directory)).filter((n) => ENTRY_NAME.test(n));
      const keys = await Promise.all(names.map((n) => this.readKey(n)));
      return keys.filter((k): k is string => k !== undefined && k.startsWith(prefix)).sort();
    } catch (err) {
      throw failure('keys', undefined, err);
    }
  }

  /** Once per instance: the directory exists and no temp file of an earlier crash is left in it. */
  private prepare(): Promise<void> {
    this.ready ??= this.initialise().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async initialise(): Promise<void> {
    // `mode` is filtered through the umask; set it exactly on a directory this keychain created.
    // A directory that already exists belongs to the app, which chose its permissions.
    if ((await mkdir(this.directory, { recursive: true, mode: 0o700 })) !== undefined) await chmod(this.directory, 0o700);
    // A temp file holds a copy of a share; one left by a crash would outlive the entry's delete. A
    // concurrent writer whose temp file goes here retries (see `place`).
    const temps = (await readdir(this.directory)).filter((n) => n.startsWith(TEMP_PREFIX));
    await Promise.all(temps.map((n) => unlink(join(this.directory, n)).catch(ignoreMissing)));
  }

  /** One try at linking a fresh temp file as the entry; `retry` when a concurrent delete or clean-up interfered. */
  private async place(name: string, key: string, content: Uint8Array, value: Uint8Array): Promise<Placement> {
    const temp = join(this.directory, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      await writePrivateFile(temp, content);
      try {
        await link(temp, join(this.directory, name));
        return 'stored';
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') return 'retry';
        if (errnoOf(err) !== 'EEXIST') throw err;
      }
      const existing = await this.readEntry(name, key);
      if (existing === undefined) return 'retry';
      try {
        return equalBytes(existing, value) ? 'same' : 'different';
      } finally {
        existing.fill(0);
      }
    } finally {
      await unlink(temp).catch(ignoreMissing);
    }
  }

  private async readEntry(name: string, key: string): Promise<Uint8Array | undefined> {
    let file: Buffer;
    try {
      file = await readFile(join(this.directory, name));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { key: stored, valueOffset } = decodeHeader(file, name);
      if (stored !== key) throw damaged(name);
      return new Uint8Array(file.subarray(valueOffset));
    } finally {
      file.fill(0);
    }
  }

  /** Reads only the header: listing keys need not load every share into memory. */
  private async readKey(name: string): Promise<string | undefined> {
    let handle;
    try {
      handle = await open(join(this.directory, name), 'r');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined; // deleted since the directory was read
      throw err;
    }
    try {
      const header = new Uint8Array(HEADER_LENGTH);
      if ((await handle.read(header, 0, HEADER_LENGTH, 0)).bytesRead !== HEADER_LENGTH) throw damaged(name);
      const keyLength = new DataView(header.buffer).getUint16(MAGIC.length);
      const head = new Uint8Array(HEADER_LENGTH + keyLength);
      head.set(header);
      if ((await handle.read(head, HEADER_LENGTH, keyLength, HEADER_LENGTH)).bytesRead !== keyLength) throw damaged(name);
      return decodeHeader(head, name).key;
    } finally {
      await handle.close();
    }
  }
}

/** Checks the key at the boundary and returns its file name. */
function entryName(key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    const got = typeof key === 'string' ? `${key.length} characters` : typeof key;
    throw new TandemError('INVALID_INPUT', { message: `Expected a keychain key of 1 to ${MAX_KEY_LENGTH} characters, got ${got}.` });
  }
  const bytes = utf8.encode(key);
  // A lone surrogate encodes as U+FFFD, so two different keys would share one file.
  if (strictUtf8.decode(bytes) !== key) throw new TandemError('INVALID_INPUT', { message: 'Expected a keychain key of well-formed Unicode, got a lone surrogate.' });
  return createHash('sha256').update(bytes).digest('hex');
}

function encodeEntry(key: string, value: Uint8Array): Uint8Array {
  const keyBytes = utf8.encode(key);
  const out = new Uint8Array(HEADER_LENGTH + keyBytes.length + value.length);
  out.set(MAGIC);
  new DataView(out.buffer).setUint16(MAGIC.length, keyBytes.length);
  out.set(keyBytes, HEADER_LENGTH);
  out.set(value, HEADER_LENGTH + keyBytes.length);
  return out;
}

/** Parses magic and key; the file must belong to the name it was found under. */
function decodeHeader(file: Uint8Array, name: string): { key: string; valueOffset: number } {
  if (file.length < HEADER_LENGTH || !MAGIC.every((b, i) => file[i] === b)) throw damaged(name);
  const keyLength = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint16(MAGIC.length);
  const valueOffset = HEADER_LENGTH + keyLength;
  if (file.length < valueOffset) throw damaged(name);
  let key: string;
  try {
    key = strictUtf8.decode(file.subarray(HEADER_LENGTH, valueOffset));
  } catch {
    throw damaged(name);
  }
  if (createHash('sha256').update(file.subarray(HEADER_LENGTH, valueOffset)).digest('hex') !== name) throw damaged(name);
  return { key, valueOffset };
}

function damaged(file: string): TandemError {
  return new TandemError('KEYCHAIN_FAILED', { message: 'A keychain file is damaged or was not written by this keychain.', details: { file } });
}

/** File-system errors become KEYCHAIN_FAILED; the errno code is public, the message (a path) is withheld. */
function failure(op: string, key: string | undefined, err: unknown): TandemError {
  if (err instanceof TandemError) return err;
  return new TandemError('KEYCHAIN_FAILED', {
    cause: err,
    details: { op, key, causeKind: err instanceof Error ? err.name : typeof err, causeCode: errnoOf(err) },
  });
}
