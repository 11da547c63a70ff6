/**
 * The custodian's rules (DESIGN §3, §4) as pure code over a Store: which share pair may be created,
 * confirmed, suspended, superseded, locked; who may hold the wallet's lease; what a retry returns.
 * Nothing here does I/O of its own, so the same rules run behind the in-memory adapter, the HTTP server,
 * SQLite and PostgreSQL, and the property tests exercise exactly what production runs.
 *
 * Crash safety lives here as much as on the client: a new pair is written beside the old one and the old
 * one is only suspended (Recover) until the new one is confirmed; every state change runs in one store
 * transaction, checks the lease's fencing token when it belongs to a protocol session, and is either
 * idempotent by its nature (a confirm of a confirmed pair) or by its idempotency key.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { TandemError } from '../errors.js';
import type {
  BackupMethodName,
  BackupPairView,
  Curve,
  SigningPairView,
  WalletView,
} from '../types.js';
import { DEFAULT_HOOKS, type CustodianHooks, type SignRequestView } from './hooks.js';
import { announceSuperseded, enqueueBackupDelivery, notDelivered, outboxId } from './outbox.js';
import type {
  BackupPairRecord,
  LeaseOperation,
  LeaseRecord,
  PresignatureRecord,
  SelfManagedCustody,
  SigningPairRecord,
  Store,
  StoreTx,
  WalletRecord,
} from './store.js';

export interface CustodianRulesOptions {
  readonly store: Store;
  readonly hooks?: Partial<CustodianHooks>;
  /** Milliseconds since the epoch; injected so tests can move time. */
  readonly clock?: () => number;
  /** How long a protocol session may hold the wallet before another may take it over. */
  readonly leaseTtlMs?: number;
  readonly newId?: (prefix: string) => string;
  /** Outstanding (unused, unexpired) presignatures allowed per signing pair (ECDSA-2PC §4 rule 7). */
  readonly presignatureCap?: number;
  /**
   * How long an unused presignature lives before it is burned: the deadline for its S4. Only the session
   * that made it can use it (the client's half lives in that session's memory), so it should not outlive a
   * silent session; the server sets it to the session idle timeout. 60 s by default.
   */
  readonly presignatureTtlMs?: number;
  /** Consecutive Π_sign failures that lock a pair as a suspected compromised client (§5.2). */
  readonly signFailureLockThreshold?: number;
}

/** What `usePresignature` hands the signing session: the nonce to finish with, or the earlier answer. */
export type PresignatureUse = { readonly kind: 'fresh'; readonly secret: Uint8Array } | { readonly kind: 'cached'; readonly answer: Uint8Array };

export interface Lease {
  readonly walletId: string;
  readonly token: number;
  readonly expiresAt: number;
}

const defaultId = (prefix: string) => `${prefix}_${bytesToHex(randomBytes(12))}`;

/** A pair that still counts for its curve: not replaced for good. */
const isLive = (p: SigningPairRecord) => p.status !== 'SUPERSEDED';

export class CustodianRules {
  private readonly store: Store;
  private readonly hooks: CustodianHooks;
  private readonly clock: () => number;
  private readonly leaseTtlMs: number;
  private readonly newId: (prefix: string) => string;
  private readonly presignatureCap: number;
  private readonly presignatureTtlMs: number;
  private readonly signFailureLockThreshold: number;

  constructor(options: CustodianRulesOptions) {
    this.store = options.store;
    this.hooks = { ...DEFAULT_HOOKS, ...options.hooks };
    this.clock = options.clock ?? Date.now;
    this.leaseTtlMs = options.leaseTtlMs ?? 60_000;
    this.newId = options.newId ?? defaultId;
    this.presignatureCap = options.presignatureCap ?? 4;
    this.presignatureTtlMs = options.presignatureTtlMs ?? 60_000;
    this.signFailureLockThreshold = options.signFailureLockThreshold ?? 3;
  }

  // ---- wallets -------------------------------------------------------------------------------------

  async createWallet(args: { walletId?: string } = {}): Promise<WalletView> {
    const walletId = args.walletId ?? this.newId('wal');
    return this.store.transaction(async (tx) => {
      if (await tx.getWallet(walletId)) {
        throw new TandemError('INVALID_INPUT', { message: 'The wallet already exists.', details: { walletId } });
      }
      const wallet: WalletRecord = {
        walletId,
        archived: false,
        createdAt: this.clock(),
        epochs: {},
        publicKeys: {},
        fencingToken: 0,
      };
      await tx.putWallet(wallet);
      return viewOf(tx, wallet);
    });
  }

  async getWallet(walletId: string): Promise<WalletView> {
    return this.store.transaction(async (tx) => viewOf(tx, await mustWallet(tx, walletId)));
  }

  /** Operator: the device was lost with no backup; every later operation on the wallet is refused. */
  async archiveWallet(walletId: string): Promise<WalletView> {
    return this.store.transaction(async (tx) => {
      const wallet = await mustWallet(tx, walletId);
      const archived = { ...wallet, archived: true };
      await tx.putWallet(archived);
      await tx.deleteLease(walletId);
      return viewOf(tx, archived);
    });
  }

  // ---- the lease -----------------------------------------------------------------------------------

  /**
   * One state-changing operation per wallet at a time. The token grows with every grant, so a session
   * whose lease expired and was taken over is refused at its commit (`STALE_LEASE`) even if it wakes up.
   */
  async acquireLease(args: { walletId: string; operation: LeaseOperation; holder: string }): Promise<Lease> {
    return this.store.transaction(async (tx) => {
      const wallet = await mustActiveWallet(tx, args.walletId);
      const now = this.clock();
      const current = await tx.getLease(args.walletId);
      if (current && current.expiresAt > now) {
        throw new TandemError('OPERATION_IN_PROGRESS', {
          details: { walletId: args.walletId, operation: current.operation },
        });
      }
      const token = wallet.fencingToken + 1;
      await tx.putWallet({ ...wallet, fencingToken: token });
      const lease: LeaseRecord = {
        walletId: args.walletId,
        holder: args.holder,
        operation: args.operation,
        token,
        expiresAt: now + this.leaseTtlMs,
      };
      await tx.putLease(lease);
      return { walletId: lease.walletId, token, expiresAt: lease.expiresAt };
    });
  }

