/**
 * The client for real (issue #9): the wallet machine with the real protocols, the remote custodian adapter
 * and PASSWORD backups against a real `tandem serve` process, on both curves, with both Node keychains.
 * Create → back up → sign → restore from a snapshot → lose the device → recover on a new one → sign; the
 * first device then finds its share revoked, and its own recovery works again; a pair the operator locks
 * is found by the start-up sync and signs again once unlocked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MemoryKeychain, PasswordBackupMethod, remoteCustodian, type WebSocketConstructor } from '../../src/adapters/index.js';
import { FileKeychain } from '../../src/adapters/node/index.js';
import type { Keychain } from '../../src/adapters/ports.js';
import { createTandemWallet, type TandemWallet } from '../../src/machines/index.js';
import { clientMpc } from '../../src/mpc/client.js';
import { CURVES, type Curve } from '../../src/types.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';

const PASSWORD = 'orbit-lantern-71-quietly-sketch';
const dir = tempDir();
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`);
});
const keychainDirs: string[] = [];
afterAll(async () => {
  await server?.stop();
  dir.remove();
  for (const d of keychainDirs) rmSync(d, { recursive: true, force: true });
});

const keychains: [string, () => Keychain][] = [
  ['file keychain', () => new FileKeychain(keychainDirs[keychainDirs.push(mkdtempSync(join(tmpdir(), 'tandem-keychain-'))) - 1]!)],
  ['memory keychain', () => new MemoryKeychain()],
];

function open(apiKey: string, keychain: Keychain, snapshot?: ReturnType<TandemWallet['persist']>): Promise<TandemWallet> {
  return createTandemWallet({
    custodian: remoteCustodian({ baseUrl: server.url, apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor }),
    keychain,
    mpc: clientMpc(),
    backupMethods: { PASSWORD: new PasswordBackupMethod() },
    ...(snapshot ? { snapshot } : {}),
  });
}

async function custodianView(walletId: string) {
  return (await call(server, 'GET', `/v1/operator/clients/${walletId}`, { key: OPERATOR_KEY })).body.wallet;
}

/** Signs on both curves and checks each signature with noble under the custodian's key for the curve. */
async function signAndVerify(wallet: TandemWallet, walletId: string, label: string): Promise<void> {
  const view = await custodianView(walletId);
  for (const curve of CURVES) {
    const message = curve === 'SECP256K1' ? sha256(utf8ToBytes(label)) : utf8ToBytes(label);
    const signature = await wallet.signRaw(curve, message);
    const publicKey = hexToBytes(view.publicKeys[curve]);
    const ok = curve === 'SECP256K1' ? secp256k1.verify(signature, message, publicKey, { prehash: false, lowS: true }) : ed25519.verify(signature, message, publicKey, { zip215: false });
    expect(ok, `${curve} ${label}`).toBe(true);
  }
}

const regions = (wallet: TandemWallet) => (wallet.actor.getSnapshot().value as { active?: { signingShares: string; backupShares: string } }).active;

