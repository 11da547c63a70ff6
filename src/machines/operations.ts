/**
 * Generate, Backup, Recover and Sign as child machines the wallet machine invokes (DESIGN §3). Each walks
 * its curves one at a time through states named for the progress statuses it reports, and each step is
 * an invoked promise actor named in steps.ts. A failing step is not handled here: the error ends the child
 * and reaches the wallet machine's `onError`, which records it and re-syncs with the custodian, the
 * source of truth. Context holds ids and vault handles only.
 */
import { assign, sendParent, setup } from 'xstate';
import type { SignRequest } from '../adapters/ports.js';
import type { BackupMethodName, Curve, OperationKind, ProgressStatus } from '../types.js';
import { placeholderActors } from './step-actors.js';

export interface ProgressEvent {
  readonly type: 'progress';
  readonly opId: string;
  readonly operation: OperationKind;
  readonly curve: Curve | null;
  readonly status: ProgressStatus;
}

function progressEvent(
  operation: OperationKind,
  context: { readonly opId: string; readonly index: number; readonly targets: readonly { readonly curve: Curve }[] },
  status: ProgressStatus,
): ProgressEvent {
  return { type: 'progress', opId: context.opId, operation, curve: context.targets[context.index]?.curve ?? null, status };
}

const idem = (c: { opId: string; index: number }, step: string) => `${c.opId}:${c.index}:${step}`;

// ---- Generate ----------------------------------------------------------------------------------------

export interface GenerateInput {
  readonly opId: string;
  readonly walletId: string;
  readonly targets: readonly { readonly curve: Curve }[];
}

export interface GenerateContext extends GenerateInput {
  readonly index: number;
  readonly pairId: string | null;
  readonly publicKey: string | null;
  readonly shareHandle: string | null;
}

export const generateMachine = setup({
  types: {} as { input: GenerateInput; context: GenerateContext; output: { curves: Curve[] } },
  actors: placeholderActors,
  actions: { report: sendParent(({ context }, p: { status: ProgressStatus }) => progressEvent('generate', context, p.status)) },
  guards: { allCurvesDone: ({ context }) => context.index >= context.targets.length },
}).createMachine({
  id: 'generate',
  context: ({ input }) => ({ ...input, index: 0, pairId: null, publicKey: null, shareHandle: null }),
  initial: 'nextCurve',
  states: {
    nextCurve: { always: [{ guard: 'allCurvesDone', target: 'done' }, { target: 'generatingShare' }] },
    generatingShare: {
      entry: { type: 'report', params: { status: 'Generating share' } },
      invoke: {
        src: 'runGenerateProtocol',
        input: ({ context }) => ({ curve: context.targets[context.index]!.curve }),
        onDone: {
          target: 'parsingShare',
          actions: assign(({ event }) => ({ pairId: event.output.pairId, publicKey: event.output.publicKey, shareHandle: event.output.shareHandle })),
        },
      },
    },
    parsingShare: {
      entry: { type: 'report', params: { status: 'Parsing share' } },
      invoke: {
        src: 'parseShare',
        input: ({ context }) => ({ curve: context.targets[context.index]!.curve, shareHandle: context.shareHandle!, publicKey: context.publicKey! }),
        onDone: 'storingShare',
      },
    },
    storingShare: {
      entry: { type: 'report', params: { status: 'Storing share' } },
      initial: 'writingKeychain',
      states: {
        writingKeychain: {
          invoke: {
            src: 'storeShare',
            input: ({ context }) => ({
              walletId: context.walletId,
              curve: context.targets[context.index]!.curve,
              pairId: context.pairId!,
              shareHandle: context.shareHandle!,
            }),
            onDone: 'confirming',
          },
        },
        confirming: {
          invoke: {
            src: 'confirmSigningPair',
            input: ({ context }) => ({ pairId: context.pairId!, idempotencyKey: `confirm:${context.pairId!}` }),
            onDone: 'cleaningUp',
          },
        },
        cleaningUp: {
          invoke: {
            src: 'removeStaleShares',
            input: ({ context }) => ({
              walletId: context.walletId,
              curve: context.targets[context.index]!.curve,
              keepPairId: context.pairId!,
              handles: [context.shareHandle!],
            }),
            onDone: {
              target: '#generate.nextCurve',
              actions: assign(({ context }) => ({ index: context.index + 1, pairId: null, publicKey: null, shareHandle: null })),
            },
          },
        },
      },
    },
    done: { type: 'final', entry: { type: 'report', params: { status: 'Done' } } },
  },
  output: ({ context }) => ({ curves: context.targets.map((t) => t.curve) }),
});