  async releaseLease(args: { walletId: string; token: number }): Promise<void> {
    await this.store.transaction(async (tx) => {
      const current = await tx.getLease(args.walletId);
      if (current?.token === args.token) await tx.deleteLease(args.walletId);
    });
  }

  /**
   * For the start-up of the only instance on its database (SQLite): the sessions that held leases died
   * with the previous process, so their wallets need not wait out the lease TTL. Fencing is unaffected:
   * tokens live on the wallet and keep growing.
   */
  async releaseAllLeases(): Promise<void> {
    await this.store.transaction((tx) => tx.deleteAllLeases());
  }

  // ---- signing pairs -------------------------------------------------------------------------------

  /**
   * Generate's commit: the custodian share is persisted and the pair is `STORED_DATABASE`. Refused once
   * the curve has a confirmed key (its address may have been shown); a pending pair from a crashed
   * generate is superseded, since its client share never reached a keychain that was confirmed.
   */
  async recordGeneratedPair(args: {
    walletId: string;
    curve: Curve;
    leaseToken: number;
    publicKey: string;
    custodianShare: Uint8Array;
    idempotencyKey: string;
    /** The pair id the protocol derived (its sid); chosen here when absent. */
    pairId?: string;
  }): Promise<SigningPairView> {
    const { custodianShare, ...request } = args;
    return this.mutate(args.walletId, args.idempotencyKey, { op: 'recordGeneratedPair', ...request, share: sha(custodianShare) }, async (tx, wallet) => {
      await this.checkLease(tx, args.walletId, args.leaseToken, 'generate');
      if (wallet.publicKeys[args.curve] !== undefined) {
        throw new TandemError('STATE_INVALID', {
          message: 'The wallet already has a confirmed signing pair for this curve.',
          details: { walletId: args.walletId, curve: args.curve },
        });
      }
      const now = this.clock();
      const pairs = await pairsOf(tx, args.walletId, args.curve);
      assertNoLockedPair(pairs);
      for (const p of pairs) {
        if (p.status === 'STORED_DATABASE') await putPair(tx, supersededPair(p, now));
      }
      const pair = await this.newSigningPair(tx, wallet, args.curve, args.publicKey, custodianShare, undefined, args.pairId);
      return publicPair(pair);
    });
  }

  /**
   * The client says its share is in its keychain: `STORED_DATABASE` → `STORED_CLIENT`. The first confirm
   * of a curve fixes the wallet key; a confirm of a recovered pair supersedes the pairs it suspended.
   */
  async confirmSigningPair(args: { walletId: string; pairId: string; idempotencyKey: string }): Promise<SigningPairView> {
    return this.mutate(args.walletId, args.idempotencyKey, { op: 'confirmSigningPair', ...args }, async (tx, wallet) => {
      const pair = await mustSigningPair(tx, args.walletId, args.pairId);
      if (pair.status === 'STORED_CLIENT') return publicPair(pair);
      if (pair.status === 'LOCKED') throw lockedError(pair.pairId);
      if (pair.status !== 'STORED_DATABASE') {
        throw new TandemError('STATE_INVALID', {
          message: 'Only a STORED_DATABASE signing pair can be confirmed.',
          details: { pairId: pair.pairId, status: pair.status },
        });
      }
      const known = wallet.publicKeys[pair.curve];
      if (known !== undefined && known !== pair.publicKey) {
        throw new TandemError('PUBLIC_KEY_MISMATCH', { details: { pairId: pair.pairId, curve: pair.curve } });
      }
      const now = this.clock();
      const pairs = await pairsOf(tx, args.walletId, pair.curve);
      // A locked pair of the curve (even a suspended one) is evidence the operator must see first.
      assertNoLockedPair(pairs);
      const confirmed: SigningPairRecord = { ...pair, status: 'STORED_CLIENT', updatedAt: now };
      await putPair(tx, confirmed);
      for (const p of pairs) {
        if (p.status === 'SUSPENDED') await putPair(tx, supersededPair(p, now));
      }
      if (known === undefined) {
        await tx.putWallet({ ...wallet, publicKeys: { ...wallet.publicKeys, [pair.curve]: pair.publicKey } });
      }
      return publicPair(confirmed);
    });
  }

  // ---- recover -------------------------------------------------------------------------------------

  /**
   * Before a Recover session starts: a completed backup of this curve must exist and the operator's
   * recovery-authorisation hook must approve. Returns the backup pair the session will use.
   */
  async authorizeRecovery(args: { walletId: string; curve: Curve; backupPairId: string }): Promise<BackupPairView> {
    const backup = await this.store.transaction(async (tx) => {
      await mustActiveWallet(tx, args.walletId);
      return mustCompletedBackup(tx, args.walletId, args.curve, args.backupPairId);
    });
    const decision = await this.hooks.recoveryAuthorization({
      walletId: args.walletId,
      curve: args.curve,
      method: backup.method,
      backupPairId: backup.backupPairId,
    });
    if (!decision.allow) {
      throw new TandemError('RECOVERY_REFUSED', {
        details: { walletId: args.walletId, curve: args.curve, reason: decision.reason },
      });
    }
    return publicBackup(backup);
  }

  /**
   * The custodian backup share a Recover session needs (inside the session's lease): the share itself,
   * or, for a self-managed backup, what the share fetched back from the operator's backend must match.
   */
  async backupShareForRecovery(args: { walletId: string; backupPairId: string; leaseToken: number }): Promise<CustodianBackupShareSource> {
    return this.store.transaction(async (tx) => {
      await mustActiveWallet(tx, args.walletId);
      await this.checkLease(tx, args.walletId, args.leaseToken, 'recover');
      const backup = await mustBackupPair(tx, args.walletId, args.backupPairId);
      const completed = await mustCompletedBackup(tx, args.walletId, backup.curve, backup.backupPairId);
      return shareSource(completed);
    });
  }

