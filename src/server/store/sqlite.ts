/**
 * The custodian's Store on SQLite (better-sqlite3): the embedded default, one file per deployment.
 *
 * better-sqlite3 is synchronous and the Store's transactions are async, so a transaction is an explicit
 * BEGIN IMMEDIATE … COMMIT around the rules' callback, and transactions on one Store object run one at a
 * time (a promise chain), as on one connection they must. BEGIN IMMEDIATE takes SQLite's write lock at
 * the start, so a second process on the same file waits (busy_timeout) instead of interleaving: every
 * rule's read-decide-write is then a compare-and-set. The rules call no hook and do no I/O inside a
 * transaction, so nothing slow holds the lock.
 */
import Database from 'better-sqlite3';
import type { Store, StoreTx } from '../../custodian/store.js';
import { TandemError } from '../../errors.js';
import { SQLITE_MIGRATIONS, type Migration } from './migrations.js';
import { blob, mapOpt, toBackupPair, toOutbox, outboxValues, toIdempotency, toLease, toPresignature, toSigningPair, toStepUp, toWallet, type Row } from './rows.js';

export interface SqliteStoreOptions {
  /** How long to wait for another process's write lock, in ms. */
  readonly busyTimeoutMs?: number;
}

export class SqliteStore implements Store {
  readonly db: Database.Database;
  private queue: Promise<unknown> = Promise.resolve();

