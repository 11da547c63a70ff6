/**
 * Model-based property test of the lifecycle (DESIGN §3): random sequences of operations against the
 * wallet facade and the real custodian rules, with faults injected at random points — custodian calls
 * that never arrive or whose reply is lost, failing database commits, keychain writes and backup
 * methods — crashes with a persisted snapshot restored in a "new process" (empty vault) at random
 * moments of an operation, lost devices and recoveries on another device. After every command the
 * invariants are checked against the custodian's truth.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Custodian, PartyFactory, ProtocolRequest } from '../../src/adapters/ports.js';
import { MemoryKeychain } from '../../src/adapters/memory-keychain.js';
import { isTandemError, TandemError } from '../../src/errors.js';
import { completedMethods, deriveDetail, keychainPrefix } from '../../src/machines/detail.js';
import { openBackupShare, parseEnvelope } from '../../src/machines/envelope.js';
import { createTandemWallet, type TandemWallet } from '../../src/machines/wallet.js';
import { simulatedClientMpc } from '../../src/testing/simulated-mpc.js';
import type { CustodianCall } from '../../src/testing/memory-custodian.js';
import { CURVES, type BackupMethodName, type Curve, type WalletView } from '../../src/types.js';
import { newWorld, PASSWORD, type World } from '../helpers/world.js';

const METHODS = ['PASSWORD', 'GDRIVE'] as const satisfies readonly BackupMethodName[];

interface Real {
  world: World;
  keychain: MemoryKeychain;
  process: Process;
  wallet: TandemWallet;
  spied: Custodian;
  violations: string[];
}

interface Model {
  /** The wallet key per curve once the custodian fixed it. */
  keys: Partial<Record<Curve, string>>;
  /** Set once a method completed a backup of every key: the wallet must stay recoverable from then on. */
  everBackedUp: boolean;
}

/** Checks, at the moment of each call, what the client must never attempt. */
function spy(world: World, violations: string[]): Custodian {
  const inner = world.custodian;
  return {
    getWallet: () => inner.getWallet(),
    async runProtocol<R>(request: ProtocolRequest, party: PartyFactory<R>) {
      const before = await world.rules.getWallet(world.walletId);
      if (request.op === 'generate' && before.publicKeys[request.curve]) violations.push(`generate ${request.curve} with a confirmed key`);
      if (request.op === 'recover') {
        const b = before.backupPairs.find((p) => p.backupPairId === request.backupPairId);
        if (b?.status !== 'STORED_CLIENT_BACKUP_SHARE') violations.push(`recover from ${b?.status ?? 'no'} backup`);
      }
      const out = await inner.runProtocol(request, party);
      if (request.op === 'sign') {
        const pair = before.signingPairs.find((p) => p.pairId === request.pairId);
        if (pair?.status !== 'STORED_CLIENT') violations.push(`signed with a ${pair?.status} pair`);
      }
      return out;
    },
    confirmSigningPair: (a, b) => inner.confirmSigningPair(a, b),
    confirmBackupKey: (a, b) => inner.confirmBackupKey(a, b),
    storeBackupCiphertext: (a, b, c) => inner.storeBackupCiphertext(a, b, c),
    storeBackupCiphertextDigest: (a, b, c) => inner.storeBackupCiphertextDigest(a, b, c),
    fetchBackupCiphertext: (a) => inner.fetchBackupCiphertext(a),
    confirmBackup: (a, b) => inner.confirmBackup(a, b),
    ejectShares: () => inner.ejectShares(),
  };
}

/**
 * One client process. Its keychain and custodian are reached through a gate that closes when the
 * process crashes, so a step still in flight in the dead process cannot touch anything afterwards (a
 * request already at the custodian still completes there, as it would for real).
 */
interface Process {
  readonly wallet: TandemWallet;
  kill(): void;
}