  /**
   * Recover's commit: a fresh signing pair of the same key from a completed backup. The current pair
   * (confirmed or locked) is SUSPENDED (it can no longer sign) rather than destroyed, and superseded only when the new pair is
   * confirmed, so a crash between the two leaves the wallet recoverable again from the same backup.
   */
  async recordRecoveredPair(args: {
    walletId: string;
    curve: Curve;
    leaseToken: number;
    backupPairId: string;
    publicKey: string;
    custodianShare: Uint8Array;
    idempotencyKey: string;
    /** The pair id the protocol derived (its sid); chosen here when absent. */
    pairId?: string;
  }): Promise<SigningPairView> {
    const { custodianShare, ...request } = args;
    return this.mutate(args.walletId, args.idempotencyKey, { op: 'recordRecoveredPair', ...request, share: sha(custodianShare) }, async (tx, wallet) => {
      await this.checkLease(tx, args.walletId, args.leaseToken, 'recover');
      await mustCompletedBackup(tx, args.walletId, args.curve, args.backupPairId);
      const known = wallet.publicKeys[args.curve];
      if (known === undefined || known !== args.publicKey) {
        throw new TandemError('PUBLIC_KEY_MISMATCH', { details: { walletId: args.walletId, curve: args.curve } });
      }
      const now = this.clock();
      // A locked pair is suspended like any earlier pair (ECDSA-2PC §5.2): recovery stays possible,
      // subject to the operator's recovery-authorisation hook.
      for (const p of await pairsOf(tx, args.walletId, args.curve)) {
        if (p.status === 'STORED_CLIENT' || p.status === 'LOCKED') {
          const { lockedFrom: _dropped, ...rest } = p;
          await putPair(tx, { ...rest, status: 'SUSPENDED', updatedAt: now });
        } else if (p.status === 'STORED_DATABASE') await putPair(tx, supersededPair(p, now));
      }
      const pair = await this.newSigningPair(tx, wallet, args.curve, args.publicKey, custodianShare, args.backupPairId, args.pairId);
      return publicPair(pair);
    });
  }

  // ---- backup --------------------------------------------------------------------------------------

  /** The custodian signing share a Backup session re-shares (inside the session's lease). */
  async signingShareForBackup(args: { walletId: string; curve: Curve; leaseToken: number }): Promise<{ pair: SigningPairView; share: Uint8Array }> {
    return this.store.transaction(async (tx) => {
      await mustActiveWallet(tx, args.walletId);
      await this.checkLease(tx, args.walletId, args.leaseToken, 'backup');
      const pair = await mustCurrentConfirmedPair(tx, args.walletId, args.curve);
      if (!pair.custodianShare) throw new TandemError('INTERNAL', { details: { pairId: pair.pairId } });
      return { pair: publicPair(pair), share: pair.custodianShare.slice() };
    });
  }

  /**
   * Backup's commit: a fresh backup pair of the same key, `STORED_CUSTODIAN_BACKUP_SHARE`. Needs a
   * confirmed signing pair. Replacing a completed backup of the same method needs the protocol's proof
   * that the client holds the current client backup share, or a live operator step-up (a window the
   * operator opens for the method, covering every curve of one backup); the completed backup stays
   * usable until the new one completes.
   */
  async recordBackupPair(args: {
    walletId: string;
    curve: Curve;
    method: BackupMethodName;
    leaseToken: number;
    publicKey: string;
    custodianBackupShare: Uint8Array;
    /** Set by the protocol layer only after it verified the client's proof of the current backup share. */
    proofOfCurrentBackup?: boolean;
    idempotencyKey: string;
    /** The backup pair id the protocol derived (its sid); chosen here when absent. */
    backupPairId?: string;
    /** Self-managed: the share goes to the operator's backend; this is its public share (hex). */
    selfManaged?: { publicShare: string };
  }): Promise<BackupPairView> {
    const { custodianBackupShare, ...request } = args;
    const proven = args.proofOfCurrentBackup === true;
    return this.mutate(args.walletId, args.idempotencyKey, { op: 'recordBackupPair', ...request, proofOfCurrentBackup: proven, share: sha(custodianBackupShare) }, async (tx, wallet) => {
      await this.checkLease(tx, args.walletId, args.leaseToken, 'backup');
      await mustCurrentConfirmedPair(tx, args.walletId, args.curve);
      if (wallet.publicKeys[args.curve] !== args.publicKey) {
        throw new TandemError('PUBLIC_KEY_MISMATCH', { details: { walletId: args.walletId, curve: args.curve } });
      }
      const now = this.clock();
      const sameSlot = (await tx.listBackupPairs(args.walletId)).filter(
        (b) => b.curve === args.curve && b.method === args.method,
      );
      assertNoLockedBackup(sameSlot);
      const completed = sameSlot.find((b) => b.status === 'STORED_CLIENT_BACKUP_SHARE');
      if (completed) {
        const stepUp = await tx.getStepUp(args.walletId, args.method);
        const stepUpLive = stepUp !== undefined && stepUp.expiresAt > now;
        if (!proven && !stepUpLive) {
          throw new TandemError('BACKUP_REPLACEMENT_UNAUTHORISED', {
            details: { walletId: args.walletId, curve: args.curve, method: args.method },
          });
        }
      }
      for (const b of sameSlot) {
        if (b.status === 'STORED_CUSTODIAN_BACKUP_SHARE' || b.status === 'STORED_CLIENT_BACKUP_SHARE_KEY') {
          await putSupersededBackup(tx, b, now);
        }
      }
      if (args.backupPairId !== undefined && (!/^[A-Za-z0-9_-]{1,128}$/.test(args.backupPairId) || (await tx.getBackupPair(args.backupPairId)) || (await tx.getSigningPair(args.backupPairId)))) {
        throw new TandemError('MALFORMED_MESSAGE', { message: 'The backup pair id is malformed or already in use.' });
      }
      const backup: BackupPairRecord = {
        walletId: args.walletId,
        backupPairId: args.backupPairId ?? this.newId('bkp'),
        curve: args.curve,
        method: args.method,
        status: 'STORED_CUSTODIAN_BACKUP_SHARE',
        publicKey: args.publicKey,
        ...(completed ? { replaces: completed.backupPairId } : {}),
        custodianBackupShare: custodianBackupShare.slice(),
        ciphertext: null,
        ...(args.selfManaged ? { selfManaged: { publicShare: args.selfManaged.publicShare, verifiedAt: null } } : {}),
        createdAt: now,
        updatedAt: now,
      };
      await tx.putBackupPair(backup);
      await enqueueBackupDelivery(tx, backup, now);
      return publicBackup(backup);
    });
  }