// ---- Backup ------------------------------------------------------------------------------------------

export interface BackupInput {
  readonly opId: string;
  readonly walletId: string;
  readonly method: BackupMethodName;
  /** Vault handle of the method's options (a password is a secret); null when there are none. */
  readonly secretHandle: string | null;
  /** `current`: the completed backup of the slot this one replaces (its secret is proven when the options allow). */
  readonly targets: readonly { readonly curve: Curve; readonly devicePairId: string; readonly publicKey: string; readonly current?: string | null }[];
}

export interface BackupContext extends BackupInput {
  readonly index: number;
  readonly backupPairId: string | null;
  readonly replaces: string | null;
  readonly shareHandle: string | null;
  readonly envelopeHandle: string | null;
}

export const backupMachine = setup({
  types: {} as { input: BackupInput; context: BackupContext; output: { method: BackupMethodName; curves: Curve[] } },
  actors: placeholderActors,
  actions: { report: sendParent(({ context }, p: { status: ProgressStatus }) => progressEvent('backup', context, p.status)) },
  guards: { allCurvesDone: ({ context }) => context.index >= context.targets.length },
}).createMachine({
  id: 'backup',
  context: ({ input }) => ({ ...input, index: 0, backupPairId: null, replaces: null, shareHandle: null, envelopeHandle: null }),
  initial: 'nextCurve',
  states: {
    nextCurve: { always: [{ guard: 'allCurvesDone', target: 'done' }, { target: 'generatingShare' }] },
    generatingShare: {
      entry: { type: 'report', params: { status: 'Generating share' } },
      invoke: {
        src: 'runBackupProtocol',
        input: ({ context }) => ({
          walletId: context.walletId,
          curve: context.targets[context.index]!.curve,
          method: context.method,
          devicePairId: context.targets[context.index]!.devicePairId,
          current: context.targets[context.index]!.current ?? null,
          secretHandle: context.secretHandle,
        }),
        onDone: {
          target: 'parsingShare',
          actions: assign(({ event }) => ({
            backupPairId: event.output.backupPairId,
            replaces: event.output.replaces,
            shareHandle: event.output.shareHandle,
          })),
        },
      },
    },
    parsingShare: {
      entry: { type: 'report', params: { status: 'Parsing share' } },
      invoke: {
        src: 'parseShare',
        input: ({ context }) => ({
          curve: context.targets[context.index]!.curve,
          shareHandle: context.shareHandle!,
          publicKey: context.targets[context.index]!.publicKey,
        }),
        onDone: 'encryptingShare',
      },
    },
    encryptingShare: {
      entry: { type: 'report', params: { status: 'Encrypting share' } },
      invoke: {
        src: 'encryptBackupShare',
        input: ({ context }) => ({
          method: context.method,
          backupPairId: context.backupPairId!,
          shareHandle: context.shareHandle!,
          secretHandle: context.secretHandle,
          idempotencyKey: idem(context, 'backup-key'),
        }),
        onDone: { target: 'storingShare', actions: assign(({ event }) => ({ envelopeHandle: event.output.envelopeHandle })) },
      },
    },
    storingShare: {
      entry: { type: 'report', params: { status: 'Storing share' } },
      initial: 'uploading',
      states: {
        uploading: {
          invoke: {
            src: 'storeBackupCiphertext',
            input: ({ context }) => ({
              backupPairId: context.backupPairId!,
              envelopeHandle: context.envelopeHandle!,
              idempotencyKey: idem(context, 'backup-ciphertext'),
            }),
            onDone: 'finishing',
          },
        },
        finishing: {
          invoke: {
            src: 'finishBackup',
            input: ({ context }) => ({
              method: context.method,
              replaces: context.replaces,
              handles: [context.shareHandle!, context.envelopeHandle!],
            }),
            onDone: {
              target: '#backup.nextCurve',
              actions: assign(({ context }) => ({
                index: context.index + 1,
                backupPairId: null,
                replaces: null,
                shareHandle: null,
                envelopeHandle: null,
              })),
            },
          },
        },
      },
    },
    done: { type: 'final', entry: { type: 'report', params: { status: 'Done' } } },
  },
  output: ({ context }) => ({ method: context.method, curves: context.targets.map((t) => t.curve) }),
});

