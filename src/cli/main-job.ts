/**
 * `npm start`: the whole life of a wallet, for real. It starts a custodian process (`tandem serve`, SQLite
 * in a temporary directory) and drives a Node client against it over HTTP and WebSocket with the real
 * two-party protocols, a file keychain and PASSWORD backups: for both curves, create → back up → sign →
 * lose the device (an empty keychain) → recover → sign. Every machine transition, progress status and
 * custodian pair status is printed with DESIGN §1's names, and each verified signature gets one
 * machine-readable line. It exits 0 only if every signature verified and every address survived.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import WebSocket from 'ws';
import { PasswordBackupMethod, remoteCustodian, type WebSocketConstructor } from '../adapters/index.js';
import { FileKeychain } from '../adapters/node/index.js';
import type { Custodian } from '../adapters/ports.js';
import { createTandemWallet, type TandemWallet } from '../machines/index.js';
import { addressOf } from '../machines/address.js';
import { clientMpc } from '../mpc/client.js';
import { CURVES, type Curve, type WalletView } from '../types.js';
import { operatorApi, startCustodian } from './custodian-process.js';

const say = (line = '') => process.stdout.write(line + '\n');

function describeState(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('active' in v) {
    const a = v['active'] as Record<string, unknown>;
    return `active — signingShares: ${flat(a['signingShares'])} | backupShares: ${flat(a['backupShares'])}`;
  }
  return flat(value);
}
const flat = (v: unknown): string =>
  typeof v === 'string' ? v : Object.entries(v as Record<string, unknown>).map(([k, s]) => `${k}.${flat(s)}`).join(',');

/** The custodian port, printing every pair status the custodian records as it changes. */
function narrated(custodian: Custodian): Custodian {
  const seen = new Map<string, string>();
  const report = async () => {
    const v = await custodian.getWallet();
    const rows = [
      ...v.signingPairs.map((p) => [p.pairId, `signing pair ${p.curve} (epoch ${p.epoch}) ${p.pairId.slice(0, 12)}…`, p.status] as const),
      ...v.backupPairs.map((b) => [b.backupPairId, `backup pair ${b.curve} ${b.method} ${b.backupPairId.slice(0, 12)}…`, b.status] as const),
    ];
    for (const [id, name, status] of rows) {
      const before = seen.get(id);
      if (before !== status) say(`    custodian: ${name}: ${before ? `${before} → ` : ''}${status}`);
      seen.set(id, status);
    }
  };
  const after = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    const r = await fn(...a);
    await report();
    return r;
  };
  return {
    getWallet: () => custodian.getWallet(),
    runProtocol: after((req, makeParty) => custodian.runProtocol(req, makeParty)) as Custodian['runProtocol'],
    confirmSigningPair: after((id: string, key: string) => custodian.confirmSigningPair(id, key)),
    confirmBackupKey: after((id: string, key: string) => custodian.confirmBackupKey(id, key)),
    storeBackupCiphertext: after((id: string, c: Uint8Array, key: string) => custodian.storeBackupCiphertext(id, c, key)),
    storeBackupCiphertextDigest: after((id: string, digest: string, key: string) => custodian.storeBackupCiphertextDigest(id, digest, key)),
    fetchBackupCiphertext: (id) => custodian.fetchBackupCiphertext(id),
    confirmBackup: after((id: string, key: string) => custodian.confirmBackup(id, key)),
    ejectShares: () => custodian.ejectShares(),
  };
}

function watch(wallet: TandemWallet, label: string): void {
  let last = '';
  const show = () => {
    const now = describeState(wallet.actor.getSnapshot().value);
    if (now !== last) {
      last = now;
      say(`  [${label}] state → ${now}`);
    }
  };
  wallet.actor.subscribe(show);
  show();
}

const progress = (status: string, curve: string | null) => say(`    progress: ${status}${curve ? ` (${curve})` : ''}`);

async function openDevice(label: string, url: string, apiKey: string, keychainDir: string): Promise<TandemWallet> {
  const custodian = narrated(remoteCustodian({ baseUrl: url, apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor }));
  const wallet = await createTandemWallet({
    custodian,
    keychain: new FileKeychain(keychainDir),
    mpc: clientMpc(),
    backupMethods: { PASSWORD: new PasswordBackupMethod() },
  });
  watch(wallet, label);
  return wallet;
}

