/**
 * A keychain that lives in memory: for tests, and for apps that deliberately keep nothing on the device.
 * It enforces the port's "never overwritten in place" rule so tests catch a lifecycle that breaks it.
 */
import { TandemError } from '../errors.js';
import type { Keychain } from './ports.js';

export class MemoryKeychain implements Keychain {
  private readonly entries = new Map<string, Uint8Array>();
  private failures = 0;

  /** Test hook: the next `n` writes fail, as a full disk or a revoked storage permission would. */
  failNextWrite(n = 1): void {
    this.failures += n;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    // A copy, never a view: a Buffer's slice() shares its memory.
    const v = this.entries.get(key);
    return v === undefined ? undefined : new Uint8Array(v);
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new TandemError('KEYCHAIN_FAILED', { details: { key, injected: true } });
    }
    const existing = this.entries.get(key);
    if (existing) {
      if (equalBytes(existing, value)) return;
      throw new TandemError('KEYCHAIN_FAILED', { message: 'A keychain entry is never overwritten in place.', details: { key } });
    }
    this.entries.set(key, new Uint8Array(value));
  }

  async delete(key: string): Promise<void> {
    this.entries.get(key)?.fill(0);
    this.entries.delete(key);
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.entries.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Test helper: the device is lost (or its storage wiped). */
  clear(): void {
    for (const v of this.entries.values()) v.fill(0);
    this.entries.clear();
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
