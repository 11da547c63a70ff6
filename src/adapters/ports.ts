/**
 * The ports of DESIGN §2: what the wallet machine needs from the outside world, as interfaces. The
 * machine depends on these and never on an implementation, so the same lifecycle runs against the
 * in-memory doubles in tests, the real custodian over WebSocket, a browser's IndexedDB or a Node file.
 */
import type {
  BackupMethodName,
  BackupPairView,
  Curve,
  SigningPairView,
  SignRequestKind,
  WalletView,
} from '../types.js';

/**
 * Durable secret storage on the device. Entries are keyed `walletId/curve/pairId` and never overwritten
 * in place: a new share is written beside the old one, and the old one is deleted only once the new
 * pair is confirmed (DESIGN §3 rule 1).
 */
export interface Keychain {
  get(key: string): Promise<Uint8Array | undefined>;
  /** Writes a new entry; writing different bytes to an existing key must fail. */
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  keys(prefix: string): Promise<string[]>;
}

/** Options a backup method needs; `password` is a secret and never enters the machine. */
export interface BackupMethodOptions {
  readonly password?: string;
  readonly [option: string]: unknown;
}

/**
 * Who keeps the data key that decrypts the client backup share. PASSWORD and PASSKEY wrap it and return
 * the wrapped key, which then travels with the ciphertext; GDRIVE, LOCAL_FILE and CUSTOM store it
 * themselves and return `null`.
 */
export interface BackupMethod {
  readonly name: BackupMethodName;
  storeKey(backupPairId: string, dataKey: Uint8Array, options: BackupMethodOptions): Promise<Uint8Array | null>;
  loadKey(backupPairId: string, wrappedKey: Uint8Array | null, options: BackupMethodOptions): Promise<Uint8Array>;
  deleteKey(backupPairId: string): Promise<void>;
  /**
   * Refuses options that would fail later (a missing or too weak password) before the operation starts,
   * so nothing is created at the custodian for a request that cannot complete. Throws a TandemError.
   */
  checkOptions?(options: BackupMethodOptions, purpose: 'backup' | 'recover'): void;
}

/**
 * One party of a two-party protocol, as src/mpc shapes them: a pure state object. `start` returns the
 * party's first messages (possibly none); `receive` takes one message from the other party and returns
 * the next messages and, at the end, the result.
 */
export interface Party<Result> {
  start(): Uint8Array[];
  receive(message: Uint8Array): { readonly messages: Uint8Array[]; readonly result?: Result };
}

/**
 * What the custodian says when a session starts: both parties' ids, which the protocols bind into every
 * session id. The client's party can only be built once it knows them.
 */
export interface SessionInfo {
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** A replacement by proof: the custodian's fresh challenge, and the completed backup pair being replaced. */
  readonly challenge?: Uint8Array;
  readonly replaces?: string;
}

/** Builds the client's party of one session from the custodian's `ready`. */
export type PartyFactory<Result> = (session: SessionInfo) => Party<Result>;

/** A sign request as the custodian's schema has it; `raw` digests are marked as such. */
export interface SignRequest {
  readonly kind: SignRequestKind;
  /** Hex. */
  readonly digest: string;
  readonly payload?: unknown;
}

export type ProtocolRequest =
  | { readonly op: 'generate'; readonly curve: Curve; readonly idempotencyKey: string }
  | {
      readonly op: 'backup';
      readonly curve: Curve;
      readonly method: BackupMethodName;
      readonly idempotencyKey: string;
      /**
       * Replacing a completed backup by proof: made from the session's `ready` (its challenge), the proof that
       * this client holds the current backup's client share. Absent, a replacement needs the operator's step-up.
       */
      readonly proveCurrent?: (session: SessionInfo) => Uint8Array;
    }
  | { readonly op: 'recover'; readonly curve: Curve; readonly backupPairId: string; readonly idempotencyKey: string }
  | {
      readonly op: 'sign';
      readonly curve: Curve;
      readonly pairId: string;
      readonly request: SignRequest;
      readonly idempotencyKey: string;
    };

/** What the custodian committed at the end of a protocol session: public data only. */
export type ProtocolOutcome =
  | { readonly op: 'generate' | 'recover'; readonly pair: SigningPairView }
  | { readonly op: 'backup'; readonly backupPair: BackupPairView }
  | { readonly op: 'sign'; readonly signature?: string };

/**
 * The custodian as the client sees it: bound to one wallet by its client API key. Every state-changing
 * call carries an idempotency key, so a retry after a crash or a dropped connection never applies twice.
 */