/** Signs on both curves and checks each signature independently (noble), under the key the custodian holds. */
async function signBoth(wallet: TandemWallet, view: WalletView, addresses: Partial<Record<Curve, string>>, step: string): Promise<void> {
  for (const curve of CURVES) {
    const publicKey = view.publicKeys[curve]!;
    const address = addressOf(curve, publicKey);
    if (address !== addresses[curve]) throw new Error(`The ${curve} address the wallet shows is not the custodian's key.`);
    const message = curve === 'SECP256K1' ? sha256(utf8ToBytes(`Tandem main job, ${step}`)) : utf8ToBytes(`Tandem main job, ${step}`);
    const signature = await wallet.signRaw(curve, message, progress);
    const ok =
      curve === 'SECP256K1'
        ? secp256k1.verify(signature, message, hexToBytes(publicKey), { prehash: false, lowS: true })
        : ed25519.verify(signature, message, hexToBytes(publicKey), { zip215: false });
    if (!ok) throw new Error(`The ${curve} signature does not verify.`);
    say(`signature verified curve=${curve} address=${address} step=${step}`);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-main-'));
  const operatorKey = `op_${bytesToHex(randomBytes(24))}`;
  let custodianProcess: ChildProcess | null = null;
  try {
    say('Tandem — the lifecycle of a wallet against a real custodian, with the real two-party protocols.');
    const { url, child } = await startCustodian(dir, operatorKey);
    custodianProcess = child;
    say(`custodian listening on ${url} (SQLite in ${dir})`);
    const op = operatorApi(url, operatorKey);

    const { walletId, apiKey } = await op('POST', '/v1/operator/clients', {});
    say(`\n1. The app's backend creates wallet ${walletId}; a device opens it`);
    const device = await openDevice('device 1', url, apiKey, join(dir, 'device-1'));

    say('\n2. Generate both keys (ECDSA-2PC for SECP256K1, FROST for ED25519)');
    const addresses = await device.createWallet(progress);
    for (const c of CURVES) say(`    address ${c}: ${addresses[c]}`);

    say('\n3. Back up with PASSWORD (Argon2id wraps the data key)');
    const password = 'orbit-lantern-71-quietly-sketch';
    await device.backupWallet('PASSWORD', { password }, progress);
    say(`    backed up: ${device.isWalletBackedUp()}, recoverable with: ${device.availableRecoveryMethods().join(', ')}`);

    say('\n4. Sign on both curves');
    const custodianView = await remoteCustodian({ baseUrl: url, apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor }).getWallet();
    await signBoth(device, custodianView, addresses, 'before-recovery');

    say('\n5. The device is lost: a new device with an empty keychain opens the same wallet with a new key');
    device.stop();
    const { apiKey: newKey } = await op('POST', `/v1/operator/clients/${walletId}/keys`);
    const replacement = await openDevice('device 2', url, newKey, join(dir, 'device-2'));
    say(`    on device: ${replacement.isWalletOnDevice()}, recoverable: ${replacement.isWalletRecoverable()}`);

    say('\n6. Recover from the PASSWORD backup');
    const recovered = await replacement.recoverWallet('PASSWORD', { password }, progress);
    for (const c of CURVES) say(`    address ${c}: ${recovered[c]}${recovered[c] === addresses[c] ? ' (unchanged)' : ' (CHANGED)'}`);

    say('\n7. Sign again after recovery');
    await signBoth(replacement, await remoteCustodian({ baseUrl: url, apiKey: newKey, WebSocket: WebSocket as unknown as WebSocketConstructor }).getWallet(), recovered, 'after-recovery');
    replacement.stop();

    if (!CURVES.every((c) => recovered[c] !== undefined && recovered[c] === addresses[c])) throw new Error('An address changed on recovery.');
    say('lifecycle complete: addresses unchanged');
  } finally {
    if (custodianProcess) {
      const exited = new Promise((r) => custodianProcess!.once('exit', r));
      custodianProcess.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`main job failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
