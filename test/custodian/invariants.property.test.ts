/**
 * Random sequences of custodian rule calls (with injected commit failures, stale leases, moving time,
 * locks, hook refusals and idempotent replays), checking the lifecycle invariants of DESIGN §3 after
 * every single call:
 * - per curve at most one live STORED_CLIENT / STORED_DATABASE signing pair, plus at most one SUSPENDED
 *   one, and that only while a recovered STORED_DATABASE successor is pending (or no successor at all);
 * - the wallet key of a curve never changes once set, and every confirmed / suspended pair carries it;
 * - epochs (the wallet's and each new pair's) only grow; fencing tokens only grow;
 * - at most one completed backup per (curve, method), and it is of the wallet key;
 * - SUPERSEDED pairs never become anything else and hold no secret material;
 * - every failed call is a TandemError and leaves the store (and getWallet) exactly as it was;
 * - a replay of a successful call (same key, same request) returns the first result and changes nothing;
 * - only the current STORED_CLIENT pair signs; only a completed backup authorises a recovery;
 * - replacing a completed backup happened only with the proof or inside a live step-up window.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CustodianRules } from '../../src/custodian/rules.js';
import { newTestStore } from '../helpers/stores.js';
import type { BackupPairRecord, LeaseOperation, SigningPairRecord } from '../../src/custodian/store.js';
import { TandemError } from '../../src/errors.js';
import { BACKUP_METHODS, CURVES, type BackupMethodName, type Curve } from '../../src/types.js';
import { LEASE_TTL, PK, T0, bytes, rawState, type RawState } from './helpers.js';

const W = 'w';
const KEYS: Record<Curve, readonly string[]> = { SECP256K1: [PK.a, PK.b], ED25519: [PK.ed, PK.c] };
const METHODS = ['PASSWORD', 'PASSKEY'] as const satisfies readonly BackupMethodName[];

type Token = 'current' | 'stale';
type Action =
  | { t: 'acquire'; op: LeaseOperation }
  | { t: 'release'; token: Token }
  | { t: 'advance'; ms: number }
  | { t: 'generate'; curve: Curve; key: number; token: Token }
  | { t: 'confirmSigning'; pick: number }
  | { t: 'setup'; curve: Curve; key: number }
  | { t: 'recover'; curve: Curve; pick: number; matchKey: boolean; token: Token }
  | { t: 'fullRecover'; curve: Curve; pick: number; confirm: boolean; matchKey: boolean }
  | { t: 'backup'; curve: Curve; method: BackupMethodName; proof: boolean; matchKey: boolean; token: Token }
  | { t: 'fullBackup'; curve: Curve; method: BackupMethodName; proof: boolean; matchKey: boolean }
  | { t: 'confirmBackupKey'; pick: number }
  | { t: 'storeCiphertext'; pick: number; ct: number }
  | { t: 'confirmBackup'; pick: number }
  | { t: 'stepUp'; method: BackupMethodName; ttl: number }
  | { t: 'lock'; sig: boolean; pick: number }
  | { t: 'unlock'; sig: boolean; pick: number }
  | { t: 'sign'; pick: number }
  | { t: 'authorizeRecovery'; curve: Curve; pick: number }
  | { t: 'shareForBackup'; curve: Curve }
  | { t: 'fetchCiphertext'; pick: number }
  | { t: 'toggleHooks'; recovery: boolean; policy: boolean }
  | { t: 'replay'; pick: number }
  | { t: 'archive' };

interface Step {
  readonly action: Action;
  /** Which call of the action (0-based) gets an injected commit failure; -1 for none. */
  readonly fault: number;
}

