/**
 * What the custodian service keeps beside the custodian rules' tables: client API keys (hashes only) and
 * its own metadata (the sealed identity key, the integer-commitment parameters). One small interface with
 * a SQLite and a PostgreSQL implementation, on the same database as the rules.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';

export interface ApiKeyRow {
  readonly keyId: string;
  readonly walletId: string;
  readonly hash: Uint8Array;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** One state change: who did what, when, to which wallet and pair. Public facts only — never a secret. */
export interface AuditEntry {
  readonly at: number;
  /** `operator`, or `client:<key id>`. */
  readonly actor: string;
  readonly action: string;
  readonly walletId: string | null;
  readonly subject: string | null;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

export interface ServerData {
  /** Appends to the audit log; the database refuses to change or delete an entry. */
  appendAudit(entry: AuditEntry): Promise<void>;
  listAudit(walletId: string): Promise<AuditEntry[]>;
  insertApiKey(row: Omit<ApiKeyRow, 'revokedAt'>): Promise<void>;
  findApiKey(keyId: string): Promise<ApiKeyRow | undefined>;
  /** 'revoked' now, 'already' revoked before, or 'missing' (no such key for this wallet). */
  revokeApiKey(walletId: string, keyId: string, at: number): Promise<'revoked' | 'already' | 'missing'>;
  listApiKeys(walletId: string): Promise<ApiKeyRow[]>;
  getMeta(name: string): Promise<Uint8Array | undefined>;
  /** Keeps the first value written under a name: two instances starting at once agree on one. */
  setMetaIfAbsent(name: string, value: Uint8Array): Promise<void>;
  /** Writes a value under a name, replacing any earlier one. */
  setMeta(name: string, value: Uint8Array): Promise<void>;
}

type AuditRow = { at: number | string; actor: string; action: string; wallet_id: string | null; subject: string | null; details: string };
const toAudit = (r: AuditRow): AuditEntry => ({
  at: Number(r.at),
  actor: r.actor,
  action: r.action,
  walletId: r.wallet_id,
  subject: r.subject,
  details: JSON.parse(r.details) as AuditEntry['details'],
});

type KeyRow = { key_id: string; wallet_id: string; hash: Buffer; created_at: number | string; revoked_at: number | string | null };
const toKey = (r: KeyRow): ApiKeyRow => ({
  keyId: r.key_id,
  walletId: r.wallet_id,
  hash: new Uint8Array(r.hash),
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

export function sqliteServerData(db: Database.Database): ServerData {
  return {
    appendAudit: async (e) =>
      void db
        .prepare('INSERT INTO audit_log (at, actor, action, wallet_id, subject, details) VALUES (?, ?, ?, ?, ?, ?)')
        .run(e.at, e.actor, e.action, e.walletId, e.subject, JSON.stringify(e.details)),
    listAudit: async (walletId) => (db.prepare('SELECT * FROM audit_log WHERE wallet_id = ? ORDER BY seq').all(walletId) as AuditRow[]).map(toAudit),
    insertApiKey: async (r) =>
      void db.prepare('INSERT INTO api_keys (key_id, wallet_id, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, NULL)').run(r.keyId, r.walletId, Buffer.from(r.hash), r.createdAt),
    findApiKey: async (keyId) => {
      const row = db.prepare('SELECT * FROM api_keys WHERE key_id = ?').get(keyId) as KeyRow | undefined;
      return row ? toKey(row) : undefined;
    },
    revokeApiKey: async (walletId, keyId, at) => {
      const r = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE wallet_id = ? AND key_id = ? AND revoked_at IS NULL').run(at, walletId, keyId);
      if (r.changes > 0) return 'revoked';
      return db.prepare('SELECT 1 FROM api_keys WHERE wallet_id = ? AND key_id = ?').get(walletId, keyId) ? 'already' : 'missing';
    },
    listApiKeys: async (walletId) => (db.prepare('SELECT * FROM api_keys WHERE wallet_id = ? ORDER BY created_at, key_id').all(walletId) as KeyRow[]).map(toKey),
    getMeta: async (name) => {
      const row = db.prepare('SELECT value FROM server_meta WHERE name = ?').get(name) as { value: Buffer } | undefined;
      return row ? new Uint8Array(row.value) : undefined;
    },
    setMetaIfAbsent: async (name, value) => void db.prepare('INSERT INTO server_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(name, Buffer.from(value)),
    setMeta: async (name, value) => void db.prepare('INSERT INTO server_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, Buffer.from(value)),
  };
}

export function postgresServerData(pool: pg.Pool, ready: Promise<void>): ServerData {
  const q = async <R extends pg.QueryResultRow>(sql: string, args: unknown[]) => {
    await ready;
    return pool.query<R>(sql, args);
  };
  return {
    appendAudit: async (e) =>
      void (await q('INSERT INTO audit_log (at, actor, action, wallet_id, subject, details) VALUES ($1, $2, $3, $4, $5, $6)', [
        e.at,
        e.actor,
        e.action,
        e.walletId,
        e.subject,
        JSON.stringify(e.details),
      ])),
    listAudit: async (walletId) => (await q<AuditRow>('SELECT * FROM audit_log WHERE wallet_id = $1 ORDER BY seq', [walletId])).rows.map(toAudit),
    insertApiKey: async (r) => void (await q('INSERT INTO api_keys (key_id, wallet_id, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, NULL)', [r.keyId, r.walletId, Buffer.from(r.hash), r.createdAt])),
    findApiKey: async (keyId) => {
      const row = (await q<KeyRow>('SELECT * FROM api_keys WHERE key_id = $1', [keyId])).rows[0];
      return row ? toKey(row) : undefined;
    },
    revokeApiKey: async (walletId, keyId, at) => {
      const r = await q('UPDATE api_keys SET revoked_at = $1 WHERE wallet_id = $2 AND key_id = $3 AND revoked_at IS NULL', [at, walletId, keyId]);
      if ((r.rowCount ?? 0) > 0) return 'revoked';
      return (await q('SELECT 1 FROM api_keys WHERE wallet_id = $1 AND key_id = $2', [walletId, keyId])).rows.length > 0 ? 'already' : 'missing';
    },
    listApiKeys: async (walletId) => (await q<KeyRow>('SELECT * FROM api_keys WHERE wallet_id = $1 ORDER BY created_at, key_id', [walletId])).rows.map(toKey),
    getMeta: async (name) => {
      const row = (await q<{ value: Buffer }>('SELECT value FROM server_meta WHERE name = $1', [name])).rows[0];
      return row ? new Uint8Array(row.value) : undefined;
    },
    setMetaIfAbsent: async (name, value) => void (await q('INSERT INTO server_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, Buffer.from(value)])),
    setMeta: async (name, value) => void (await q('INSERT INTO server_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, Buffer.from(value)])),
  };
}
