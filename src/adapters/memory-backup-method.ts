/**
 * A backup method that keeps data keys in memory, for tests and the simulated walk-through. With
 * `requiresPassword` it behaves as PASSWORD does towards the lifecycle (PASSWORD_REQUIRED when the
 * password is missing, DECRYPT_FAILED when it is wrong) without the Argon2id wrapping of the real one.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { TandemError } from '../errors.js';
import type { BackupMethodName } from '../types.js';
import type { BackupMethod, BackupMethodOptions } from './ports.js';
import { equalBytes } from './memory-keychain.js';

export interface MemoryBackupMethodOptions {
  readonly requiresPassword?: boolean;
}

export class MemoryBackupMethod implements BackupMethod {
  private readonly keys = new Map<string, { dataKey: Uint8Array; passwordHash: Uint8Array | null }>();
  private failures = 0;
  readonly requiresPassword: boolean;

  constructor(
    readonly name: BackupMethodName,
    options: MemoryBackupMethodOptions = {},
  ) {
    this.requiresPassword = options.requiresPassword ?? name === 'PASSWORD';
  }

  /** Test hook: the next `n` calls fail, as an unreachable cloud drive would. */
  failNext(n = 1): void {
    this.failures += n;
  }

  async storeKey(backupPairId: string, dataKey: Uint8Array, options: BackupMethodOptions): Promise<Uint8Array | null> {
    this.maybeFail(backupPairId);
    const passwordHash = this.passwordHash(options);
    const existing = this.keys.get(backupPairId);
    if (existing && !equalBytes(existing.dataKey, dataKey)) {
      throw new TandemError('BACKUP_METHOD_FAILED', { message: 'A data key is never overwritten.', details: { backupPairId } });
    }
    this.keys.set(backupPairId, { dataKey: dataKey.slice(), passwordHash });
    return null;
  }

  async loadKey(backupPairId: string, _wrappedKey: Uint8Array | null, options: BackupMethodOptions): Promise<Uint8Array> {
    this.maybeFail(backupPairId);
    return this.peek(backupPairId, options);
  }

  /** Test helper: `loadKey` without consuming an injected failure (to check recoverability from outside). */
  peek(backupPairId: string, options: BackupMethodOptions): Uint8Array {
    const passwordHash = this.passwordHash(options);
    const entry = this.keys.get(backupPairId);
    if (!entry) throw new TandemError('NO_VALID_BACKUP', { details: { backupPairId, method: this.name } });
    if (entry.passwordHash && (!passwordHash || !equalBytes(entry.passwordHash, passwordHash))) {
      throw new TandemError('DECRYPT_FAILED', { details: { backupPairId, method: this.name } });
    }
    return entry.dataKey.slice();
  }

  async deleteKey(backupPairId: string): Promise<void> {
    this.keys.get(backupPairId)?.dataKey.fill(0);
    this.keys.delete(backupPairId);
  }

  private passwordHash(options: BackupMethodOptions): Uint8Array | null {
    if (!this.requiresPassword) return null;
    if (typeof options.password !== 'string' || options.password.length === 0) {
      throw new TandemError('PASSWORD_REQUIRED', { details: { method: this.name } });
    }
    return sha256(utf8ToBytes(options.password));
  }

  private maybeFail(backupPairId: string): void {
    if (this.failures > 0) {
      this.failures--;
      throw new TandemError('BACKUP_METHOD_FAILED', { details: { backupPairId, method: this.name, injected: true } });
    }
  }
}
