/**
 * Every named guard of the wallet machine, allowing and refusing through the real machine config:
 * a snapshot is resolved in a given state with a given detail, one event is applied with the pure
 * `transition`, and the resulting state (or recorded refusal) is checked.
 */
import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { walletMachine, type WalletContext, type WalletEvent } from '../../src/machines/wallet-machine.js';
import { detailOf, type DetailSpec } from '../helpers/details.js';

type Value = Parameters<typeof walletMachine.resolveState>[0]['value'];

function at(value: Value, spec: DetailSpec, methods: WalletContext['methods'] = ['PASSWORD', 'GDRIVE']) {
  return walletMachine.resolveState({
    value,
    context: { methods, detail: detailOf(spec), progress: null, outcome: null, running: null, lastError: null },
  });
}

const active = (signingShares: unknown, backupShares: unknown) => ({ active: { signingShares, backupShares } }) as Value;

function send(snapshot: ReturnType<typeof at>, event: WalletEvent) {
  const [next] = transition(walletMachine, snapshot, event);
  return next;
}

const ALL_CLIENT: DetailSpec = { SECP256K1: 'STORED_CLIENT', ED25519: 'STORED_CLIENT' };
const BACKED_UP: DetailSpec = { ...ALL_CLIENT, backups: { PASSWORD: { SECP256K1: 'completed', ED25519: 'completed' } } };
const D32 = '11'.repeat(32);

interface Case {
  readonly name: string;
  readonly guards: readonly string[];
  readonly value: Value;
  readonly spec: DetailSpec;
  readonly event: WalletEvent;
  readonly expect: { readonly region?: Record<string, unknown>; readonly refused?: string };
}

