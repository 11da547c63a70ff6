/**
 * An in-process custodian behind the client's Custodian port: the real custodian rules (src/custodian)
 * over a MemoryStore, driving the custodian's side of each protocol session. It is a test double for
 * the network hop only — the rules are the production ones — and it can inject the faults the lifecycle
 * must survive: a call that fails before reaching the custodian, and one whose reply is lost after the
 * custodian committed.
 */
import { hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import type { Custodian, EjectedCustodianShare, Party, PartyFactory, ProtocolOutcome, ProtocolRequest, SessionInfo } from '../adapters/ports.js';
import type { CustodianRules } from '../custodian/rules.js';
import { TandemError } from '../errors.js';
import type { BackupMethodName, BackupPairView, Curve, SigningPairView, WalletView } from '../types.js';
import { simulatedCustodianMpc, simulatedVerifyCurrentBackup, type CustodianMpc } from './simulated-mpc.js';

export type CustodianCall =
  | 'getWallet'
  | 'runProtocol'
  | 'confirmSigningPair'
  | 'confirmBackupKey'
  | 'storeBackupCiphertext'
  | 'storeBackupCiphertextDigest'
  | 'fetchBackupCiphertext'
  | 'confirmBackup'
  | 'ejectShares';

/** `before`: the request never arrives. `after`: the custodian applied it, the reply is lost. */
export interface Fault {
  readonly call?: CustodianCall;
  readonly when: 'before' | 'after';
}

export interface MemoryCustodianOptions {
  readonly rules: CustodianRules;
  readonly walletId: string;
  readonly mpc?: CustodianMpc;
}

let sessionCounter = 0;
/** The simulated parties take no party ids; fixed ones stand in for the custodian's `ready`. */
const SIMULATED_PID1 = new Uint8Array(16).fill(1);
const SIMULATED_PID2 = new Uint8Array(16).fill(2);

export class MemoryCustodian implements Custodian {
  private readonly rules: CustodianRules;
  private readonly mpc: CustodianMpc;
  private readonly faults: Fault[] = [];
  readonly walletId: string;
  /** Every call made, in order (for tests that check what reached the custodian). */
  readonly calls: CustodianCall[] = [];

  constructor(options: MemoryCustodianOptions) {
    this.rules = options.rules;
    this.walletId = options.walletId;
    this.mpc = options.mpc ?? simulatedCustodianMpc();
  }

  /** Test hook: the operator's eject window for this wallet, until `untilMs` (Date.now() time). */
  allowEject(untilMs: number): void {
    this.ejectUntil = untilMs;
  }
  private ejectUntil = 0;

  injectFault(fault: Fault): void {
    this.faults.push(fault);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  getWallet(): Promise<WalletView> {
    return this.call('getWallet', () => this.rules.getWallet(this.walletId));
  }

  runProtocol<Result>(request: ProtocolRequest, makeParty: PartyFactory<Result>): Promise<{ outcome: ProtocolOutcome; result: Result }> {
    return this.call('runProtocol', () => this.session(request, makeParty({ pid1: SIMULATED_PID1, pid2: SIMULATED_PID2 })));
  }

  confirmSigningPair(pairId: string, idempotencyKey: string): Promise<SigningPairView> {
    return this.call('confirmSigningPair', () => this.rules.confirmSigningPair({ walletId: this.walletId, pairId, idempotencyKey }));
  }

  confirmBackupKey(backupPairId: string, idempotencyKey: string): Promise<BackupPairView> {
    return this.call('confirmBackupKey', () => this.rules.confirmBackupKey({ walletId: this.walletId, backupPairId, idempotencyKey }));
  }

  storeBackupCiphertext(backupPairId: string, ciphertext: Uint8Array, idempotencyKey: string): Promise<BackupPairView> {
    return this.call('storeBackupCiphertext', () =>
      this.rules.storeBackupCiphertext({ walletId: this.walletId, backupPairId, ciphertext, idempotencyKey }),
    );
  }

  storeBackupCiphertextDigest(backupPairId: string, digest: string, idempotencyKey: string): Promise<BackupPairView> {
    return this.call('storeBackupCiphertextDigest', () => this.rules.recordBackupCiphertextDigest({ walletId: this.walletId, backupPairId, digest, idempotencyKey }));
  }

  fetchBackupCiphertext(backupPairId: string): Promise<Uint8Array> {
    return this.call('fetchBackupCiphertext', () => this.rules.fetchBackupCiphertext({ walletId: this.walletId, backupPairId }));
  }

  confirmBackup(backupPairId: string, idempotencyKey: string): Promise<BackupPairView> {
    return this.call('confirmBackup', () => this.rules.confirmBackup({ walletId: this.walletId, backupPairId, idempotencyKey }));
  }

  /** As the custodian service does: a fresh challenge, the client's proof, checked against the slot's completed backup. */
  private async checkReplacementProof(curve: Curve, method: BackupMethodName, prove: (s: SessionInfo) => Uint8Array): Promise<boolean> {
    const current = await this.rules.completedBackupOf({ walletId: this.walletId, curve, method });
    if (!current?.share) throw new TandemError('NO_VALID_BACKUP', { details: { curve, method } });
    const context = { challenge: randomBytes(32), pid1: SIMULATED_PID1, pid2: SIMULATED_PID2, backupPairId: current.backupPairId, method };
    const proof = prove({ pid1: context.pid1, pid2: context.pid2, challenge: context.challenge, replaces: current.backupPairId });
    if (!simulatedVerifyCurrentBackup(curve, current.share, proof, context)) {
      throw new TandemError('BACKUP_REPLACEMENT_UNAUTHORISED', { message: 'The proof of the current backup does not verify.' });
    }
    return true;
  }

  ejectShares(): Promise<readonly EjectedCustodianShare[]> {
    return this.call('ejectShares', async () => {
      if (this.ejectUntil <= Date.now()) throw new TandemError('EJECT_NOT_ALLOWED', { details: { walletId: this.walletId } });
      const sources = await this.rules.custodianBackupSharesForEject(this.walletId);
      return sources.flatMap((s) => (s.share ? [{ backupPairId: s.backupPairId, curve: s.curve, method: s.method, custodianBackupShare: s.share }] : []));
    });
  }

  private async call<T>(name: CustodianCall, fn: () => Promise<T>): Promise<T> {
    this.calls.push(name);
    const idx = this.faults.findIndex((f) => f.call === undefined || f.call === name);
    const fault = idx >= 0 ? this.faults.splice(idx, 1)[0] : undefined;
    if (fault?.when === 'before') throw new TandemError('WS_CLOSED', { details: { call: name, injected: true } });
    const result = await fn();
    if (fault?.when === 'after') throw new TandemError('WS_CLOSED', { details: { call: name, injected: true } });
    return result;
  }

  private async session<Result>(request: ProtocolRequest, party: Party<Result>): Promise<{ outcome: ProtocolOutcome; result: Result }> {
    const walletId = this.walletId;
    if (request.op === 'sign') {
      const { share } = await this.rules.authorizeSign({ walletId, curve: request.curve, pairId: request.pairId, request: request.request });
      const { client } = pump(party, this.mpc.sign(request.curve, share, hexToBytes(request.request.digest)));
      return { outcome: { op: 'sign' }, result: client };
    }
    if (request.op === 'recover') {
      await this.rules.authorizeRecovery({ walletId, curve: request.curve, backupPairId: request.backupPairId });
    }
    const lease = await this.rules.acquireLease({ walletId, operation: request.op, holder: `memory-session-${++sessionCounter}` });
    try {
      const leaseToken = lease.token;
      switch (request.op) {
        case 'generate': {
          const { client, custodian } = pump(party, this.mpc.generate(request.curve));
          const pair = await this.rules.recordGeneratedPair({
            walletId,
            curve: request.curve,
            leaseToken,
            publicKey: custodian.publicKey,
            custodianShare: custodian.share,
            idempotencyKey: request.idempotencyKey,
          });
          return { outcome: { op: 'generate', pair }, result: client };
        }
        case 'backup': {
          const { share } = await this.rules.signingShareForBackup({ walletId, curve: request.curve, leaseToken });
          const proven = request.proveCurrent ? await this.checkReplacementProof(request.curve, request.method, request.proveCurrent) : false;
          const { client, custodian } = pump(party, this.mpc.backup(request.curve, share));
          const backupPair = await this.rules.recordBackupPair({
            walletId,
            curve: request.curve,
            method: request.method,
            leaseToken,
            publicKey: custodian.publicKey,
            custodianBackupShare: custodian.share,
            idempotencyKey: request.idempotencyKey,
            ...(proven ? { proofOfCurrentBackup: true } : {}),
          });
          return { outcome: { op: 'backup', backupPair }, result: client };
        }
        case 'recover': {
          const source = await this.rules.backupShareForRecovery({ walletId, backupPairId: request.backupPairId, leaseToken });
          if (!source.share) throw new TandemError('NO_VALID_BACKUP', { message: 'The in-memory custodian keeps no self-managed backups.' });
          const { client, custodian } = pump(party, this.mpc.recover(request.curve, source.share));
          const pair = await this.rules.recordRecoveredPair({
            walletId,
            curve: request.curve,
            leaseToken,
            backupPairId: request.backupPairId,
            publicKey: custodian.publicKey,
            custodianShare: custodian.share,
            idempotencyKey: request.idempotencyKey,
          });
          return { outcome: { op: 'recover', pair }, result: client };
        }
      }
    } finally {
      await this.rules.releaseLease({ walletId, token: lease.token });
    }
  }
}

/** Delivers messages between two parties until both have a result; a party that stalls is an error. */
export function pump<C, S>(client: Party<C>, custodian: Party<S>): { client: C; custodian: S } {
  let toCustodian = client.start();
  let toClient = custodian.start();
  let clientResult: C | undefined;
  let custodianResult: S | undefined;
  for (let rounds = 0; toCustodian.length > 0 || toClient.length > 0; rounds++) {
    if (rounds > 64) throw new TandemError('MALFORMED_MESSAGE', { message: 'The protocol did not terminate.' });
    const nextToClient: Uint8Array[] = [];
    for (const m of toCustodian) {
      const r = custodian.receive(m);
      nextToClient.push(...r.messages);
      if (r.result !== undefined) custodianResult = r.result;
    }
    const nextToCustodian: Uint8Array[] = [];
    for (const m of toClient) {
      const r = client.receive(m);
      nextToCustodian.push(...r.messages);
      if (r.result !== undefined) clientResult = r.result;
    }
    toClient = nextToClient;
    toCustodian = nextToCustodian;
  }
  if (clientResult === undefined || custodianResult === undefined) {
    throw new TandemError('MALFORMED_MESSAGE', { message: 'The protocol ended without a result.' });
  }
  return { client: clientResult, custodian: custodianResult };
}
