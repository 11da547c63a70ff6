/**
 * The custodian's schema, as an ordered list of migrations. Each runs once, in its own transaction, and
 * is recorded in `schema_migrations`; a database from a newer release (an unknown version) is refused
 * rather than guessed at. The same tables serve SQLite and, with its own dialect file, PostgreSQL.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'wallets, pairs, leases, idempotency, presignatures, step-ups',
    sql: `
      CREATE TABLE wallets (
        wallet_id     TEXT PRIMARY KEY,
        archived      INTEGER NOT NULL,
        created_at    INTEGER NOT NULL,
        epochs        TEXT NOT NULL,
        public_keys   TEXT NOT NULL,
        fencing_token INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE signing_pairs (
        pair_id         TEXT PRIMARY KEY,
        wallet_id       TEXT NOT NULL REFERENCES wallets (wallet_id),
        curve           TEXT NOT NULL,
        status          TEXT NOT NULL,
        locked_from     TEXT,
        epoch           INTEGER NOT NULL,
        public_key      TEXT NOT NULL,
        recovered_from  TEXT,
        custodian_share BLOB,
        sign_failures   INTEGER NOT NULL DEFAULT 0,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX signing_pairs_by_wallet ON signing_pairs (wallet_id, curve);
      CREATE TABLE backup_pairs (
        backup_pair_id         TEXT PRIMARY KEY,
        wallet_id              TEXT NOT NULL REFERENCES wallets (wallet_id),
        curve                  TEXT NOT NULL,
        method                 TEXT NOT NULL,
        status                 TEXT NOT NULL,
        locked_from            TEXT,
        public_key             TEXT NOT NULL,
        replaces               TEXT,
        custodian_backup_share BLOB,
        ciphertext             BLOB,
        created_at             INTEGER NOT NULL,
        updated_at             INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX backup_pairs_by_wallet ON backup_pairs (wallet_id, curve, method);
      CREATE TABLE leases (
        wallet_id  TEXT PRIMARY KEY REFERENCES wallets (wallet_id),
        holder     TEXT NOT NULL,
        operation  TEXT NOT NULL,
        token      INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE idempotency (
        wallet_id   TEXT NOT NULL,
        key         TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        result      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (wallet_id, key)
      ) STRICT;
      CREATE TABLE presignatures (
        sid        TEXT PRIMARY KEY,
        wallet_id  TEXT NOT NULL,
        pair_id    TEXT NOT NULL,
        used       INTEGER NOT NULL,
        secret     BLOB,
        s4_hash    TEXT,
        answer     BLOB,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX presignatures_by_pair ON presignatures (wallet_id, pair_id);
      CREATE TABLE step_ups (
        wallet_id  TEXT NOT NULL,
        method     TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (wallet_id, method)
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'client API keys and server metadata',
    sql: `
      CREATE TABLE api_keys (
        key_id     TEXT PRIMARY KEY,
        wallet_id  TEXT NOT NULL REFERENCES wallets (wallet_id),
        hash       BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;
      CREATE INDEX api_keys_by_wallet ON api_keys (wallet_id);
      CREATE TABLE server_meta (
        name  TEXT PRIMARY KEY,
        value BLOB NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'append-only audit log',
    sql: `
      CREATE TABLE audit_log (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        at        INTEGER NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        wallet_id TEXT,
        subject   TEXT,
        details   TEXT NOT NULL
      );
      CREATE INDEX audit_log_by_wallet ON audit_log (wallet_id, seq);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `,
  },
  {
    version: 4,
    name: 'self-managed backups: custody columns and the webhook outbox',
    sql: `
      ALTER TABLE backup_pairs ADD COLUMN self_managed_public_share TEXT;
      ALTER TABLE backup_pairs ADD COLUMN self_managed_verified_at INTEGER;
      CREATE TABLE outbox (
        id              TEXT PRIMARY KEY,
        wallet_id       TEXT NOT NULL,
        kind            TEXT NOT NULL,
        backup_pair_id  TEXT NOT NULL,
        status          TEXT NOT NULL,
        attempts        INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        claimed_until   INTEGER NOT NULL,
        last_error      TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
      CREATE INDEX outbox_by_wallet ON outbox (wallet_id, created_at);
    `,
  },
  {
    version: 5,
    name: 'ciphertexts kept by the app: their digest',
    sql: `ALTER TABLE backup_pairs ADD COLUMN ciphertext_digest TEXT;`,
  },
  {
    version: 6,
    name: 'unused presignatures by expiry, for the sweep that burns them',
    sql: `CREATE INDEX presignatures_unused ON presignatures (expires_at) WHERE used = 0;`,
  },
];

/** The same schema for PostgreSQL (BYTEA for blobs, BIGINT for times; `seq` keeps insertion order). */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'wallets, pairs, leases, idempotency, presignatures, step-ups',
    sql: `
      CREATE TABLE wallets (
        wallet_id     TEXT PRIMARY KEY,
        archived      BOOLEAN NOT NULL,
        created_at    BIGINT NOT NULL,
        epochs        TEXT NOT NULL,
        public_keys   TEXT NOT NULL,
        fencing_token BIGINT NOT NULL
      );
      CREATE TABLE signing_pairs (
        seq             BIGSERIAL,
        pair_id         TEXT PRIMARY KEY,
        wallet_id       TEXT NOT NULL REFERENCES wallets (wallet_id),
        curve           TEXT NOT NULL,
        status          TEXT NOT NULL,
        locked_from     TEXT,
        epoch           BIGINT NOT NULL,
        public_key      TEXT NOT NULL,
        recovered_from  TEXT,
        custodian_share BYTEA,
        sign_failures   INTEGER NOT NULL DEFAULT 0,
        created_at      BIGINT NOT NULL,
        updated_at      BIGINT NOT NULL
      );
      CREATE INDEX signing_pairs_by_wallet ON signing_pairs (wallet_id, curve);
      CREATE TABLE backup_pairs (
        seq                    BIGSERIAL,
        backup_pair_id         TEXT PRIMARY KEY,
        wallet_id              TEXT NOT NULL REFERENCES wallets (wallet_id),
        curve                  TEXT NOT NULL,
        method                 TEXT NOT NULL,
        status                 TEXT NOT NULL,
        locked_from            TEXT,
        public_key             TEXT NOT NULL,
        replaces               TEXT,
        custodian_backup_share BYTEA,
        ciphertext             BYTEA,
        created_at             BIGINT NOT NULL,
        updated_at             BIGINT NOT NULL
      );
      CREATE INDEX backup_pairs_by_wallet ON backup_pairs (wallet_id, curve, method);
      CREATE TABLE leases (
        wallet_id  TEXT PRIMARY KEY REFERENCES wallets (wallet_id),
        holder     TEXT NOT NULL,
        operation  TEXT NOT NULL,
        token      BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE TABLE idempotency (
        wallet_id   TEXT NOT NULL,
        key         TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        result      TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        PRIMARY KEY (wallet_id, key)
      );
      CREATE TABLE presignatures (
        seq        BIGSERIAL,
        sid        TEXT PRIMARY KEY,
        wallet_id  TEXT NOT NULL,
        pair_id    TEXT NOT NULL,
        used       BOOLEAN NOT NULL,
        secret     BYTEA,
        s4_hash    TEXT,
        answer     BYTEA,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX presignatures_by_pair ON presignatures (wallet_id, pair_id);
      CREATE TABLE step_ups (
        wallet_id  TEXT NOT NULL,
        method     TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (wallet_id, method)
      );
    `,
  },
  {
    version: 2,
    name: 'client API keys and server metadata',
    sql: `
      CREATE TABLE api_keys (
        key_id     TEXT PRIMARY KEY,
        wallet_id  TEXT NOT NULL REFERENCES wallets (wallet_id),
        hash       BYTEA NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      );
      CREATE INDEX api_keys_by_wallet ON api_keys (wallet_id);
      CREATE TABLE server_meta (
        name  TEXT PRIMARY KEY,
        value BYTEA NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'append-only audit log',
    sql: `
      CREATE TABLE audit_log (
        seq       BIGSERIAL PRIMARY KEY,
        at        BIGINT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        wallet_id TEXT,
        subject   TEXT,
        details   TEXT NOT NULL
      );
      CREATE INDEX audit_log_by_wallet ON audit_log (wallet_id, seq);
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
      CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    `,
  },
  {
    version: 4,
    name: 'self-managed backups: custody columns and the webhook outbox',
    sql: `
      ALTER TABLE backup_pairs ADD COLUMN self_managed_public_share TEXT;
      ALTER TABLE backup_pairs ADD COLUMN self_managed_verified_at BIGINT;
      CREATE TABLE outbox (
        id              TEXT PRIMARY KEY,
        wallet_id       TEXT NOT NULL,
        kind            TEXT NOT NULL,
        backup_pair_id  TEXT NOT NULL,
        status          TEXT NOT NULL,
        attempts        BIGINT NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        claimed_until   BIGINT NOT NULL,
        last_error      TEXT,
        created_at      BIGINT NOT NULL,
        updated_at      BIGINT NOT NULL
      );
      CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
      CREATE INDEX outbox_by_wallet ON outbox (wallet_id, created_at);
    `,
  },
  {
    version: 5,
    name: 'ciphertexts kept by the app: their digest',
    sql: `ALTER TABLE backup_pairs ADD COLUMN ciphertext_digest TEXT;`,
  },
  {
    version: 6,
    name: 'unused presignatures by expiry, for the sweep that burns them',
    sql: `CREATE INDEX presignatures_unused ON presignatures (expires_at) WHERE NOT used;`,
  },
];