  /** The method stored or wrapped the data key: → `STORED_CLIENT_BACKUP_SHARE_KEY`. */
  async confirmBackupKey(args: { walletId: string; backupPairId: string; idempotencyKey: string }): Promise<BackupPairView> {
    return this.mutate(args.walletId, args.idempotencyKey, { op: 'confirmBackupKey', ...args }, async (tx) => {
      const b = await mustBackupPair(tx, args.walletId, args.backupPairId);
      if (b.status === 'STORED_CLIENT_BACKUP_SHARE_KEY' || b.status === 'STORED_CLIENT_BACKUP_SHARE') return publicBackup(b);
      expectBackupStatus(b, 'STORED_CUSTODIAN_BACKUP_SHARE');
      const next: BackupPairRecord = { ...b, status: 'STORED_CLIENT_BACKUP_SHARE_KEY', updatedAt: this.clock() };
      await tx.putBackupPair(next);
      return publicBackup(next);
    });
  }

  /** Keeps the encrypted client backup share. The same bytes again are a no-op; other bytes are refused. */
  async storeBackupCiphertext(args: {
    walletId: string;
    backupPairId: string;
    ciphertext: Uint8Array;
    idempotencyKey: string;
  }): Promise<BackupPairView> {
    const { ciphertext, ...request } = args;
    if (ciphertext.length === 0 || ciphertext.length > MAX_CIPHERTEXT_BYTES) {
      throw new TandemError('INVALID_INPUT', { message: `The ciphertext must be 1 to ${MAX_CIPHERTEXT_BYTES} bytes.` });
    }
    return this.mutate(args.walletId, args.idempotencyKey, { op: 'storeBackupCiphertext', ...request, ciphertext: sha(ciphertext) }, async (tx) => {
      const b = await mustBackupPair(tx, args.walletId, args.backupPairId);
      if (b.status === 'LOCKED') throw lockedError(b.backupPairId);
      if (b.ciphertextDigest !== undefined) {
        // The app keeps this one: the same bytes are a no-op, any other is refused.
        if (b.ciphertextDigest === sha(ciphertext)) return publicBackup(b);
        throw new TandemError('STATE_INVALID', { message: 'This backup pair already holds another ciphertext.', details: { backupPairId: b.backupPairId } });
      }
      if (b.ciphertext) {
        if (sha(b.ciphertext) === sha(ciphertext)) return publicBackup(b);
        throw new TandemError('STATE_INVALID', {
          message: 'This backup pair already holds another ciphertext.',
          details: { backupPairId: b.backupPairId },
        });
      }
      expectBackupStatus(b, 'STORED_CLIENT_BACKUP_SHARE_KEY');
      const next: BackupPairRecord = { ...b, ciphertext: ciphertext.slice(), updatedAt: this.clock() };
      await tx.putBackupPair(next);
      return publicBackup(next);
    });
  }

  /**
   * The app keeps the encrypted client backup share itself (self-managed from the client): the custodian
   * records only its SHA-256, which the confirmation needs instead of the ciphertext and which a recovery
   * checks the app's copy against. The same digest again is a no-op; another one is refused.
   */
  async recordBackupCiphertextDigest(args: { walletId: string; backupPairId: string; digest: string; idempotencyKey: string }): Promise<BackupPairView> {
    if (typeof args.digest !== 'string' || !/^[0-9a-f]{64}$/.test(args.digest)) {
      throw new TandemError('INVALID_INPUT', { message: 'The ciphertext digest is 64 lower-case hex characters (SHA-256).' });
    }
    return this.mutate(args.walletId, args.idempotencyKey, { op: 'recordBackupCiphertextDigest', ...args }, async (tx) => {
      const b = await mustBackupPair(tx, args.walletId, args.backupPairId);
      if (b.status === 'LOCKED') throw lockedError(b.backupPairId);
      if (b.ciphertext || b.ciphertextDigest) {
        if (b.ciphertextDigest === args.digest) return publicBackup(b);
        throw new TandemError('STATE_INVALID', { message: 'This backup pair already holds another ciphertext.', details: { backupPairId: b.backupPairId } });
      }
      expectBackupStatus(b, 'STORED_CLIENT_BACKUP_SHARE_KEY');
      const next: BackupPairRecord = { ...b, ciphertextDigest: args.digest, updatedAt: this.clock() };
      await tx.putBackupPair(next);
      return publicBackup(next);
    });
  }

  async fetchBackupCiphertext(args: { walletId: string; backupPairId: string }): Promise<Uint8Array> {
    return this.store.transaction(async (tx) => {
      await mustActiveWallet(tx, args.walletId);
      const b = await mustBackupPair(tx, args.walletId, args.backupPairId);
      if (b.status === 'LOCKED') throw lockedError(b.backupPairId);
      if (!b.ciphertext || b.status === 'SUPERSEDED') {
        const heldByApp = b.ciphertextDigest !== undefined && b.status !== 'SUPERSEDED';
        throw new TandemError('NO_VALID_BACKUP', {
          ...(heldByApp ? { message: 'The app keeps this backup’s ciphertext; the custodian has only its digest.' } : {}),
          details: { backupPairId: b.backupPairId, status: b.status, ...(heldByApp ? { heldByApp: true } : {}) },
        });
      }
      return b.ciphertext.slice();
    });
  }

  /**
   * The backup is completed: → `STORED_CLIENT_BACKUP_SHARE`. Only now is the earlier completed backup
   * of the same (curve, method) superseded — one completed backup per slot, never zero in between.
   */
  async confirmBackup(args: { walletId: string; backupPairId: string; idempotencyKey: string }): Promise<BackupPairView> {
    return this.mutate(args.walletId, args.idempotencyKey, { op: 'confirmBackup', ...args }, async (tx) => {
      const b = await mustBackupPair(tx, args.walletId, args.backupPairId);
      if (b.status === 'STORED_CLIENT_BACKUP_SHARE') return publicBackup(b);
      expectBackupStatus(b, 'STORED_CLIENT_BACKUP_SHARE_KEY');
      if (!b.ciphertext && !b.ciphertextDigest) {
        throw new TandemError('STATE_INVALID', {
          message: 'The encrypted client backup share has not been stored.',
          details: { backupPairId: b.backupPairId },
        });
      }
      // Self-managed: it counts only once the operator's backend returned the matching share.
      if (b.selfManaged && b.selfManaged.verifiedAt === null) throw notDelivered(b.backupPairId, await tx.getOutbox(outboxId('backup', b.backupPairId)));
      const now = this.clock();
      const sameSlot = (await tx.listBackupPairs(args.walletId)).filter((o) => o.curve === b.curve && o.method === b.method);
      assertNoLockedBackup(sameSlot);
      for (const other of sameSlot) {
        if (other.status === 'STORED_CLIENT_BACKUP_SHARE') await putSupersededBackup(tx, other, now);
      }
      const next: BackupPairRecord = { ...b, status: 'STORED_CLIENT_BACKUP_SHARE', updatedAt: now };
      await tx.putBackupPair(next);
      return publicBackup(next);
    });
  }