const curve: fc.Arbitrary<Curve> = fc.oneof({ weight: 3, arbitrary: fc.constant('SECP256K1' as const) }, { weight: 1, arbitrary: fc.constant('ED25519' as const) });
const method = fc.constantFrom<BackupMethodName>(...METHODS);
const token = fc.constantFrom<Token>('current', 'current', 'current', 'stale');
const pick = fc.nat(20);
/** Mostly the wallet key, sometimes another one (which the rules must refuse). */
const mostly = fc.constantFrom(true, true, true, true, false);

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ t: fc.constant('acquire' as const), op: fc.constantFrom<LeaseOperation>('generate', 'backup', 'recover') }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('release' as const), token }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.constantFrom(1, 1_000, LEASE_TTL - 1, LEASE_TTL, 3 * LEASE_TTL) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('generate' as const), curve, key: fc.nat(1), token }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('confirmSigning' as const), pick }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('setup' as const), curve, key: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('recover' as const), curve, pick, matchKey: fc.boolean(), token }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('fullRecover' as const), curve, pick, confirm: fc.constantFrom(true, true, false), matchKey: mostly }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('backup' as const), curve, method, proof: fc.boolean(), matchKey: fc.boolean(), token }) },
  { weight: 7, arbitrary: fc.record({ t: fc.constant('fullBackup' as const), curve, method, proof: fc.boolean(), matchKey: mostly }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('confirmBackupKey' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('storeCiphertext' as const), pick, ct: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('confirmBackup' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('stepUp' as const), method, ttl: fc.constantFrom(1, 60_000) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('lock' as const), sig: fc.boolean(), pick }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('unlock' as const), sig: fc.boolean(), pick }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('sign' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('authorizeRecovery' as const), curve, pick }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('shareForBackup' as const), curve }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('fetchCiphertext' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('toggleHooks' as const), recovery: fc.constantFrom(true, true, false), policy: fc.constantFrom(true, true, false) }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('replay' as const), pick }) },
);

const stepArb: fc.Arbitrary<Step> = fc.record({
  action: actionArb,
  fault: fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, { weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(4) }),
});

const effective = (p: { status: string; lockedFrom?: string }) => (p.status === 'LOCKED' ? p.lockedFrom : p.status);

/** Runs one random sequence and checks every invariant after every call. */
class Run {
  now = T0;
  hooksAllow = { recovery: true, policy: true };
  readonly store = newTestStore();
  private n = 0;
  private k = 0;
  readonly rules = new CustodianRules({
    store: this.store,
    clock: () => this.now,
    leaseTtlMs: LEASE_TTL,
    newId: (prefix) => `${prefix}_${++this.n}`,
    hooks: {
      recoveryAuthorization: () => (this.hooksAllow.recovery ? { allow: true } : { allow: false, reason: 'test' }),
      signingPolicy: () => (this.hooksAllow.policy ? { allow: true } : { allow: false, reason: 'test' }),
    },
  });
  /** The latest lease token handed out (it may have expired or been released since). */
  token = 0;
  readonly replays: { call: () => Promise<unknown>; result: unknown }[] = [];
  // history for the "never changes" invariants
  private readonly keysSeen: Partial<Record<Curve, string>> = {};
  private readonly epochsSeen: Record<Curve, number> = { SECP256K1: 0, ED25519: 0 };
  private fencingSeen = 0;
  private readonly pairsSeen = new Map<string, SigningPairRecord>();
  private readonly backupsSeen = new Map<string, BackupPairRecord>();
  private calls = 0;
  private fault = -1;
  /** Whether the last checked call succeeded (void calls return undefined either way). */
  lastOk = false;
  private state!: RawState;
  readonly stats = { ok: 0, failed: 0, faults: 0, recovered: 0, recoveredConfirmed: 0, backupsCompleted: 0, replaced: 0, signed: 0, replays: 0 };

  key(): string {
    return `prop-key-${String(++this.k).padStart(5, '0')}`;
  }

  async init(): Promise<void> {
    await this.rules.createWallet({ walletId: W });
    this.state = await rawState(this.store, W);
  }

