/**
 * The vocabulary of DESIGN.md §1 as types. Every other module speaks these words, so a status read in a
 * log, an error, the inspector or the custodian's database means the same thing everywhere.
 */

export const CURVES = ['SECP256K1', 'ED25519'] as const;
export type Curve = (typeof CURVES)[number];

export const BACKUP_METHODS = ['PASSWORD', 'PASSKEY', 'GDRIVE', 'LOCAL_FILE', 'CUSTOM'] as const;
export type BackupMethodName = (typeof BACKUP_METHODS)[number];

/** Statuses of a signing share pair, in lifecycle order, then the terminal and exceptional ones. */
export const SIGNING_PAIR_STATUSES = [
  'STORED_DATABASE',
  'STORED_CLIENT',
  'SUSPENDED',
  'SUPERSEDED',
  'LOCKED',
] as const;
export type SigningPairStatus = (typeof SIGNING_PAIR_STATUSES)[number];

/** Statuses of a backup share pair; `STORED_CLIENT_BACKUP_SHARE` means the backup is completed. */
export const BACKUP_PAIR_STATUSES = [
  'STORED_CUSTODIAN_BACKUP_SHARE',
  'STORED_CLIENT_BACKUP_SHARE_KEY',
  'STORED_CLIENT_BACKUP_SHARE',
  'SUPERSEDED',
  'LOCKED',
] as const;
export type BackupPairStatus = (typeof BACKUP_PAIR_STATUSES)[number];

/** The progress statuses an operation reports (the reference product's words, plus `Signing`). */
export const PROGRESS_STATUSES = [
  'Generating share',
  'Parsing share',
  'Storing share',
  'Encrypting share',
  'Decrypting share',
  'Reading share',
  'Recovering backup share',
  'Recovering signing share',
  'Signing',
  'Done',
] as const;
export type ProgressStatus = (typeof PROGRESS_STATUSES)[number];

export type OperationKind = 'generate' | 'backup' | 'recover' | 'sign';

/** A signing share pair as the custodian reports it: public data only. */
export interface SigningPairView {
  readonly pairId: string;
  readonly curve: Curve;
  readonly status: SigningPairStatus;
  readonly epoch: number;
  /** Compressed secp256k1 point or 32-byte ed25519 point, hex. */
  readonly publicKey: string;
  /** Set by a Recover: the backup pair the new signing pair was derived from. */
  readonly recoveredFrom?: string;
  readonly createdAt: number;
}

/** A backup share pair as the custodian reports it: public data only. */
export interface BackupPairView {
  readonly backupPairId: string;
  readonly curve: Curve;
  readonly method: BackupMethodName;
  readonly status: BackupPairStatus;
  readonly publicKey: string;
  /** The completed pair of the same (curve, method) that this one replaces once it completes. */
  readonly replaces?: string;
  /**
   * Present for a self-managed backup (DESIGN §4): the custodian backup share is kept by the operator's
   * backend; `verified` once the backend returned the matching share — only then can the backup complete.
   */
  readonly selfManaged?: { readonly verified: boolean };
  /** Present when the app keeps the ciphertext itself: its SHA-256 (hex), which the app's copy must match. */
  readonly ciphertextDigest?: string;
  readonly createdAt: number;
}

/** Everything the custodian says about one wallet. */
export interface WalletView {
  readonly walletId: string;
  readonly archived: boolean;
  /** The wallet key per curve, fixed by the first confirmed signing pair; absent until then. */
  readonly publicKeys: Readonly<Partial<Record<Curve, string>>>;
  readonly signingPairs: readonly SigningPairView[];
  readonly backupPairs: readonly BackupPairView[];
}

/**
 * The kinds of the custodian's sign-request schema (DESIGN §4): `raw` digests, and the typed kinds whose
 * digest the custodian recomputes from the payload (src/chains/sign-request.ts).
 */
export const SIGN_REQUEST_KINDS = ['raw', 'eip191', 'eip712', 'evmTransaction', 'solanaMessage', 'solanaTransaction'] as const;
export type SignRequestKind = (typeof SIGN_REQUEST_KINDS)[number];