  /** Opens (creating if need be) the database at `path` (':memory:' for a throwaway one) and migrates it. */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    migrate(this.db, SQLITE_MIGRATIONS);
  }

  close(): void {
    this.db.close();
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      try {
        this.db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(this.tx);
          this.db.exec('COMMIT');
          return result;
        } catch (err) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
          throw err;
        }
      } catch (err) {
        throw busyError(err) ?? err;
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private readonly tx: StoreTx = (() => {
    const db = () => this.db;
    const one = (sql: string, ...args: unknown[]) => db().prepare(sql).get(...args) as Row | undefined;
    const all = (sql: string, ...args: unknown[]) => db().prepare(sql).all(...args) as Row[];
    const run = (sql: string, params: Record<string, unknown>) => void db().prepare(sql).run(params);
    return {
      getWallet: async (id) => mapOpt(one('SELECT * FROM wallets WHERE wallet_id = ?', id), toWallet),
      putWallet: async (w) =>
        run(
          `INSERT INTO wallets (wallet_id, archived, created_at, epochs, public_keys, fencing_token)
           VALUES (@walletId, @archived, @createdAt, @epochs, @publicKeys, @fencingToken)
           ON CONFLICT (wallet_id) DO UPDATE SET archived = excluded.archived, epochs = excluded.epochs,
             public_keys = excluded.public_keys, fencing_token = excluded.fencing_token`,
          {
            walletId: w.walletId,
            archived: w.archived ? 1 : 0,
            createdAt: w.createdAt,
            epochs: JSON.stringify(w.epochs),
            publicKeys: JSON.stringify(w.publicKeys),
            fencingToken: w.fencingToken,
          },
        ),
      getSigningPair: async (id) => mapOpt(one('SELECT * FROM signing_pairs WHERE pair_id = ?', id), toSigningPair),
      listSigningPairs: async (walletId) => all('SELECT * FROM signing_pairs WHERE wallet_id = ? ORDER BY rowid', walletId).map(toSigningPair),
      putSigningPair: async (p) =>
        run(
          `INSERT INTO signing_pairs (pair_id, wallet_id, curve, status, locked_from, epoch, public_key, recovered_from,
             custodian_share, sign_failures, created_at, updated_at)
           VALUES (@pairId, @walletId, @curve, @status, @lockedFrom, @epoch, @publicKey, @recoveredFrom,
             @custodianShare, @signFailures, @createdAt, @updatedAt)
           ON CONFLICT (pair_id) DO UPDATE SET status = excluded.status, locked_from = excluded.locked_from,
             custodian_share = excluded.custodian_share, sign_failures = excluded.sign_failures, updated_at = excluded.updated_at`,
          {
            pairId: p.pairId,
            walletId: p.walletId,
            curve: p.curve,
            status: p.status,
            lockedFrom: p.lockedFrom ?? null,
            epoch: p.epoch,
            publicKey: p.publicKey,
            recoveredFrom: p.recoveredFrom ?? null,
            custodianShare: blob(p.custodianShare),
            signFailures: p.signFailures ?? 0,
            createdAt: p.createdAt,
            updatedAt: p.updatedAt,
          },
        ),
      getBackupPair: async (id) => mapOpt(one('SELECT * FROM backup_pairs WHERE backup_pair_id = ?', id), toBackupPair),
      listBackupPairs: async (walletId) => all('SELECT * FROM backup_pairs WHERE wallet_id = ? ORDER BY rowid', walletId).map(toBackupPair),
      putBackupPair: async (b) =>
        run(
          `INSERT INTO backup_pairs (backup_pair_id, wallet_id, curve, method, status, locked_from, public_key, replaces,
             custodian_backup_share, ciphertext, ciphertext_digest, self_managed_public_share, self_managed_verified_at, created_at, updated_at)
           VALUES (@backupPairId, @walletId, @curve, @method, @status, @lockedFrom, @publicKey, @replaces,
             @custodianBackupShare, @ciphertext, @ciphertextDigest, @selfManagedPublicShare, @selfManagedVerifiedAt, @createdAt, @updatedAt)
           ON CONFLICT (backup_pair_id) DO UPDATE SET status = excluded.status, locked_from = excluded.locked_from,
             custodian_backup_share = excluded.custodian_backup_share, ciphertext = excluded.ciphertext,
             ciphertext_digest = excluded.ciphertext_digest, self_managed_verified_at = excluded.self_managed_verified_at,
             updated_at = excluded.updated_at`,
          {
            backupPairId: b.backupPairId,
            walletId: b.walletId,
            curve: b.curve,
            method: b.method,
            status: b.status,
            lockedFrom: b.lockedFrom ?? null,
            publicKey: b.publicKey,
            replaces: b.replaces ?? null,
            custodianBackupShare: blob(b.custodianBackupShare),
            ciphertext: blob(b.ciphertext),
            ciphertextDigest: b.ciphertextDigest ?? null,
            selfManagedPublicShare: b.selfManaged?.publicShare ?? null,
            selfManagedVerifiedAt: b.selfManaged?.verifiedAt ?? null,
            createdAt: b.createdAt,
            updatedAt: b.updatedAt,
          },
        ),
      getLease: async (walletId) => mapOpt(one('SELECT * FROM leases WHERE wallet_id = ?', walletId), toLease),
      putLease: async (l) =>
        run(
          `INSERT INTO leases (wallet_id, holder, operation, token, expires_at) VALUES (@walletId, @holder, @operation, @token, @expiresAt)
           ON CONFLICT (wallet_id) DO UPDATE SET holder = excluded.holder, operation = excluded.operation,
             token = excluded.token, expires_at = excluded.expires_at`,
          { ...l },
        ),
      deleteLease: async (walletId) => run('DELETE FROM leases WHERE wallet_id = @walletId', { walletId }),
      deleteAllLeases: async () => run('DELETE FROM leases', {}),
      getIdempotency: async (walletId, key) => mapOpt(one('SELECT * FROM idempotency WHERE wallet_id = ? AND key = ?', walletId, key), toIdempotency),
      putIdempotency: async (r) =>
        run(
          `INSERT INTO idempotency (wallet_id, key, fingerprint, result, created_at) VALUES (@walletId, @key, @fingerprint, @result, @createdAt)
           ON CONFLICT (wallet_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, result = excluded.result`,
          { ...r },
        ),
      getPresignature: async (sid) => mapOpt(one('SELECT * FROM presignatures WHERE sid = ?', sid), toPresignature),
      listPresignatures: async (walletId, pairId) =>
        all('SELECT * FROM presignatures WHERE wallet_id = ? AND pair_id = ? ORDER BY rowid', walletId, pairId).map(toPresignature),
      listUnusedPresignatureSids: async (expiresBy, limit) =>
        all('SELECT sid FROM presignatures WHERE used = 0 AND expires_at <= ? ORDER BY expires_at LIMIT ?', expiresBy ?? Number.MAX_SAFE_INTEGER, limit).map((r) => String(r['sid'])),
      putPresignature: async (r) =>
        run(
          `INSERT INTO presignatures (sid, wallet_id, pair_id, used, secret, s4_hash, answer, created_at, expires_at)
           VALUES (@sid, @walletId, @pairId, @used, @secret, @s4Hash, @answer, @createdAt, @expiresAt)
           ON CONFLICT (sid) DO UPDATE SET used = excluded.used, secret = excluded.secret, s4_hash = excluded.s4_hash,
             answer = excluded.answer`,
          {
            sid: r.sid,
            walletId: r.walletId,
            pairId: r.pairId,
            used: r.used ? 1 : 0,
            secret: blob(r.secret),
            s4Hash: r.s4Hash,
            answer: blob(r.answer),
            createdAt: r.createdAt,
            expiresAt: r.expiresAt,
          },
        ),
      getStepUp: async (walletId, method) => mapOpt(one('SELECT * FROM step_ups WHERE wallet_id = ? AND method = ?', walletId, method), toStepUp),
      putStepUp: async (r) =>
        run(
          `INSERT INTO step_ups (wallet_id, method, expires_at) VALUES (@walletId, @method, @expiresAt)
           ON CONFLICT (wallet_id, method) DO UPDATE SET expires_at = excluded.expires_at`,
          { ...r },
        ),
      deleteStepUp: async (walletId, method) => run('DELETE FROM step_ups WHERE wallet_id = @walletId AND method = @method', { walletId, method }),
      getOutbox: async (id) => mapOpt(one('SELECT * FROM outbox WHERE id = ?', id), toOutbox),
      putOutbox: async (r) =>
        void db()
          .prepare(
            `INSERT INTO outbox (id, wallet_id, kind, backup_pair_id, status, attempts, next_attempt_at, claimed_until, last_error, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
               claimed_until = excluded.claimed_until, last_error = excluded.last_error, updated_at = excluded.updated_at`,
          )
          .run(...outboxValues(r)),
      listDueOutbox: async (now, limit) =>
        all(
          `SELECT * FROM outbox WHERE status = 'PENDING' AND next_attempt_at <= ? AND claimed_until <= ? ORDER BY created_at, rowid LIMIT ?`,
          now,
          now,
          limit,
        ).map(toOutbox),
      listOutbox: async (walletId) => all('SELECT * FROM outbox WHERE wallet_id = ? ORDER BY created_at, rowid', walletId).map(toOutbox),
    };
  })();
}

/** Applies the migrations this database lacks; refuses a database migrated by a newer release. */
export function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const known = new Set(migrations.map((m) => m.version));
  const unknown = [...applied].filter((v) => !known.has(v));
  if (unknown.length > 0) {
    throw new TandemError('INTERNAL', { message: 'The database was migrated by a newer release.', details: { versions: unknown.map(String) } });
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }).immediate();
  }
}

/**
 * The file stayed locked past the busy timeout (another connection held it): a retryable `STORE_BUSY`,
 * not an `INTERNAL` the app could not tell from a bug. The transaction was rolled back; nothing changed.
 */
function busyError(err: unknown): TandemError | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code) ? new TandemError('STORE_BUSY', { cause: err }) : null;
}
