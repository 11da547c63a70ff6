/**
 * File-system plumbing shared by the Node adapters that keep secrets in files (the file keychain,
 * LOCAL_FILE): a new 0600 file written and fsynced, a durable directory entry, and errno helpers.
 */
import { open } from 'node:fs/promises';

/** Error codes of a file system that cannot do what was asked (FAT has no permissions or hard links). */
export const UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EINVAL']);

export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function ignoreMissing(err: unknown): void {
  if (errnoOf(err) !== 'ENOENT') throw err;
}

/**
 * Creates `path` (it must not exist) with mode 0600, writes `content` and fsyncs it. With
 * `tolerateUnsupportedChmod`, a file system that cannot store permissions (FAT) does not fail the write.
 */
export async function writePrivateFile(path: string, content: Uint8Array, options: { tolerateUnsupportedChmod?: boolean } = {}): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    // The umask may have taken bits from the mode given to open.
    await handle.chmod(0o600).catch((err: unknown) => {
      if (!options.tolerateUnsupportedChmod || !UNSUPPORTED.has(errnoOf(err) ?? '')) throw err;
    });
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a link, rename or unlink durable; Windows and some file systems cannot fsync a directory. */
export async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (err) {
    if (!['EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP', 'EBADF'].includes(errnoOf(err) ?? '')) throw err;
  } finally {
    await handle?.close();
  }
}
