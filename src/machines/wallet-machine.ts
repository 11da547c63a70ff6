/**
 * The wallet lifecycle (DESIGN §3) as one XState machine that apps embed, inspect and test.
 *
 * At the top: `syncing` (ask the custodian and the keychain what is true), then `active` — a parallel
 * state whose `signingShares` and `backupShares` regions show aggregate statuses of the detail kept in
 * context — or `archived` / `offline`. The regions never guess: each enters through a `route` state whose
 * named guards read the synced detail, and every operation ends by syncing again, so what the app sees
 * is what the custodian holds. Operations are invoked child machines (operations.ts); a request the rules
 * refuse is answered with a typed error in `context.outcome`, never silently dropped.
 *
 * The config below is data: implementations are referred to by name and supplied with `provide`.
 */
import { assign, not, or, setup, stateIn } from 'xstate';
import type { SignRequest } from '../adapters/ports.js';
import { toTandemError, TandemError, type ErrorCode, type SerializedError } from '../errors.js';
import type { BackupMethodName, Curve, OperationKind, ProgressStatus } from '../types.js';
import {
  backupAggregate,
  curvesToBackUp,
  curvesToGenerate,
  methodStatus,
  recoveryTargets,
  signingAggregate,
  type BackupAggregate,
  type CurveState,
  type WalletDetail,
} from './detail.js';
import { backupMachine, generateMachine, recoverMachine, signMachine, type ProgressEvent } from './operations.js';
import { placeholderActors, stepActors } from './step-actors.js';
import type { Steps } from './steps.js';

/** Bumped whenever persisted snapshots of an older shape can no longer be restored. */
export const SNAPSHOT_VERSION = 1;

export interface WalletInput {
  /** The backup methods this app configured. */
  readonly methods: readonly BackupMethodName[];
}

export interface Progress {
  readonly opId: string;
  readonly operation: OperationKind;
  readonly curve: Curve | null;
  readonly status: ProgressStatus;
}

/** How the last operation (or refused request) ended; the facade resolves its promises from this. */
export interface Outcome {
  readonly opId: string;
  readonly operation: OperationKind;
  readonly ok: boolean;
  readonly error: SerializedError | null;
  /** Hex; for sign only. */
  readonly signature: string | null;
}

export interface WalletContext {
  readonly methods: readonly BackupMethodName[];
  readonly detail: WalletDetail | null;
  readonly progress: Progress | null;
  readonly outcome: Outcome | null;
  /** The operation in flight, so its outcome can name it even when it fails. */
  readonly running: { readonly opId: string; readonly operation: OperationKind } | null;
  /** Why the last sync or resumption failed. */
  readonly lastError: SerializedError | null;
}

export type WalletEvent =
  | { readonly type: 'generate.start'; readonly opId: string }
  | {
      readonly type: 'backup.start';
      readonly opId: string;
      readonly method: BackupMethodName;
      readonly replace?: boolean;
      /** A vault handle of the method's options; the options themselves may be secret. */
      readonly secretHandle?: string | null;
    }
  | { readonly type: 'recover.start'; readonly opId: string; readonly method: BackupMethodName; readonly secretHandle?: string | null }
  | {
      readonly type: 'sign.start';
      readonly opId: string;
      readonly curve: Curve;
      /** Hex: the digest (SECP256K1) or the message bytes (ED25519). */
      readonly digest: string;
      readonly kind?: SignRequest['kind'];
      /** The typed request's payload (JSON, public), from which the custodian recomputes the digest. */
      readonly payload?: unknown;
    }
  | { readonly type: 'sync.refresh' }
  | ProgressEvent;

type OpEvent = Extract<WalletEvent, { opId: string; type: `${OperationKind}.start` }>;

