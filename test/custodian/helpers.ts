/**
 * Shared set-up for the custodian rule tests: a CustodianRules over a TestStore with an injected
 * clock and deterministic ids, idempotency-key and public-key factories, the usual flows (generate +
 * confirm, a completed backup, a recover) and a raw snapshot of everything the store holds for a wallet.
 */
import { CustodianRules, type Lease } from '../../src/custodian/rules.js';
import { newTestStore, type TestStore } from '../helpers/stores.js';
import type { CustodianHooks } from '../../src/custodian/hooks.js';
import type {
  BackupPairRecord,
  LeaseOperation,
  LeaseRecord,
  SigningPairRecord,
  StepUpRecord,
  WalletRecord,
} from '../../src/custodian/store.js';
import {
  BACKUP_METHODS,
  type BackupMethodName,
  type BackupPairView,
  type Curve,
  type SigningPairView,
} from '../../src/types.js';

export const T0 = 1_700_000_000_000;
export const LEASE_TTL = 30_000;

/** Wallet keys are opaque hex strings to the rules. */
export const PK = {
  a: '02' + 'aa'.repeat(32),
  b: '03' + 'bb'.repeat(32),
  c: '02' + 'cc'.repeat(32),
  ed: 'ed'.repeat(32),
} as const;

export const bytes = (...values: number[]) => new Uint8Array(values);

export interface Harness {
  readonly rules: CustodianRules;
  readonly store: TestStore;
  readonly clock: { now: number; advance(ms: number): void };
  /** A fresh, valid idempotency key. */
  key(label?: string): string;
}

export interface HarnessOptions {
  readonly hooks?: Partial<CustodianHooks>;
  readonly leaseTtlMs?: number;
  readonly presignatureCap?: number;
}

