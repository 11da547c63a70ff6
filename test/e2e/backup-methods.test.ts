/**
 * Every backup method through the wallet against a real `tandem serve` process (issue #10): one wallet
 * backed up with all five at once — PASSWORD, PASSKEY over a fake WebAuthn authenticator with PRF, GDRIVE
 * over a fake Drive, LOCAL_FILE in a temporary directory, CUSTOM over an app's in-memory store — and each
 * method alone recovers both curves on a new device that knows only that method, with the same addresses
 * and working signatures. GDRIVE's token expiry and HTTP errors reach the app typed, and leave the
 * custodian's signing pairs as they were.
 *
 * The method objects and their fakes are shared by every device, as a user's password, passkey, Drive,
 * USB stick and app account would be: they hold the data keys.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  CustomBackupMethod,
  GDriveBackupMethod,
  MemoryKeychain,
  PasskeyBackupMethod,
  PasswordBackupMethod,
  remoteCustodian,
  type BackupMethod,
  type BackupMethodOptions,
  type WebSocketConstructor,
} from '../../src/adapters/index.js';
import { LocalFileBackupMethod } from '../../src/adapters/node/index.js';
import { createTandemWallet, type Addresses, type TandemWallet } from '../../src/machines/index.js';
import { clientMpc } from '../../src/mpc/client.js';
import { CURVES, type BackupMethodName } from '../../src/types.js';
import { FakeAuthenticator } from '../helpers/fake-authenticator.js';
import { FakeDrive } from '../helpers/fake-drive.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';

const PASSWORD = 'orbit-lantern-71-quietly-sketch';
const DRIVE_TOKEN = 'ya29.e2e-token-0123456789';
const METHODS = ['PASSWORD', 'PASSKEY', 'GDRIVE', 'LOCAL_FILE', 'CUSTOM'] as const satisfies readonly BackupMethodName[];
type Method = (typeof METHODS)[number];

const dir = tempDir();
const localDir = mkdtempSync(join(tmpdir(), 'tandem-local-backup-'));
const drive = new FakeDrive([DRIVE_TOKEN]);
const authenticator = new FakeAuthenticator();
/** The app's own store behind CUSTOM: keeps the first key per id, as the callbacks' contract asks. */
const appStore = new Map<string, Uint8Array>();
const custom = new CustomBackupMethod({
  async store(id, key) {
    const existing = appStore.get(id);
    if (existing && Buffer.compare(existing, key) !== 0) throw new Error('another key is stored under this id');
    appStore.set(id, key);
  },
  load: async (id) => appStore.get(id) ?? null,
  delete: async (id) => void appStore.delete(id),
});
const passkey = new PasskeyBackupMethod({ credentials: authenticator, rpId: 'wallet.example' });

let server: ServerProcess;
let methods: Record<Method, BackupMethod>;
/** What each method needs at backup; at recovery only PASSWORD needs anything (the passkey blob names its credential). */
let backupOptions: Record<Method, BackupMethodOptions>;
const recoverOptions: Record<Method, BackupMethodOptions> = { PASSWORD: { password: PASSWORD }, PASSKEY: {}, GDRIVE: {}, LOCAL_FILE: {}, CUSTOM: {} };
const wallets: TandemWallet[] = [];

beforeAll(async () => {
  [server] = await Promise.all([startServerProcess(`${dir.path}/custodian.db`), drive.start()]);
  const { credentialId } = await passkey.createCredential({ rp: { name: 'Example Wallet' }, user: { id: utf8ToBytes('user-1'), name: 'ada' } });
  methods = {
    PASSWORD: new PasswordBackupMethod(),
    PASSKEY: passkey,
    GDRIVE: new GDriveBackupMethod({ getAccessToken: async () => DRIVE_TOKEN, baseUrl: drive.baseUrl }),
    LOCAL_FILE: new LocalFileBackupMethod(localDir),
    CUSTOM: custom,
  };
  backupOptions = { ...recoverOptions, PASSKEY: { credentialId } };
});
afterAll(async () => {
  for (const w of wallets) w.stop();
  await Promise.all([server?.stop(), drive.stop()]);
  dir.remove();
  rmSync(localDir, { recursive: true, force: true });
});

async function open(apiKey: string, backupMethods: Partial<Record<BackupMethodName, BackupMethod>>): Promise<TandemWallet> {
  const wallet = await createTandemWallet({
    custodian: remoteCustodian({ baseUrl: server.url, apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor }),
    keychain: new MemoryKeychain(),
    mpc: clientMpc(),
    backupMethods,
  });
  wallets.push(wallet);
  return wallet;
}