const cases: Case[] = [
  // generate
  { name: 'generate from none', guards: ['walletNeedsGeneration'], value: active('none', 'none'), spec: {}, event: { type: 'generate.start', opId: 'op1' }, expect: { region: { signingShares: 'generating' } } },
  { name: 'generate finishes a half-generated wallet', guards: ['walletNeedsGeneration'], value: active('none', 'none'), spec: { SECP256K1: 'STORED_CLIENT' }, event: { type: 'generate.start', opId: 'op1' }, expect: { region: { signingShares: 'generating' } } },
  { name: 'generate refused with confirmed pairs', guards: ['walletNeedsGeneration'], value: active('STORED_CLIENT', 'none'), spec: ALL_CLIENT, event: { type: 'generate.start', opId: 'op1' }, expect: { refused: 'STATE_INVALID' } },
  { name: 'generate refused when the wallet is only elsewhere', guards: ['walletNeedsGeneration'], value: active('notOnDevice', 'none'), spec: { SECP256K1: 'notOnDevice', ED25519: 'notOnDevice' }, event: { type: 'generate.start', opId: 'op1' }, expect: { refused: 'STATE_INVALID' } },
  { name: 'generate refused while locked', guards: ['walletIsLocked'], value: active('locked', 'none'), spec: { SECP256K1: 'locked' }, event: { type: 'generate.start', opId: 'op1' }, expect: { refused: 'PAIR_LOCKED' } },
  { name: 'generate refused during a backup', guards: ['operationRunning'], value: active('STORED_CLIENT', 'backingUp'), spec: ALL_CLIENT, event: { type: 'generate.start', opId: 'op1' }, expect: { refused: 'OPERATION_IN_PROGRESS' } },
  // backup
  { name: 'backup with confirmed pairs', guards: ['isMethodConfigured', 'signingSharesOnDevice', 'backupAlreadyCompleted'], value: active('STORED_CLIENT', 'none'), spec: ALL_CLIENT, event: { type: 'backup.start', opId: 'op1', method: 'PASSWORD' }, expect: { region: { backupShares: 'backingUp' } } },
  { name: 'backup refused for an unconfigured method', guards: ['isMethodConfigured'], value: active('STORED_CLIENT', 'none'), spec: ALL_CLIENT, event: { type: 'backup.start', opId: 'op1', method: 'PASSKEY' }, expect: { refused: 'BACKUP_METHOD_UNAVAILABLE' } },
  { name: 'backup refused without shares on the device', guards: ['signingSharesOnDevice'], value: active('notOnDevice', 'STORED_CLIENT_BACKUP_SHARE'), spec: { SECP256K1: 'notOnDevice', ED25519: 'notOnDevice' }, event: { type: 'backup.start', opId: 'op1', method: 'GDRIVE' }, expect: { refused: 'STATE_INVALID' } },
  { name: 'backup refused before generation', guards: ['signingSharesOnDevice'], value: active('none', 'none'), spec: {}, event: { type: 'backup.start', opId: 'op1', method: 'GDRIVE' }, expect: { refused: 'STATE_INVALID' } },
  { name: 'backup refused when completed and not replacing', guards: ['backupAlreadyCompleted'], value: active('STORED_CLIENT', 'STORED_CLIENT_BACKUP_SHARE'), spec: BACKED_UP, event: { type: 'backup.start', opId: 'op1', method: 'PASSWORD' }, expect: { refused: 'STATE_INVALID' } },
  { name: 'backup replacement when asked', guards: ['backupAlreadyCompleted'], value: active('STORED_CLIENT', 'STORED_CLIENT_BACKUP_SHARE'), spec: BACKED_UP, event: { type: 'backup.start', opId: 'op1', method: 'PASSWORD', replace: true }, expect: { region: { backupShares: 'backingUp' } } },
  { name: 'a second method beside a completed one', guards: ['backupAlreadyCompleted'], value: active('STORED_CLIENT', 'STORED_CLIENT_BACKUP_SHARE'), spec: BACKED_UP, event: { type: 'backup.start', opId: 'op1', method: 'GDRIVE' }, expect: { region: { backupShares: 'backingUp' } } },
  { name: 'backup refused while signing', guards: ['operationRunning'], value: active('signing', 'none'), spec: ALL_CLIENT, event: { type: 'backup.start', opId: 'op1', method: 'PASSWORD' }, expect: { refused: 'OPERATION_IN_PROGRESS' } },
  { name: 'backup refused while locked', guards: ['walletIsLocked'], value: active('locked', 'none'), spec: { SECP256K1: 'locked', ED25519: 'STORED_CLIENT' }, event: { type: 'backup.start', opId: 'op1', method: 'PASSWORD' }, expect: { refused: 'PAIR_LOCKED' } },
  // recover
  { name: 'recover with a completed backup', guards: ['hasCompletedBackup', 'isMethodConfigured'], value: active('notOnDevice', 'STORED_CLIENT_BACKUP_SHARE'), spec: { ...BACKED_UP, SECP256K1: 'notOnDevice', ED25519: 'notOnDevice' }, event: { type: 'recover.start', opId: 'op1', method: 'PASSWORD' }, expect: { region: { signingShares: 'recovering' } } },
  { name: 'recover after the share was revoked', guards: ['hasCompletedBackup'], value: active('shareRevoked', 'STORED_CLIENT_BACKUP_SHARE'), spec: { ...BACKED_UP, SECP256K1: 'shareRevoked', ED25519: 'shareRevoked' }, event: { type: 'recover.start', opId: 'op1', method: 'PASSWORD' }, expect: { region: { signingShares: 'recovering' } } },
  { name: 'recover refused without any backup', guards: ['hasCompletedBackup'], value: active('notOnDevice', 'none'), spec: { SECP256K1: 'notOnDevice', ED25519: 'notOnDevice' }, event: { type: 'recover.start', opId: 'op1', method: 'PASSWORD' }, expect: { refused: 'NO_VALID_BACKUP' } },
  { name: 'recover refused with an incomplete backup', guards: ['hasCompletedBackup'], value: active('notOnDevice', 'STORED_CLIENT_BACKUP_SHARE_KEY'), spec: { SECP256K1: 'notOnDevice', ED25519: 'notOnDevice', backups: { PASSWORD: { SECP256K1: 'completed', ED25519: 'STORED_CLIENT_BACKUP_SHARE_KEY' } } }, event: { type: 'recover.start', opId: 'op1', method: 'PASSWORD' }, expect: { refused: 'NO_VALID_BACKUP' } },
  { name: 'recover refused for another method than the backup', guards: ['hasCompletedBackup'], value: active('notOnDevice', 'STORED_CLIENT_BACKUP_SHARE'), spec: { ...BACKED_UP, SECP256K1: 'notOnDevice', ED25519: 'notOnDevice' }, event: { type: 'recover.start', opId: 'op1', method: 'GDRIVE' }, expect: { refused: 'NO_VALID_BACKUP' } },
  { name: 'recover refused for an unconfigured method', guards: ['isMethodConfigured'], value: active('notOnDevice', 'STORED_CLIENT_BACKUP_SHARE'), spec: { ...BACKED_UP, SECP256K1: 'notOnDevice', ED25519: 'notOnDevice' }, event: { type: 'recover.start', opId: 'op1', method: 'PASSKEY' }, expect: { refused: 'BACKUP_METHOD_UNAVAILABLE' } },
  { name: 'recover stays possible while locked', guards: ['hasCompletedBackup'], value: active('locked', 'STORED_CLIENT_BACKUP_SHARE'), spec: { ...BACKED_UP, SECP256K1: 'locked' }, event: { type: 'recover.start', opId: 'op1', method: 'PASSWORD' }, expect: { region: { signingShares: 'recovering' } } },
  { name: 'recover refused during a recovery', guards: ['operationRunning'], value: active('recovering', 'STORED_CLIENT_BACKUP_SHARE'), spec: BACKED_UP, event: { type: 'recover.start', opId: 'op2', method: 'PASSWORD' }, expect: { refused: 'OPERATION_IN_PROGRESS' } },
  // sign
  { name: 'sign with a confirmed pair on the device', guards: ['curveIsSignable', 'digestIsWellFormed'], value: active('STORED_CLIENT', 'none'), spec: ALL_CLIENT, event: { type: 'sign.start', opId: 'op1', curve: 'SECP256K1', digest: D32 }, expect: { region: { signingShares: 'signing' } } },
  { name: 'sign one confirmed curve while the other is missing', guards: ['curveIsSignable'], value: active('none', 'none'), spec: { SECP256K1: 'STORED_CLIENT' }, event: { type: 'sign.start', opId: 'op1', curve: 'SECP256K1', digest: D32 }, expect: { region: { signingShares: 'signing' } } },
  { name: 'sign refused on a curve never generated', guards: ['curveIsSignable'], value: active('none', 'none'), spec: { SECP256K1: 'STORED_CLIENT' }, event: { type: 'sign.start', opId: 'op1', curve: 'ED25519', digest: D32 }, expect: { refused: 'STATE_INVALID' } },
  { name: 'sign refused on a pending pair', guards: ['curveIsSignable'], value: active({ STORED_DATABASE: 'stalled' }, 'none'), spec: { SECP256K1: 'pending', ED25519: 'pending' }, event: { type: 'sign.start', opId: 'op1', curve: 'SECP256K1', digest: D32 }, expect: { refused: 'STATE_INVALID' } },
  { name: 'sign refused with a revoked share', guards: ['curveShareRevoked'], value: active('shareRevoked', 'none'), spec: { SECP256K1: 'shareRevoked', ED25519: 'STORED_CLIENT' }, event: { type: 'sign.start', opId: 'op1', curve: 'SECP256K1', digest: D32 }, expect: { refused: 'SHARE_REVOKED' } },
  { name: 'sign refused without the share', guards: ['curveNotOnDevice'], value: active('notOnDevice', 'none'), spec: { SECP256K1: 'notOnDevice', ED25519: 'notOnDevice' }, event: { type: 'sign.start', opId: 'op1', curve: 'SECP256K1', digest: D32 }, expect: { refused: 'SHARE_NOT_ON_DEVICE' } },
  { name: 'sign refused on a locked curve', guards: ['curveIsLocked'], value: active('locked', 'none'), spec: { SECP256K1: 'locked', ED25519: 'STORED_CLIENT' }, event: { type: 'sign.start', opId: 'op1', curve: 'SECP256K1', digest: D32 }, expect: { refused: 'PAIR_LOCKED' } },
  { name: 'sign on the unlocked curve of a partly locked wallet', guards: ['curveIsLocked', 'curveIsSignable'], value: active('locked', 'none'), spec: { SECP256K1: 'locked', ED25519: 'STORED_CLIENT' }, event: { type: 'sign.start', opId: 'op1', curve: 'ED25519', digest: D32 }, expect: { region: { signingShares: 'signing' } } },
  { name: 'sign refused for a short secp256k1 digest', guards: ['digestIsWellFormed'], value: active('STORED_CLIENT', 'none'), spec: ALL_CLIENT, event: { type: 'sign.start', opId: 'op1', curve: 'SECP256K1', digest: '11'.repeat(31) }, expect: { refused: 'INVALID_INPUT' } },
  { name: 'sign refused for a non-hex digest', guards: ['digestIsWellFormed'], value: active('STORED_CLIENT', 'none'), spec: ALL_CLIENT, event: { type: 'sign.start', opId: 'op1', curve: 'ED25519', digest: 'zz' }, expect: { refused: 'INVALID_INPUT' } },
  { name: 'ed25519 signs messages of any reasonable length', guards: ['digestIsWellFormed'], value: active('STORED_CLIENT', 'none'), spec: ALL_CLIENT, event: { type: 'sign.start', opId: 'op1', curve: 'ED25519', digest: '11'.repeat(100) }, expect: { region: { signingShares: 'signing' } } },
  { name: 'sign refused while another sign runs', guards: ['operationRunning'], value: active('signing', 'none'), spec: ALL_CLIENT, event: { type: 'sign.start', opId: 'op2', curve: 'SECP256K1', digest: D32 }, expect: { refused: 'OPERATION_IN_PROGRESS' } },
  { name: 'sign refused while a confirmation resumes', guards: ['operationRunning'], value: active({ STORED_DATABASE: 'resuming' }, 'none'), spec: { SECP256K1: 'pending', ED25519: 'STORED_CLIENT' }, event: { type: 'sign.start', opId: 'op1', curve: 'ED25519', digest: D32 }, expect: { refused: 'OPERATION_IN_PROGRESS' } },
];

