/**
 * The side effects of the lifecycle, one async function per step. The machines name these steps and
 * never implement them (so the inspector and the graph tests read the machines as data); `createSteps`
 * binds them to the ports. Every step is idempotent or re-runnable (rule 2): XState restarts an in-flight
 * step when a persisted snapshot is restored, and the custodian may have applied a step whose reply was
 * lost. Secrets move between steps through the vault only; inputs and outputs carry handles and ids.
 */
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { BackupMethod, BackupMethodOptions, CiphertextStore, ClientMpc, Custodian, Keychain, SessionInfo, SignRequest } from '../adapters/ports.js';
import { TandemError } from '../errors.js';
import type { BackupMethodName, Curve } from '../types.js';
import { deriveDetail, devicePairIds, keychainKey, keychainPrefix, type WalletDetail } from './detail.js';
import { newDataKey, openBackupShare, parseEnvelope, sealBackupShare } from './envelope.js';
import type { Vault, VaultHandle } from './vault.js';

export interface WalletDeps {
  readonly custodian: Custodian;
  readonly keychain: Keychain;
  readonly mpc: ClientMpc;
  readonly backupMethods: Readonly<Partial<Record<BackupMethodName, BackupMethod>>>;
  readonly vault: Vault;
  /** Self-managed from the client: the app keeps the ciphertexts; the custodian only their digests. */
  readonly ciphertextStore?: CiphertextStore;
}

export interface Steps {
  syncWallet(input: Record<string, never>): Promise<WalletDetail>;
  resumePending(input: { detail: WalletDetail }): Promise<void>;
  runGenerateProtocol(input: { curve: Curve }): Promise<{ pairId: string; publicKey: string; shareHandle: VaultHandle }>;
  parseShare(input: { curve: Curve; shareHandle: VaultHandle; publicKey: string }): Promise<void>;
  storeShare(input: { walletId: string; curve: Curve; pairId: string; shareHandle: VaultHandle }): Promise<void>;
  confirmSigningPair(input: { pairId: string; idempotencyKey: string }): Promise<void>;
  removeStaleShares(input: { walletId: string; curve: Curve; keepPairId: string; handles: VaultHandle[] }): Promise<void>;
  runBackupProtocol(input: {
    walletId: string;
    curve: Curve;
    method: BackupMethodName;
    devicePairId: string;
    /** The completed backup this one replaces, if any: its secret, when the options unlock it, is proven to the custodian. */
    current?: string | null;
    secretHandle?: VaultHandle | null;
  }): Promise<{ backupPairId: string; replaces: string | null; shareHandle: VaultHandle }>;
  encryptBackupShare(input: {
    method: BackupMethodName;
    backupPairId: string;
    shareHandle: VaultHandle;
    secretHandle: VaultHandle | null;
    idempotencyKey: string;
  }): Promise<{ envelopeHandle: VaultHandle }>;
  storeBackupCiphertext(input: { backupPairId: string; envelopeHandle: VaultHandle; idempotencyKey: string }): Promise<void>;
  finishBackup(input: { method: BackupMethodName; replaces: string | null; handles: VaultHandle[] }): Promise<void>;
  fetchBackupShare(input: { backupPairId: string }): Promise<{ envelopeHandle: VaultHandle }>;
  decryptBackupShare(input: {
    curve: Curve;
    method: BackupMethodName;
    backupPairId: string;
    envelopeHandle: VaultHandle;
    secretHandle: VaultHandle | null;
    publicKey: string;
  }): Promise<{ backupShareHandle: VaultHandle }>;
  runRecoverProtocol(input: {
    curve: Curve;
    backupPairId: string;
    backupShareHandle: VaultHandle;
    publicKey: string;
  }): Promise<{ pairId: string; shareHandle: VaultHandle }>;
  readShare(input: { walletId: string; curve: Curve; pairId: string; publicKey: string }): Promise<{ shareHandle: VaultHandle }>;
  runSignProtocol(input: {
    curve: Curve;
    pairId: string;
    publicKey: string;
    digest: string;
    kind: SignRequest['kind'];
    payload?: unknown;
    shareHandle: VaultHandle;
  }): Promise<{ signature: string }>;
}

/** A fresh key per protocol session: a re-run is a new session, never a replay of a lost one. */
const sessionKey = (op: string, curve: Curve) => `${op}:${curve}:${bytesToHex(randomBytes(12))}`;

