/**
 * A client "process" for crash tests: a wallet whose ports are reached through a gate that closes when
 * the process dies, so a step still in flight in the dead process cannot touch the keychain, the backup
 * method or the custodian afterwards (a request already at the custodian still completes there, as it
 * would for real). `crashDuring` kills it after the n-th change of the wallet actor's snapshot, keeping
 * the snapshot persisted at that moment for a new process to restore.
 */
import type { PersistedWallet, TandemWallet } from '../../src/machines/wallet.js';

/** `target` with every method call refused (left pending forever) once `alive()` turns false. */
export function gated<T extends object>(target: T, alive: () => boolean): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (!alive()) return new Promise(() => undefined); // a dead process never hears back
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

export interface ClientProcess {
  readonly wallet: TandemWallet;
  kill(): void;
}

/** Opens a wallet whose ports all pass through one gate; `open` receives the gate to apply. */
export async function openProcess(open: (gate: <T extends object>(t: T) => T) => Promise<TandemWallet>): Promise<ClientProcess> {
  let alive = true;
  const wallet = await open((t) => gated(t, () => alive));
  return {
    wallet,
    kill() {
      alive = false;
      wallet.stop();
    },
  };
}

/**
 * Runs `operation` and kills the process after the `after`-th snapshot change. Returns the snapshot to
 * restore and whether the crash happened (false when the operation ended first). The process is dead
 * afterwards either way.
 */
export async function crashDuring(
  proc: ClientProcess,
  operation: (wallet: TandemWallet) => Promise<unknown>,
  after: number,
): Promise<{ persisted: PersistedWallet; crashed: boolean; changes: number }> {
  let seen = 0;
  let persisted: PersistedWallet | null = null;
  let died = () => undefined as void;
  const dead = new Promise<void>((resolve) => (died = resolve));
  const sub = proc.wallet.actor.subscribe(() => {
    if (++seen === after && persisted === null) {
      persisted = proc.wallet.persist();
      queueMicrotask(() => {
        proc.kill();
        died();
      });
    }
  });
  // A killed process never settles the operation's promise: stop waiting once it is dead.
  await Promise.race([operation(proc.wallet).catch(() => undefined), dead]);
  sub.unsubscribe();
  const crashed = persisted !== null;
  const snapshot = persisted ?? proc.wallet.persist();
  proc.kill();
  return { persisted: snapshot, crashed, changes: seen };
}
