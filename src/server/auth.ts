/**
 * API keys (DESIGN §4). A client API key is `tdk_<key id>_<secret>`: the key id finds the record, and
 * only a SHA-256 hash of the whole key is stored, compared in constant time. The operator's custodian API
 * key comes from the configuration and is held only as its hash. Keys are revocable one by one, so a new
 * device gets its own key and a lost one can be cut off without touching the wallet.
 */
import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { base64urlnopad } from '@scure/base';
import type Database from 'better-sqlite3';
import { TandemError } from '../errors.js';

export interface ApiKeyRecord {
  readonly keyId: string;
  readonly walletId: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

const KEY_PATTERN = /^tdk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const hashOf = (key: string) => sha256(utf8ToBytes(key));

export function sameSecret(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export const authFailed = () => new TandemError('AUTH_FAILED');

/** The operator's key, checked against its hash. */
export function operatorCheck(operatorKey: string): (presented: string | undefined) => boolean {
  const expected = hashOf(operatorKey);
  return (presented) => presented !== undefined && sameSecret(hashOf(presented), expected);
}

/** Client API keys in the custodian's SQLite database (migration 2). */
export class ApiKeys {
  constructor(
    private readonly db: Database.Database,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Issues a new key for the wallet; the key itself is returned once and never stored. */
  issue(walletId: string): { keyId: string; apiKey: string } {
    const keyId = bytesToHex(randomBytes(8));
    const apiKey = `tdk_${keyId}_${base64urlnopad.encode(randomBytes(32))}`;
    this.db
      .prepare('INSERT INTO api_keys (key_id, wallet_id, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, NULL)')
      .run(keyId, walletId, Buffer.from(hashOf(apiKey)), this.clock());
    return { keyId, apiKey };
  }

  /** The wallet a presented key opens, or AUTH_FAILED (malformed, unknown, wrong or revoked alike). */
  authenticate(presented: string | undefined): { walletId: string; keyId: string } {
    const m = presented ? KEY_PATTERN.exec(presented) : null;
    if (!m) throw authFailed();
    const row = this.db.prepare('SELECT wallet_id, hash, revoked_at FROM api_keys WHERE key_id = ?').get(m[1]) as
      | { wallet_id: string; hash: Buffer; revoked_at: number | null }
      | undefined;
    const candidate = hashOf(presented!);
    // Compare even when the id is unknown, so a miss and a wrong secret take the same time.
    const ok = sameSecret(candidate, row ? new Uint8Array(row.hash) : new Uint8Array(32)) && row !== undefined && row.revoked_at === null;
    if (!ok) throw authFailed();
    return { walletId: row.wallet_id, keyId: m[1]! };
  }

  revoke(walletId: string, keyId: string): void {
    const r = this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE wallet_id = ? AND key_id = ? AND revoked_at IS NULL').run(this.clock(), walletId, keyId);
    if (r.changes === 0) {
      const exists = this.db.prepare('SELECT 1 FROM api_keys WHERE wallet_id = ? AND key_id = ?').get(walletId, keyId);
      if (!exists) throw new TandemError('INVALID_INPUT', { message: 'No such API key for this wallet.', details: { keyId } });
    }
  }

  list(walletId: string): ApiKeyRecord[] {
    return (this.db.prepare('SELECT key_id, wallet_id, created_at, revoked_at FROM api_keys WHERE wallet_id = ? ORDER BY created_at, key_id').all(walletId) as {
      key_id: string;
      wallet_id: string;
      created_at: number;
      revoked_at: number | null;
    }[]).map((r) => ({ keyId: r.key_id, walletId: r.wallet_id, createdAt: r.created_at, revokedAt: r.revoked_at }));
  }
}