export function makeHarness(options: HarnessOptions = {}): Harness {
  const store = newTestStore();
  const clock = {
    now: T0,
    advance(ms: number) {
      clock.now += ms;
    },
  };
  const counters = new Map<string, number>();
  const newId = (prefix: string) => {
    const n = (counters.get(prefix) ?? 0) + 1;
    counters.set(prefix, n);
    return `${prefix}_${n}`;
  };
  const rules = new CustodianRules({
    store,
    clock: () => clock.now,
    newId,
    leaseTtlMs: options.leaseTtlMs ?? LEASE_TTL,
    ...(options.presignatureCap !== undefined ? { presignatureCap: options.presignatureCap } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
  let k = 0;
  return { rules, store, clock, key: (label = 'k') => `idem-${label}-${String(++k).padStart(4, '0')}` };
}

/** Runs `fn` inside a fresh lease and releases it afterwards (as the server's session does). */
export async function withLease<T>(
  h: Harness,
  walletId: string,
  operation: LeaseOperation,
  fn: (lease: Lease) => Promise<T>,
): Promise<T> {
  const lease = await h.rules.acquireLease({ walletId, operation, holder: `holder-${operation}` });
  try {
    return await fn(lease);
  } finally {
    await h.rules.releaseLease({ walletId, token: lease.token });
  }
}

export async function generate(h: Harness, walletId: string, curve: Curve, publicKey: string): Promise<SigningPairView> {
  return withLease(h, walletId, 'generate', (lease) =>
    h.rules.recordGeneratedPair({
      walletId,
      curve,
      leaseToken: lease.token,
      publicKey,
      custodianShare: bytes(1, 2, 3),
      idempotencyKey: h.key('gen'),
    }),
  );
}

export async function generateConfirmed(h: Harness, walletId: string, curve: Curve, publicKey: string): Promise<SigningPairView> {
  const pair = await generate(h, walletId, curve, publicKey);
  return h.rules.confirmSigningPair({ walletId, pairId: pair.pairId, idempotencyKey: h.key('conf') });
}

export async function recordBackup(
  h: Harness,
  walletId: string,
  curve: Curve,
  method: BackupMethodName,
  publicKey: string,
  extra: { proofOfCurrentBackup?: boolean; share?: Uint8Array } = {},
): Promise<BackupPairView> {
  return withLease(h, walletId, 'backup', (lease) =>
    h.rules.recordBackupPair({
      walletId,
      curve,
      method,
      leaseToken: lease.token,
      publicKey,
      custodianBackupShare: extra.share ?? bytes(9, 9, 9),
      ...(extra.proofOfCurrentBackup !== undefined ? { proofOfCurrentBackup: extra.proofOfCurrentBackup } : {}),
      idempotencyKey: h.key('bkp'),
    }),
  );
}

/** Takes a recorded backup pair through the key and ciphertext steps to completed. */
export async function completeBackup(h: Harness, walletId: string, backupPairId: string, ciphertext = bytes(7, 7, 7, 7)): Promise<BackupPairView> {
  await h.rules.confirmBackupKey({ walletId, backupPairId, idempotencyKey: h.key('bkey') });
  await h.rules.storeBackupCiphertext({ walletId, backupPairId, ciphertext, idempotencyKey: h.key('ct') });
  return h.rules.confirmBackup({ walletId, backupPairId, idempotencyKey: h.key('bconf') });
}

export async function completedBackup(
  h: Harness,
  walletId: string,
  curve: Curve,
  method: BackupMethodName,
  publicKey: string,
  extra: { proofOfCurrentBackup?: boolean } = {},
): Promise<BackupPairView> {
  const b = await recordBackup(h, walletId, curve, method, publicKey, extra);
  return completeBackup(h, walletId, b.backupPairId);
}

export async function recover(h: Harness, walletId: string, curve: Curve, backupPairId: string, publicKey: string): Promise<SigningPairView> {
  await h.rules.authorizeRecovery({ walletId, curve, backupPairId });
  return withLease(h, walletId, 'recover', async (lease) => {
    await h.rules.backupShareForRecovery({ walletId, backupPairId, leaseToken: lease.token });
    return h.rules.recordRecoveredPair({
      walletId,
      curve,
      leaseToken: lease.token,
      backupPairId,
      publicKey,
      custodianShare: bytes(4, 5, 6),
      idempotencyKey: h.key('rec'),
    });
  });
}

/** A wallet with a confirmed SECP256K1 pair (key PK.a) and a completed PASSWORD backup of it. */
export async function walletWithBackup(h: Harness, walletId = 'w1') {
  await h.rules.createWallet({ walletId });
  const signing = await generateConfirmed(h, walletId, 'SECP256K1', PK.a);
  const backup = await completedBackup(h, walletId, 'SECP256K1', 'PASSWORD', PK.a);
  return { walletId, signing, backup };
}

export interface RawState {
  readonly wallet: WalletRecord | undefined;
  readonly signingPairs: SigningPairRecord[];
  readonly backupPairs: BackupPairRecord[];
  readonly lease: LeaseRecord | undefined;
  readonly stepUps: (StepUpRecord | undefined)[];
}

/** Everything the store holds about a wallet (except idempotency records, which cannot be listed). */
export async function rawState(store: TestStore, walletId: string): Promise<RawState> {
  return store.transaction(async (tx) => {
    const byId = <T extends { createdAt: number }>(key: (r: T) => string) => (a: T, b: T) => key(a).localeCompare(key(b));
    return {
      wallet: await tx.getWallet(walletId),
      signingPairs: (await tx.listSigningPairs(walletId)).sort(byId<SigningPairRecord>((p) => p.pairId)),
      backupPairs: (await tx.listBackupPairs(walletId)).sort(byId<BackupPairRecord>((p) => p.backupPairId)),
      lease: await tx.getLease(walletId),
      // One query at a time: a transaction is one database connection.
      stepUps: await sequentially(BACKUP_METHODS.map((m) => () => tx.getStepUp(walletId, m))),
    };
  });
}

async function sequentially<T>(calls: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (const c of calls) out.push(await c());
  return out;
}

export async function signingPair(store: TestStore, pairId: string): Promise<SigningPairRecord | undefined> {
  return store.transaction((tx) => tx.getSigningPair(pairId));
}

export async function backupPair(store: TestStore, backupPairId: string): Promise<BackupPairRecord | undefined> {
  return store.transaction((tx) => tx.getBackupPair(backupPairId));
}

export const statusOf = async (h: Harness, walletId: string, pairId: string): Promise<string | undefined> => {
  const w = await h.rules.getWallet(walletId);
  return (w.signingPairs.find((p) => p.pairId === pairId) ?? w.backupPairs.find((b) => b.backupPairId === pairId))?.status;
};
