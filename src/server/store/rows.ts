/**
 * Rows of the custodian's tables as records, shared by the SQLite and PostgreSQL stores: both name their
 * columns alike, and the readers accept either driver's types (SQLite's 0/1 and numbers, PostgreSQL's
 * booleans and BIGINT strings, both drivers' Buffers).
 */
import type { BackupMethodName, BackupPairStatus, Curve, SigningPairStatus } from '../../types.js';
import type {
  BackupPairRecord,
  IdempotencyRecord,
  LeaseOperation,
  LeaseRecord,
  OutboxKind,
  OutboxRecord,
  OutboxStatus,
  PresignatureRecord,
  SigningPairRecord,
  StepUpRecord,
  WalletRecord,
} from '../../custodian/store.js';

export type Row = Record<string, unknown>;

export const mapOpt = <T>(row: Row | undefined, f: (r: Row) => T): T | undefined => (row === undefined ? undefined : f(row));
export const blob = (b: Uint8Array | null): Buffer | null => (b === null ? null : Buffer.from(b));
export const bytes = (v: unknown): Uint8Array | null => (v === null || v === undefined ? null : new Uint8Array(v as Buffer));
export const str = (v: unknown) => v as string;
/** Numbers, BIGINT strings and booleans (true → 1) alike. */
export const num = (v: unknown) => Number(v);
export const opt = <K extends string, V>(key: K, v: V | null | undefined): { [P in K]?: V } =>
  (v === null || v === undefined ? {} : { [key]: v }) as { [P in K]?: V };

export function toWallet(r: Row): WalletRecord {
  return {
    walletId: str(r['wallet_id']),
    archived: num(r['archived']) === 1,
    createdAt: num(r['created_at']),
    epochs: JSON.parse(str(r['epochs'])) as WalletRecord['epochs'],
    publicKeys: JSON.parse(str(r['public_keys'])) as WalletRecord['publicKeys'],
    fencingToken: num(r['fencing_token']),
  };
}

export function toSigningPair(r: Row): SigningPairRecord {
  const failures = num(r['sign_failures']);
  return {
    walletId: str(r['wallet_id']),
    pairId: str(r['pair_id']),
    curve: str(r['curve']) as Curve,
    status: str(r['status']) as SigningPairStatus,
    ...opt('lockedFrom', r['locked_from'] as SigningPairStatus | null),
    epoch: num(r['epoch']),
    publicKey: str(r['public_key']),
    ...opt('recoveredFrom', r['recovered_from'] as string | null),
    custodianShare: bytes(r['custodian_share']),
    ...(failures > 0 ? { signFailures: failures } : {}),
    createdAt: num(r['created_at']),
    updatedAt: num(r['updated_at']),
  };
}

export function toBackupPair(r: Row): BackupPairRecord {
  return {
    walletId: str(r['wallet_id']),
    backupPairId: str(r['backup_pair_id']),
    curve: str(r['curve']) as Curve,
    method: str(r['method']) as BackupMethodName,
    status: str(r['status']) as BackupPairStatus,
    ...opt('lockedFrom', r['locked_from'] as BackupPairStatus | null),
    publicKey: str(r['public_key']),
    ...opt('replaces', r['replaces'] as string | null),
    custodianBackupShare: bytes(r['custodian_backup_share']),
    ciphertext: bytes(r['ciphertext']),
    ...opt('ciphertextDigest', r['ciphertext_digest'] as string | null),
    ...(r['self_managed_public_share'] === null || r['self_managed_public_share'] === undefined
      ? {}
      : {
          selfManaged: {
            publicShare: str(r['self_managed_public_share']),
            verifiedAt: r['self_managed_verified_at'] === null ? null : num(r['self_managed_verified_at']),
          },
        }),
    createdAt: num(r['created_at']),
    updatedAt: num(r['updated_at']),
  };
}

export const toOutbox = (r: Row): OutboxRecord => ({
  id: str(r['id']),
  walletId: str(r['wallet_id']),
  kind: str(r['kind']) as OutboxKind,
  backupPairId: str(r['backup_pair_id']),
  status: str(r['status']) as OutboxStatus,
  attempts: num(r['attempts']),
  nextAttemptAt: num(r['next_attempt_at']),
  claimedUntil: num(r['claimed_until']),
  lastError: (r['last_error'] as string | null) ?? null,
  createdAt: num(r['created_at']),
  updatedAt: num(r['updated_at']),
});

/** The outbox row's columns in insert order, shared by both dialects' upserts. */
export const outboxValues = (r: OutboxRecord): unknown[] => [
  r.id,
  r.walletId,
  r.kind,
  r.backupPairId,
  r.status,
  r.attempts,
  r.nextAttemptAt,
  r.claimedUntil,
  r.lastError,
  r.createdAt,
  r.updatedAt,
];

export const toLease = (r: Row): LeaseRecord => ({
  walletId: str(r['wallet_id']),
  holder: str(r['holder']),
  operation: str(r['operation']) as LeaseOperation,
  token: num(r['token']),
  expiresAt: num(r['expires_at']),
});

export const toIdempotency = (r: Row): IdempotencyRecord => ({
  walletId: str(r['wallet_id']),
  key: str(r['key']),
  fingerprint: str(r['fingerprint']),
  result: str(r['result']),
  createdAt: num(r['created_at']),
});

export const toPresignature = (r: Row): PresignatureRecord => ({
  walletId: str(r['wallet_id']),
  pairId: str(r['pair_id']),
  sid: str(r['sid']),
  used: num(r['used']) === 1,
  secret: bytes(r['secret']),
  s4Hash: (r['s4_hash'] as string | null) ?? null,
  answer: bytes(r['answer']),
  createdAt: num(r['created_at']),
  expiresAt: num(r['expires_at']),
});

export const toStepUp = (r: Row): StepUpRecord => ({
  walletId: str(r['wallet_id']),
  method: str(r['method']) as BackupMethodName,
  expiresAt: num(r['expires_at']),
});