  /** The completed backup of a (curve, method) slot, if any: what a replacement by proof is checked against. */
  async completedBackupOf(args: { walletId: string; curve: Curve; method: BackupMethodName }): Promise<CustodianBackupShareSource | null> {
    return this.store.transaction(async (tx) => {
      await mustActiveWallet(tx, args.walletId);
      const completed = (await tx.listBackupPairs(args.walletId)).find((b) => b.curve === args.curve && b.method === args.method && b.status === 'STORED_CLIENT_BACKUP_SHARE');
      return completed ? shareSource(completed) : null;
    });
  }

  /** Operator: allow replacing the completed backups of `method` within the next `ttlMs`. */
  async grantStepUp(args: { walletId: string; method: BackupMethodName; ttlMs: number }): Promise<void> {
    await this.store.transaction(async (tx) => {
      await mustActiveWallet(tx, args.walletId);
      await tx.putStepUp({ walletId: args.walletId, method: args.method, expiresAt: this.clock() + args.ttlMs });
    });
  }

  // ---- eject ---------------------------------------------------------------------------------------

  /**
   * Eject (DESIGN §4): the custodian backup shares of the wallet's completed backups, so the client can
   * combine them with its own into the private key. Whether eject is allowed right now is the operator's
   * window, checked by the caller; this only reads.
   */
  async custodianBackupSharesForEject(walletId: string): Promise<(CustodianBackupShareSource & { method: BackupMethodName })[]> {
    return this.store.transaction(async (tx) => {
      await mustActiveWallet(tx, walletId);
      return (await tx.listBackupPairs(walletId))
        .filter((b) => b.status === 'STORED_CLIENT_BACKUP_SHARE' && (b.custodianBackupShare !== null || b.selfManaged))
        .map((b) => ({ ...shareSource(b), method: b.method }));
    });
  }

  // ---- lock ----------------------------------------------------------------------------------------

  /**
   * Evidence of an attack: the pair stops working until an operator unlocks it. A signing pair is
   * locked from `STORED_CLIENT` only (ECDSA-2PC §3): a pending pair cannot sign yet, and a suspended or
   * superseded one never will again. Locking a locked pair is a no-op.
   */
  async lockPair(args: { walletId: string; pairId: string; reason: string }): Promise<void> {
    await this.store.transaction(async (tx) => {
      await mustWallet(tx, args.walletId);
      const now = this.clock();
      const s = await tx.getSigningPair(args.pairId);
      if (s && s.walletId === args.walletId) {
        if (s.status === 'LOCKED') return;
        if (s.status !== 'STORED_CLIENT') {
          throw new TandemError('STATE_INVALID', {
            message: 'Only a STORED_CLIENT signing pair can be locked.',
            details: { pairId: s.pairId, status: s.status },
          });
        }
        await putPair(tx, { ...s, status: 'LOCKED', lockedFrom: s.status, updatedAt: now });
        return;
      }
      const b = await mustBackupPair(tx, args.walletId, args.pairId);
      if (b.status !== 'LOCKED' && b.status !== 'SUPERSEDED') {
        await tx.putBackupPair({ ...b, status: 'LOCKED', lockedFrom: b.status, updatedAt: now });
      }
    });
  }

  /** Operator: a locked pair returns to the status it had. */
  async unlockPair(args: { walletId: string; pairId: string }): Promise<void> {
    await this.store.transaction(async (tx) => {
      await mustWallet(tx, args.walletId);
      const now = this.clock();
      const s = await tx.getSigningPair(args.pairId);
      if (s && s.walletId === args.walletId) {
        if (s.status === 'LOCKED' && s.lockedFrom) {
          // The operator's review ends the failure streak that may have caused the lock.
          const { lockedFrom, signFailures: _streak, ...rest } = s;
          await putPair(tx, { ...rest, status: lockedFrom, updatedAt: now });
        }
        return;
      }
      const b = await mustBackupPair(tx, args.walletId, args.pairId);
      if (b.status === 'LOCKED' && b.lockedFrom) {
        const { lockedFrom, ...rest } = b;
        await tx.putBackupPair({ ...rest, status: lockedFrom, updatedAt: now });
      }
    });
  }

  // ---- sign ----------------------------------------------------------------------------------------

  /**
   * May this pair sign this request? Only the current `STORED_CLIENT` pair of its curve, on a wallet that
   * is not archived, and only if the operator's signing policy agrees. Returns the custodian share.
   */
  async authorizeSign(args: {
    walletId: string;
    curve: Curve;
    pairId: string;
    request: SignRequestView;
  }): Promise<{ pair: SigningPairView; share: Uint8Array }> {
    const { pair, share } = await this.store.transaction(async (tx) => {
      await mustActiveWallet(tx, args.walletId);
      const p = await this.mustSigner(tx, args.walletId, args.pairId);
      if (p.curve !== args.curve) throw new TandemError('INVALID_INPUT', { details: { pairId: p.pairId, curve: args.curve } });
      return { pair: publicPair(p), share: p.custodianShare!.slice() };
    });
    const decision = await this.hooks.signingPolicy({
      walletId: args.walletId,
      curve: args.curve,
      pairId: args.pairId,
      request: args.request,
    });
    if (!decision.allow) {
      throw new TandemError('POLICY_REFUSED', { details: { pairId: args.pairId, reason: decision.reason } });
    }
    return { pair, share };
  }

  // ---- presignatures (ECDSA-2PC §3.2, §4, §5.2) ---------------------------------------------------------

  /** S0: may this pair start another presignature? Only the current STORED_CLIENT pair, under the cap. */
  async assertCanPresign(args: { walletId: string; pairId: string }): Promise<void> {
    await this.store.transaction(async (tx) => this.checkPresign(tx, args.walletId, args.pairId));
  }

