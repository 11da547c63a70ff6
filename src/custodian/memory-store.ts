/**
 * An in-memory Store: the reference for the SQL stores and what tests and the walk-through run on.
 * Transactions run one at a time (a promise chain) on a copy of the tables that replaces the live one
 * only when the transaction returns, so a throw anywhere leaves nothing half-written — the property the
 * rules rely on and the fault-injection tests exercise through `failNextCommit`.
 */
import type {
  BackupPairRecord,
  IdempotencyRecord,
  LeaseRecord,
  OutboxRecord,
  PresignatureRecord,
  SigningPairRecord,
  StepUpRecord,
  Store,
  StoreTx,
  WalletRecord,
} from './store.js';
import { TandemError } from '../errors.js';
import type { BackupMethodName } from '../types.js';

interface Tables {
  wallets: Map<string, WalletRecord>;
  signingPairs: Map<string, SigningPairRecord>;
  backupPairs: Map<string, BackupPairRecord>;
  leases: Map<string, LeaseRecord>;
  idempotency: Map<string, IdempotencyRecord>;
  presignatures: Map<string, PresignatureRecord>;
  stepUps: Map<string, StepUpRecord>;
  outbox: Map<string, OutboxRecord>;
}

const copyTables = (t: Tables): Tables => ({
  wallets: new Map(t.wallets),
  signingPairs: new Map(t.signingPairs),
  backupPairs: new Map(t.backupPairs),
  leases: new Map(t.leases),
  idempotency: new Map(t.idempotency),
  presignatures: new Map(t.presignatures),
  stepUps: new Map(t.stepUps),
  outbox: new Map(t.outbox),
});

export class MemoryStore implements Store {
  private tables: Tables = {
    wallets: new Map(),
    signingPairs: new Map(),
    backupPairs: new Map(),
    leases: new Map(),
    idempotency: new Map(),
    presignatures: new Map(),
    stepUps: new Map(),
    outbox: new Map(),
  };
  private queue: Promise<unknown> = Promise.resolve();
  private failures = 0;

  /** Test hook: the next `n` transactions fail at commit, as a database error would. */
  failNextCommit(n = 1): void {
    this.failures += n;
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      // An injected failure belongs to the next transaction, even one whose body throws first.
      const fail = this.failures > 0;
      if (fail) this.failures--;
      const draft = copyTables(this.tables);
      const result = await fn(txOver(draft));
      if (fail) throw new TandemError('INTERNAL', { message: 'The database transaction failed.', details: { injected: true } });
      this.tables = draft;
      return result;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function txOver(t: Tables): StoreTx {
  const byWallet = <R extends { walletId: string }>(m: Map<string, R>, walletId: string) =>
    [...m.values()].filter((r) => r.walletId === walletId);
  return {
    getWallet: async (id) => t.wallets.get(id),
    putWallet: async (w) => void t.wallets.set(w.walletId, w),
    getSigningPair: async (id) => t.signingPairs.get(id),
    listSigningPairs: async (walletId) => byWallet(t.signingPairs, walletId),
    putSigningPair: async (p) => void t.signingPairs.set(p.pairId, p),
    getBackupPair: async (id) => t.backupPairs.get(id),
    listBackupPairs: async (walletId) => byWallet(t.backupPairs, walletId),
    putBackupPair: async (p) => void t.backupPairs.set(p.backupPairId, p),
    getLease: async (walletId) => t.leases.get(walletId),
    putLease: async (l) => void t.leases.set(l.walletId, l),
    deleteLease: async (walletId) => void t.leases.delete(walletId),
    deleteAllLeases: async () => void t.leases.clear(),
    getIdempotency: async (walletId, key) => t.idempotency.get(`${walletId}\u0000${key}`),
    putIdempotency: async (r) => void t.idempotency.set(`${r.walletId}\u0000${r.key}`, r),
    getPresignature: async (sid) => t.presignatures.get(sid),
    listPresignatures: async (walletId, pairId) => byWallet(t.presignatures, walletId).filter((r) => r.pairId === pairId),
    putPresignature: async (r) => void t.presignatures.set(r.sid, r),
    listUnusedPresignatureSids: async (expiresBy, limit) =>
      [...t.presignatures.values()]
        .filter((r) => !r.used && (expiresBy === null || r.expiresAt <= expiresBy))
        .sort((a, b) => a.expiresAt - b.expiresAt)
        .slice(0, limit)
        .map((r) => r.sid),
    getStepUp: async (walletId, method: BackupMethodName) => t.stepUps.get(`${walletId}\u0000${method}`),
    putStepUp: async (r) => void t.stepUps.set(`${r.walletId}\u0000${r.method}`, r),
    deleteStepUp: async (walletId, method) => void t.stepUps.delete(`${walletId}\u0000${method}`),
    getOutbox: async (id) => t.outbox.get(id),
    putOutbox: async (r) => void t.outbox.set(r.id, r),
    listDueOutbox: async (now, limit) =>
      [...t.outbox.values()]
        .filter((r) => r.status === 'PENDING' && r.nextAttemptAt <= now && r.claimedUntil <= now)
        .sort((a, b) => a.createdAt - b.createdAt)
        .slice(0, limit),
    listOutbox: async (walletId) => byWallet(t.outbox, walletId).sort((a, b) => a.createdAt - b.createdAt),
  };
}