// ---- Recover -----------------------------------------------------------------------------------------

export interface RecoverInput {
  readonly opId: string;
  readonly walletId: string;
  readonly method: BackupMethodName;
  readonly secretHandle: string | null;
  readonly targets: readonly { readonly curve: Curve; readonly backupPairId: string; readonly publicKey: string }[];
}

export interface RecoverContext extends RecoverInput {
  readonly index: number;
  readonly envelopeHandle: string | null;
  readonly backupShareHandle: string | null;
  readonly pairId: string | null;
  readonly shareHandle: string | null;
}

export const recoverMachine = setup({
  types: {} as { input: RecoverInput; context: RecoverContext; output: { method: BackupMethodName; curves: Curve[] } },
  actors: placeholderActors,
  actions: { report: sendParent(({ context }, p: { status: ProgressStatus }) => progressEvent('recover', context, p.status)) },
  guards: { allCurvesDone: ({ context }) => context.index >= context.targets.length },
}).createMachine({
  id: 'recover',
  context: ({ input }) => ({ ...input, index: 0, envelopeHandle: null, backupShareHandle: null, pairId: null, shareHandle: null }),
  initial: 'nextCurve',
  states: {
    nextCurve: { always: [{ guard: 'allCurvesDone', target: 'done' }, { target: 'recoveringBackupShare' }] },
    recoveringBackupShare: {
      entry: { type: 'report', params: { status: 'Recovering backup share' } },
      initial: 'readingShare',
      states: {
        readingShare: {
          entry: { type: 'report', params: { status: 'Reading share' } },
          invoke: {
            src: 'fetchBackupShare',
            input: ({ context }) => ({ backupPairId: context.targets[context.index]!.backupPairId }),
            onDone: { target: 'decryptingShare', actions: assign(({ event }) => ({ envelopeHandle: event.output.envelopeHandle })) },
          },
        },
        decryptingShare: {
          entry: { type: 'report', params: { status: 'Decrypting share' } },
          invoke: {
            src: 'decryptBackupShare',
            input: ({ context }) => ({
              curve: context.targets[context.index]!.curve,
              method: context.method,
              backupPairId: context.targets[context.index]!.backupPairId,
              envelopeHandle: context.envelopeHandle!,
              secretHandle: context.secretHandle,
              publicKey: context.targets[context.index]!.publicKey,
            }),
            onDone: {
              target: '#recover.recoveringSigningShare',
              actions: assign(({ event }) => ({ backupShareHandle: event.output.backupShareHandle })),
            },
          },
        },
      },
    },
    recoveringSigningShare: {
      entry: { type: 'report', params: { status: 'Recovering signing share' } },
      invoke: {
        src: 'runRecoverProtocol',
        input: ({ context }) => ({
          curve: context.targets[context.index]!.curve,
          backupPairId: context.targets[context.index]!.backupPairId,
          backupShareHandle: context.backupShareHandle!,
          publicKey: context.targets[context.index]!.publicKey,
        }),
        onDone: {
          target: 'storingShare',
          actions: assign(({ event }) => ({ pairId: event.output.pairId, shareHandle: event.output.shareHandle })),
        },
      },
    },
    storingShare: {
      entry: { type: 'report', params: { status: 'Storing share' } },
      initial: 'writingKeychain',
      states: {
        writingKeychain: {
          invoke: {
            src: 'storeShare',
            input: ({ context }) => ({
              walletId: context.walletId,
              curve: context.targets[context.index]!.curve,
              pairId: context.pairId!,
              shareHandle: context.shareHandle!,
            }),
            onDone: 'confirming',
          },
        },
        confirming: {
          invoke: {
            src: 'confirmSigningPair',
            input: ({ context }) => ({ pairId: context.pairId!, idempotencyKey: `confirm:${context.pairId!}` }),
            onDone: 'cleaningUp',
          },
        },
        cleaningUp: {
          // Only now, with the new pair confirmed, may the old share leave the device (rule 1).
          invoke: {
            src: 'removeStaleShares',
            input: ({ context }) => ({
              walletId: context.walletId,
              curve: context.targets[context.index]!.curve,
              keepPairId: context.pairId!,
              handles: [context.shareHandle!, context.backupShareHandle!, context.envelopeHandle!],
            }),
            onDone: {
              target: '#recover.nextCurve',
              actions: assign(({ context }) => ({
                index: context.index + 1,
                envelopeHandle: null,
                backupShareHandle: null,
                pairId: null,
                shareHandle: null,
              })),
            },
          },
        },
      },
    },
    done: { type: 'final', entry: { type: 'report', params: { status: 'Done' } } },
  },
  output: ({ context }) => ({ method: context.method, curves: context.targets.map((t) => t.curve) }),
});