  /** S2: persists the custodian's half, unused, after the same checks as S0. */
  async recordPresignature(args: { walletId: string; pairId: string; sid: string; secret: Uint8Array }): Promise<{ expiresAt: number }> {
    return this.store.transaction(async (tx) => {
      await this.checkPresign(tx, args.walletId, args.pairId);
      if (!/^[0-9a-f]{2,128}$/.test(args.sid) || (await tx.getPresignature(args.sid))) {
        throw new TandemError('MALFORMED_MESSAGE', { message: 'The presignature session id is malformed or already known.' });
      }
      const now = this.clock();
      const expiresAt = now + this.presignatureTtlMs;
      await tx.putPresignature({
        walletId: args.walletId,
        pairId: args.pairId,
        sid: args.sid,
        used: false,
        secret: args.secret.slice(),
        s4Hash: null,
        answer: null,
        createdAt: now,
        expiresAt,
      });
      return { expiresAt };
    });
  }

  /**
   * S4 arrives: in one transaction, check the pair is still current and STORED_CLIENT, mark the
   * presignature used and erase its secret from the store, keeping the hash of these S4 bytes. A
   * byte-identical resend gets the cached answer; any other S4 for a used presignature is refused.
   */
  async usePresignature(args: { walletId: string; pairId: string; sid: string; s4: Uint8Array }): Promise<PresignatureUse> {
    const s4Hash = sha(args.s4);
    const use = await this.store.transaction(async (tx): Promise<PresignatureUse | { kind: 'expired' }> => {
      await mustActiveWallet(tx, args.walletId);
      const rec = await tx.getPresignature(args.sid);
      const now = this.clock();
      if (!rec || rec.walletId !== args.walletId || rec.pairId !== args.pairId) {
        throw new TandemError('SIGN_FAILED', { message: 'No such presignature.', details: { pairId: args.pairId } });
      }
      if (rec.used) {
        if (rec.s4Hash !== s4Hash) {
          throw new TandemError('SIGN_FAILED', { message: 'The presignature was already used.', details: { pairId: args.pairId } });
        }
        if (!rec.answer) throw new TandemError('OPERATION_IN_PROGRESS', { details: { pairId: args.pairId } });
        return { kind: 'cached', answer: rec.answer.slice() };
      }
      if (rec.expiresAt <= now || !rec.secret) {
        // Burned in this transaction, refused after it: a throw here would roll the burn back.
        await tx.putPresignature(burned(rec));
        return { kind: 'expired' };
      }
      await this.mustSigner(tx, args.walletId, args.pairId);
      await tx.putPresignature({ ...rec, used: true, secret: null, s4Hash });
      return { kind: 'fresh', secret: rec.secret.slice() };
    });
    if (use.kind === 'expired') throw new TandemError('SIGN_FAILED', { message: 'The presignature expired.', details: { pairId: args.pairId } });
    return use;
  }

  /** The signature (verified under Q) is kept as the answer to a resend; the failure streak ends. */
  async recordSignature(args: { walletId: string; sid: string; answer: Uint8Array }): Promise<void> {
    await this.store.transaction(async (tx) => {
      const rec = await tx.getPresignature(args.sid);
      if (!rec || rec.walletId !== args.walletId || !rec.used || !rec.s4Hash) {
        throw new TandemError('STATE_INVALID', { message: 'No used presignature to answer.' });
      }
      await tx.putPresignature({ ...rec, answer: args.answer.slice() });
      const pair = await tx.getSigningPair(rec.pairId);
      if (pair?.signFailures) await tx.putSigningPair({ ...pair, signFailures: 0 });
    });
  }

  /**
   * A signing session failed after S4. `proof`: Π_sign was rejected — counted, and the pair is LOCKED
   * after `signFailureLockThreshold` in a row. `verify`: Π_sign passed but the signature did not verify —
   * impossible unless soundness broke, so the pair is LOCKED at once. `abort`: a benign abort or timeout,
   * kept apart from the cryptographic counters. The presignature is burned in every case.
   */
  async recordSignFailure(args: { walletId: string; pairId: string; sid: string; reason: 'proof' | 'verify' | 'abort' }): Promise<{ locked: boolean }> {
    return this.store.transaction(async (tx) => {
      const rec = await tx.getPresignature(args.sid);
      if (rec && rec.walletId === args.walletId) await tx.putPresignature(burned(rec));
      const pair = await mustSigningPair(tx, args.walletId, args.pairId);
      if (args.reason === 'abort' || pair.status !== 'STORED_CLIENT') return { locked: pair.status === 'LOCKED' };
      const failures = (pair.signFailures ?? 0) + (args.reason === 'proof' ? 1 : 0);
      const lock = args.reason === 'verify' || failures >= this.signFailureLockThreshold;
      const now = this.clock();
      await putPair(tx, lock ? { ...pair, status: 'LOCKED', lockedFrom: 'STORED_CLIENT', signFailures: failures, updatedAt: now } : { ...pair, signFailures: failures });
      return { locked: lock };
    });
  }