export interface Custodian {
  getWallet(): Promise<WalletView>;
  /**
   * Runs one MPC session: the client's party is made from the custodian's `ready` by `makeParty`; resolves
   * with the custodian's outcome and the party's result.
   */
  runProtocol<Result>(request: ProtocolRequest, makeParty: PartyFactory<Result>): Promise<{ outcome: ProtocolOutcome; result: Result }>;
  confirmSigningPair(pairId: string, idempotencyKey: string): Promise<SigningPairView>;
  confirmBackupKey(backupPairId: string, idempotencyKey: string): Promise<BackupPairView>;
  storeBackupCiphertext(backupPairId: string, ciphertext: Uint8Array, idempotencyKey: string): Promise<BackupPairView>;
  /** The app keeps the ciphertext (a `ciphertextStore`); the custodian records its SHA-256 (hex) instead. */
  storeBackupCiphertextDigest(backupPairId: string, digest: string, idempotencyKey: string): Promise<BackupPairView>;
  fetchBackupCiphertext(backupPairId: string): Promise<Uint8Array>;
  confirmBackup(backupPairId: string, idempotencyKey: string): Promise<BackupPairView>;
  /** Eject: the custodian backup shares of the completed backups, inside the operator's window only (`EJECT_NOT_ALLOWED`). */
  ejectShares(): Promise<readonly EjectedCustodianShare[]>;
}

/**
 * Where the app keeps the encrypted client backup shares when it keeps them itself (self-managed from the
 * client) instead of the custodian. The bytes are ciphertext: useless without the custodian backup share
 * and the method's key. `fetch` answers null for a backup it does not hold.
 */
export interface CiphertextStore {
  store(backupPairId: string, ciphertext: Uint8Array): Promise<void>;
  fetch(backupPairId: string): Promise<Uint8Array | null>;
}

/** One custodian backup share released by eject: secret material, to be combined and then erased. */
export interface EjectedCustodianShare {
  readonly backupPairId: string;
  readonly curve: Curve;
  readonly method: BackupMethodName;
  readonly custodianBackupShare: Uint8Array;
}

export interface ShareResult {
  /** The client's share, serialised (versioned bytes). */
  readonly share: Uint8Array;
  /** The key's public point, hex. */
  readonly publicKey: string;
  /**
   * The id of the pair this run made (hex of the session id bound into the share): the custodian's
   * outcome must name the same pair, or the client would file the share under another pair's id.
   */
  readonly pairId?: string;
}

/**
 * The client's side of the protocols: makes the client party of each session. src/mpc provides the real
 * one (ECDSA-2PC and FROST); tests use a simulated one from the testing entry.
 */
export interface ClientMpc {
  generate(curve: Curve): PartyFactory<ShareResult>;
  backup(curve: Curve, signingShare: Uint8Array, method: BackupMethodName): PartyFactory<ShareResult>;
  recover(curve: Curve, backupShare: Uint8Array): PartyFactory<ShareResult>;
  /**
   * Signs `message` — the 32-byte digest for SECP256K1, the exact message bytes for ED25519 — for
   * `request`, which the custodian checks against the message (ECDSA carries it inside S4). The result is
   * the 64-byte signature (SECP256K1: r ‖ s, low-s; ED25519: R ‖ S) that `verify` accepts.
   */
  sign(curve: Curve, signingShare: Uint8Array, request: SignRequest, message: Uint8Array): PartyFactory<{ readonly signature: Uint8Array }>;
  /** Parses a serialised share (signing or backup, the client's kinds) and returns its public key, failing on anything malformed. */
  publicKeyOf(curve: Curve, share: Uint8Array): string;
  /** Checks a signature under a public key (the wallet checks every signature before returning it). */
  verify(curve: Curve, publicKey: string, message: Uint8Array, signature: Uint8Array): boolean;
  /**
   * Eject only: the client's and the custodian's backup share of one backup pair combined into the wallet's
   * secret (SECP256K1: the private key; ED25519: the secret scalar, not a seed) and its public key.
   */
  combineBackupShares(curve: Curve, clientBackupShare: Uint8Array, custodianBackupShare: Uint8Array): { readonly secret: Uint8Array; readonly publicKey: string };
  /** The proof that this client holds `clientBackupShare`, the client share of the completed backup `backupPairId`, bound to the session. */
  proveCurrentBackup(curve: Curve, clientBackupShare: Uint8Array, context: ReplacementProofContext): Uint8Array;
}

export interface ReplacementProofContext {
  readonly challenge: Uint8Array;
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  readonly backupPairId: string;
  readonly method: BackupMethodName;
}
