/**
 * Self-managed backups from the client (issue #10, DESIGN §4) against a real custodian: the operator's
 * webhook keeps the custodian backup shares and the app's ciphertext store keeps the encrypted client
 * backup shares, so the custodian service holds only public data and digests. The backup completes with
 * the confirmation call; a recovery asks the app for its ciphertext, refuses another one, and recovers the
 * same addresses.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MemoryKeychain, PasswordBackupMethod, remoteCustodian, type WebSocketConstructor } from '../../src/adapters/index.js';
import type { CiphertextStore } from '../../src/adapters/ports.js';
import { createTandemWallet, type TandemWallet } from '../../src/machines/index.js';
import { clientMpc } from '../../src/mpc/client.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';

const PASSWORD = 'orbit-lantern-71-quietly-sketch';
const SECRET = 'webhook-secret-for-tests-0123456789abcdef';

/** The app's backend: the custodian backup shares (webhook) and the client's ciphertexts (ciphertext store). */
const shares = new Map<string, string>();
const ciphertexts = new Map<string, Uint8Array>();
let tamper = false;
const appStore: CiphertextStore = {
  store: async (id, bytes) => void ciphertexts.set(id, bytes.slice()),
  fetch: async (id) => {
    const c = ciphertexts.get(id);
    if (!c || !tamper) return c ?? null;
    const other = c.slice();
    other[other.length - 1]! ^= 1;
    return other;
  },
};

const read = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let b = '';
  req.on('data', (d: Buffer) => (b += d.toString()));
  req.on('end', () => resolve(b));
});
let receiver: Server;
const dir = tempDir();
let server: ServerProcess;
let walletId: string;
let wallet: TandemWallet;

const open = (apiKey: string) =>
  createTandemWallet({
    custodian: remoteCustodian({ baseUrl: server.url, apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor }),
    keychain: new MemoryKeychain(),
    mpc: clientMpc(),
    backupMethods: { PASSWORD: new PasswordBackupMethod() },
    ciphertextStore: appStore,
  });

beforeAll(async () => {
  receiver = createServer(async (req, res) => {
    const body = JSON.parse(await read(req));
    const json = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (req.url === '/hooks/backup') return void (shares.set(body.backupPairId, body.share), json({ ok: true }));
    if (req.url === '/hooks/backup/fetch') return json({ share: shares.get(body.backupPairId) });
    return json({ ok: true });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  server = await startServerProcess(`${dir.path}/custodian.db`, { TANDEM_WEBHOOK_POLL_MS: '50' });
  await call(server, 'PUT', '/v1/operator/webhook', { key: OPERATOR_KEY, body: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, secret: SECRET } });
  const client = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body;
  walletId = client.walletId;
  wallet = await open(client.apiKey);
  await wallet.createWallet();
});
afterAll(async () => {
  wallet?.stop();
  await server?.stop();
  dir.remove();
  receiver.closeAllConnections();
  receiver.close();
});

describe('self-managed backups from the client', () => {
  it('backs up with the ciphertext in the app’s store and the custodian share with the app’s backend', async () => {
    await wallet.backupWallet('PASSWORD', { password: PASSWORD });
    const view = (await call(server, 'GET', `/v1/operator/clients/${walletId}`, { key: OPERATOR_KEY })).body.wallet;
    const backups = view.backupPairs as { backupPairId: string; status: string; ciphertextDigest?: string; selfManaged?: { verified: boolean } }[];
    expect(backups).toHaveLength(2);
    for (const b of backups) {
      expect(b).toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE', selfManaged: { verified: true } });
      expect(b.ciphertextDigest).toBe(bytesToHex(sha256(ciphertexts.get(b.backupPairId)!)));
      expect(shares.has(b.backupPairId)).toBe(true);
      // The custodian has no ciphertext to give: it was never sent.
      const fetched = await call(server, 'GET', `/v1/wallet/backup-pairs/${b.backupPairId}/ciphertext`, { key: (await call(server, 'POST', `/v1/operator/clients/${walletId}/keys`, { key: OPERATOR_KEY })).body.apiKey });
      expect(fetched.body.error).toMatchObject({ code: 'NO_VALID_BACKUP', details: { heldByApp: true } });
    }
  });

  it('a recovery refuses another ciphertext from the app, then recovers with the right one', async () => {
    const device = await open((await call(server, 'POST', `/v1/operator/clients/${walletId}/keys`, { key: OPERATOR_KEY })).body.apiKey);
    const before = (await call(server, 'GET', `/v1/operator/clients/${walletId}`, { key: OPERATOR_KEY })).body.wallet.signingPairs;
    tamper = true;
    await expect(device.recoverWallet('PASSWORD', { password: PASSWORD })).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    expect((await call(server, 'GET', `/v1/operator/clients/${walletId}`, { key: OPERATOR_KEY })).body.wallet.signingPairs).toEqual(before);
    tamper = false;
    expect(await device.recoverWallet('PASSWORD', { password: PASSWORD })).toEqual(wallet.getAddresses());
    device.stop();
  });
});
