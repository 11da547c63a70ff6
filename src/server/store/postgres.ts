/**
 * The custodian's Store on PostgreSQL (`pg`), for several custodian instances sharing one database.
 *
 * Every rule runs in one SERIALIZABLE transaction: PostgreSQL then guarantees that concurrent rules, on
 * any number of instances, behave as if they ran one after another, so each read-decide-write is a
 * compare-and-set on statuses, epochs and the lease's fencing token. A transaction PostgreSQL aborts as a
 * serialization failure or deadlock is simply run again — the rules' callbacks only read and write
 * through the transaction (hooks and I/O happen outside), so a retry is safe.
 */
import pg from 'pg';
import type { Store, StoreTx } from '../../custodian/store.js';
import { TandemError } from '../../errors.js';
import { POSTGRES_MIGRATIONS, type Migration } from './migrations.js';
import { blob, mapOpt, toBackupPair, toOutbox, outboxValues, toIdempotency, toLease, toPresignature, toSigningPair, toStepUp, toWallet, type Row } from './rows.js';

export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** A schema of its own (created if missing); tests use one per store. Default `public`. */
  readonly schema?: string;
  readonly maxConnections?: number;
  /** How long an idle connection stays open (ms). */
  readonly idleTimeoutMs?: number;
}

const RETRYABLE = new Set(['40001', '40P01']);

export class PostgresStore implements Store {
  readonly pool: pg.Pool;
  private readonly ready: Promise<void>;