/** A new device of the wallet: its own client API key, an empty keychain. */
async function newDevice(walletId: string, backupMethods: Partial<Record<BackupMethodName, BackupMethod>>): Promise<TandemWallet> {
  const { apiKey } = (await call(server, 'POST', `/v1/operator/clients/${walletId}/keys`, { key: OPERATOR_KEY })).body;
  return open(apiKey, backupMethods);
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

describe('all five backup methods on one wallet', () => {
  let walletId: string;
  let addresses: Addresses;

  it('creates both keys, backs up both curves with each method, and lists all five', async () => {
    const created = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body;
    walletId = created.walletId;
    const device = await open(created.apiKey, methods);
    addresses = await device.createWallet();
    expect(Object.keys(addresses).sort()).toEqual([...CURVES].sort());

    for (const method of METHODS) await device.backupWallet(method, backupOptions[method]);

    const completed = (await custodianView(walletId)).backupPairs.filter((b: { status: string }) => b.status === 'STORED_CLIENT_BACKUP_SHARE');
    expect(completed).toHaveLength(METHODS.length * CURVES.length);
    expect([...device.availableRecoveryMethods()].sort()).toEqual([...METHODS].sort());
    // Each store holds one data key per curve: nothing was written twice, nothing is missing.
    expect(drive.files.size).toBe(CURVES.length);
    expect(readdirSync(localDir).filter((f) => f.endsWith('.key'))).toHaveLength(CURVES.length);
    expect(appStore.size).toBe(CURVES.length);
    expect(authenticator.held).toHaveLength(1);
  });

  // Each recovery revokes the previous device's shares, which is why every one starts on a new device.
  it.each(METHODS)('%s alone recovers both curves on a new device, which then signs on both', async (method) => {
    const device = await newDevice(walletId, { [method]: methods[method] });
    expect(device.isWalletOnDevice()).toBe(false);
    expect(device.availableRecoveryMethods()).toEqual([method]);
    expect(await device.recoverWallet(method, recoverOptions[method])).toEqual(addresses);
    expect(device.isWalletOnDevice()).toBe(true);
    await signAndVerify(device, walletId, `recovered with ${method}`);
  });

  describe('GDRIVE failures through the wallet', () => {
    let device: TandemWallet;
    let tokenExpired = false;
    const signingPairs = async () => (await custodianView(walletId)).signingPairs;

    beforeAll(async () => {
      // The app's sign-in: while expired, every token it hands out (a refreshed one too) is refused by Drive.
      const getAccessToken = async () => (tokenExpired ? 'ya29.revoked-token-000000' : DRIVE_TOKEN);
      device = await newDevice(walletId, { GDRIVE: new GDriveBackupMethod({ getAccessToken, baseUrl: drive.baseUrl }) });
    });

    it('an expired sign-in rejects with BACKUP_METHOD_AUTH_EXPIRED; the signing pairs are unchanged', async () => {
      const before = await signingPairs();
      // Not a vacuous comparison: the last recovery's pairs are live on both curves.
      expect(before.filter((p: { status: string }) => p.status === 'STORED_CLIENT').map((p: { curve: string }) => p.curve).sort()).toEqual([...CURVES].sort());
      const requests = drive.requests.length;
      tokenExpired = true;
      await expect(device.recoverWallet('GDRIVE')).rejects.toMatchObject({ code: 'BACKUP_METHOD_AUTH_EXPIRED', details: { method: 'GDRIVE', httpStatus: 401 } });
      tokenExpired = false;
      // The cached token and the refreshed one, each refused once: Drive was asked, and nothing more.
      expect(drive.requests.slice(requests).map((r) => r.op)).toEqual(['list', 'list']);
      expect(await signingPairs()).toEqual(before);
    });

    it('a Drive answering 500 rejects with BACKUP_METHOD_FAILED; the signing pairs are unchanged', async () => {
      const before = await signingPairs();
      drive.fail({ status: 500, reason: 'backendError' });
      try {
        await expect(device.recoverWallet('GDRIVE')).rejects.toMatchObject({ code: 'BACKUP_METHOD_FAILED', details: { method: 'GDRIVE', httpStatus: 500, reason: 'server' } });
      } finally {
        drive.faults = [];
      }
      expect(await signingPairs()).toEqual(before);
    });

    it('once Drive and the sign-in work again, the same device recovers', async () => {
      expect(await device.recoverWallet('GDRIVE')).toEqual(addresses);
      expect(device.isWalletOnDevice()).toBe(true);
    });
  });
});