  /**
   * Operator, after restoring the custodian's database from a backup: a restore can turn a used
   * presignature back into an unused one, so every presignature of the wallet is burned before serving.
   */
  async burnAllPresignatures(walletId: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      for (const p of await tx.listSigningPairs(walletId)) await burnPresignatures(tx, p);
    });
  }

  /**
   * The sweep (ECDSA-2PC §4 rule 4): burns unused presignatures no session can use any more — those past
   * their TTL, or with `all`, every unused one (a single-instance custodian at start-up: no session survives
   * a restart, so whatever a crashed process left between S2 and S4 is an orphan). Burning erases the
   * secret, so nothing is kept that could sign, and the orphans stop counting against the cap. Returns how
   * many were burned. It reads a batch, then burns each record in a transaction of its own that looks at
   * that one row again: a sweep that wrote while holding its scan would conflict with every signature
   * being made meanwhile (PostgreSQL's serializable snapshots lock the scanned index pages).
   */
  async burnStalePresignatures(options: { all?: boolean } = {}): Promise<number> {
    const batch = 100;
    const bound = options.all ? null : this.clock();
    let burnedCount = 0;
    for (;;) {
      const stale = await this.store.transaction((tx) => tx.listUnusedPresignatureSids(bound, batch));
      for (const sid of stale) {
        const done = await this.store.transaction(async (tx) => {
          const r = await tx.getPresignature(sid);
          if (!r || r.used || (bound !== null && r.expiresAt > bound)) return false; // used or changed meanwhile
          await tx.putPresignature(burned(r));
          return true;
        });
        if (done) burnedCount++;
      }
      if (stale.length < batch) return burnedCount;
    }
  }

  private async checkPresign(tx: StoreTx, walletId: string, pairId: string): Promise<void> {
    await mustActiveWallet(tx, walletId);
    await this.mustSigner(tx, walletId, pairId);
    const now = this.clock();
    const outstanding = (await tx.listPresignatures(walletId, pairId)).filter((r) => !r.used && r.expiresAt > now);
    if (outstanding.length >= this.presignatureCap) {
      throw new TandemError('PRESIGNATURE_LIMIT', { details: { pairId, cap: this.presignatureCap } });
    }
  }

  /** The pair may sign: current, STORED_CLIENT, else the error its status names (§3). */
  private async mustSigner(tx: StoreTx, walletId: string, pairId: string): Promise<SigningPairRecord> {
    const p = await mustSigningPair(tx, walletId, pairId);
    if (p.status === 'LOCKED') throw lockedError(p.pairId);
    if (p.status === 'SUSPENDED' || p.status === 'SUPERSEDED') {
      throw new TandemError('SHARE_REVOKED', { details: { pairId: p.pairId, status: p.status } });
    }
    if (p.status !== 'STORED_CLIENT' || !p.custodianShare) {
      throw new TandemError('STATE_INVALID', { message: 'Only a confirmed signing pair can sign.', details: { pairId: p.pairId, status: p.status } });
    }
    // Only the curve's current pair signs, whatever an older pair's status says.
    const current = await mustCurrentConfirmedPair(tx, walletId, p.curve);
    if (current.pairId !== p.pairId) throw new TandemError('SHARE_REVOKED', { details: { pairId: p.pairId, status: p.status } });
    return p;
  }

  // ---- internals -----------------------------------------------------------------------------------

  /**
   * Runs a state change once per idempotency key: a retry with the same key and the same request gets
   * the first result back; the same key with another request is refused.
   */
  private async mutate<T>(
    walletId: string,
    idempotencyKey: string,
    request: Record<string, unknown>,
    fn: (tx: StoreTx, wallet: WalletRecord) => Promise<T>,
  ): Promise<T> {
    if (typeof idempotencyKey !== 'string' || idempotencyKey.length < 8 || idempotencyKey.length > 200) {
      throw new TandemError('INVALID_INPUT', { message: 'An idempotency key of 8 to 200 characters is required.' });
    }
    const fingerprint = sha(utf8ToBytes(canonicalJson(request)));
    return this.store.transaction(async (tx) => {
      const seen = await tx.getIdempotency(walletId, idempotencyKey);
      if (seen) {
        if (seen.fingerprint !== fingerprint) {
          throw new TandemError('IDEMPOTENCY_KEY_REUSED', { details: { walletId } });
        }
        return JSON.parse(seen.result) as T;
      }
      const wallet = await mustActiveWallet(tx, walletId);
      const result = await fn(tx, wallet);
      await tx.putIdempotency({
        walletId,
        key: idempotencyKey,
        fingerprint,
        result: JSON.stringify(result),
        createdAt: this.clock(),
      });
      return result;
    });
  }

  private async checkLease(tx: StoreTx, walletId: string, token: number, operation: LeaseOperation): Promise<void> {
    const lease = await tx.getLease(walletId);
    if (!lease || lease.token !== token || lease.operation !== operation || lease.expiresAt <= this.clock()) {
      throw new TandemError('STALE_LEASE', { details: { walletId } });
    }
  }

  private async newSigningPair(
    tx: StoreTx,
    wallet: WalletRecord,
    curve: Curve,
    publicKey: string,
    custodianShare: Uint8Array,
    recoveredFrom?: string,
    pairId?: string,
  ): Promise<SigningPairRecord> {
    if (pairId !== undefined && (!/^[A-Za-z0-9_-]{1,128}$/.test(pairId) || (await tx.getSigningPair(pairId)) || (await tx.getBackupPair(pairId)))) {
      throw new TandemError('MALFORMED_MESSAGE', { message: 'The pair id is malformed or already in use.' });
    }
    const current = await tx.getWallet(wallet.walletId);
    const base = current ?? wallet;
    const epoch = (base.epochs[curve] ?? 0) + 1;
    await tx.putWallet({ ...base, epochs: { ...base.epochs, [curve]: epoch } });
    const now = this.clock();
    const pair: SigningPairRecord = {
      walletId: wallet.walletId,
      pairId: pairId ?? this.newId('sig'),
      curve,
      status: 'STORED_DATABASE',
      epoch,
      publicKey,
      ...(recoveredFrom ? { recoveredFrom } : {}),
      custodianShare: custodianShare.slice(),
      createdAt: now,
      updatedAt: now,
    };
    await tx.putSigningPair(pair);
    return pair;
  }
}

// ---- helpers ---------------------------------------------------------------------------------------

const sha = (bytes: Uint8Array) => bytesToHex(sha256(bytes));

async function mustWallet(tx: StoreTx, walletId: string): Promise<WalletRecord> {
  const w = await tx.getWallet(walletId);
  if (!w) throw new TandemError('WALLET_NOT_FOUND', { details: { walletId } });
  return w;
}

async function mustActiveWallet(tx: StoreTx, walletId: string): Promise<WalletRecord> {
  const w = await mustWallet(tx, walletId);
  if (w.archived) throw new TandemError('WALLET_ARCHIVED', { details: { walletId } });
  return w;
}

async function mustSigningPair(tx: StoreTx, walletId: string, pairId: string): Promise<SigningPairRecord> {
  const p = await tx.getSigningPair(pairId);
  if (!p || p.walletId !== walletId) throw new TandemError('PAIR_NOT_FOUND', { details: { pairId } });
  return p;
}

async function mustBackupPair(tx: StoreTx, walletId: string, backupPairId: string): Promise<BackupPairRecord> {
  const b = await tx.getBackupPair(backupPairId);
  if (!b || b.walletId !== walletId) throw new TandemError('PAIR_NOT_FOUND', { details: { pairId: backupPairId } });
  return b;
}