  signingIds(): string[] {
    return this.state.signingPairs.map((p) => p.pairId);
  }
  backupIds(): string[] {
    return this.state.backupPairs.map((b) => b.backupPairId);
  }
  pickOf<T>(xs: readonly T[], i: number): T | undefined {
    return xs.length === 0 ? undefined : xs[i % xs.length];
  }
  tokenFor(t: Token): number {
    return t === 'current' ? this.token : Math.max(0, this.token - 1);
  }
  keyFor(c: Curve, matchKey: boolean, fallback: number): string {
    const known = this.state.wallet?.publicKeys[c];
    return matchKey && known !== undefined ? known : (KEYS[c][fallback % 2] ?? PK.a);
  }

  /** A key of the curve that is not the wallet key. */
  otherKey(c: Curve): string {
    const known = this.state.wallet?.publicKeys[c];
    return KEYS[c].find((k) => k !== known) ?? PK.c;
  }

  async runStep(step: Step): Promise<void> {
    this.calls = 0;
    this.fault = step.fault;
    await this.perform(step.action);
  }

  /**
   * One rule call, checked: a failure is a TandemError and changes nothing; a success is followed by the
   * invariants. Returns the result, or undefined when the call failed (the action then stops).
   */
  async call<T>(fn: () => Promise<T>, opts: { replayable?: boolean; expectReplay?: unknown; lease?: number } = {}): Promise<T | undefined> {
    const index = this.calls++;
    const before = this.state;
    const viewBefore = await this.rules.getWallet(W);
    const faulted = index === this.fault;
    if (faulted) {
      this.stats.faults++;
      this.store.failNextCommit();
    }
    let result: { ok: true; value: T } | { ok: false; err: unknown };
    try {
      result = { ok: true, value: await fn() };
    } catch (err) {
      result = { ok: false, err };
    }
    // a body that threw never reached its commit: the injected failure is still pending, drain it
    if (faulted) await this.store.transaction(async () => undefined).catch(() => undefined);
    const after = await rawState(this.store, W);
    this.lastOk = result.ok;
    if (!result.ok) {
      this.stats.failed++;
      expect(result.err).toBeInstanceOf(TandemError);
      expect(after).toEqual(before);
      expect(await this.rules.getWallet(W)).toEqual(viewBefore);
      return undefined;
    }
    this.stats.ok++;
    expect(faulted, 'a call under an injected commit failure cannot succeed').toBe(false);
    if (opts.lease !== undefined) {
      // a session step went through only under the live lease with its token
      expect(before.lease?.token, 'the lease token of a session commit').toBe(opts.lease);
      expect(before.lease?.expiresAt ?? 0).toBeGreaterThan(this.now);
    }
    if ('expectReplay' in opts) {
      expect(result.value).toEqual(opts.expectReplay);
      expect(after).toEqual(before);
    }
    this.check(after);
    this.state = after;
    if (opts.replayable) this.replays.push({ call: fn, result: JSON.parse(JSON.stringify(result.value)) as unknown });
    return result.value;
  }

