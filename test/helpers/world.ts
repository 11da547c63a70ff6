/**
 * A whole Tandem world in one process for tests: the real custodian rules over a MemoryStore, an
 * in-process custodian with the simulated MPC, and devices (keychain + facade) that can be lost,
 * crashed and restored.
 */
import { MemoryBackupMethod, MemoryKeychain } from '../../src/adapters/index.js';
import { CustodianRules, MemoryStore, type CustodianHooks } from '../../src/custodian/index.js';
import { createTandemWallet, type PersistedWallet, type TandemWallet } from '../../src/machines/index.js';
import { MemoryCustodian, simulatedClientMpc } from '../../src/testing/index.js';
import type { BackupMethodName } from '../../src/types.js';
import type { InspectionEvent } from 'xstate';

export interface World {
  readonly store: MemoryStore;
  readonly rules: CustodianRules;
  readonly walletId: string;
  readonly custodian: MemoryCustodian;
  readonly methods: Record<BackupMethodName, MemoryBackupMethod>;
  now: number;
}

export async function newWorld(hooks: Partial<CustodianHooks> = {}): Promise<World> {
  const store = new MemoryStore();
  const world = { now: 1_700_000_000_000 } as World & { now: number };
  let n = 0;
  const rules = new CustodianRules({ store, hooks, clock: () => world.now, newId: (p) => `${p}_${(++n).toString().padStart(4, '0')}` });
  const { walletId } = await rules.createWallet({ walletId: 'wal_test' });
  return Object.assign(world, {
    store,
    rules,
    walletId,
    custodian: new MemoryCustodian({ rules, walletId }),
    methods: {
      PASSWORD: new MemoryBackupMethod('PASSWORD'),
      PASSKEY: new MemoryBackupMethod('PASSKEY'),
      GDRIVE: new MemoryBackupMethod('GDRIVE'),
      LOCAL_FILE: new MemoryBackupMethod('LOCAL_FILE'),
      CUSTOM: new MemoryBackupMethod('CUSTOM'),
    },
  });
}

export interface DeviceOptions {
  readonly keychain?: MemoryKeychain;
  readonly snapshot?: PersistedWallet | null;
  readonly inspect?: (e: InspectionEvent) => void;
  readonly methods?: readonly BackupMethodName[];
}

export async function openDevice(world: World, opts: DeviceOptions = {}): Promise<{ wallet: TandemWallet; keychain: MemoryKeychain }> {
  const keychain = opts.keychain ?? new MemoryKeychain();
  const names = opts.methods ?? (['PASSWORD', 'GDRIVE'] as const);
  const backupMethods = Object.fromEntries(names.map((m) => [m, world.methods[m]]));
  const wallet = await createTandemWallet({
    custodian: world.custodian,
    keychain,
    mpc: simulatedClientMpc(),
    backupMethods,
    ...(opts.snapshot !== undefined ? { snapshot: opts.snapshot } : {}),
    ...(opts.inspect ? { inspect: opts.inspect } : {}),
  });
  return { wallet, keychain };
}

export const PASSWORD = 'correct horse battery staple';

export function regions(wallet: TandemWallet): { signingShares: string; backupShares: string } | string {
  const v = wallet.actor.getSnapshot().value as unknown;
  if (typeof v === 'string') return v;
  const active = (v as { active?: { signingShares: unknown; backupShares: unknown } }).active;
  if (!active) return JSON.stringify(v);
  const flat = (x: unknown): string => (typeof x === 'string' ? x : Object.entries(x as object).map(([k, s]) => `${k}.${flat(s)}`).join(','));
  return { signingShares: flat(active.signingShares), backupShares: flat(active.backupShares) };
}