async function open(world: World, keychain: MemoryKeychain, spied: Custodian, snapshot?: unknown): Promise<Process> {
  let alive = true;
  const gate = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, prop, receiver) {
        const v = Reflect.get(t, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (!alive) return new Promise(() => undefined); // a dead process never hears back
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  const wallet = await createTandemWallet({
    custodian: gate(spied),
    keychain: gate(keychain),
    mpc: simulatedClientMpc(),
    backupMethods: { PASSWORD: gate(world.methods.PASSWORD), GDRIVE: gate(world.methods.GDRIVE) },
    ...(snapshot ? { snapshot: snapshot as never } : {}),
  });
  return {
    wallet,
    kill() {
      alive = false;
      wallet.stop();
    },
  };
}

/** Is every confirmed key recoverable from some completed backup, checked by really decrypting it? */
async function recoverableCurves(world: World, view: WalletView): Promise<Curve[]> {
  const mpc = simulatedClientMpc();
  const ok: Curve[] = [];
  for (const curve of CURVES) {
    const key = view.publicKeys[curve];
    if (!key) continue;
    for (const b of view.backupPairs.filter((p) => p.curve === curve && p.status === 'STORED_CLIENT_BACKUP_SHARE')) {
      try {
        const envelope = parseEnvelope(await world.rules.fetchBackupCiphertext({ walletId: world.walletId, backupPairId: b.backupPairId }));
        const dataKey = world.methods[b.method].peek(b.backupPairId, { password: PASSWORD });
        const share = openBackupShare({ backupPairId: b.backupPairId, dataKey, envelope });
        if (mpc.publicKeyOf(curve, share) === key) {
          ok.push(curve);
          break;
        }
      } catch {
        /* this one is not usable; another may be */
      }
    }
  }
  return ok;
}

async function checkInvariants(model: Model, real: Real): Promise<void> {
  expect(real.violations).toEqual([]);
  // Injected faults are one-shot: a sync that hits one leaves the wallet offline until the next.
  for (let i = 0; i < 3 && (i === 0 || real.wallet.actor.getSnapshot().matches('offline')); i++) await real.wallet.refresh();
  expect(real.wallet.actor.getSnapshot().matches('offline')).toBe(false);
  const view = await real.world.rules.getWallet(real.world.walletId);
  // The public key (and so the address) of a curve never changes once fixed.
  for (const c of CURVES) {
    if (model.keys[c]) expect(view.publicKeys[c]).toBe(model.keys[c]);
    else if (view.publicKeys[c]) model.keys[c] = view.publicKeys[c];
  }
  // After sync the client shows exactly what the custodian and the keychain hold.
  const truth = deriveDetail(view, await real.keychain.keys(keychainPrefix(real.world.walletId)));
  expect(real.wallet.actor.getSnapshot().context.detail).toEqual(truth);
  // Structural rules: one current pair per curve, one completed backup per (curve, method).
  for (const c of CURVES) {
    const pairs = view.signingPairs.filter((p) => p.curve === c);
    expect(pairs.filter((p) => p.status === 'STORED_CLIENT').length).toBeLessThanOrEqual(1);
    expect(pairs.filter((p) => p.status === 'STORED_DATABASE').length).toBeLessThanOrEqual(1);
    // A pair is suspended only while the recovered pair that replaces it awaits confirmation (rule 1).
    for (const suspended of pairs.filter((p) => p.status === 'SUSPENDED')) {
      expect(pairs.some((p) => p.status === 'STORED_DATABASE' && p.epoch > suspended.epoch)).toBe(true);
    }
    const epochs = pairs.map((p) => p.epoch);
    expect(new Set(epochs).size).toBe(epochs.length);
    for (const m of METHODS) {
      expect(view.backupPairs.filter((b) => b.curve === c && b.method === m && b.status === 'STORED_CLIENT_BACKUP_SHARE').length).toBeLessThanOrEqual(1);
    }
  }
  // Once backed up, the wallet stays recoverable at every point, for every key.
  if (completedMethods(truth).length > 0) model.everBackedUp = true;
  if (model.everBackedUp) {
    const confirmed = CURVES.filter((c) => view.publicKeys[c]);
    expect(await recoverableCurves(real.world, view)).toEqual(confirmed);
  }
}

/** Runs an operation that may fail; a failure must be a typed error. */
async function attempt<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string }> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (!isTandemError(e)) throw e;
    return { ok: false, code: e.code };
  }
}

/** An operator action, retried past an injected one-shot database failure. */
async function operator<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= 3 || !isTandemError(e, 'INTERNAL')) throw e;
    }
  }
}

type Cmd = fc.AsyncCommand<Model, Real>;

const cmd = (name: string, run: (m: Model, r: Real) => Promise<void>): Cmd => ({
  check: () => true,
  run: async (m, r) => {
    await run(m, r);
    await checkInvariants(m, r);
  },
  toString: () => name,
});