async function mustCompletedBackup(tx: StoreTx, walletId: string, curve: Curve, backupPairId: string): Promise<BackupPairRecord> {
  const b = await tx.getBackupPair(backupPairId);
  if (b && b.walletId === walletId && b.status === 'LOCKED') throw lockedError(b.backupPairId);
  if (!b || b.walletId !== walletId || b.curve !== curve || b.status !== 'STORED_CLIENT_BACKUP_SHARE') {
    throw new TandemError('NO_VALID_BACKUP', { details: { walletId, curve, backupPairId } });
  }
  return b;
}

async function pairsOf(tx: StoreTx, walletId: string, curve: Curve): Promise<SigningPairRecord[]> {
  return (await tx.listSigningPairs(walletId)).filter((p) => p.curve === curve);
}

/** The pair that signs for this curve now: the newest live one, which must be confirmed. */
async function mustCurrentConfirmedPair(tx: StoreTx, walletId: string, curve: Curve): Promise<SigningPairRecord> {
  const live = (await pairsOf(tx, walletId, curve)).filter(isLive).sort((a, b) => b.epoch - a.epoch);
  const current = live[0];
  if (current?.status === 'LOCKED') throw lockedError(current.pairId);
  if (!current || current.status !== 'STORED_CLIENT') {
    throw new TandemError('STATE_INVALID', {
      message: 'The wallet has no confirmed signing pair for this curve.',
      details: { walletId, curve, status: current?.status ?? 'NONE' },
    });
  }
  return current;
}

function expectBackupStatus(b: BackupPairRecord, status: BackupPairRecord['status']): void {
  if (b.status === 'LOCKED') throw lockedError(b.backupPairId);
  if (b.status !== status) {
    throw new TandemError('STATE_INVALID', {
      message: `The backup pair must be ${status}.`,
      details: { backupPairId: b.backupPairId, status: b.status },
    });
  }
}

const lockedError = (pairId: string) => new TandemError('PAIR_LOCKED', { details: { pairId } });

/** Writes a signing pair; a pair that stops being STORED_CLIENT burns its presignatures (§4 rule 4). */
async function putPair(tx: StoreTx, pair: SigningPairRecord): Promise<void> {
  await tx.putSigningPair(pair);
  if (pair.status !== 'STORED_CLIENT') await burnPresignatures(tx, pair);
}

async function burnPresignatures(tx: StoreTx, pair: SigningPairRecord): Promise<void> {
  for (const r of await tx.listPresignatures(pair.walletId, pair.pairId)) {
    if (!r.used || r.secret) await tx.putPresignature(burned(r));
  }
}

/** To burn is to mark used and erase the secret (§4 rule 4); a used record keeps its S4 hash and answer. */
const burned = (r: PresignatureRecord): PresignatureRecord => ({ ...r, used: true, secret: null });

function assertNoLockedPair(pairs: readonly SigningPairRecord[]): void {
  const locked = pairs.find((p) => p.status === 'LOCKED');
  if (locked) throw lockedError(locked.pairId);
}

function assertNoLockedBackup(pairs: readonly BackupPairRecord[]): void {
  const locked = pairs.find((b) => b.status === 'LOCKED');
  if (locked) throw lockedError(locked.backupPairId);
}

/** JSON with object keys sorted and undefined members dropped, so equal requests hash equally. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The encrypted client backup share is small; anything larger is not one. */
const MAX_CIPHERTEXT_BYTES = 64 * 1024;

const supersededPair = (p: SigningPairRecord, now: number): SigningPairRecord => ({
  ...p,
  status: 'SUPERSEDED',
  custodianShare: null,
  updatedAt: now,
});

/**
 * Where a completed backup's custodian share is: here, or (self-managed) with the operator's backend,
 * to be fetched and checked against `publicShare` before use.
 */
export type CustodianBackupShareSource = {
  readonly walletId: string;
  readonly backupPairId: string;
  readonly curve: Curve;
  readonly publicKey: string;
} & ({ readonly share: Uint8Array; readonly selfManaged?: undefined } | { readonly share: null; readonly selfManaged: SelfManagedCustody });

function shareSource(b: BackupPairRecord): CustodianBackupShareSource {
  const base = { walletId: b.walletId, backupPairId: b.backupPairId, curve: b.curve, publicKey: b.publicKey };
  if (b.custodianBackupShare) return { ...base, share: b.custodianBackupShare.slice() };
  if (b.selfManaged) return { ...base, share: null, selfManaged: b.selfManaged };
  throw new TandemError('NO_VALID_BACKUP', { details: { backupPairId: b.backupPairId } });
}

/** Supersedes a backup pair (secrets erased); a self-managed one is announced to the operator's backend. */
async function putSupersededBackup(tx: StoreTx, b: BackupPairRecord, now: number): Promise<void> {
  await tx.putBackupPair(supersededBackup(b, now));
  await announceSuperseded(tx, b, now);
}

const supersededBackup = (b: BackupPairRecord, now: number): BackupPairRecord => ({
  ...b,
  status: 'SUPERSEDED',
  custodianBackupShare: null,
  ciphertext: null,
  updatedAt: now,
});

function publicPair(p: SigningPairRecord): SigningPairView {
  return {
    pairId: p.pairId,
    curve: p.curve,
    status: p.status,
    epoch: p.epoch,
    publicKey: p.publicKey,
    ...(p.recoveredFrom ? { recoveredFrom: p.recoveredFrom } : {}),
    createdAt: p.createdAt,
  };
}

function publicBackup(b: BackupPairRecord): BackupPairView {
  return {
    backupPairId: b.backupPairId,
    curve: b.curve,
    method: b.method,
    status: b.status,
    publicKey: b.publicKey,
    ...(b.replaces ? { replaces: b.replaces } : {}),
    ...(b.selfManaged ? { selfManaged: { verified: b.selfManaged.verifiedAt !== null } } : {}),
    ...(b.ciphertextDigest ? { ciphertextDigest: b.ciphertextDigest } : {}),
    createdAt: b.createdAt,
  };
}

async function viewOf(tx: StoreTx, wallet: WalletRecord): Promise<WalletView> {
  const byCreation = <T extends { createdAt: number }>(a: T, b: T) => a.createdAt - b.createdAt;
  return {
    walletId: wallet.walletId,
    archived: wallet.archived,
    publicKeys: { ...wallet.publicKeys },
    signingPairs: (await tx.listSigningPairs(wallet.walletId)).sort(byCreation).map(publicPair),
    backupPairs: (await tx.listBackupPairs(wallet.walletId)).sort(byCreation).map(publicBackup),
  };
}