describe('wallet machine guards', () => {
  for (const c of cases) {
    it(c.name, () => {
      const next = send(at(c.value, c.spec), c.event);
      if (c.expect.refused) {
        expect(next.context.outcome).toMatchObject({ opId: (c.event as { opId: string }).opId, ok: false, error: { code: c.expect.refused } });
        expect(next.value).toEqual(at(c.value, c.spec).value);
      } else {
        expect(next.context.outcome).toBeNull();
        expect((next.value as { active: object }).active).toMatchObject(c.expect.region!);
      }
    });
  }

  const routes: [DetailSpec, string, string][] = [
    [{}, 'none', 'none'],
    [{ SECP256K1: 'pending', ED25519: 'pending' }, 'STORED_DATABASE', 'none'],
    [ALL_CLIENT, 'STORED_CLIENT', 'none'],
    [{ SECP256K1: 'STORED_CLIENT', ED25519: 'none' }, 'none', 'none'],
    [{ SECP256K1: 'notOnDevice', ED25519: 'notOnDevice' }, 'notOnDevice', 'none'],
    [{ SECP256K1: 'shareRevoked', ED25519: 'notOnDevice' }, 'shareRevoked', 'none'],
    [{ SECP256K1: 'locked', ED25519: 'shareRevoked' }, 'locked', 'none'],
    [{ ...ALL_CLIENT, backups: { PASSWORD: { SECP256K1: 'STORED_CUSTODIAN_BACKUP_SHARE' } } }, 'STORED_CLIENT', 'none'],
    [{ ...ALL_CLIENT, backups: { PASSWORD: { SECP256K1: 'STORED_CUSTODIAN_BACKUP_SHARE', ED25519: 'completed' } } }, 'STORED_CLIENT', 'STORED_CUSTODIAN_BACKUP_SHARE'],
    [{ ...ALL_CLIENT, backups: { PASSWORD: { SECP256K1: 'STORED_CLIENT_BACKUP_SHARE_KEY', ED25519: 'completed' } } }, 'STORED_CLIENT', 'STORED_CLIENT_BACKUP_SHARE_KEY'],
    [{ ...ALL_CLIENT, backups: { PASSWORD: { SECP256K1: 'completed', ED25519: 'STORED_CUSTODIAN_BACKUP_SHARE' }, GDRIVE: { SECP256K1: 'completed', ED25519: 'completed' } } }, 'STORED_CLIENT', 'STORED_CLIENT_BACKUP_SHARE'],
  ];
  for (const [spec, signing, backup] of routes) {
    it(`routes ${JSON.stringify(spec)} to ${signing} / ${backup} (signingIs, backupIs)`, () => {
      const next = send(walletMachine.resolveState({ value: 'syncing', context: { methods: ['PASSWORD'], detail: null, progress: null, outcome: null, running: null, lastError: null } }), {
        type: 'xstate.done.actor.syncWallet',
        output: detailOf(spec),
      } as unknown as WalletEvent);
      const a = (next.value as { active: { signingShares: unknown; backupShares: unknown } }).active;
      const flat = (v: unknown) => (typeof v === 'string' ? v : Object.keys(v as object)[0]);
      expect([flat(a.signingShares), flat(a.backupShares)]).toEqual([signing, backup]);
    });
  }

  it('routes an archived wallet to archived and refuses everything there (walletIsArchived)', () => {
    const snap = send(walletMachine.resolveState({ value: 'syncing', context: { methods: ['PASSWORD'], detail: null, progress: null, outcome: null, running: null, lastError: null } }), {
      type: 'xstate.done.actor.syncWallet',
      output: detailOf({ ...ALL_CLIENT, archived: true }),
    } as unknown as WalletEvent);
    expect(snap.value).toBe('archived');
    expect(send(snap, { type: 'sign.start', opId: 'x', curve: 'SECP256K1', digest: D32 }).context.outcome?.error?.code).toBe('WALLET_ARCHIVED');
  });

  it('covers every named guard of the machine', () => {
    const tested = new Set(cases.flatMap((c) => c.guards).concat(['signingIs', 'backupIs', 'walletIsArchived']));
    expect(Object.keys(walletMachine.implementations.guards).filter((g) => !tested.has(g))).toEqual([]);
  });
});