export function createSteps(deps: WalletDeps): Steps {
  const { custodian, keychain, mpc, vault } = deps;

  const method = (name: BackupMethodName): BackupMethod => {
    const m = deps.backupMethods[name];
    if (!m) throw new TandemError('BACKUP_METHOD_UNAVAILABLE', { details: { method: name } });
    return m;
  };
  const options = (secretHandle: VaultHandle | null): BackupMethodOptions =>
    secretHandle ? vault.get<BackupMethodOptions>(secretHandle) : {};
  const keychainCall = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (cause) {
      if (cause instanceof TandemError) throw cause;
      throw new TandemError('KEYCHAIN_FAILED', { cause, details: { causeKind: cause instanceof Error ? cause.name : typeof cause } });
    }
  };

  return {
    async syncWallet() {
      // A sync runs only between operations, so nothing in the vault is needed any more: a failed
      // operation's shares and a password given for it do not outlive it.
      vault.wipe();
      const view = await custodian.getWallet();
      const keys = await keychainCall(() => keychain.keys(keychainPrefix(view.walletId)));
      return deriveDetail(view, keys);
    },

    async resumePending({ detail }) {
      for (const curve of Object.keys(detail.curves) as Curve[]) {
        const c = detail.curves[curve];
        if (c.state !== 'pending' || !c.pairId) continue;
        await custodian.confirmSigningPair(c.pairId, `confirm:${c.pairId}`);
        await removeStale(detail.walletId, curve, c.pairId);
      }
    },

    async runGenerateProtocol({ curve }) {
      const { outcome, result } = await custodian.runProtocol(
        { op: 'generate', curve, idempotencyKey: sessionKey('generate', curve) },
        mpc.generate(curve),
      );
      if (outcome.op !== 'generate') throw new TandemError('DKG_FAILED', { details: { curve } });
      if (outcome.pair.publicKey !== result.publicKey) {
        throw new TandemError('DKG_FAILED', { message: 'The parties disagree on the public key.', details: { curve } });
      }
      samePair(outcome.pair.pairId, result.pairId, curve);
      return { pairId: outcome.pair.pairId, publicKey: result.publicKey, shareHandle: vault.put(result.share, 'share') };
    },

    async parseShare({ curve, shareHandle, publicKey }) {
      const share = vault.get<Uint8Array>(shareHandle);
      let parsed: string;
      try {
        parsed = mpc.publicKeyOf(curve, share);
      } catch (cause) {
        throw new TandemError('MALFORMED_MESSAGE', { message: 'The share could not be parsed.', details: { curve }, cause });
      }
      if (parsed !== publicKey) throw new TandemError('PUBLIC_KEY_MISMATCH', { details: { curve } });
    },

    async storeShare({ walletId, curve, pairId, shareHandle }) {
      const key = keychainKey(walletId, curve, pairId);
      if (!vault.has(shareHandle) && (await keychainCall(() => keychain.get(key)))) return; // stored before a restart
      const share = vault.get<Uint8Array>(shareHandle);
      await keychainCall(() => keychain.set(key, share));
    },

    async confirmSigningPair({ pairId, idempotencyKey }) {
      await custodian.confirmSigningPair(pairId, idempotencyKey);
    },

    async removeStaleShares({ walletId, curve, keepPairId, handles }) {
      await removeStale(walletId, curve, keepPairId);
      for (const h of handles) vault.delete(h);
    },

    async runBackupProtocol({ walletId, curve, method: name, devicePairId, current, secretHandle }) {
      method(name);
      const signingShare = await keychainCall(() => keychain.get(keychainKey(walletId, curve, devicePairId)));
      if (!signingShare) throw new TandemError('SHARE_NOT_ON_DEVICE', { details: { curve, pairId: devicePairId } });
      const currentShare = current ? await unlockCurrentBackup(curve, name, current, secretHandle ?? null) : null;
      const { outcome, result } = await custodian.runProtocol(
        {
          op: 'backup',
          curve,
          method: name,
          idempotencyKey: sessionKey('backup', curve),
          ...(currentShare && current
            ? { proveCurrent: (s: SessionInfo) => mpc.proveCurrentBackup(curve, currentShare, { challenge: s.challenge ?? new Uint8Array(0), pid1: s.pid1, pid2: s.pid2, backupPairId: current, method: name }) }
            : {}),
        },
        mpc.backup(curve, signingShare, name),
      ).finally(() => currentShare?.fill(0));
      signingShare.fill(0);
      if (outcome.op !== 'backup' || outcome.backupPair.publicKey !== result.publicKey) {
        throw new TandemError('BACKUP_FAILED', { message: 'The parties disagree on the public key.', details: { curve } });
      }
      samePair(outcome.backupPair.backupPairId, result.pairId, curve);
      return {
        backupPairId: outcome.backupPair.backupPairId,
        replaces: outcome.backupPair.replaces ?? null,
        shareHandle: vault.put(result.share, 'backup-share'),
      };
    },

    async encryptBackupShare({ method: name, backupPairId, shareHandle, secretHandle, idempotencyKey }) {
      const share = vault.get<Uint8Array>(shareHandle);
      const dataKey = newDataKey();
      try {
        const wrappedKey = await method(name).storeKey(backupPairId, dataKey, options(secretHandle));
        const envelope = sealBackupShare({ backupPairId, dataKey, wrappedKey, share });
        await custodian.confirmBackupKey(backupPairId, idempotencyKey);
        return { envelopeHandle: vault.put(envelope, 'envelope') };
      } finally {
        dataKey.fill(0);
      }
    },

    async storeBackupCiphertext({ backupPairId, envelopeHandle, idempotencyKey }) {
      const envelope = vault.get<Uint8Array>(envelopeHandle);
      if (deps.ciphertextStore) {
        // The app keeps the ciphertext; the custodian records what it must hash to, then confirms.
        await appCall(() => deps.ciphertextStore!.store(backupPairId, envelope.slice()));
        await custodian.storeBackupCiphertextDigest(backupPairId, bytesToHex(sha256(envelope)), `${idempotencyKey}:digest`);
      } else {
        await custodian.storeBackupCiphertext(backupPairId, envelope, `${idempotencyKey}:store`);
      }
      await custodian.confirmBackup(backupPairId, `${idempotencyKey}:confirm`);
    },

    async finishBackup({ method: name, replaces, handles }) {
      for (const h of handles) vault.delete(h);
      // The replaced backup was superseded at the custodian when this one completed; its key can go.
      if (replaces) await method(name).deleteKey(replaces);
    },

    async fetchBackupShare({ backupPairId }) {
      return { envelopeHandle: vault.put(await fetchEnvelope(backupPairId), 'envelope') };
    },

    async decryptBackupShare({ curve, method: name, backupPairId, envelopeHandle, secretHandle, publicKey }) {
      const share = await decryptClientBackupShare(curve, name, backupPairId, vault.get<Uint8Array>(envelopeHandle), options(secretHandle));
      // A backup share of another key must fail loudly, never recover a different wallet.
      if (mpc.publicKeyOf(curve, share) !== publicKey) throw new TandemError('PUBLIC_KEY_MISMATCH', { details: { curve, backupPairId } });
      return { backupShareHandle: vault.put(share, 'backup-share') };
    },

    async runRecoverProtocol({ curve, backupPairId, backupShareHandle, publicKey }) {
      const { outcome, result } = await custodian.runProtocol(
        { op: 'recover', curve, backupPairId, idempotencyKey: sessionKey('recover', curve) },
        mpc.recover(curve, vault.get<Uint8Array>(backupShareHandle)),
      );
      if (outcome.op !== 'recover' || outcome.pair.publicKey !== publicKey || result.publicKey !== publicKey) {
        throw new TandemError('PUBLIC_KEY_MISMATCH', { details: { curve, backupPairId } });
      }
      samePair(outcome.pair.pairId, result.pairId, curve);
      return { pairId: outcome.pair.pairId, shareHandle: vault.put(result.share, 'share') };
    },

    async readShare({ walletId, curve, pairId, publicKey }) {
      const share = await keychainCall(() => keychain.get(keychainKey(walletId, curve, pairId)));
      if (!share) throw new TandemError('SHARE_NOT_ON_DEVICE', { details: { curve, pairId } });
      if (mpc.publicKeyOf(curve, share) !== publicKey) throw new TandemError('PUBLIC_KEY_MISMATCH', { details: { curve, pairId } });
      return { shareHandle: vault.put(share, 'share') };
    },

    async runSignProtocol({ curve, pairId, publicKey, digest, kind, payload, shareHandle }) {
      const digestBytes = hexToBytes(digest);
      const request: SignRequest = { kind, digest, ...(payload === undefined ? {} : { payload }) };
      const { result } = await custodian.runProtocol(
        { op: 'sign', curve, pairId, request, idempotencyKey: sessionKey('sign', curve) },
        mpc.sign(curve, vault.get<Uint8Array>(shareHandle), request, digestBytes),
      );
      vault.delete(shareHandle);
      // Nothing leaves the wallet that does not verify under the wallet key.
      if (!mpc.verify(curve, publicKey, digestBytes, result.signature)) {
        throw new TandemError('SIGN_FAILED', { message: 'The signature does not verify under the wallet key.', details: { curve, pairId } });
      }
      return { signature: bytesToHex(result.signature) };
    },
  };

  /**
   * A backup's envelope: from the custodian, or — when the custodian has only its digest — from the app's
   * ciphertext store, checked against that digest (another ciphertext is refused before any decryption).
   */
  async function fetchEnvelope(backupPairId: string): Promise<Uint8Array> {
    const view = await custodian.getWallet();
    const digest = view.backupPairs.find((b) => b.backupPairId === backupPairId)?.ciphertextDigest;
    if (digest === undefined) return custodian.fetchBackupCiphertext(backupPairId);
    if (!deps.ciphertextStore) {
      throw new TandemError('BACKUP_METHOD_UNAVAILABLE', { message: 'The app keeps this backup’s ciphertext, and no ciphertext store is configured.', details: { backupPairId } });
    }
    const envelope = await appCall(() => deps.ciphertextStore!.fetch(backupPairId));
    if (!envelope) throw new TandemError('NO_VALID_BACKUP', { message: 'The app’s ciphertext store has no ciphertext for this backup.', details: { backupPairId } });
    if (!(envelope instanceof Uint8Array) || bytesToHex(sha256(envelope)) !== digest) {
      throw new TandemError('DECRYPT_FAILED', { message: 'The app returned another ciphertext than the one this backup was made with.', details: { backupPairId } });
    }
    return envelope;
  }

  /** The app's callbacks: its own typed errors pass through; anything else is BACKUP_METHOD_FAILED, its text withheld. */
  async function appCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      if (cause instanceof TandemError) throw cause;
      throw new TandemError('BACKUP_METHOD_FAILED', { message: 'The app’s ciphertext store failed.', cause });
    }
  }

  /** Opens a client backup share from its envelope with the method's key; malformed content is DECRYPT_FAILED. */
  async function decryptClientBackupShare(curve: Curve, name: BackupMethodName, backupPairId: string, envelopeBytes: Uint8Array, opts: BackupMethodOptions): Promise<Uint8Array> {
    const envelope = parseEnvelope(envelopeBytes);
    const dataKey = await method(name).loadKey(backupPairId, envelope.wrappedKey, opts);
    let share: Uint8Array;
    try {
      share = openBackupShare({ backupPairId, dataKey, envelope });
    } finally {
      dataKey.fill(0);
    }
    try {
      mpc.publicKeyOf(curve, share);
    } catch (cause) {
      throw new TandemError('DECRYPT_FAILED', { message: 'The backup share is malformed.', details: { curve, backupPairId }, cause });
    }
    return share;
  }

  /**
   * The client share of the completed backup a replacement replaces, to prove it to the custodian: opened
   * with `options.current` (the current backup's secret, e.g. the old password) when given, else with the
   * new options. Without `current`, a share that cannot be opened just means no proof: the custodian then
   * accepts the replacement only under the operator's step-up.
   */
  async function unlockCurrentBackup(curve: Curve, name: BackupMethodName, backupPairId: string, secretHandle: VaultHandle | null): Promise<Uint8Array | null> {
    const given = options(secretHandle);
    const explicit = given['current'] !== undefined && given['current'] !== null && typeof given['current'] === 'object';
    try {
      const envelope = await fetchEnvelope(backupPairId);
      return await decryptClientBackupShare(curve, name, backupPairId, envelope, explicit ? (given['current'] as BackupMethodOptions) : given);
    } catch (err) {
      if (explicit) throw err;
      return null;
    }
  }

  async function removeStale(walletId: string, curve: Curve, keepPairId: string): Promise<void> {
    const keys = await keychainCall(() => keychain.keys(keychainPrefix(walletId)));
    for (const pairId of devicePairIds(walletId, keys)[curve]) {
      if (pairId !== keepPairId) await keychainCall(() => keychain.delete(keychainKey(walletId, curve, pairId)));
    }
  }
}

/** Steps for a machine that was not given its ports: every step fails loudly. */
export function unprovidedSteps(): Steps {
  return new Proxy({} as Steps, {
    get: (_t, name) => async () => {
      throw new TandemError('INTERNAL', { message: `The wallet step ${String(name)} has no implementation.` });
    },
  });
}

/**
 * The custodian's outcome must name the pair the protocol run made (the session id bound into the
 * share): a custodian naming another pair would have the client file the share, or store a backup data
 * key, under an id that is not its own. Checked before anything is kept.
 */
function samePair(claimed: string, made: string | undefined, curve: Curve): void {
  if (made !== undefined && claimed !== made) {
    throw new TandemError('MALFORMED_MESSAGE', { message: "The custodian's outcome names another pair than the protocol made.", details: { curve } });
  }
}