  constructor(options: PostgresStoreOptions) {
    const schema = options.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TandemError('INVALID_INPUT', { message: 'The schema name is invalid.' });
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 10,
      idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
      allowExitOnIdle: true,
      options: `-c search_path=${schema}`,
    });
    this.pool = pool;
    this.ready = (async () => {
      const c = await pool.connect();
      try {
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await migrate(c, POSTGRES_MIGRATIONS);
      } finally {
        c.release();
      }
    })();
  }

  /** Resolves once the schema is migrated; rejects with the migration's error. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await this.pool.end();
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    await this.ready;
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let conflict: unknown;
      try {
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
        const result = await fn(txOn(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (err as { code?: unknown }).code;
        if (!(typeof code === 'string' && RETRYABLE.has(code))) throw err;
        conflict = err;
      } finally {
        client.release();
      }
      // Still conflicting after eight tries: the database is too busy for this now; the app may retry.
      if (attempt >= 8) throw new TandemError('STORE_BUSY', { details: { reason: 'contention' }, cause: conflict });
      // Back off a random, growing while (connection released), so the same transactions do not meet again at once.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(250, 5 * 2 ** attempt)));
    }
  }
}

async function migrate(c: pg.PoolClient, migrations: readonly Migration[]): Promise<void> {
  await c.query('BEGIN');
  try {
    // One migrator at a time across instances.
    await c.query('SELECT pg_advisory_xact_lock(7734206)');
    await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const applied = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
    const unknown = [...applied].filter((v) => !migrations.some((m) => m.version === v));
    if (unknown.length > 0) {
      throw new TandemError('INTERNAL', { message: 'The database was migrated by a newer release.', details: { versions: unknown.map(String) } });
    }
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      await c.query(m.sql);
      await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

function txOn(c: pg.PoolClient): StoreTx {
  const one = async (sql: string, args: unknown[]) => (await c.query<Row>(sql, args)).rows[0];
  const all = async (sql: string, args: unknown[]) => (await c.query<Row>(sql, args)).rows;
  const run = async (sql: string, args: unknown[]) => void (await c.query(sql, args));
  return {
    getWallet: async (id) => mapOpt(await one('SELECT * FROM wallets WHERE wallet_id = $1', [id]), toWallet),
    putWallet: (w) =>
      run(
        `INSERT INTO wallets (wallet_id, archived, created_at, epochs, public_keys, fencing_token) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (wallet_id) DO UPDATE SET archived = excluded.archived, epochs = excluded.epochs,
           public_keys = excluded.public_keys, fencing_token = excluded.fencing_token`,
        [w.walletId, w.archived, w.createdAt, JSON.stringify(w.epochs), JSON.stringify(w.publicKeys), w.fencingToken],
      ),
    getSigningPair: async (id) => mapOpt(await one('SELECT * FROM signing_pairs WHERE pair_id = $1', [id]), toSigningPair),
    listSigningPairs: async (walletId) => (await all('SELECT * FROM signing_pairs WHERE wallet_id = $1 ORDER BY seq', [walletId])).map(toSigningPair),
    putSigningPair: (p) =>
      run(
        `INSERT INTO signing_pairs (pair_id, wallet_id, curve, status, locked_from, epoch, public_key, recovered_from,
           custodian_share, sign_failures, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (pair_id) DO UPDATE SET status = excluded.status, locked_from = excluded.locked_from,
           custodian_share = excluded.custodian_share, sign_failures = excluded.sign_failures, updated_at = excluded.updated_at`,
        [p.pairId, p.walletId, p.curve, p.status, p.lockedFrom ?? null, p.epoch, p.publicKey, p.recoveredFrom ?? null, blob(p.custodianShare), p.signFailures ?? 0, p.createdAt, p.updatedAt],
      ),
    getBackupPair: async (id) => mapOpt(await one('SELECT * FROM backup_pairs WHERE backup_pair_id = $1', [id]), toBackupPair),
    listBackupPairs: async (walletId) => (await all('SELECT * FROM backup_pairs WHERE wallet_id = $1 ORDER BY seq', [walletId])).map(toBackupPair),
    putBackupPair: (b) =>
      run(
        `INSERT INTO backup_pairs (backup_pair_id, wallet_id, curve, method, status, locked_from, public_key, replaces,
           custodian_backup_share, ciphertext, self_managed_public_share, self_managed_verified_at, created_at, updated_at, ciphertext_digest)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (backup_pair_id) DO UPDATE SET status = excluded.status, locked_from = excluded.locked_from,
           custodian_backup_share = excluded.custodian_backup_share, ciphertext = excluded.ciphertext,
           self_managed_verified_at = excluded.self_managed_verified_at, updated_at = excluded.updated_at,
           ciphertext_digest = excluded.ciphertext_digest`,
        [
          b.backupPairId,
          b.walletId,
          b.curve,
          b.method,
          b.status,
          b.lockedFrom ?? null,
          b.publicKey,
          b.replaces ?? null,
          blob(b.custodianBackupShare),
          blob(b.ciphertext),
          b.selfManaged?.publicShare ?? null,
          b.selfManaged?.verifiedAt ?? null,
          b.createdAt,
          b.updatedAt,
          b.ciphertextDigest ?? null,
        ],
      ),
    getLease: async (walletId) => mapOpt(await one('SELECT * FROM leases WHERE wallet_id = $1', [walletId]), toLease),
    putLease: (l) =>
      run(
        `INSERT INTO leases (wallet_id, holder, operation, token, expires_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (wallet_id) DO UPDATE SET holder = excluded.holder, operation = excluded.operation, token = excluded.token,
           expires_at = excluded.expires_at`,
        [l.walletId, l.holder, l.operation, l.token, l.expiresAt],
      ),
    deleteLease: (walletId) => run('DELETE FROM leases WHERE wallet_id = $1', [walletId]),
    deleteAllLeases: () => run('DELETE FROM leases', []),
    getIdempotency: async (walletId, key) => mapOpt(await one('SELECT * FROM idempotency WHERE wallet_id = $1 AND key = $2', [walletId, key]), toIdempotency),
    putIdempotency: (r) =>
      run(
        `INSERT INTO idempotency (wallet_id, key, fingerprint, result, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (wallet_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, result = excluded.result`,
        [r.walletId, r.key, r.fingerprint, r.result, r.createdAt],
      ),
    getPresignature: async (sid) => mapOpt(await one('SELECT * FROM presignatures WHERE sid = $1', [sid]), toPresignature),
    listPresignatures: async (walletId, pairId) =>
      (await all('SELECT * FROM presignatures WHERE wallet_id = $1 AND pair_id = $2 ORDER BY seq', [walletId, pairId])).map(toPresignature),
    listUnusedPresignatureSids: async (expiresBy, limit) =>
      (await all('SELECT sid FROM presignatures WHERE NOT used AND expires_at <= $1 ORDER BY expires_at LIMIT $2', [expiresBy ?? Number.MAX_SAFE_INTEGER, limit])).map((r) => String(r['sid'])),
    putPresignature: (r) =>
      run(
        `INSERT INTO presignatures (sid, wallet_id, pair_id, used, secret, s4_hash, answer, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (sid) DO UPDATE SET used = excluded.used, secret = excluded.secret, s4_hash = excluded.s4_hash, answer = excluded.answer`,
        [r.sid, r.walletId, r.pairId, r.used, blob(r.secret), r.s4Hash, blob(r.answer), r.createdAt, r.expiresAt],
      ),
    getStepUp: async (walletId, method) => mapOpt(await one('SELECT * FROM step_ups WHERE wallet_id = $1 AND method = $2', [walletId, method]), toStepUp),
    putStepUp: (r) =>
      run(
        `INSERT INTO step_ups (wallet_id, method, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (wallet_id, method) DO UPDATE SET expires_at = excluded.expires_at`,
        [r.walletId, r.method, r.expiresAt],
      ),
    deleteStepUp: (walletId, method) => run('DELETE FROM step_ups WHERE wallet_id = $1 AND method = $2', [walletId, method]),
    getOutbox: async (id) => mapOpt(await one('SELECT * FROM outbox WHERE id = $1', [id]), toOutbox),
    putOutbox: (r) =>
      run(
        `INSERT INTO outbox (id, wallet_id, kind, backup_pair_id, status, attempts, next_attempt_at, claimed_until, last_error, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
           claimed_until = excluded.claimed_until, last_error = excluded.last_error, updated_at = excluded.updated_at`,
        outboxValues(r),
      ),
    listDueOutbox: async (now, limit) =>
      (
        await all(`SELECT * FROM outbox WHERE status = 'PENDING' AND next_attempt_at <= $1 AND claimed_until <= $1 ORDER BY created_at, id LIMIT $2`, [now, limit])
      ).map(toOutbox),
    listOutbox: async (walletId) => (await all('SELECT * FROM outbox WHERE wallet_id = $1 ORDER BY created_at, id', [walletId])).map(toOutbox),
  };
}