  private check(s: RawState): void {
    const wallet = s.wallet;
    expect(wallet).toBeDefined();
    if (!wallet) return;
    // fencing tokens and epochs only grow
    expect(wallet.fencingToken).toBeGreaterThanOrEqual(this.fencingSeen);
    this.fencingSeen = wallet.fencingToken;
    for (const c of CURVES) {
      const epoch = wallet.epochs[c] ?? 0;
      expect(epoch).toBeGreaterThanOrEqual(this.epochsSeen[c]);
      // the wallet key never changes once set
      const seen = this.keysSeen[c];
      if (seen !== undefined) expect(wallet.publicKeys[c]).toBe(seen);
      const walletKey = wallet.publicKeys[c];
      if (walletKey !== undefined) this.keysSeen[c] = walletKey;

      const pairs = s.signingPairs.filter((p) => p.curve === c);
      const epochs = pairs.map((p) => p.epoch);
      expect(new Set(epochs).size).toBe(epochs.length);
      for (const p of pairs) {
        expect(p.epoch).toBeGreaterThanOrEqual(1);
        expect(p.epoch).toBeLessThanOrEqual(epoch);
        if (!this.pairsSeen.has(p.pairId)) expect(p.epoch, 'a new pair has a new, higher epoch').toBeGreaterThan(this.epochsSeen[c]);
      }
      this.epochsSeen[c] = epoch;
      const active = pairs.filter((p) => effective(p) === 'STORED_CLIENT' || effective(p) === 'STORED_DATABASE');
      const suspended = pairs.filter((p) => effective(p) === 'SUSPENDED');
      expect(active.length, `live pairs of ${c}`).toBeLessThanOrEqual(1);
      expect(suspended.length, `suspended pairs of ${c}`).toBeLessThanOrEqual(1);
      if (suspended.length > 0) {
        // a suspended pair exists only during a recovery: its successor (if any) is not yet confirmed
        for (const p of active) expect(effective(p)).toBe('STORED_DATABASE');
      }
      for (const p of pairs) {
        const eff = effective(p);
        if (p.status === 'LOCKED') expect(['STORED_DATABASE', 'STORED_CLIENT', 'SUSPENDED']).toContain(p.lockedFrom);
        if (eff === 'STORED_CLIENT' || eff === 'SUSPENDED') expect(p.publicKey, 'a confirmed pair has the wallet key').toBe(walletKey);
        if (p.status === 'SUPERSEDED') expect(p.custodianShare).toBeNull();
        else expect(p.custodianShare).not.toBeNull();
      }
      for (const m of BACKUP_METHODS) {
        const slot = s.backupPairs.filter((b) => b.curve === c && b.method === m);
        const completed = slot.filter((b) => effective(b) === 'STORED_CLIENT_BACKUP_SHARE');
        expect(completed.length, `completed backups of ${c}/${m}`).toBeLessThanOrEqual(1);
        for (const b of completed) {
          expect(b.publicKey).toBe(walletKey);
          expect(b.ciphertext).not.toBeNull();
          expect(b.custodianBackupShare).not.toBeNull();
        }
        const pending = slot.filter((b) => effective(b) === 'STORED_CUSTODIAN_BACKUP_SHARE' || effective(b) === 'STORED_CLIENT_BACKUP_SHARE_KEY');
        expect(pending.length, `pending backups of ${c}/${m}`).toBeLessThanOrEqual(1);
      }
    }
    for (const p of s.signingPairs) {
      const old = this.pairsSeen.get(p.pairId);
      if (old) {
        expect({ curve: p.curve, epoch: p.epoch, publicKey: p.publicKey, createdAt: p.createdAt }).toEqual({
          curve: old.curve,
          epoch: old.epoch,
          publicKey: old.publicKey,
          createdAt: old.createdAt,
        });
        if (old.status === 'SUPERSEDED') expect(p.status, 'SUPERSEDED is final').toBe('SUPERSEDED');
      }
      this.pairsSeen.set(p.pairId, p);
    }
    for (const b of s.backupPairs) {
      const old = this.backupsSeen.get(b.backupPairId);
      if (old?.status === 'SUPERSEDED') expect(b.status, 'SUPERSEDED is final').toBe('SUPERSEDED');
      if (b.status === 'SUPERSEDED') expect([b.ciphertext, b.custodianBackupShare]).toEqual([null, null]);
      this.backupsSeen.set(b.backupPairId, b);
    }
    // no pair disappears
    expect(s.signingPairs.length).toBeGreaterThanOrEqual(this.pairsSeen.size);
    expect(s.backupPairs.length).toBeGreaterThanOrEqual(this.backupsSeen.size);
  }

  private sigPair(id: string | undefined): SigningPairRecord | undefined {
    return this.state.signingPairs.find((p) => p.pairId === id);
  }
  private bkpPair(id: string | undefined): BackupPairRecord | undefined {
    return this.state.backupPairs.find((b) => b.backupPairId === id);
  }


