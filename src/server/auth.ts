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
import type { ServerData } from './store/server-data.js';
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

/** Client API keys, kept as hashes in the custodian's database. */
export class ApiKeys {
  constructor(
    private readonly data: ServerData,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Issues a new key for the wallet; the key itself is returned once and never stored. */
  async issue(walletId: string): Promise<{ keyId: string; apiKey: string }> {
    const keyId = bytesToHex(randomBytes(8));
    const apiKey = `tdk_${keyId}_${base64urlnopad.encode(randomBytes(32))}`;
    await this.data.insertApiKey({ keyId, walletId, hash: hashOf(apiKey), createdAt: this.clock() });
    return { keyId, apiKey };
  }

  /** The wallet a presented key opens, or AUTH_FAILED (malformed, unknown, wrong or revoked alike). */
  async authenticate(presented: string | undefined): Promise<{ walletId: string; keyId: string }> {
    const m = presented ? KEY_PATTERN.exec(presented) : null;
    if (!m) throw authFailed();
    const row = await this.data.findApiKey(m[1]!);
    // Compare even when the id is unknown, so a miss and a wrong secret take the same time.
    const ok = sameSecret(hashOf(presented!), row ? row.hash : new Uint8Array(32)) && row !== undefined && row.revokedAt === null;
    if (!ok) throw authFailed();
    return { walletId: row.walletId, keyId: m[1]! };
  }

  async revoke(walletId: string, keyId: string): Promise<void> {
    if ((await this.data.revokeApiKey(walletId, keyId, this.clock())) === 'missing') {
      throw new TandemError('INVALID_INPUT', { message: 'No such API key for this wallet.', details: { keyId } });
    }
  }

  async list(walletId: string): Promise<ApiKeyRecord[]> {
    return (await this.data.listApiKeys(walletId)).map((r) => ({ keyId: r.keyId, walletId: r.walletId, createdAt: r.createdAt, revokedAt: r.revokedAt }));
  }
}
