/**
 * The custodian's storage contract. The rules (rules.ts) are pure code over this interface so the same
 * logic runs on the in-memory store here, SQLite and PostgreSQL (server issues). Every rule runs inside
 * one `transaction`, which must be serialisable per wallet: a rule reads, decides and writes, and no other
 * transaction may interleave on the same wallet. Records are replaced whole, never mutated in place.
 */
import type { BackupMethodName, BackupPairStatus, Curve, SigningPairStatus } from '../types.js';

export interface WalletRecord {
  readonly walletId: string;
  readonly archived: boolean;
  readonly createdAt: number;
  /** Per curve, +1 whenever a new signing pair is created. */
  readonly epochs: Readonly<Partial<Record<Curve, number>>>;
  /** The wallet key per curve, fixed by the first confirmed signing pair and never changed after. */
  readonly publicKeys: Readonly<Partial<Record<Curve, string>>>;
  /** Last fencing token handed out for this wallet; tokens only grow. */
  readonly fencingToken: number;
}

export interface SigningPairRecord {
  readonly walletId: string;
  readonly pairId: string;
  readonly curve: Curve;
  readonly status: SigningPairStatus;
  /** The status to return to when an operator unlocks a LOCKED pair. */
  readonly lockedFrom?: SigningPairStatus;
  readonly epoch: number;
  readonly publicKey: string;
  readonly recoveredFrom?: string;
  /** The custodian's signing share, opaque here (the server encrypts it at rest); erased when superseded. */
  readonly custodianShare: Uint8Array | null;
  /** Consecutive Π_sign failures (ECDSA-2PC §5.2); a success resets it. Absent means 0. */
  readonly signFailures?: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * One presignature's custodian half (ECDSA-2PC §4). `used` is set before anything that depends on the
 * message; to burn is to mark it used and erase its secret. A used record keeps the hash of the S4
 * that used it and, once there is one, the answer, so a byte-identical resend gets the same answer.
 */
export interface PresignatureRecord {
  readonly walletId: string;
  readonly pairId: string;
  /** Hex of the session id that names it. */
  readonly sid: string;
  readonly used: boolean;
  /** The custodian's nonce material, opaque here (encrypted at rest by the server); null once used. */
  readonly secret: Uint8Array | null;
  readonly s4Hash: string | null;
  readonly answer: Uint8Array | null;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface BackupPairRecord {
  readonly walletId: string;
  readonly backupPairId: string;
  readonly curve: Curve;
  readonly method: BackupMethodName;
  readonly status: BackupPairStatus;
  readonly lockedFrom?: BackupPairStatus;
  readonly publicKey: string;
  readonly replaces?: string;
  /** The custodian backup share (opaque); erased when superseded. */
  readonly custodianBackupShare: Uint8Array | null;
  /** The encrypted client backup share with its wrapped data key, as the client uploaded it. */
  readonly ciphertext: Uint8Array | null;
  /** When the app keeps the ciphertext itself: its SHA-256 (hex), what a ciphertext the app returns must hash to. */
  readonly ciphertextDigest?: string;
  /**
   * Self-managed (DESIGN §4): the custodian backup share goes to the operator's backend through the
   * outbox, and the custodian erases its copy once the backend has shown it holds the right share.
   */
  readonly selfManaged?: SelfManagedCustody;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface SelfManagedCustody {
  /** The custodian backup share's public share (hex): what a share fetched back must match. */
  readonly publicShare: string;
  /** When `POST {webhook}/backup/fetch` first returned a matching share; until then the backup cannot complete. */
  readonly verifiedAt: number | null;
}

export type OutboxKind = 'backup' | 'superseded';
export type OutboxStatus = 'PENDING' | 'DONE' | 'FAILED' | 'CANCELLED';

/**
 * One delivery to the operator's webhook, written in the same transaction as the change it announces.
 * Its id is `<kind>:<backup pair id>`, so a pair is delivered (and announced) at most once however often
 * the change is retried. It never holds a secret: a `backup` delivery reads the share from its pair.
 */
export interface OutboxRecord {
  readonly id: string;
  readonly walletId: string;
  readonly kind: OutboxKind;
  readonly backupPairId: string;
  readonly status: OutboxStatus;
  readonly attempts: number;
  /** Not before this time (ms); grows with each failed attempt. */
  readonly nextAttemptAt: number;
  /** An instance working on it holds it until then; another may take it over afterwards. */
  readonly claimedUntil: number;
  /** Why the last attempt failed (public words only, never a body). */
  readonly lastError: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type LeaseOperation = 'generate' | 'backup' | 'recover';

export interface LeaseRecord {
  readonly walletId: string;
  readonly holder: string;
  readonly operation: LeaseOperation;
  readonly token: number;
  readonly expiresAt: number;
}

export interface IdempotencyRecord {
  readonly walletId: string;
  readonly key: string;
  /** A hash of the request the key was first used with. */
  readonly fingerprint: string;
  /** The JSON result returned to that request, returned again to a byte-identical retry. */
  readonly result: string;
  readonly createdAt: number;
}

export interface StepUpRecord {
  readonly walletId: string;
  readonly method: BackupMethodName;
  readonly expiresAt: number;
}

export interface StoreTx {
  getWallet(walletId: string): Promise<WalletRecord | undefined>;
  putWallet(wallet: WalletRecord): Promise<void>;
  getSigningPair(pairId: string): Promise<SigningPairRecord | undefined>;
  listSigningPairs(walletId: string): Promise<SigningPairRecord[]>;
  putSigningPair(pair: SigningPairRecord): Promise<void>;
  getBackupPair(backupPairId: string): Promise<BackupPairRecord | undefined>;
  listBackupPairs(walletId: string): Promise<BackupPairRecord[]>;
  putBackupPair(pair: BackupPairRecord): Promise<void>;
  getLease(walletId: string): Promise<LeaseRecord | undefined>;
  putLease(lease: LeaseRecord): Promise<void>;
  deleteLease(walletId: string): Promise<void>;
  /** Every wallet's lease: for the start-up of the only instance on a database, whose sessions all died. */
  deleteAllLeases(): Promise<void>;
  getIdempotency(walletId: string, key: string): Promise<IdempotencyRecord | undefined>;
  putIdempotency(record: IdempotencyRecord): Promise<void>;
  getPresignature(sid: string): Promise<PresignatureRecord | undefined>;
  listPresignatures(walletId: string, pairId: string): Promise<PresignatureRecord[]>;
  putPresignature(record: PresignatureRecord): Promise<void>;
  /**
   * The sids of unused presignatures of every wallet, soonest to expire first, at most `limit`: those
   * expiring at or before `expiresBy`, or all of them when it is null (the sweep that burns what no session
   * can use). Sids only: the sweep has no business reading the secrets.
   */
  listUnusedPresignatureSids(expiresBy: number | null, limit: number): Promise<string[]>;
  getStepUp(walletId: string, method: BackupMethodName): Promise<StepUpRecord | undefined>;
  putStepUp(record: StepUpRecord): Promise<void>;
  deleteStepUp(walletId: string, method: BackupMethodName): Promise<void>;
  getOutbox(id: string): Promise<OutboxRecord | undefined>;
  putOutbox(record: OutboxRecord): Promise<void>;
  /** PENDING deliveries due at `now` and not claimed by a live instance, oldest first. */
  listDueOutbox(now: number, limit: number): Promise<OutboxRecord[]>;
  /** Every delivery of a wallet, oldest first (operators' view). */
  listOutbox(walletId: string): Promise<OutboxRecord[]>;
}

export interface Store {
  /** Runs `fn` atomically: all of its writes land, or none do (when it throws). */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
}
