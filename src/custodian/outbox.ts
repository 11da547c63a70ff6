/**
 * The outbox of self-managed backups (DESIGN §4) as pure rules over the Store. A self-managed backup's
 * custodian share must reach the operator's backend (`POST {webhook}/backup`), and a superseded one must
 * be announced so the backend can delete it. Both are written as outbox entries in the same transaction as
 * the change itself, so a crash can neither lose a delivery nor invent one; the server's worker then
 * delivers them, at least once, with bounded retries. Entries are keyed by backup pair id, so however
 * often a commit is retried there is one delivery per pair, and the receiver can be idempotent by the
 * same id.
 *
 * Several custodian instances may run deliveries: an instance *claims* an entry until a time, and its
 * report counts only if its claim is still the entry's current one, so an instance that stalled past its
 * claim cannot overwrite what another instance did since.
 */
import { TandemError } from '../errors.js';
import type { BackupMethodName, Curve } from '../types.js';
import type { BackupPairRecord, OutboxKind, OutboxRecord, Store, StoreTx } from './store.js';

export const outboxId = (kind: OutboxKind, backupPairId: string) => `${kind}:${backupPairId}`;

function newEntry(kind: OutboxKind, b: BackupPairRecord, now: number): OutboxRecord {
  return {
    id: outboxId(kind, b.backupPairId),
    walletId: b.walletId,
    kind,
    backupPairId: b.backupPairId,
    status: 'PENDING',
    attempts: 0,
    nextAttemptAt: now,
    claimedUntil: 0,
    lastError: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** In the transaction that creates a self-managed backup pair: its share is to be delivered. */
export async function enqueueBackupDelivery(tx: StoreTx, b: BackupPairRecord, now: number): Promise<void> {
  if (!b.selfManaged || (await tx.getOutbox(outboxId('backup', b.backupPairId)))) return;
  await tx.putOutbox(newEntry('backup', b, now));
}

/**
 * In the transaction that supersedes a self-managed backup pair: a delivery not yet made is cancelled
 * (its share is being erased), and the backend is told the pair is gone.
 */
export async function announceSuperseded(tx: StoreTx, b: BackupPairRecord, now: number): Promise<void> {
  if (!b.selfManaged) return;
  const delivery = await tx.getOutbox(outboxId('backup', b.backupPairId));
  if (delivery && (delivery.status === 'PENDING' || delivery.status === 'FAILED')) {
    await tx.putOutbox({ ...delivery, status: 'CANCELLED', claimedUntil: 0, updatedAt: now });
  }
  if (!(await tx.getOutbox(outboxId('superseded', b.backupPairId)))) await tx.putOutbox(newEntry('superseded', b, now));
}

/** What the webhook receives for a `backup` delivery; `share` is secret and lives only in memory. */
export interface BackupDeliveryPayload {
  readonly walletId: string;
  readonly backupPairId: string;
  readonly curve: Curve;
  readonly method: BackupMethodName;
  readonly publicKey: string;
  readonly publicShare: string;
  readonly share: Uint8Array;
}

/** A claimed entry: deliver it, then report with `succeeded` or `failed` quoting the claim. */
export type Delivery =
  | { readonly kind: 'backup'; readonly id: string; readonly claim: number; readonly attempt: number; readonly payload: BackupDeliveryPayload }
  | { readonly kind: 'superseded'; readonly id: string; readonly claim: number; readonly attempt: number; readonly payload: { readonly walletId: string; readonly backupPairId: string } };

export interface BackupOutboxOptions {
  readonly store: Store;
  readonly clock?: () => number;
  /** Attempts before an entry is FAILED and waits for the operator (default 8). */
  readonly maxAttempts?: number;
  /** Delay after the first failure; doubles with each later one (default 1 s). */
  readonly baseDelayMs?: number;
  /** The longest delay between attempts (default 5 min). */
  readonly maxDelayMs?: number;
  /** How long a claim holds an entry against other instances (default 30 s). */
  readonly claimMs?: number;
}

export class BackupOutbox {
  private readonly store: Store;
  private readonly clock: () => number;
  readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly claimMs: number;

  constructor(options: BackupOutboxOptions) {
    this.store = options.store;
    this.clock = options.clock ?? Date.now;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 5 * 60_000;
    this.claimMs = options.claimMs ?? 30_000;
  }

  /** Claims up to `limit` due entries for this instance. */
  async claimDue(limit: number): Promise<Delivery[]> {
    return this.store.transaction(async (tx) => {
      const now = this.clock();
      const out: Delivery[] = [];
      for (const entry of await tx.listDueOutbox(now, limit)) {
        const d = await this.claimIn(tx, entry, now);
        if (d) out.push(d);
      }
      return out;
    });
  }

  /**
   * Claims one pair's pending delivery now, due or not (a client is waiting on it). Null when there is
   * none, it is done, or another instance holds it.
   */
  async claimNow(kind: OutboxKind, backupPairId: string): Promise<Delivery | null> {
    return this.store.transaction(async (tx) => {
      const now = this.clock();
      const entry = await tx.getOutbox(outboxId(kind, backupPairId));
      if (!entry || entry.status !== 'PENDING' || entry.claimedUntil > now) return null;
      return this.claimIn(tx, entry, now);
    });
  }

  /** The delivery was made (for `backup`: and the share fetched back matched). */
  async succeeded(d: Delivery): Promise<void> {
    await this.store.transaction(async (tx) => {
      const entry = await tx.getOutbox(d.id);
      if (!entry || entry.status !== 'PENDING' || entry.claimedUntil !== d.claim) return;
      const now = this.clock();
      await tx.putOutbox({ ...entry, status: 'DONE', attempts: entry.attempts + 1, claimedUntil: 0, lastError: null, updatedAt: now });
      if (d.kind !== 'backup') return;
      const b = await tx.getBackupPair(entry.backupPairId);
      // The backend holds the share now and has shown it: the custodian keeps only its public share.
      if (b?.selfManaged && b.selfManaged.verifiedAt === null && b.status !== 'SUPERSEDED') {
        await tx.putBackupPair({ ...b, custodianBackupShare: null, selfManaged: { ...b.selfManaged, verifiedAt: now }, updatedAt: now });
      }
    });
  }

  /** The attempt failed: retried later with a growing delay, or FAILED after the last attempt. */
  async failed(d: Delivery, reason: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const entry = await tx.getOutbox(d.id);
      if (!entry || entry.status !== 'PENDING' || entry.claimedUntil !== d.claim) return;
      const now = this.clock();
      const attempts = entry.attempts + 1;
      const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempts - 1));
      await tx.putOutbox({
        ...entry,
        status: attempts >= this.maxAttempts ? 'FAILED' : 'PENDING',
        attempts,
        nextAttemptAt: now + delay,
        claimedUntil: 0,
        lastError: reason.slice(0, 200),
        updatedAt: now,
      });
    });
  }

  /** Operator: FAILED deliveries of a wallet are tried again from the start. Returns how many. */
  async retryFailed(walletId: string): Promise<number> {
    return this.store.transaction(async (tx) => {
      const now = this.clock();
      let n = 0;
      for (const e of await tx.listOutbox(walletId)) {
        if (e.status !== 'FAILED') continue;
        await tx.putOutbox({ ...e, status: 'PENDING', attempts: 0, nextAttemptAt: now, claimedUntil: 0, updatedAt: now });
        n++;
      }
      return n;
    });
  }

  async list(walletId: string): Promise<OutboxRecord[]> {
    return this.store.transaction((tx) => tx.listOutbox(walletId));
  }

  private async claimIn(tx: StoreTx, entry: OutboxRecord, now: number): Promise<Delivery | null> {
    const claim = now + this.claimMs;
    const base = { id: entry.id, claim, attempt: entry.attempts + 1 };
    if (entry.kind === 'superseded') {
      await tx.putOutbox({ ...entry, claimedUntil: claim, updatedAt: now });
      return { ...base, kind: 'superseded', payload: { walletId: entry.walletId, backupPairId: entry.backupPairId } };
    }
    const b = await tx.getBackupPair(entry.backupPairId);
    if (!b?.selfManaged || !b.custodianBackupShare || b.status === 'SUPERSEDED') {
      // Nothing left to deliver (the pair was superseded or its share erased): the entry is moot.
      await tx.putOutbox({ ...entry, status: 'CANCELLED', claimedUntil: 0, updatedAt: now });
      return null;
    }
    await tx.putOutbox({ ...entry, claimedUntil: claim, updatedAt: now });
    return {
      ...base,
      kind: 'backup',
      payload: {
        walletId: b.walletId,
        backupPairId: b.backupPairId,
        curve: b.curve,
        method: b.method,
        publicKey: b.publicKey,
        publicShare: b.selfManaged.publicShare,
        share: b.custodianBackupShare.slice(),
      },
    };
  }
}

/** The error a client sees while a self-managed backup's share has not been shown to be with the operator. */
export function notDelivered(backupPairId: string, entry: OutboxRecord | undefined): TandemError {
  return new TandemError('WEBHOOK_FAILED', {
    message: "The custodian backup share has not yet been confirmed by the operator's backend; retry the confirmation.",
    details: { backupPairId, delivery: entry?.status ?? 'PENDING', attempts: entry?.attempts ?? 0, ...(entry?.lastError ? { lastError: entry.lastError } : {}) },
  });
}