const operationOf = (e: OpEvent): OperationKind => e.type.slice(0, -'.start'.length) as OperationKind;
const detailOf = (c: WalletContext): WalletDetail => {
  if (!c.detail) throw new TandemError('STATE_INVALID', { message: 'The wallet has not been synced.' });
  return c.detail;
};
const eventCurve = (e: WalletEvent): Curve | null => (e.type === 'sign.start' ? e.curve : null);
const eventMethod = (e: WalletEvent): BackupMethodName | null => (e.type === 'backup.start' || e.type === 'recover.start' ? e.method : null);
const curveState = (c: WalletContext, e: WalletEvent): CurveState | null => {
  const curve = eventCurve(e);
  return curve && c.detail ? c.detail.curves[curve].state : null;
};

const refusal = (code: ErrorCode, message?: string) => ({ type: 'refuse', params: message ? { code, message } : { code } }) as const;

export const walletMachine = setup({
  types: {} as { context: WalletContext; events: WalletEvent; input: WalletInput },
  actors: { ...placeholderActors, generate: generateMachine, backup: backupMachine, recover: recoverMachine, sign: signMachine },
  guards: {
    walletIsArchived: ({ context }) => context.detail?.archived === true,
    signingIs: ({ context }, params: { state: CurveState }) => context.detail !== null && signingAggregate(context.detail) === params.state,
    backupIs: ({ context }, params: { status: BackupAggregate }) => context.detail !== null && backupAggregate(context.detail) === params.status,
    operationRunning: or([
      stateIn('#wallet.active.signingShares.generating'),
      stateIn('#wallet.active.signingShares.recovering'),
      stateIn('#wallet.active.signingShares.signing'),
      stateIn('#wallet.active.signingShares.STORED_DATABASE.resuming'),
      stateIn('#wallet.active.backupShares.backingUp'),
    ]),
    walletNeedsGeneration: ({ context }) => context.detail !== null && signingAggregate(context.detail) === 'none',
    walletIsLocked: ({ context }) => context.detail !== null && signingAggregate(context.detail) === 'locked',
    isMethodConfigured: ({ context, event }) => {
      const m = eventMethod(event);
      return m !== null && context.methods.includes(m);
    },
    signingSharesOnDevice: ({ context }) => context.detail !== null && signingAggregate(context.detail) === 'STORED_CLIENT',
    backupAlreadyCompleted: ({ context, event }) =>
      event.type === 'backup.start' &&
      event.replace !== true &&
      context.detail !== null &&
      methodStatus(context.detail, event.method) === 'STORED_CLIENT_BACKUP_SHARE',
    hasCompletedBackup: ({ context, event }) => {
      const m = eventMethod(event);
      return m !== null && context.detail !== null && methodStatus(context.detail, m) === 'STORED_CLIENT_BACKUP_SHARE';
    },
    curveIsLocked: ({ context, event }) => curveState(context, event) === 'locked',
    curveShareRevoked: ({ context, event }) => curveState(context, event) === 'shareRevoked',
    curveNotOnDevice: ({ context, event }) => curveState(context, event) === 'notOnDevice',
    curveIsSignable: ({ context, event }) => curveState(context, event) === 'STORED_CLIENT',
    digestIsWellFormed: ({ event }) =>
      event.type === 'sign.start' &&
      /^([0-9a-f]{2})+$/.test(event.digest) &&
      (event.curve === 'SECP256K1' ? event.digest.length === 64 : event.digest.length <= 2 * 1232),
  },
  actions: {
    assignDetail: assign({ detail: (_, params: { detail: WalletDetail }) => params.detail, lastError: null }),
    recordLastError: assign({ lastError: (_, params: { error: unknown }) => toTandemError(params.error).toJSON() }),
    recordProgress: assign({
      progress: ({ event }) =>
        event.type === 'progress' ? { opId: event.opId, operation: event.operation, curve: event.curve, status: event.status } : null,
    }),
    markRunning: assign({ running: ({ event }) => ({ opId: (event as OpEvent).opId, operation: operationOf(event as OpEvent) }) }),
    recordSuccess: assign({
      outcome: ({ context }, params: { signature?: string }) => ({
        opId: context.running?.opId ?? '',
        operation: context.running?.operation ?? 'generate',
        ok: true,
        error: null,
        signature: params.signature ?? null,
      }),
      running: null,
    }),
    recordFailure: assign({
      outcome: ({ context }, params: { error: unknown }) => ({
        opId: context.running?.opId ?? '',
        operation: context.running?.operation ?? 'generate',
        ok: false,
        error: toTandemError(params.error).toJSON(),
        signature: null,
      }),
      running: null,
    }),
    refuse: assign({
      outcome: ({ event, context }, params: { code: ErrorCode; message?: string; fromLastError?: boolean }) => {
        const e = event as OpEvent;
        const details: Record<string, string> = { operation: operationOf(e) };
        const method = eventMethod(e);
        const curve = eventCurve(e);
        if (method) details['method'] = method;
        if (curve) details['curve'] = curve;
        const code = params.fromLastError && context.lastError ? context.lastError.code : params.code;
        const error = new TandemError(code, { details, ...(params.message ? { message: params.message } : {}) });
        return { opId: e.opId, operation: operationOf(e), ok: false, error: error.toJSON(), signature: null };
      },
    }),
  },
}).createMachine({
  id: 'wallet',
  context: ({ input }) => ({ methods: [...input.methods], detail: null, progress: null, outcome: null, running: null, lastError: null }),
  initial: 'syncing',
  on: { progress: { actions: 'recordProgress' } },
  states: {
    syncing: {
      tags: ['busy'],
      invoke: {
        id: 'syncWallet',
        src: 'syncWallet',
        input: () => ({}),
        onDone: { target: 'routing', actions: { type: 'assignDetail', params: ({ event }) => ({ detail: event.output }) } },
        onError: { target: 'offline', actions: { type: 'recordLastError', params: ({ event }) => ({ error: event.error }) } },
      },
      on: {
        'generate.start': { actions: refusal('OPERATION_IN_PROGRESS', 'The wallet is syncing with the custodian.') },
        'backup.start': { actions: refusal('OPERATION_IN_PROGRESS', 'The wallet is syncing with the custodian.') },
        'recover.start': { actions: refusal('OPERATION_IN_PROGRESS', 'The wallet is syncing with the custodian.') },
        'sign.start': { actions: refusal('OPERATION_IN_PROGRESS', 'The wallet is syncing with the custodian.') },
      },
    },
    routing: { tags: ['busy'], always: [{ guard: 'walletIsArchived', target: 'archived' }, { target: 'active' }] },
    offline: {
      on: {
        'sync.refresh': 'syncing',
        'generate.start': { actions: { type: 'refuse', params: { code: 'NETWORK_ERROR', fromLastError: true } } },
        'backup.start': { actions: { type: 'refuse', params: { code: 'NETWORK_ERROR', fromLastError: true } } },
        'recover.start': { actions: { type: 'refuse', params: { code: 'NETWORK_ERROR', fromLastError: true } } },
        'sign.start': { actions: { type: 'refuse', params: { code: 'NETWORK_ERROR', fromLastError: true } } },
      },
    },
    archived: {
      on: {
        'sync.refresh': 'syncing',
        'generate.start': { actions: refusal('WALLET_ARCHIVED') },
        'backup.start': { actions: refusal('WALLET_ARCHIVED') },
        'recover.start': { actions: refusal('WALLET_ARCHIVED') },
        'sign.start': { actions: refusal('WALLET_ARCHIVED') },
      },
    },
    active: {
      type: 'parallel',
      on: { 'sync.refresh': { guard: not('operationRunning'), target: 'syncing' } },
      states: {
        signingShares: {
          initial: 'route',
          on: {
            'generate.start': [
              { guard: 'operationRunning', actions: refusal('OPERATION_IN_PROGRESS') },
              { guard: 'walletIsLocked', actions: refusal('PAIR_LOCKED') },
              { guard: 'walletNeedsGeneration', target: '.generating', actions: 'markRunning' },
              {
                guard: { type: 'signingIs', params: { state: 'pending' } },
                actions: refusal('STATE_INVALID', 'A new signing pair awaits its confirmation; refresh to resume it.'),
              },
              { actions: refusal('STATE_INVALID', 'The wallet already has signing pairs; recover it instead.') },
            ],
            'recover.start': [
              { guard: 'operationRunning', actions: refusal('OPERATION_IN_PROGRESS') },
              { guard: not('isMethodConfigured'), actions: refusal('BACKUP_METHOD_UNAVAILABLE') },
              // A locked wallet stays recoverable (ECDSA-2PC §5.2); the operator's hook has the last word.
              { guard: 'hasCompletedBackup', target: '.recovering', actions: 'markRunning' },
              { actions: refusal('NO_VALID_BACKUP') },
            ],
            'sign.start': [
              { guard: 'operationRunning', actions: refusal('OPERATION_IN_PROGRESS') },
              { guard: not('digestIsWellFormed'), actions: refusal('INVALID_INPUT', 'The digest must be hex (32 bytes for SECP256K1).') },
              { guard: 'curveIsLocked', actions: refusal('PAIR_LOCKED') },
              { guard: 'curveShareRevoked', actions: refusal('SHARE_REVOKED') },
              { guard: 'curveNotOnDevice', actions: refusal('SHARE_NOT_ON_DEVICE') },
              { guard: 'curveIsSignable', target: '.signing', actions: 'markRunning' },
              { actions: refusal('STATE_INVALID', 'This curve has no confirmed signing pair on this device.') },
            ],
          },
          states: {
            route: {
              always: [
                { guard: { type: 'signingIs', params: { state: 'locked' } }, target: 'locked' },
                { guard: { type: 'signingIs', params: { state: 'shareRevoked' } }, target: 'shareRevoked' },
                { guard: { type: 'signingIs', params: { state: 'notOnDevice' } }, target: 'notOnDevice' },
                { guard: { type: 'signingIs', params: { state: 'pending' } }, target: 'STORED_DATABASE' },
                { guard: { type: 'signingIs', params: { state: 'STORED_CLIENT' } }, target: 'STORED_CLIENT' },
                { target: 'none' },
              ],
            },
            none: {},
            STORED_DATABASE: {
              // A share in the keychain whose confirmation never arrived: finish it (rule 2).
              initial: 'resuming',
              states: {
                resuming: {
                  tags: ['busy'],
                  invoke: {
                    id: 'resumePending',
                    src: 'resumePending',
                    input: ({ context }) => ({ detail: detailOf(context) }),
                    onDone: { target: '#wallet.syncing' },
                    onError: { target: 'stalled', actions: { type: 'recordLastError', params: ({ event }) => ({ error: event.error }) } },
                  },
                },
                stalled: {},
              },
            },
            STORED_CLIENT: {},
            notOnDevice: {},
            shareRevoked: {},
            locked: {},
            generating: {
              tags: ['busy'],
              invoke: {
                id: 'generate',
                src: 'generate',
                input: ({ context, event }) => ({
                  opId: (event as OpEvent).opId,
                  walletId: detailOf(context).walletId,
                  targets: curvesToGenerate(detailOf(context)).map((curve) => ({ curve })),
                }),
                onDone: { target: '#wallet.syncing', actions: { type: 'recordSuccess', params: {} } },
                onError: {
                  target: '#wallet.syncing',
                  actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                },
              },
            },
            recovering: {
              tags: ['busy'],
              invoke: {
                id: 'recover',
                src: 'recover',
                input: ({ context, event }) => {
                  const e = event as Extract<WalletEvent, { type: 'recover.start' }>;
                  return {
                    opId: e.opId,
                    walletId: detailOf(context).walletId,
                    method: e.method,
                    secretHandle: e.secretHandle ?? null,
                    targets: recoveryTargets(detailOf(context), e.method),
                  };
                },
                onDone: { target: '#wallet.syncing', actions: { type: 'recordSuccess', params: {} } },
                onError: {
                  target: '#wallet.syncing',
                  actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                },
              },
            },
            signing: {
              tags: ['busy'],
              invoke: {
                id: 'sign',
                src: 'sign',
                input: ({ context, event }) => {
                  const e = event as Extract<WalletEvent, { type: 'sign.start' }>;
                  const c = detailOf(context).curves[e.curve];
                  return {
                    opId: e.opId,
                    walletId: detailOf(context).walletId,
                    kind: e.kind ?? 'raw',
                    digest: e.digest,
                    ...(e.payload === undefined ? {} : { payload: e.payload }),
                    targets: [{ curve: e.curve, pairId: c.pairId!, publicKey: c.publicKey! }],
                  };
                },
                onDone: {
                  target: 'route',
                  actions: {
                    type: 'recordSuccess',
                    params: ({ event }) => ({ signature: event.output.signature }),
                  },
                },
                onError: {
                  target: '#wallet.syncing',
                  actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                },
              },
            },
          },
        },
        backupShares: {
          initial: 'route',
          on: {
            'backup.start': [
              { guard: 'operationRunning', actions: refusal('OPERATION_IN_PROGRESS') },
              { guard: not('isMethodConfigured'), actions: refusal('BACKUP_METHOD_UNAVAILABLE') },
              { guard: 'walletIsLocked', actions: refusal('PAIR_LOCKED') },
              { guard: not('signingSharesOnDevice'), actions: refusal('STATE_INVALID', 'A backup needs confirmed signing pairs on this device.') },
              { guard: 'backupAlreadyCompleted', actions: refusal('STATE_INVALID', 'This method already has a completed backup; pass replace to replace it.') },
              { target: '.backingUp', actions: 'markRunning' },
            ],
          },
          states: {
            route: {
              always: [
                { guard: { type: 'backupIs', params: { status: 'STORED_CLIENT_BACKUP_SHARE' } }, target: 'STORED_CLIENT_BACKUP_SHARE' },
                { guard: { type: 'backupIs', params: { status: 'STORED_CLIENT_BACKUP_SHARE_KEY' } }, target: 'STORED_CLIENT_BACKUP_SHARE_KEY' },
                { guard: { type: 'backupIs', params: { status: 'STORED_CUSTODIAN_BACKUP_SHARE' } }, target: 'STORED_CUSTODIAN_BACKUP_SHARE' },
                { target: 'none' },
              ],
            },
            none: {},
            STORED_CUSTODIAN_BACKUP_SHARE: {},
            STORED_CLIENT_BACKUP_SHARE_KEY: {},
            STORED_CLIENT_BACKUP_SHARE: {},
            backingUp: {
              tags: ['busy'],
              invoke: {
                id: 'backup',
                src: 'backup',
                input: ({ context, event }) => {
                  const e = event as Extract<WalletEvent, { type: 'backup.start' }>;
                  const detail = detailOf(context);
                  return {
                    opId: e.opId,
                    walletId: detail.walletId,
                    method: e.method,
                    secretHandle: e.secretHandle ?? null,
                    targets: curvesToBackUp(detail, e.method, e.replace === true).map((curve) => ({
                      curve,
                      devicePairId: detail.curves[curve].devicePairId!,
                      publicKey: detail.curves[curve].publicKey!,
                      current: detail.backups[e.method]?.[curve]?.completed ?? null,
                    })),
                  };
                },
                onDone: { target: '#wallet.syncing', actions: { type: 'recordSuccess', params: {} } },
                onError: {
                  target: '#wallet.syncing',
                  actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
                },
              },
            },
          },
        },
      },
    },
  },
});

export type WalletMachine = typeof walletMachine;

/** The wallet machine with its steps (and its child machines' steps) bound to real implementations. */
export function implementWalletMachine(steps: Steps) {
  const actors = stepActors(steps);
  return walletMachine.provide({
    actors: {
      ...actors,
      generate: generateMachine.provide({ actors }),
      backup: backupMachine.provide({ actors }),
      recover: recoverMachine.provide({ actors }),
      sign: signMachine.provide({ actors }),
    },
  });
}