describe.each(keychains)('the wallet against a real custodian, %s', (_name, makeKeychain) => {
  let walletId: string;
  let apiKey: string;
  let keychain: Keychain;
  let device: TandemWallet;
  let addresses: Partial<Record<Curve, string>>;
  const wallets: TandemWallet[] = [];
  afterAll(() => {
    for (const w of wallets) w.stop();
  });

  it('creates both keys with the real protocols; the custodian and the device agree', async () => {
    ({ walletId, apiKey } = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body);
    keychain = makeKeychain();
    device = await open(apiKey, keychain);
    wallets.push(device);
    expect(regions(device)).toEqual({ signingShares: 'none', backupShares: 'none' });
    addresses = await device.createWallet();
    expect(addresses.SECP256K1).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(addresses.ED25519).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    const view = await custodianView(walletId);
    expect(view.signingPairs.map((p: { curve: string; status: string }) => [p.curve, p.status]).sort()).toEqual([
      ['ED25519', 'STORED_CLIENT'],
      ['SECP256K1', 'STORED_CLIENT'],
    ]);
    expect((await keychain.keys(`${walletId}/`)).length).toBe(2);
    expect(regions(device)?.signingShares).toBe('STORED_CLIENT');
  });

  it('refuses a weak password before anything starts, then backs up with PASSWORD', async () => {
    await expect(device.backupWallet('PASSWORD', { password: 'password123' })).rejects.toMatchObject({ code: 'PASSWORD_TOO_WEAK' });
    await expect(device.backupWallet('PASSWORD', {})).rejects.toMatchObject({ code: 'PASSWORD_REQUIRED' });
    expect((await custodianView(walletId)).backupPairs).toEqual([]);
    await device.backupWallet('PASSWORD', { password: PASSWORD });
    const view = await custodianView(walletId);
    expect(view.backupPairs.map((b: { curve: string; status: string }) => [b.curve, b.status]).sort()).toEqual([
      ['ED25519', 'STORED_CLIENT_BACKUP_SHARE'],
      ['SECP256K1', 'STORED_CLIENT_BACKUP_SHARE'],
    ]);
    expect(regions(device)?.backupShares).toBe('STORED_CLIENT_BACKUP_SHARE');
    expect(device.availableRecoveryMethods()).toEqual(['PASSWORD']);
  });

  it('signs on both curves; the signatures verify under the wallet keys', async () => {
    await signAndVerify(device, walletId, 'first device');
  });

  it('restores from its persisted snapshot in a new actor and signs again', async () => {
    const saved = device.persist();
    device.stop();
    device = await open(apiKey, keychain, saved);
    wallets.push(device);
    expect(device.getAddresses()).toEqual(addresses);
    await signAndVerify(device, walletId, 'restored device');
  });

  let second: TandemWallet;
  it('a new device with an empty keychain sees the wallet not on device, and recovers the same addresses', async () => {
    const { apiKey: newKey } = (await call(server, 'POST', `/v1/operator/clients/${walletId}/keys`, { key: OPERATOR_KEY })).body;
    second = await open(newKey, makeKeychain());
    wallets.push(second);
    expect(regions(second)?.signingShares).toBe('notOnDevice');
    expect(second.isWalletOnDevice()).toBe(false);
    expect(second.isWalletRecoverable()).toBe(true);
    const before = await custodianView(walletId);
    await expect(second.recoverWallet('PASSWORD', { password: 'not-the-password-at-all-42' })).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    expect((await custodianView(walletId)).signingPairs).toEqual(before.signingPairs);
    const recovered = await second.recoverWallet('PASSWORD', { password: PASSWORD });
    expect(recovered).toEqual(addresses);
    expect(regions(second)).toEqual({ signingShares: 'STORED_CLIENT', backupShares: 'STORED_CLIENT_BACKUP_SHARE' });
    await signAndVerify(second, walletId, 'second device');
  });

  it('the first device then finds its share revoked, and its own recovery works', async () => {
    await expect(device.signRaw('SECP256K1', sha256(utf8ToBytes('stale')))).rejects.toMatchObject({ code: 'SHARE_REVOKED' });
    expect(regions(device)?.signingShares).toBe('shareRevoked');
    expect(await device.recoverWallet('PASSWORD', { password: PASSWORD })).toEqual(addresses);
    await signAndVerify(device, walletId, 'first device again');
    await expect(second.signRaw('ED25519', utf8ToBytes('now stale'))).rejects.toMatchObject({ code: 'SHARE_REVOKED' });
  });

  it('start-up sync finds a pair the operator locked; after the unlock the device signs again', async () => {
    const view = await custodianView(walletId);
    const pair = view.signingPairs.find((p: { curve: string; status: string }) => p.curve === 'SECP256K1' && p.status === 'STORED_CLIENT');
    expect((await call(server, 'POST', `/v1/operator/clients/${walletId}/pairs/${pair.pairId}/lock`, { key: OPERATOR_KEY, body: { reason: 'suspicious signing pattern' } })).status).toBe(204);
    const saved = device.persist();
    device.stop();
    device = await open(apiKey, keychain, saved);
    wallets.push(device);
    expect(regions(device)?.signingShares).toBe('locked');
    await expect(device.signRaw('SECP256K1', sha256(utf8ToBytes('while locked')))).rejects.toMatchObject({ code: 'PAIR_LOCKED' });
    expect((await call(server, 'POST', `/v1/operator/clients/${walletId}/pairs/${pair.pairId}/unlock`, { key: OPERATOR_KEY })).status).toBe(204);
    await device.refresh();
    expect(regions(device)?.signingShares).toBe('STORED_CLIENT');
    await signAndVerify(device, walletId, 'after the unlock');
  });
});