  private async perform(a: Action): Promise<void> {
    const r = this.rules;
    switch (a.t) {
      case 'acquire': {
        const held = this.state.lease;
        const lease = await this.call(() => r.acquireLease({ walletId: W, operation: a.op, holder: `h-${a.op}` }));
        if (lease) {
          expect(lease.token).toBeGreaterThan(this.token);
          // the wallet was free: no lease, or an expired one
          expect(held === undefined || held.expiresAt <= this.now).toBe(true);
          this.token = lease.token;
        }
        return;
      }
      case 'release': {
        const t = this.tokenFor(a.token);
        await this.call(() => r.releaseLease({ walletId: W, token: t }));
        return;
      }
      case 'advance':
        this.now += a.ms;
        return;
      case 'generate': {
        const args = { walletId: W, curve: a.curve, leaseToken: this.tokenFor(a.token), publicKey: this.keyFor(a.curve, false, a.key), custodianShare: bytes(1, a.key), idempotencyKey: this.key() };
        const pair = await this.call(() => r.recordGeneratedPair(args), { replayable: true, lease: args.leaseToken });
        if (pair) expect(this.state.wallet?.publicKeys[a.curve]).toBeUndefined();
        return;
      }
      case 'confirmSigning': {
        const id = this.pickOf(this.signingIds(), a.pick);
        if (id === undefined) return;
        const args = { walletId: W, pairId: id, idempotencyKey: this.key() };
        const before = this.sigPair(id);
        const pair = await this.call(() => r.confirmSigningPair(args), { replayable: true });
        if (pair) expect(['STORED_DATABASE', 'STORED_CLIENT']).toContain(before?.status);
        if (pair?.recoveredFrom !== undefined && before?.status === 'STORED_DATABASE') this.stats.recoveredConfirmed++;
        return;
      }
      case 'setup': {
        const lease = await this.call(() => r.acquireLease({ walletId: W, operation: 'generate', holder: 'setup' }));
        if (!lease) return;
        this.token = lease.token;
        const args = { walletId: W, curve: a.curve, leaseToken: lease.token, publicKey: this.keyFor(a.curve, false, a.key), custodianShare: bytes(2, a.key), idempotencyKey: this.key() };
        const pair = await this.call(() => r.recordGeneratedPair(args), { replayable: true, lease: args.leaseToken });
        await this.call(() => r.releaseLease({ walletId: W, token: lease.token }));
        if (!pair) return;
        const conf = { walletId: W, pairId: pair.pairId, idempotencyKey: this.key() };
        await this.call(() => r.confirmSigningPair(conf), { replayable: true });
        return;
      }
      case 'recover': {
        const id = this.pickOf(this.backupIds(), a.pick) ?? 'bkp_none';
        const args = {
          walletId: W,
          curve: a.curve,
          leaseToken: this.tokenFor(a.token),
          backupPairId: id,
          publicKey: this.keyFor(a.curve, a.matchKey, a.pick),
          custodianShare: bytes(3),
          idempotencyKey: this.key(),
        };
        await this.recordRecovered(args);
        return;
      }
      case 'fullRecover': {
        const completed = this.state.backupPairs.filter((b) => b.curve === a.curve && b.status === 'STORED_CLIENT_BACKUP_SHARE');
        const backup = this.pickOf(completed, a.pick) ?? this.pickOf(this.state.backupPairs, a.pick);
        if (!backup) return;
        const ok = await this.call(() => r.authorizeRecovery({ walletId: W, curve: a.curve, backupPairId: backup.backupPairId }));
        if (!ok) return;
        const lease = await this.call(() => r.acquireLease({ walletId: W, operation: 'recover', holder: 'recover' }));
        if (!lease) return;
        this.token = lease.token;
        const share = await this.call(() => r.backupShareForRecovery({ walletId: W, backupPairId: backup.backupPairId, leaseToken: lease.token }), { lease: lease.token });
        const pair = share
          ? await this.recordRecovered({
              walletId: W,
              curve: a.curve,
              leaseToken: lease.token,
              backupPairId: backup.backupPairId,
              publicKey: a.matchKey ? this.keyFor(a.curve, true, 0) : this.otherKey(a.curve),
              custodianShare: bytes(4),
              idempotencyKey: this.key(),
            })
          : undefined;
        await this.call(() => r.releaseLease({ walletId: W, token: lease.token }));
        if (pair && a.confirm) {
          const conf = { walletId: W, pairId: pair.pairId, idempotencyKey: this.key() };
          const confirmed = await this.call(() => r.confirmSigningPair(conf), { replayable: true });
          if (confirmed) {
            this.stats.recoveredConfirmed++;
            // the confirm superseded every suspended pair of the curve
            expect(this.state.signingPairs.filter((p) => p.curve === a.curve && p.status === 'SUSPENDED')).toEqual([]);
          }
        }
        return;
      }
      case 'backup': {
        await this.recordBackup(a.curve, a.method, this.tokenFor(a.token), this.keyFor(a.curve, a.matchKey, 1), a.proof);
        return;
      }
      case 'fullBackup': {
        const lease = await this.call(() => r.acquireLease({ walletId: W, operation: 'backup', holder: 'backup' }));
        if (!lease) return;
        this.token = lease.token;
        const got = await this.call(() => r.signingShareForBackup({ walletId: W, curve: a.curve, leaseToken: lease.token }), { lease: lease.token });
        const b = got ? await this.recordBackup(a.curve, a.method, lease.token, a.matchKey ? got.pair.publicKey : this.otherKey(a.curve), a.proof) : undefined;
        await this.call(() => r.releaseLease({ walletId: W, token: lease.token }));
        if (!b) return;
        const key = { walletId: W, backupPairId: b.backupPairId, idempotencyKey: this.key() };
        if (!(await this.call(() => r.confirmBackupKey(key), { replayable: true }))) return;
        const ct = { walletId: W, backupPairId: b.backupPairId, ciphertext: bytes(7, 7), idempotencyKey: this.key() };
        if (!(await this.call(() => r.storeBackupCiphertext(ct), { replayable: true }))) return;
        const conf = { walletId: W, backupPairId: b.backupPairId, idempotencyKey: this.key() };
        const done = await this.call(() => r.confirmBackup(conf), { replayable: true });
        if (done) this.countCompleted(done);
        return;
      }
      case 'confirmBackupKey': {
        const id = this.pickOf(this.backupIds(), a.pick);
        if (id === undefined) return;
        const args = { walletId: W, backupPairId: id, idempotencyKey: this.key() };
        await this.call(() => r.confirmBackupKey(args), { replayable: true });
        return;
      }
      case 'storeCiphertext': {
        const id = this.pickOf(this.backupIds(), a.pick);
        if (id === undefined) return;
        const args = { walletId: W, backupPairId: id, ciphertext: bytes(7, 7 + a.ct), idempotencyKey: this.key() };
        await this.call(() => r.storeBackupCiphertext(args), { replayable: true });
        return;
      }
      case 'confirmBackup': {
        const id = this.pickOf(this.backupIds(), a.pick);
        if (id === undefined) return;
        const args = { walletId: W, backupPairId: id, idempotencyKey: this.key() };
        const before = this.bkpPair(id);
        const done = await this.call(() => r.confirmBackup(args), { replayable: true });
        if (done && before?.status !== 'STORED_CLIENT_BACKUP_SHARE') {
          expect(before?.ciphertext).not.toBeNull();
          this.countCompleted(done);
        }
        return;
      }
      case 'stepUp':
        await this.call(() => r.grantStepUp({ walletId: W, method: a.method, ttlMs: a.ttl }));
        return;
      case 'lock':
      case 'unlock': {
        const id = this.pickOf(a.sig ? this.signingIds() : this.backupIds(), a.pick);
        if (id === undefined) return;
        const before = a.sig ? this.sigPair(id) : this.bkpPair(id);
        if (a.t === 'lock') {
          await this.call(() => r.lockPair({ walletId: W, pairId: id, reason: 'property' }));
        } else {
          await this.call(() => r.unlockPair({ walletId: W, pairId: id }));
          const after = a.sig ? this.sigPair(id) : this.bkpPair(id);
          // unlock restores the status the pair was locked from
          if (this.lastOk && before?.status === 'LOCKED') expect(after?.status).toBe(before.lockedFrom);
        }
        return;
      }
      case 'sign': {
        const id = this.pickOf(this.signingIds(), a.pick);
        if (id === undefined) return;
        const p = this.sigPair(id);
        const got = await this.call(() => r.authorizeSign({ walletId: W, curve: p?.curve ?? 'SECP256K1', pairId: id, request: { kind: 'raw', digest: '00'.repeat(32) } }));
        if (got && p) {
          this.stats.signed++;
          // only the one confirmed pair of the curve, under the wallet key, on an active wallet
          expect(p.status).toBe('STORED_CLIENT');
          expect(p.publicKey).toBe(this.state.wallet?.publicKeys[p.curve]);
          expect(this.state.wallet?.archived).toBe(false);
          expect(this.hooksAllow.policy).toBe(true);
          const live = this.state.signingPairs.filter((q) => q.curve === p.curve && q.status !== 'SUPERSEDED');
          expect(Math.max(...live.map((q) => q.epoch))).toBe(p.epoch);
        }
        return;
      }
      case 'authorizeRecovery': {
        const b = this.pickOf(this.state.backupPairs, a.pick);
        if (!b) return;
        const got = await this.call(() => r.authorizeRecovery({ walletId: W, curve: a.curve, backupPairId: b.backupPairId }));
        if (got) {
          expect(b.status).toBe('STORED_CLIENT_BACKUP_SHARE');
          expect(b.curve).toBe(a.curve);
          expect(this.hooksAllow.recovery).toBe(true);
        }
        return;
      }
      case 'shareForBackup': {
        const t = this.token;
        const got = await this.call(() => r.signingShareForBackup({ walletId: W, curve: a.curve, leaseToken: t }), { lease: t });
        if (got) expect(got.pair.status).toBe('STORED_CLIENT');
        return;
      }
      case 'fetchCiphertext': {
        const id = this.pickOf(this.backupIds(), a.pick);
        if (id === undefined) return;
        const got = await this.call(() => r.fetchBackupCiphertext({ walletId: W, backupPairId: id }));
        if (got) expect(got).toEqual(this.bkpPair(id)?.ciphertext);
        return;
      }
      case 'toggleHooks':
        this.hooksAllow = { recovery: a.recovery, policy: a.policy };
        return;
      case 'replay': {
        const prior = this.pickOf(this.replays, a.pick);
        if (!prior) return;
        if ((await this.call(prior.call, { expectReplay: prior.result })) !== undefined) this.stats.replays++;
        return;
      }
      case 'archive':
        await this.call(() => r.archiveWallet(W));
        return;
    }
  }

