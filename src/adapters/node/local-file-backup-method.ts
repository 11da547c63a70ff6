/**
 * The LOCAL_FILE backup method: the data key is kept in a file in a directory the user picked — a USB
 * stick, a synced folder — so whoever holds that directory and the custodian backup share (the
 * custodian) could together decrypt the client backup share. Node only: it imports Node built-ins.
 *
 * One file per backup pair, `tandem-backup-<backupPairId>.key`, written once and never overwritten: a
 * different key under an existing id is refused, the same key again is a no-op (a retried step). A
 * write goes to a private temp file (0600, fsynced) that is then hard-linked to its name, so a reader
 * never sees half a key and of two racing writers only one wins. FAT and exFAT — most USB sticks — have
 * neither hard links nor permissions: there the link falls back to a rename after a check that the name
 * is free (the custodian's lease already keeps two writers of one backup pair apart), and the 0600 that
 * such a file system cannot store is skipped rather than failing the backup.
 *
 * The file is versioned and self-checking, so a garbled file, another program's file, or another
 * pair's key copied under this name fails with DECRYPT_FAILED instead of yielding a wrong key:
 *
 *   "TBK" | version (1) | id length (1) | backup pair id (ASCII) | data key (32) | check (16)
 *
 * where check = SHA-256("tandem/data-key/LOCAL_FILE\0" ‖ everything before it), first 16 bytes. The
 * file holds the id as well as its name: on a case-insensitive file system two ids that differ only in
 * case share a name, and the id inside tells them apart.
 */
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TandemError, type ErrorDetails } from '../../errors.js';
import { decodeDataKeyFile, encodeDataKeyFile, MAX_DATA_KEY_FILE } from '../data-key-file.js';
import { equalBytes } from '../memory-keychain.js';
import type { BackupMethod, BackupMethodOptions } from '../ports.js';
import { errnoOf, ignoreMissing, syncDirectory, UNSUPPORTED, writePrivateFile } from './private-files.js';

export interface LocalFileBackupMethodOptions {
  /**
   * Creates the directory (mode 0700, parents too) on the first store when it is missing. Default true.
   * Pass false for removable media: an unmounted stick then fails the backup (`BACKUP_METHOD_FAILED`,
   * `reason: 'no_directory'`) instead of writing the key to the empty mount point on the local disk.
   */
  readonly createDirectory?: boolean;
}

const METHOD = 'LOCAL_FILE';
const PAIR_ID = /^[A-Za-z0-9_-]{1,128}$/;
const DATA_KEY = 32;
/** A concurrent delete can undo one try at a write; a few more do. */
const MAX_PLACE_ATTEMPTS = 3;
/** What a file system without hard links or Unix permissions answers (vfat: EPERM; exFAT on macOS: ENOTSUP). */

const fileName = (backupPairId: string) => `tandem-backup-${backupPairId}.key`;
const tempPrefix = (backupPairId: string) => `.tandem-backup-${backupPairId}.`;

type Placement = 'stored' | 'same' | 'different' | 'retry';

/**
 * @example
 * const stick = new LocalFileBackupMethod('/media/alice/BACKUP', { createDirectory: false });
 * const wallet = await createTandemWallet({ custodian, keychain, mpc, backupMethods: { LOCAL_FILE: stick } });
 * await wallet.backupWallet('LOCAL_FILE');
 */
export class LocalFileBackupMethod implements BackupMethod {
  readonly name = METHOD;
  /** Absolute, so a later `process.chdir` does not move the backups. */
  readonly directory: string;
  readonly createDirectory: boolean;

  constructor(directory: string, options: LocalFileBackupMethodOptions = {}) {
    if (typeof directory !== 'string' || directory.length === 0) {
      throw new TandemError('INVALID_INPUT', { message: `Expected a directory path, got ${typeof directory === 'string' ? 'an empty string' : typeof directory}.`, details: { method: METHOD } });
    }
    this.directory = resolve(directory);
    this.createDirectory = options.createDirectory ?? true;
  }

  async storeKey(backupPairId: string, dataKey: Uint8Array, _options: BackupMethodOptions): Promise<null> {
    assertPairId(backupPairId);
    assertDataKey(dataKey, backupPairId);
    const content = encodeDataKeyFile(METHOD, backupPairId, dataKey);
    try {
      await this.prepareDirectory(backupPairId);
      await this.removeTemps(backupPairId);
      for (let attempt = 1; ; attempt++) {
        const placement = await this.place(backupPairId, content, dataKey);
        if (placement === 'stored') {
          await syncDirectory(this.directory);
          return null;
        }
        if (placement === 'same') return null;
        if (placement === 'different') {
          throw new TandemError('BACKUP_METHOD_FAILED', {
            message: 'Another data key is already stored for this backup pair; it is never overwritten.',
            details: { method: METHOD, backupPairId, reason: 'exists' },
          });
        }
        if (attempt === MAX_PLACE_ATTEMPTS) {
          throw new TandemError('BACKUP_METHOD_FAILED', {
            message: 'The data key file kept changing while it was written.',
            details: { method: METHOD, backupPairId, reason: 'concurrent' },
          });
        }
      }
    } catch (err) {
      throw failure('store', backupPairId, err);
    } finally {
      content.fill(0);
    }
  }