// ---- Sign --------------------------------------------------------------------------------------------

export interface SignInput {
  readonly opId: string;
  readonly walletId: string;
  readonly kind: SignRequest['kind'];
  /** Hex; a digest is public. */
  readonly digest: string;
  /** The typed request's payload (JSON): public, like the digest it hashes to. */
  readonly payload?: unknown;
  readonly targets: readonly { readonly curve: Curve; readonly pairId: string; readonly publicKey: string }[];
}

export interface SignContext extends SignInput {
  readonly index: number;
  readonly shareHandle: string | null;
  readonly signature: string | null;
}

export const signMachine = setup({
  types: {} as { input: SignInput; context: SignContext; output: { signature: string } },
  actors: placeholderActors,
  actions: { report: sendParent(({ context }, p: { status: ProgressStatus }) => progressEvent('sign', context, p.status)) },
}).createMachine({
  id: 'sign',
  context: ({ input }) => ({ ...input, index: 0, shareHandle: null, signature: null }),
  initial: 'readingShare',
  states: {
    readingShare: {
      entry: { type: 'report', params: { status: 'Reading share' } },
      invoke: {
        src: 'readShare',
        input: ({ context }) => ({
          walletId: context.walletId,
          curve: context.targets[0]!.curve,
          pairId: context.targets[0]!.pairId,
          publicKey: context.targets[0]!.publicKey,
        }),
        onDone: { target: 'signing', actions: assign(({ event }) => ({ shareHandle: event.output.shareHandle })) },
      },
    },
    signing: {
      entry: { type: 'report', params: { status: 'Signing' } },
      invoke: {
        src: 'runSignProtocol',
        input: ({ context }) => ({
          curve: context.targets[0]!.curve,
          pairId: context.targets[0]!.pairId,
          publicKey: context.targets[0]!.publicKey,
          digest: context.digest,
          kind: context.kind,
          ...(context.payload === undefined ? {} : { payload: context.payload }),
          shareHandle: context.shareHandle!,
        }),
        onDone: { target: 'done', actions: assign(({ event }) => ({ signature: event.output.signature })) },
      },
    },
    done: { type: 'final', entry: { type: 'report', params: { status: 'Done' } } },
  },
  output: ({ context }) => ({ signature: context.signature! }),
});