const generate = () =>
  cmd('generate', async (_m, r) => {
    const before = await r.world.rules.getWallet(r.world.walletId);
    const res = await attempt(() => r.wallet.createWallet());
    // A wallet whose keys are all confirmed is never generated again.
    if (CURVES.every((c) => before.publicKeys[c])) expect(res).toMatchObject({ ok: false });
  });

const backup = (method: BackupMethodName, replace: boolean) =>
  cmd(`backup(${method}${replace ? ', replace' : ''})`, async (_m, r) => {
    if (replace) await operator(() => r.world.rules.grantStepUp({ walletId: r.world.walletId, method, ttlMs: 60_000 }));
    await attempt(() => r.wallet.backupWallet(method, { password: PASSWORD, replace }));
  });

const recover = (method: BackupMethodName, rightPassword: boolean) =>
  cmd(`recover(${method}${rightPassword ? '' : ', wrong password'})`, async (_m, r) => {
    const possible = r.wallet.availableRecoveryMethods().includes(method);
    const res = await attempt(() => r.wallet.recoverWallet(method, { password: rightPassword ? PASSWORD : 'not the password' }));
    if (!possible) expect(res).toMatchObject({ ok: false });
    if (!rightPassword && method === 'PASSWORD') expect(res).toMatchObject({ ok: false });
  });

const sign = (curve: Curve) =>
  cmd(`sign(${curve})`, async (_m, r) => {
    const digest = hexToBytes('ab'.repeat(32));
    const known = r.wallet.actor.getSnapshot().context.detail?.curves[curve].state;
    const res = await attempt(() => r.wallet.signRaw(curve, digest));
    // What the device knows to be unsignable is refused by the machine, before any step runs.
    if (known === 'none' || known === 'pending') expect(res).toMatchObject({ ok: false, code: 'STATE_INVALID' });
    if (known === 'notOnDevice') expect(res).toMatchObject({ ok: false, code: 'SHARE_NOT_ON_DEVICE' });
    if (res.ok) {
      const key = hexToBytes((await r.world.rules.getWallet(r.world.walletId)).publicKeys[curve]!);
      const valid = curve === 'SECP256K1' ? secp256k1.verify(res.value, digest, key, { prehash: false }) : ed25519.verify(res.value, digest, key, { zip215: false });
      expect(valid).toBe(true);
    }
  });

const loseDevice = () =>
  cmd('loseDevice', async (_m, r) => {
    r.process.kill();
    r.keychain = new MemoryKeychain();
    replace(r, await open(r.world, r.keychain, r.spied));
  });

/** The process dies `after` snapshot changes into an operation; a new process restores its last snapshot. */
const crashDuring = (op: 'generate' | 'backup' | 'recover' | 'sign', after: number) =>
  cmd(`crashDuring(${op}, ${after})`, async (_m, r) => {
    let seen = 0;
    let persisted: unknown = null;
    const { wallet } = r;
    const sub = wallet.actor.subscribe(() => {
      if (++seen === after && persisted === null) {
        persisted = wallet.persist();
        queueMicrotask(() => r.process.kill());
      }
    });
    const running =
      op === 'generate'
        ? wallet.createWallet()
        : op === 'backup'
          ? wallet.backupWallet('GDRIVE', {})
          : op === 'recover'
            ? wallet.recoverWallet('PASSWORD', { password: PASSWORD })
            : wallet.signRaw('ED25519', new Uint8Array(32));
    await running.catch(() => undefined);
    sub.unsubscribe();
    if (persisted === null) persisted = wallet.persist(); // the operation ended before the crash point
    r.process.kill();
    replace(r, await open(r.world, r.keychain, r.spied, persisted));
  });

const fault = (call: CustodianCall | undefined, when: 'before' | 'after') =>
  cmd(`fault(${call ?? 'any'}, ${when})`, async (_m, r) => r.world.custodian.injectFault({ ...(call ? { call } : {}), when }));
const failCommit = () => cmd('failCommit', async (_m, r) => r.world.store.failNextCommit());
const failKeychain = () => cmd('failKeychainWrite', async (_m, r) => r.keychain.failNextWrite());
const failMethod = (m: BackupMethodName) => cmd(`failMethod(${m})`, async (_m, r) => r.world.methods[m].failNext());