  private countCompleted(b: { replaces?: string }): void {
    this.stats.backupsCompleted++;
    if (b.replaces !== undefined) this.stats.replaced++;
  }

  private async recordRecovered(args: Parameters<CustodianRules['recordRecoveredPair']>[0]) {
    const before = this.state;
    const pair = await this.call(() => this.rules.recordRecoveredPair(args), { replayable: true, lease: args.leaseToken });
    if (pair) {
      this.stats.recovered++;
      // a recover needs a completed backup of the wallet key; the confirmed pair is suspended, not gone
      const b = before.backupPairs.find((x) => x.backupPairId === args.backupPairId);
      expect(b?.status).toBe('STORED_CLIENT_BACKUP_SHARE');
      expect(pair.publicKey).toBe(before.wallet?.publicKeys[args.curve]);
      for (const p of before.signingPairs) {
        if (p.curve === args.curve && p.status === 'STORED_CLIENT') expect(this.sigPair(p.pairId)?.status).toBe('SUSPENDED');
      }
    }
    return pair;
  }

  private async recordBackup(c: Curve, m: BackupMethodName, leaseToken: number, publicKey: string, proof: boolean) {
    const before = this.state;
    const args = {
      walletId: W,
      curve: c,
      method: m,
      leaseToken,
      publicKey,
      custodianBackupShare: bytes(5),
      ...(proof ? { proofOfCurrentBackup: true } : {}),
      idempotencyKey: this.key(),
    };
    const b = await this.call(() => this.rules.recordBackupPair(args), { replayable: true, lease: args.leaseToken });
    if (b) {
      const completed = before.backupPairs.find((x) => x.curve === c && x.method === m && x.status === 'STORED_CLIENT_BACKUP_SHARE');
      if (completed) {
        // replacing a completed backup needed the proof or a live step-up window for the method
        expect(b.replaces).toBe(completed.backupPairId);
        const stepUp = before.stepUps[BACKUP_METHODS.indexOf(m)];
        const stepUpLive = stepUp !== undefined && stepUp.expiresAt > this.now;
        expect(proof || stepUpLive).toBe(true);
        // the old completed backup stays until the new one completes
        expect(this.bkpPair(completed.backupPairId)?.status).toBe('STORED_CLIENT_BACKUP_SHARE');
      } else {
        expect(b.replaces).toBeUndefined();
      }
    }
    return b;
  }
}

