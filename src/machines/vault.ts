/**
 * The memory-only vault (DESIGN §3 rule 5). Shares, data keys, passwords and ciphertexts in flight live
 * here; the machine's context, events, actor input and output carry only the opaque handles. The vault is
 * never persisted, so a snapshot restored in a new process finds its handles dangling and the step that
 * needed one fails cleanly with SHARE_LOST instead of resurrecting a secret from disk.
 */
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { TandemError } from '../errors.js';

export type VaultHandle = string;

export class Vault {
  private readonly entries = new Map<VaultHandle, unknown>();

  put(value: unknown, label: string): VaultHandle {
    const handle = `vault:${label}:${bytesToHex(randomBytes(8))}`;
    this.entries.set(handle, value);
    return handle;
  }

  get<T>(handle: VaultHandle): T {
    if (!this.entries.has(handle)) throw new TandemError('SHARE_LOST', { details: { handle } });
    return this.entries.get(handle) as T;
  }

  has(handle: VaultHandle): boolean {
    return this.entries.has(handle);
  }

  /** Removes an entry and zeroes it when it is bytes. */
  delete(handle: VaultHandle | null | undefined): void {
    if (!handle) return;
    const v = this.entries.get(handle);
    if (v instanceof Uint8Array) v.fill(0);
    this.entries.delete(handle);
  }

  wipe(): void {
    for (const h of [...this.entries.keys()]) this.delete(h);
  }

  get size(): number {
    return this.entries.size;
  }
}
