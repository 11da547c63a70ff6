/**
 * Wraps each step of steps.ts as a promise actor under the step's own name, so machines invoke
 * `src: 'storeShare'` and `machine.provide({ actors: stepActors(createSteps(deps)) })` supplies the
 * implementation. The static machines use `unprovidedSteps()`, which fail loudly if run unprovided.
 */
import { fromPromise, type PromiseActorLogic } from 'xstate';
import { unprovidedSteps, type Steps } from './steps.js';

export type StepActors = {
  [K in keyof Steps]: PromiseActorLogic<Awaited<ReturnType<Steps[K]>>, Parameters<Steps[K]>[0]>;
};

export function stepActors(steps: Steps): StepActors {
  const out: Record<string, unknown> = {};
  for (const name of STEP_NAMES) {
    out[name] = fromPromise(({ input }: { input: never }) => (steps[name] as (i: never) => Promise<unknown>)(input));
  }
  return out as StepActors;
}

export const STEP_NAMES = [
  'syncWallet',
  'resumePending',
  'runGenerateProtocol',
  'parseShare',
  'storeShare',
  'confirmSigningPair',
  'removeStaleShares',
  'runBackupProtocol',
  'encryptBackupShare',
  'storeBackupCiphertext',
  'finishBackup',
  'fetchBackupShare',
  'decryptBackupShare',
  'runRecoverProtocol',
  'readShare',
  'runSignProtocol',
] as const satisfies readonly (keyof Steps)[];

// Every step has an actor: a step missing from STEP_NAMES fails the type check here.
const allStepsNamed: Record<Exclude<keyof Steps, (typeof STEP_NAMES)[number]>, never> = {};
void allStepsNamed;

export const placeholderActors: StepActors = stepActors(unprovidedSteps());