  async loadKey(backupPairId: string, _wrappedKey: Uint8Array | null, _options: BackupMethodOptions): Promise<Uint8Array> {
    assertPairId(backupPairId);
    let file: Uint8Array | undefined;
    try {
      file = await readKeyFile(join(this.directory, fileName(backupPairId)));
      if (file === undefined) {
        const reason = (await isDirectory(this.directory)) ? 'no_file' : 'no_directory';
        throw new TandemError('BACKUP_KEY_NOT_FOUND', { details: { method: METHOD, backupPairId, reason } });
      }
      return decodeDataKeyFile(METHOD, backupPairId, file);
    } catch (err) {
      throw failure('load', backupPairId, err);
    } finally {
      file?.fill(0);
    }
  }

  /** Removes the pair's file, and any temp file a crash left for it; a missing file or directory is fine. */
  async deleteKey(backupPairId: string): Promise<void> {
    assertPairId(backupPairId);
    try {
      if (!(await isDirectory(this.directory))) return;
      await unlink(join(this.directory, fileName(backupPairId))).catch(ignoreMissing);
      await this.removeTemps(backupPairId);
      await syncDirectory(this.directory);
    } catch (err) {
      throw failure('delete', backupPairId, err);
    }
  }

  private async prepareDirectory(backupPairId: string): Promise<void> {
    if (!this.createDirectory) {
      if (await isDirectory(this.directory)) return;
      throw new TandemError('BACKUP_METHOD_FAILED', {
        message: 'The backup directory does not exist (is the drive connected?).',
        details: { method: METHOD, backupPairId, reason: 'no_directory' },
      });
    }
    // `mode` is filtered through the umask; set it exactly on a directory created here. One that already
    // exists belongs to the user, who chose its permissions.
    const created = await mkdir(this.directory, { recursive: true, mode: 0o700 });
    if (created !== undefined) await chmod(this.directory, 0o700).catch(ignoreUnsupported);
  }

  /** A temp file holds a copy of a key; one left by a crash would outlive the pair's delete. */
  private async removeTemps(backupPairId: string): Promise<void> {
    const prefix = tempPrefix(backupPairId);
    const temps = (await readdir(this.directory)).filter((n) => n.startsWith(prefix) && n.endsWith('.tmp'));
    await Promise.all(temps.map((n) => unlink(join(this.directory, n)).catch(ignoreMissing)));
  }

  /** One try at putting a fresh temp file under the pair's name; `retry` when a concurrent delete interfered. */
  private async place(backupPairId: string, content: Uint8Array, dataKey: Uint8Array): Promise<Placement> {
    const target = join(this.directory, fileName(backupPairId));
    const temp = join(this.directory, `${tempPrefix(backupPairId)}${randomBytes(8).toString('hex')}.tmp`);
    try {
      await writePrivateFile(temp, content, { tolerateUnsupportedChmod: true });
      try {
        await link(temp, target);
        return 'stored';
      } catch (err) {
        const code = errnoOf(err);
        if (code === 'ENOENT') return 'retry';
        if (code !== 'EEXIST' && !UNSUPPORTED.has(code ?? '')) throw err;
      }
      // The name is taken, or the file system has no hard links and the name must be checked first.
      const existing = await readKeyFile(target);
      if (existing === undefined) {
        await rename(temp, target);
        return 'stored';
      }
      try {
        return equalBytes(decodeDataKeyFile(METHOD, backupPairId, existing), dataKey) ? 'same' : 'different';
      } catch {
        // Garbled, or another pair's: still not ours to overwrite.
        return 'different';
      } finally {
        existing.fill(0);
      }
    } finally {
      await unlink(temp).catch(ignoreMissing);
    }
  }
}

function assertPairId(backupPairId: unknown): asserts backupPairId is string {
  if (typeof backupPairId !== 'string' || !PAIR_ID.test(backupPairId)) {
    const got = typeof backupPairId === 'string' ? `${backupPairId.length} characters` : typeof backupPairId;
    throw new TandemError('INVALID_INPUT', { message: `Expected a backup pair id of 1 to 128 letters, digits, '_' or '-', got ${got}.`, details: { method: METHOD } });
  }
}

function assertDataKey(dataKey: unknown, backupPairId: string): asserts dataKey is Uint8Array {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY) {
    throw new TandemError('INVALID_INPUT', { message: `Expected a ${DATA_KEY}-byte data key.`, details: { method: METHOD, backupPairId } });
  }
}

/** The file's bytes, or undefined when it does not exist; anything larger than a key file is refused unread. */
async function readKeyFile(path: string): Promise<Uint8Array | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    // Longer than any key file: not one (a mistaken file under this name), and not worth reading.
    const length = Math.min(size, MAX_DATA_KEY_FILE + 1);
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return bytesRead === length ? buffer : buffer.slice(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return false;
    throw err;
  }
}

function ignoreUnsupported(err: unknown): void {
  if (!UNSUPPORTED.has(errnoOf(err) ?? '')) throw err;
}

/** File-system errors become BACKUP_METHOD_FAILED; the errno code is public, the message (a path) is withheld. */
function failure(op: 'store' | 'load' | 'delete', backupPairId: string, err: unknown): TandemError {
  if (err instanceof TandemError) return err;
  const details: ErrorDetails = { method: METHOD, backupPairId, op, reason: 'file_system', causeKind: err instanceof Error ? err.name : typeof err, causeCode: errnoOf(err) };
  return new TandemError('BACKUP_METHOD_FAILED', { details, cause: err });
}
