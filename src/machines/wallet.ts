/**
 * The facade most apps use: promise-returning calls over the wallet machine. Each call sends one event
 * and resolves from the outcome the machine records for it, so an app that drives the machine directly
 * sees exactly the same behaviour (and the same typed errors). Calls are queued: one operation at a time
 * per wallet on this device, as the custodian's lease enforces across devices.
 */
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { createActor, waitFor, type Actor, type InspectionEvent, type Observer, type SnapshotFrom } from 'xstate';
import type { BackupMethod, BackupMethodOptions, CiphertextStore, ClientMpc, Custodian, Keychain, SignRequest } from '../adapters/ports.js';
import { fromSerialized, TandemError } from '../errors.js';
import { CURVES, SIGN_REQUEST_KINDS, type BackupMethodName, type Curve, type ProgressStatus } from '../types.js';
import { addressOf } from './address.js';
import { completedMethods, confirmedCurves, recoveryTargets, signingAggregate, type WalletDetail } from './detail.js';
import { sanitizingInspector } from './inspect.js';
import { createSteps } from './steps.js';
import { Vault } from './vault.js';
import { implementWalletMachine, SNAPSHOT_VERSION, type WalletEvent, type WalletMachine } from './wallet-machine.js';

export interface TandemWalletOptions {
  readonly custodian: Custodian;
  readonly keychain: Keychain;
  readonly mpc: ClientMpc;
  readonly backupMethods?: Readonly<Partial<Record<BackupMethodName, BackupMethod>>>;
  /**
   * Self-managed from the client: the app keeps the encrypted client backup shares itself (the custodian
   * records only their SHA-256), and a recovery asks it for them. Usually with the operator's self-managed
   * backups, so that the custodian service holds no backup material at all.
   */
  readonly ciphertextStore?: CiphertextStore;
  /** A snapshot from `persist()`; one of another version is discarded and the wallet re-syncs. */
  readonly snapshot?: PersistedWallet | null;
  /**
   * Passed to the actor behind `sanitizingInspector` (docs/inspector.md), e.g.
   * `createBrowserInspector().inspect`: no inspection event carries a secret even if one strayed into an
   * event or the context.
   */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

export interface PersistedWallet {
  readonly version: number;
  readonly snapshot: unknown;
}

export type Addresses = Partial<Record<Curve, string>>;
export type ProgressCallback = (status: ProgressStatus, curve: Curve | null) => void;

export interface BackupOptions extends BackupMethodOptions {
  /**
   * Replace this method's completed backup. The client proves to the custodian that it holds the current
   * backup (opened with `current`, or with these options when `current` is absent); without that proof the
   * custodian accepts the replacement only under the operator's step-up (`BACKUP_REPLACEMENT_UNAUTHORISED`).
   */
  readonly replace?: boolean;
  /** The current backup's options when they differ from the new ones: `{ password: oldPassword }` for a password change. */
  readonly current?: BackupMethodOptions;
}

export type WalletActor = Actor<WalletMachine>;

/**
 * The wallet's keys after an eject. SECP256K1: the 32-byte private key (big-endian), importable by any
 * EVM wallet. ED25519: the 32-byte secret **scalar** (little-endian) — not an RFC 8032 seed, so wallets
 * that import only seeds cannot take it. Each with the address it derives, equal to the wallet's.
 */
export type EjectedWallet = Partial<Record<Curve, { readonly secret: Uint8Array; readonly address: string }>>;
type WalletSnapshot = SnapshotFrom<WalletMachine>;

export interface TandemWallet {
  /** The running actor, for apps that use the machine directly (subscribe, inspect, send). */
  readonly actor: WalletActor;
  /** Generates the wallet's keys (both curves), or finishes a generation that crashed. */
  createWallet(progress?: ProgressCallback): Promise<Addresses>;
  backupWallet(method: BackupMethodName, options?: BackupOptions, progress?: ProgressCallback): Promise<void>;
  recoverWallet(method: BackupMethodName, options?: BackupMethodOptions, progress?: ProgressCallback): Promise<Addresses>;
  /** Only addresses of confirmed keys (DESIGN §3 rule 3). */
  getAddresses(): Addresses;
  /**
   * Eject: assembles the wallet's keys from a completed backup of `method` and the custodian's backup
   * shares, which the custodian releases only inside a window the operator opened (`EJECT_NOT_ALLOWED`
   * otherwise). The only call that ever produces the full private key; see docs/security.md.
   */
  ejectWallet(method: BackupMethodName, options?: BackupMethodOptions): Promise<EjectedWallet>;
  /**
   * Signs a 32-byte digest (SECP256K1) or a message (ED25519); the signature is verified before it is
   * returned. The custodian sees only the bytes and records them as `raw`: prefer `sign` with a typed
   * request (src/chains builds them) so that it can check what it signs.
   */
  signRaw(curve: Curve, digest: Uint8Array, progress?: ProgressCallback): Promise<Uint8Array>;
  /**
   * Signs a request of the custodian's sign-request schema (`{ kind, payload, digest }`, as
   * `signRequest` in `tandem-wallet/chains` builds it): the custodian recomputes the digest from the
   * payload and refuses a mismatch. Returns the 64-byte signature (SECP256K1 r ‖ s with low s; ED25519
   * R ‖ S), verified under the wallet key. The payload must be plain JSON (no bigint, no bytes).
   */
  sign(curve: Curve, request: SignRequest, progress?: ProgressCallback): Promise<Uint8Array>;
  isWalletOnDevice(): boolean;
  isWalletBackedUp(): boolean;
  isWalletRecoverable(): boolean;
  availableRecoveryMethods(): BackupMethodName[];
  /** A snapshot that holds no secret: ids, statuses and handles only. */
  persist(): PersistedWallet;
  /** Asks the custodian again (after the app regains connectivity, say). */
  refresh(): Promise<void>;
  stop(): void;
}

/**
 * @example
 * const wallet = await createTandemWallet({ custodian, keychain, mpc, backupMethods: { PASSWORD: passwordMethod } });
 * const { SECP256K1: evmAddress } = await wallet.createWallet((status) => console.log(status));
 * await wallet.backupWallet('PASSWORD', { password });
 */
export async function createTandemWallet(options: TandemWalletOptions): Promise<TandemWallet> {
  const vault = new Vault();
  const backupMethods = options.backupMethods ?? {};
  const steps = createSteps({
    custodian: options.custodian,
    keychain: options.keychain,
    mpc: options.mpc,
    backupMethods,
    vault,
    ...(options.ciphertextStore ? { ciphertextStore: options.ciphertextStore } : {}),
  });
  const machine = implementWalletMachine(steps);
  const input = { methods: Object.keys(backupMethods) as BackupMethodName[] };
  const given = options.snapshot;
  // Another version, or a snapshot of a stopped actor, is discarded: the wallet re-syncs from scratch.
  const restorable = given?.version === SNAPSHOT_VERSION && isRunning(given.snapshot) ? given.snapshot : undefined;
  const actor: WalletActor = createActor(machine, {
    input,
    ...(restorable ? { snapshot: restorable as never } : {}),
    ...(options.inspect ? { inspect: sanitizingInspector(options.inspect) } : {}),
  });
  actor.start();

  // A child that finished but whose completion the wallet has not yet handled would be restored as
  // finished without ever telling the wallet (XState does not replay it), leaving a restored wallet
  // waiting forever. `persist()` therefore returns the newest snapshot in which every child is running.
  let consistent: unknown = null;
  const capture = () => {
    const persisted = actor.getPersistedSnapshot();
    if (isRunning(persisted) && allChildrenActive(persisted)) consistent = persisted;
  };
  actor.subscribe(capture);
  capture();

  const settled = (s: WalletSnapshot) => !s.hasTag('busy');
  const settle = () => waitFor(actor, settled);
  /** A failed sync (a dropped connection, say) is retried once before the app is told anything. */
  const resyncIfOffline = async (): Promise<WalletSnapshot> => {
    if (!actor.getSnapshot().matches('offline')) return actor.getSnapshot();
    actor.send({ type: 'sync.refresh' });
    return settle();
  };
  if (restorable && settled(actor.getSnapshot())) actor.send({ type: 'sync.refresh' });
  await settle();

  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  /** `makeEvent` runs only once the machine is settled: a sync empties the vault, so secrets go in after it. */
  const run = (makeEvent: () => DistributiveOmit<Extract<WalletEvent, { opId: string }>, 'opId'>, progress?: ProgressCallback) =>
    enqueue(async () => {
      await settle();
      await resyncIfOffline();
      const event = makeEvent();
      const opId = `op_${bytesToHex(randomBytes(12))}`;
      let last: unknown = null;
      const sub = progress
        ? actor.subscribe((s) => {
            const p = s.context.progress;
            if (p && p.opId === opId && p !== last) {
              last = p;
              progress(p.status, p.curve);
            }
          })
        : null;
      try {
        actor.send({ ...event, opId } as WalletEvent);
        const snap = await waitFor(actor, (s) => s.context.outcome?.opId === opId && settled(s)).catch((cause: unknown) => {
          throw new TandemError('STATE_INVALID', { message: 'The wallet was stopped before the operation finished.', cause });
        });
        const outcome = snap.context.outcome!;
        if (!outcome.ok) throw fromSerialized(outcome.error!);
        // The operation succeeded; if the sync after it did not, retry so the app sees the result.
        return resyncIfOffline();
      } finally {
        sub?.unsubscribe();
      }
    });

  const detail = (): WalletDetail | null => actor.getSnapshot().context.detail;
  const addresses = (): Addresses => {
    const d = detail();
    const out: Addresses = {};
    if (d) for (const c of CURVES) if (d.curves[c].address) out[c] = d.curves[c].address!;
    return out;
  };
  const recoverable = (): BackupMethodName[] => {
    const d = detail();
    return d && !d.archived ? completedMethods(d).filter((m) => m in backupMethods) : [];
  };
  const withSecrets = (options: BackupMethodOptions): string | null =>
    Object.keys(options).length > 0 ? vault.put({ ...options }, 'method-options') : null;

  return {
    actor,
    async createWallet(progress) {
      await run(() => ({ type: 'generate.start' }), progress);
      return addresses();
    },
    async backupWallet(method, opts = {}, progress) {
      const { replace, ...methodOptions } = opts;
      checkMethodOptions(backupMethods, method, methodOptions, 'backup');
      await run(() => ({ type: 'backup.start', method, replace: replace === true, secretHandle: withSecrets(methodOptions) }), progress);
    },
    async recoverWallet(method, opts = {}, progress) {
      checkMethodOptions(backupMethods, method, opts, 'recover');
      await run(() => ({ type: 'recover.start', method, secretHandle: withSecrets(opts) }), progress);
      return addresses();
    },
    getAddresses: addresses,
    async ejectWallet(method, opts = {}) {
      checkMethodOptions(backupMethods, method, opts, 'recover');
      return enqueue(async () => {
        await settle();
        await resyncIfOffline();
        const d = detail();
        if (!d) throw new TandemError('STATE_INVALID', { message: 'The wallet has not synced with the custodian.' });
        if (d.archived) throw new TandemError('WALLET_ARCHIVED');
        if (!(method in backupMethods)) throw new TandemError('BACKUP_METHOD_UNAVAILABLE', { details: { method } });
        const targets = recoveryTargets(d, method);
        if (targets.length === 0 || targets.length < confirmedCurves(d).length) throw new TandemError('NO_VALID_BACKUP', { details: { method } });
        const secretHandle = withSecrets(opts);
        const handles: string[] = [];
        try {
          // The client's own shares first: a wrong password never makes the custodian release its shares.
          const clientShares = new Map<string, string>();
          for (const t of targets) {
            const { envelopeHandle } = await steps.fetchBackupShare({ backupPairId: t.backupPairId });
            handles.push(envelopeHandle);
            const { backupShareHandle } = await steps.decryptBackupShare({ ...t, method, envelopeHandle, secretHandle });
            handles.push(backupShareHandle);
            clientShares.set(t.backupPairId, backupShareHandle);
          }
          const released = await options.custodian.ejectShares();
          try {
            const out: { -readonly [C in Curve]?: { secret: Uint8Array; address: string } } = {};
            for (const t of targets) {
              const theirs = released.find((s) => s.backupPairId === t.backupPairId && s.curve === t.curve);
              if (!theirs) throw new TandemError('NO_VALID_BACKUP', { message: 'The custodian released no share for this backup.', details: { curve: t.curve, backupPairId: t.backupPairId } });
              const { secret, publicKey } = options.mpc.combineBackupShares(t.curve, vault.get<Uint8Array>(clientShares.get(t.backupPairId)!), theirs.custodianBackupShare);
              if (publicKey !== t.publicKey) throw new TandemError('PUBLIC_KEY_MISMATCH', { details: { curve: t.curve } });
              out[t.curve] = { secret, address: addressOf(t.curve, publicKey) };
            }
            return out;
          } finally {
            for (const s of released) s.custodianBackupShare.fill(0);
          }
        } finally {
          for (const h of handles) vault.delete(h);
          vault.delete(secretHandle);
        }
      });
    },
    async signRaw(curve, digest, progress) {
      if (!(digest instanceof Uint8Array)) throw new TandemError('INVALID_INPUT', { message: 'The digest must be a Uint8Array.' });
      const snap = await run(() => ({ type: 'sign.start', curve, digest: bytesToHex(digest), kind: 'raw' }), progress);
      return hexToBytes(snap.context.outcome!.signature!);
    },
    async sign(curve, request, progress) {
      const { kind, digest, payload } = checkSignRequestShape(request);
      const snap = await run(() => ({ type: 'sign.start', curve, digest, kind, ...(payload === undefined ? {} : { payload }) }), progress);
      return hexToBytes(snap.context.outcome!.signature!);
    },
    isWalletOnDevice() {
      const d = detail();
      return d !== null && !d.archived && CURVES.some((c) => d.curves[c].publicKey !== null) && signingAggregate(d) === 'STORED_CLIENT';
    },
    isWalletBackedUp() {
      const d = detail();
      return d !== null && completedMethods(d).length > 0;
    },
    isWalletRecoverable: () => recoverable().length > 0,
    availableRecoveryMethods: recoverable,
    persist: () => {
      capture();
      return { version: SNAPSHOT_VERSION, snapshot: consistent };
    },
    refresh: () =>
      enqueue(async () => {
        await settle();
        actor.send({ type: 'sync.refresh' });
        await settle();
      }),
    stop() {
      actor.stop();
      vault.wipe();
    },
  };
}

const isRunning = (persisted: unknown): boolean => (persisted as { status?: unknown } | null)?.status === 'active';

function allChildrenActive(persisted: unknown): boolean {
  const children = (persisted as { children?: Record<string, { snapshot?: { status?: string } }> }).children ?? {};
  return Object.values(children).every((c) => c.snapshot?.status === 'active' && allChildrenActive(c.snapshot));
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Options the method would refuse at the end (a missing or weak password) are refused before anything starts. */
function checkMethodOptions(
  backupMethods: Readonly<Partial<Record<BackupMethodName, BackupMethod>>>,
  method: BackupMethodName,
  methodOptions: BackupMethodOptions,
  purpose: 'backup' | 'recover',
): void {
  if (method === 'PASSWORD' && (typeof methodOptions.password !== 'string' || methodOptions.password.length === 0)) {
    throw new TandemError('PASSWORD_REQUIRED', { details: { method } });
  }
  backupMethods[method]?.checkOptions?.(methodOptions, purpose);
}

/**
 * The shape the machine can carry: a known kind, a 0x-hex digest, and a payload that survives JSON as it
 * is (it travels to the custodian as JSON and sits in the persisted snapshot while the signature runs).
 * Whether the digest matches the payload is the custodian's check (src/chains/sign-request.ts).
 */
function checkSignRequestShape(request: SignRequest): { kind: SignRequest['kind']; digest: string; payload?: unknown } {
  const invalid = (message: string) => new TandemError('INVALID_INPUT', { message });
  if (typeof request !== 'object' || request === null) throw invalid('A sign request is { kind, digest, payload? }.');
  if (!(SIGN_REQUEST_KINDS as readonly string[]).includes(request.kind)) throw invalid('Unknown sign request kind.');
  if (typeof request.digest !== 'string' || !/^0x([0-9a-fA-F]{2})+$/.test(request.digest)) throw invalid('The digest must be 0x-prefixed hex.');
  const digest = request.digest.slice(2).toLowerCase();
  if (request.kind === 'raw') {
    if (request.payload !== undefined) throw invalid('A raw request has no payload.');
    return { kind: 'raw', digest };
  }
  if (request.payload === undefined) throw invalid(`A ${request.kind} request carries its payload.`);
  let json: string | undefined;
  try {
    json = JSON.stringify(request.payload);
  } catch {
    throw invalid('The sign request payload is not JSON (a bigint, say).');
  }
  if (json === undefined) throw invalid('The sign request payload is not JSON.');
  // Plain JSON only: a value that JSON would change (undefined, a Date, bytes) would reach the custodian as something else.
  const payload = JSON.parse(json) as unknown;
  if (!sameJson(payload, request.payload)) throw invalid('The sign request payload must be plain JSON (strings, numbers, booleans, null, arrays, objects).');
  return { kind: request.kind, digest, payload };
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === null || typeof a !== 'object') return a === b;
  if (typeof b !== 'object' || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  if (!Array.isArray(b) && Object.getPrototypeOf(b) !== Object.prototype && Object.getPrototypeOf(b) !== null) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
