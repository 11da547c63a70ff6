/**
 * Walks the wallet machine's graph (xstate/graph) with every event it can receive — user requests, the
 * outputs of the start-up sync for a set of wallet situations, and the completion or failure of every
 * invoked operation — and checks that exactly the expected combinations of region states are reachable.
 * The serialiser keeps the state value and which wallet situation is in context, and drops counters and
 * ids (outcome, progress, running), so the walk terminates.
 */
import { describe, expect, it } from 'vitest';
import { getAdjacencyMap } from 'xstate/graph';
import { TandemError } from '../../src/errors.js';
import type { WalletDetail } from '../../src/machines/detail.js';
import { walletMachine, type WalletEvent } from '../../src/machines/wallet-machine.js';
import { detailOf } from '../helpers/details.js';

const CLIENT = { SECP256K1: 'STORED_CLIENT', ED25519: 'STORED_CLIENT' } as const;
const PW = { PASSWORD: { SECP256K1: 'completed', ED25519: 'completed' } } as const;

const SITUATIONS: Record<string, WalletDetail> = {
  fresh: detailOf({}),
  halfGenerated: detailOf({ SECP256K1: 'STORED_CLIENT' }),
  pendingConfirmation: detailOf({ SECP256K1: 'pending', ED25519: 'pending' }),
  generated: detailOf(CLIENT),
  backupStarted: detailOf({ ...CLIENT, backups: { PASSWORD: { SECP256K1: 'STORED_CUSTODIAN_BACKUP_SHARE', ED25519: 'STORED_CUSTODIAN_BACKUP_SHARE' } } }),
  backupKeyStored: detailOf({ ...CLIENT, backups: { PASSWORD: { SECP256K1: 'STORED_CLIENT_BACKUP_SHARE_KEY', ED25519: 'STORED_CLIENT_BACKUP_SHARE_KEY' } } }),
  backedUp: detailOf({ ...CLIENT, backups: PW }),
  notOnDevice: detailOf({ SECP256K1: 'notOnDevice', ED25519: 'notOnDevice', backups: PW }),
  notOnDeviceNoBackup: detailOf({ SECP256K1: 'notOnDevice', ED25519: 'notOnDevice' }),
  shareRevoked: detailOf({ SECP256K1: 'shareRevoked', ED25519: 'shareRevoked', backups: PW }),
  recoveryPending: detailOf({ SECP256K1: 'pending', ED25519: 'STORED_CLIENT', backups: PW }),
  locked: detailOf({ SECP256K1: 'locked', ED25519: 'STORED_CLIENT', backups: PW }),
  archived: detailOf({ ...CLIENT, archived: true }),
};
const situationOf = (d: WalletDetail | null) => (d ? Object.entries(SITUATIONS).find(([, v]) => v === d)?.[0] ?? 'unknown' : 'unsynced');

const err = new TandemError('WS_CLOSED');
const D32 = '22'.repeat(32);

function eventsFor(snapshot: ReturnType<typeof walletMachine.resolveState>): WalletEvent[] {
  const ev = (e: unknown) => e as WalletEvent;
  if (snapshot.matches('syncing')) {
    return [...Object.values(SITUATIONS).map((output) => ev({ type: 'xstate.done.actor.syncWallet', output })), ev({ type: 'xstate.error.actor.syncWallet', error: err })];
  }
  const user: WalletEvent[] = [
    { type: 'sync.refresh' },
    { type: 'generate.start', opId: 'op' },
    { type: 'backup.start', opId: 'op', method: 'PASSWORD' },
    { type: 'backup.start', opId: 'op', method: 'PASSWORD', replace: true },
    { type: 'recover.start', opId: 'op', method: 'PASSWORD' },
    { type: 'sign.start', opId: 'op', curve: 'SECP256K1', digest: D32 },
    { type: 'sign.start', opId: 'op', curve: 'ED25519', digest: D32 },
  ];
  const finished = ['generate', 'backup', 'recover', 'sign', 'resumePending'].flatMap((id) => [
    ev({ type: `xstate.done.actor.${id}`, output: id === 'sign' ? { signature: 'ab' } : {} }),
    ev({ type: `xstate.error.actor.${id}`, error: err }),
  ]);
  return [...user, ...finished];
}

function regionsOf(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { active?: { signingShares: unknown; backupShares: unknown } };
  const flat = (x: unknown): string => (typeof x === 'string' ? x : Object.entries(x as object).map(([k, s]) => `${k}.${flat(s)}`).join(','));
  return v.active ? `${flat(v.active.signingShares)} | ${flat(v.active.backupShares)}` : flat(value);
}

describe('the wallet machine graph', () => {
  it('reaches exactly the expected combinations of region states', () => {
    const initial = walletMachine.resolveState({
      value: 'syncing',
      context: { methods: ['PASSWORD', 'GDRIVE'], detail: null, progress: null, outcome: null, running: null, lastError: null },
    });
    const adjacency = getAdjacencyMap(walletMachine, {
      fromState: initial,
      events: eventsFor as never,
      serializeState: (s) => JSON.stringify({ value: s.value, situation: situationOf((s as typeof initial).context.detail) }),
      serializeEvent: (e) => JSON.stringify({ type: e.type, ...('method' in e ? { method: e.method } : {}), ...('curve' in e ? { curve: e.curve } : {}), ...('replace' in e ? { replace: e.replace } : {}) }),
    });
    const visited = new Set(Object.values(adjacency).map(({ state }) => regionsOf((state as typeof initial).value)));
    expect([...visited].sort()).toEqual(
      [
        'syncing',
        'offline',
        'archived',
        // fresh, halfGenerated
        'none | none',
        'generating | none',
        'signing | none',
        // pendingConfirmation, recoveryPending (a recovery that crashed before its confirmation)
        'STORED_DATABASE.resuming | none',
        'STORED_DATABASE.stalled | none',
        'STORED_DATABASE.resuming | STORED_CLIENT_BACKUP_SHARE',
        'STORED_DATABASE.stalled | STORED_CLIENT_BACKUP_SHARE',
        'recovering | STORED_CLIENT_BACKUP_SHARE',
        // generated and backing up
        'STORED_CLIENT | none',
        'STORED_CLIENT | backingUp',
        'STORED_CLIENT | STORED_CUSTODIAN_BACKUP_SHARE',
        'signing | STORED_CUSTODIAN_BACKUP_SHARE',
        'STORED_CLIENT | STORED_CLIENT_BACKUP_SHARE_KEY',
        'signing | STORED_CLIENT_BACKUP_SHARE_KEY',
        'STORED_CLIENT | STORED_CLIENT_BACKUP_SHARE',
        'signing | STORED_CLIENT_BACKUP_SHARE',
        // the wallet elsewhere
        'notOnDevice | STORED_CLIENT_BACKUP_SHARE',
        'notOnDevice | none',
        'shareRevoked | STORED_CLIENT_BACKUP_SHARE',
        'locked | STORED_CLIENT_BACKUP_SHARE',
      ].sort(),
    );
  });
});
