/**
 * Eject from the client (issue #10, DESIGN §4) against a real custodian process: refused outside the
 * operator's window; inside it, the client's decrypted backup shares and the custodian's released ones
 * combine into the secp256k1 private key (viem derives the wallet's EVM address from it and its signature
 * verifies under the wallet key) and the ed25519 secret scalar (its point is the Solana key). A wrong
 * password fails before the custodian releases anything.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { base58 } from '@scure/base';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MemoryKeychain, PasswordBackupMethod, remoteCustodian, type WebSocketConstructor } from '../../src/adapters/index.js';
import { createTandemWallet, type TandemWallet } from '../../src/machines/index.js';
import { clientMpc } from '../../src/mpc/client.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';

const PASSWORD = 'orbit-lantern-71-quietly-sketch';
const dir = tempDir();
let server: ServerProcess;
let wallet: TandemWallet;
let walletId: string;

beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`);
  const client = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body;
  walletId = client.walletId;
  wallet = await createTandemWallet({
    custodian: remoteCustodian({ baseUrl: server.url, apiKey: client.apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor }),
    keychain: new MemoryKeychain(),
    mpc: clientMpc(),
    backupMethods: { PASSWORD: new PasswordBackupMethod() },
  });
  await wallet.createWallet();
  await wallet.backupWallet('PASSWORD', { password: PASSWORD });
});
afterAll(async () => {
  wallet?.stop();
  await server?.stop();
  dir.remove();
});

const releases = async () => ((await call(server, 'GET', `/v1/operator/clients/${walletId}/audit`, { key: OPERATOR_KEY })).body.entries as { action: string }[]).filter((e) => e.action === 'eject.release').length;

describe('eject from the client', () => {
  it('is refused outside the operator’s window, and nothing is released', async () => {
    await expect(wallet.ejectWallet('PASSWORD', { password: PASSWORD })).rejects.toMatchObject({ code: 'EJECT_NOT_ALLOWED' });
    expect(await releases()).toBe(0);
  });

  it('with a wrong password fails before the custodian releases its shares', async () => {
    await call(server, 'POST', `/v1/operator/clients/${walletId}/eject`, { key: OPERATOR_KEY, body: { ttlSeconds: 60 } });
    await expect(wallet.ejectWallet('PASSWORD', { password: 'not-the-password-at-all-42' })).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    await expect(wallet.ejectWallet('PASSWORD', {})).rejects.toMatchObject({ code: 'PASSWORD_REQUIRED' });
    expect(await releases()).toBe(0);
  });

  it('inside the window yields keys that derive the wallet’s addresses', async () => {
    const addresses = wallet.getAddresses();
    const keys = await wallet.ejectWallet('PASSWORD', { password: PASSWORD });
    expect(await releases()).toBe(1);

    const secp = keys.SECP256K1!;
    expect(secp.address).toBe(addresses.SECP256K1);
    expect(privateKeyToAccount(`0x${bytesToHex(secp.secret)}`).address).toBe(addresses.SECP256K1);
    const view = (await call(server, 'GET', `/v1/operator/clients/${walletId}`, { key: OPERATOR_KEY })).body.wallet;
    const digest = new Uint8Array(32).fill(9);
    expect(secp256k1.verify(secp256k1.sign(digest, secp.secret, { prehash: false }), digest, hexToBytes(view.publicKeys.SECP256K1), { prehash: false })).toBe(true);

    const ed = keys.ED25519!;
    expect(ed.address).toBe(addresses.ED25519);
    const scalar = ed25519.Point.Fn.fromBytes(ed.secret);
    expect(base58.encode(ed25519.Point.BASE.multiply(scalar).toBytes())).toBe(addresses.ED25519);
    expect(bytesToHex(ed25519.Point.BASE.multiply(scalar).toBytes())).toBe(view.publicKeys.ED25519);
  });
});