describe('custodian invariants under random call sequences', () => {
  it('hold after every call (fast-check, 200 runs)', async () => {
    const totals = { ok: 0, failed: 0, faults: 0, recovered: 0, recoveredConfirmed: 0, backupsCompleted: 0, replaced: 0, signed: 0, replays: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 1, maxLength: 50, size: 'max' }),
        fc.option(fc.nat(49), { freq: 6 }),
        fc.nat(1),
        async (steps, archiveAt, archiveFault) => {
          const run = new Run();
          await run.init();
          for (const [i, step] of steps.entries()) {
            // the operator archives the wallet (in about one run in seven), then everything is refused
            if (i === archiveAt) await run.runStep({ action: { t: 'archive' }, fault: archiveFault === 0 ? 0 : -1 });
            await run.runStep(step);
          }
          for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += run.stats[k];
        },
      ),
      // A fixed seed by default: the coverage floors below depend on what the generator reaches, and one
      // random seed in CI reached no replacement at all. TANDEM_PROPERTY_SEED explores other seeds.
      { numRuns: 200, seed: Number(process.env['TANDEM_PROPERTY_SEED'] ?? 20261207) },
    );
    // the generator reaches the interesting states, not only early refusals; typical figures for 200
    // runs (min–max over 30 seeds): 2200–3000 calls succeed, 1700–2100 fail, 700–850 injected faults,
    // 11–40 recoveries (5–27 confirmed), 58–104 completed backups (4–18 replacing one), 41–73 signs,
    // 123–211 replays. The floors below sit well under those minima.
    expect(totals.ok).toBeGreaterThan(1500);
    expect(totals.failed).toBeGreaterThan(1000);
    expect(totals.faults).toBeGreaterThan(400);
    expect(totals.backupsCompleted).toBeGreaterThan(25);
    expect(totals.replaced).toBeGreaterThan(0);
    // Recoveries vary most between seeds (11–21 typically, one CI run saw 2): the floor asks only that
    // the generator reaches them at all, so a rare seed cannot fail an otherwise passing property.
    expect(totals.recovered).toBeGreaterThan(0);
    expect(totals.recoveredConfirmed).toBeGreaterThan(0);
    expect(totals.signed).toBeGreaterThan(15);
    expect(totals.replays).toBeGreaterThan(50);
    // About 40 s on PostgreSQL on a quiet 2-core machine; a busy one (other suites' key generation) has
    // taken it past the default 60 s, so it gets room. Speed is not what this test measures.
  }, 240_000);
});