const recoverElsewhere = () =>
  cmd('recoverOnAnotherDevice', async (_m, r) => {
    const other = await open(r.world, new MemoryKeychain(), r.spied);
    const res = await attempt(() => other.wallet.recoverWallet('PASSWORD', { password: PASSWORD }));
    other.kill();
    if (res.ok) {
      // This device's share is revoked now; a sign must not succeed with it.
      await expect(r.wallet.signRaw('SECP256K1', new Uint8Array(32))).rejects.toBeInstanceOf(TandemError);
    }
  });

const lockAndUnlock = (curve: Curve) =>
  cmd(`lock(${curve}) → sign → unlock`, async (_m, r) => {
    const view = await r.world.rules.getWallet(r.world.walletId);
    const pair = view.signingPairs.find((p) => p.curve === curve && p.status === 'STORED_CLIENT');
    if (!pair) return;
    const held = r.wallet.actor.getSnapshot().context.detail?.curves[curve].state === 'STORED_CLIENT';
    r.world.custodian.clearFaults();
    await operator(() => r.world.rules.lockPair({ walletId: r.world.walletId, pairId: pair.pairId, reason: 'test' }));
    // Before it knows (the custodian refuses) and after it synced (the machine refuses).
    const refusal = held ? { code: 'PAIR_LOCKED' } : { code: expect.any(String) };
    await expect(r.wallet.signRaw(curve, new Uint8Array(32))).rejects.toMatchObject(refusal);
    await r.wallet.refresh();
    await expect(r.wallet.signRaw(curve, new Uint8Array(32))).rejects.toMatchObject(refusal);
    await operator(() => r.world.rules.unlockPair({ walletId: r.world.walletId, pairId: pair.pairId }));
  });

const restoreSettled = () =>
  cmd('persistAndRestore', async (_m, r) => {
    const snap = r.wallet.persist();
    r.process.kill();
    replace(r, await open(r.world, r.keychain, r.spied, snap));
  });

function replace(r: Real, p: Process): void {
  r.process = p;
  r.wallet = p.wallet;
}

const calls: CustodianCall[] = ['getWallet', 'runProtocol', 'confirmSigningPair', 'confirmBackupKey', 'storeBackupCiphertext', 'fetchBackupCiphertext', 'confirmBackup'];
const curveArb = fc.constantFrom<Curve>('SECP256K1', 'ED25519');
const methodArb = fc.constantFrom<BackupMethodName>(...METHODS);

const commands = [
  fc.constant(generate()),
  fc.constant(generate()),
  fc.tuple(methodArb, fc.boolean()).map(([m, r]) => backup(m, r)),
  fc.tuple(methodArb, fc.boolean()).map(([m, r]) => backup(m, r)),
  fc.tuple(methodArb, fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false))).map(([m, p]) => recover(m, p)),
  curveArb.map(sign),
  curveArb.map(sign),
  fc.constant(loseDevice()),
  fc.tuple(fc.constantFrom('generate', 'backup', 'recover', 'sign') as fc.Arbitrary<'generate' | 'backup' | 'recover' | 'sign'>, fc.integer({ min: 1, max: 30 })).map(([op, n]) => crashDuring(op, n)),
  fc.tuple(fc.option(fc.constantFrom(...calls), { nil: undefined }), fc.constantFrom('before', 'after') as fc.Arbitrary<'before' | 'after'>).map(([c, w]) => fault(c, w)),
  fc.constant(failCommit()),
  fc.constant(failKeychain()),
  methodArb.map(failMethod),
  fc.constant(recoverElsewhere()),
  curveArb.map(lockAndUnlock),
  fc.constant(restoreSettled()),
];

describe('lifecycle model', () => {
  it('keeps the DESIGN §3 invariants under random operations, faults and crashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('fresh', 'generated', 'backedUp', 'backedUp'), fc.commands(commands, { maxCommands: 25 }), async (start, cmds) => {
        const world = await newWorld();
        const violations: string[] = [];
        const spied = spy(world, violations);
        const keychain = new MemoryKeychain();
        const process = await open(world, keychain, spied);
        if (start !== 'fresh') await process.wallet.createWallet();
        if (start === 'backedUp') await process.wallet.backupWallet('PASSWORD', { password: PASSWORD });
        const real: Real = { world, keychain, process, wallet: process.wallet, spied, violations };
        try {
          await fc.asyncModelRun(() => ({ model: { keys: {}, everBackedUp: false }, real }), cmds);
        } finally {
          real.process.kill();
        }
      }),
      { numRuns: 250 },
    );
  });
});
