/**
 * Shared by the end-to-end crash sweeps: client processes against a real custodian process, and the
 * DESIGN §3 invariants checked against the custodian's truth after each crash and restore.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { MemoryBackupMethod, remoteCustodian, type WebSocketConstructor } from '../../src/adapters/index.js';
import type { Keychain } from '../../src/adapters/ports.js';
import { isTandemError } from '../../src/errors.js';
import { deriveDetail, keychainPrefix } from '../../src/machines/detail.js';
import { createTandemWallet, type PersistedWallet, type TandemWallet } from '../../src/machines/wallet.js';
import { clientMpc } from '../../src/mpc/client.js';
import { CURVES, type Curve, type WalletView } from '../../src/types.js';
import { openProcess, type ClientProcess } from '../helpers/client-process.js';
import { call, OPERATOR_KEY, type ServerProcess } from '../helpers/server-process.js';

/** The method the sweeps back up with: GDRIVE's shape (the method keeps the data key), in memory. */
export const METHOD = 'GDRIVE' as const;

export interface Device {
  readonly apiKey: string;
  readonly keychain: Keychain;
}

export function openClient(server: ServerProcess, device: Device, method: MemoryBackupMethod, snapshot?: PersistedWallet, WebSocketClass: unknown = WebSocket): Promise<ClientProcess> {
  return openProcess((gate) =>
    createTandemWallet({
      custodian: gate(remoteCustodian({ baseUrl: server.url, apiKey: device.apiKey, WebSocket: WebSocketClass as WebSocketConstructor })),
      keychain: gate(device.keychain),
      mpc: clientMpc(),
      backupMethods: { [METHOD]: gate(method) },
      ...(snapshot ? { snapshot } : {}),
    }),
  );
}

export async function newWallet(server: ServerProcess): Promise<{ walletId: string; apiKey: string }> {
  return (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body;
}

export async function newDeviceKey(server: ServerProcess, walletId: string): Promise<string> {
  return (await call(server, 'POST', `/v1/operator/clients/${walletId}/keys`, { key: OPERATOR_KEY })).body.apiKey;
}

export async function custodianView(server: ServerProcess, walletId: string): Promise<WalletView> {
  return (await call(server, 'GET', `/v1/operator/clients/${walletId}`, { key: OPERATOR_KEY })).body.wallet;
}

/** What the custodian's truth must look like whatever crashed; `before` is what held before the operation. */
export interface Before {
  readonly publicKeys: Partial<Record<Curve, string>>;
  /** A method had completed a backup of every key: the wallet must stay recoverable. */
  readonly backedUp: boolean;
}

export async function snapshotOfTruth(server: ServerProcess, walletId: string): Promise<Before> {
  const view = await custodianView(server, walletId);
  const backedUp = CURVES.every((c) => view.backupPairs.some((b) => b.curve === c && b.status === 'STORED_CLIENT_BACKUP_SHARE'));
  return { publicKeys: { ...view.publicKeys }, backedUp };
}

/** The DESIGN §3 invariants, after a restored process settled and synced. */
export async function checkInvariants(server: ServerProcess, walletId: string, wallet: TandemWallet, keychain: Keychain, before: Before, label: string): Promise<void> {
  const view = await custodianView(server, walletId);
  // Client-visible statuses equal the custodian's after sync.
  expect(wallet.actor.getSnapshot().context.detail, label).toEqual(deriveDetail(view, await keychain.keys(keychainPrefix(walletId))));
  // A curve's key never changes once fixed.
  for (const curve of CURVES) {
    if (before.publicKeys[curve]) expect(view.publicKeys[curve], `${label}: ${curve} key`).toBe(before.publicKeys[curve]);
  }
  // No step applied twice: one signing pair per curve that can sign, one completed backup per slot,
  // epochs growing by one.
  for (const curve of CURVES) {
    const pairs = view.signingPairs.filter((p) => p.curve === curve);
    expect(pairs.filter((p) => p.status === 'STORED_CLIENT').length, `${label}: ${curve} signers`).toBeLessThanOrEqual(1);
    expect(pairs.map((p) => p.epoch).sort((a, b) => a - b), `${label}: ${curve} epochs`).toEqual(pairs.map((_p, i) => i + 1));
    const completed = view.backupPairs.filter((b) => b.curve === curve && b.status === 'STORED_CLIENT_BACKUP_SHARE');
    expect(completed.length, `${label}: ${curve} completed backups`).toBeLessThanOrEqual(1);
    // Recoverable from the first completed backup on, at every crash point.
    if (before.backedUp) expect(completed.length, `${label}: ${curve} still recoverable`).toBe(1);
  }
}

/** Retries what a concurrent leftover (a dead process's session still holding the lease) can refuse for a moment. */
export async function eventually<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const transient = isTandemError(err) && ['OPERATION_IN_PROGRESS', 'STALE_LEASE', 'WS_CLOSED', 'NETWORK_ERROR'].includes(err.code);
      if (!transient || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

/** Both curves sign, and each signature verifies with noble under the custodian's key. */
export async function signBoth(server: ServerProcess, walletId: string, wallet: TandemWallet, label: string): Promise<void> {
  const view = await custodianView(server, walletId);
  for (const curve of CURVES) {
    const message = curve === 'SECP256K1' ? sha256(utf8ToBytes(label)) : utf8ToBytes(label);
    const signature = await eventually(() => wallet.signRaw(curve, message));
    const key = hexToBytes(view.publicKeys[curve]!);
    const ok = curve === 'SECP256K1' ? secp256k1.verify(signature, message, key, { prehash: false, lowS: true }) : ed25519.verify(signature, message, key, { zip215: false });
    expect(ok, `${label}: ${curve} signature`).toBe(true);
  }
}
