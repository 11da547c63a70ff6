/**
 * Replacing a completed backup (issue #10, DESIGN §3) against a real custodian: with a proof that the
 * client holds the current backup (a password change needs the old password), without the operator; a
 * client that cannot open the current backup is refused unless the operator's step-up stands, and the old
 * backup stays the completed one meanwhile. A forged proof ends the session.
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCustodianClient, MemoryKeychain, PasswordBackupMethod, remoteCustodian, type WebSocketConstructor } from '../../src/adapters/index.js';
import { createTandemWallet, type TandemWallet } from '../../src/machines/index.js';
import { clientMpc } from '../../src/mpc/client.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';

const OLD = 'orbit-lantern-71-quietly-sketch';
const NEW = 'velvet-harbor-38-gently-fold';
const LATEST = 'lilac-meadow-55-softly-turn';
const dir = tempDir();
let server: ServerProcess;
let wallet: TandemWallet;
let walletId: string;
let apiKey: string;

const open = (key: string) =>
  createTandemWallet({
    custodian: remoteCustodian({ baseUrl: server.url, apiKey: key, WebSocket: WebSocket as unknown as WebSocketConstructor }),
    keychain: new MemoryKeychain(),
    mpc: clientMpc(),
    backupMethods: { PASSWORD: new PasswordBackupMethod() },
  });

beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`);
  ({ walletId, apiKey } = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body);
  wallet = await open(apiKey);
  await wallet.createWallet();
  await wallet.backupWallet('PASSWORD', { password: OLD });
});
afterAll(async () => {
  wallet?.stop();
  await server?.stop();
  dir.remove();
});

const completed = async () =>
  ((await call(server, 'GET', `/v1/operator/clients/${walletId}`, { key: OPERATOR_KEY })).body.wallet.backupPairs as { backupPairId: string; curve: string; status: string }[])
    .filter((b) => b.status === 'STORED_CLIENT_BACKUP_SHARE')
    .map((b) => b.backupPairId)
    .sort();

describe('replacing a completed backup', () => {
  it('without the current secret and without a step-up is refused; the old backup stays', async () => {
    const before = await completed();
    await expect(wallet.backupWallet('PASSWORD', { password: NEW, replace: true })).rejects.toMatchObject({ code: 'BACKUP_REPLACEMENT_UNAUTHORISED' });
    await expect(wallet.backupWallet('PASSWORD', { password: NEW, replace: true, current: { password: 'not-the-old-password-42' } })).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    expect(await completed()).toEqual(before);
  });

  it('changes the password with a proof of the current backup, no operator involved', async () => {
    const before = await completed();
    await wallet.backupWallet('PASSWORD', { password: NEW, replace: true, current: { password: OLD } });
    const after = await completed();
    expect(after).toHaveLength(2);
    expect(after.some((id) => before.includes(id))).toBe(false);
  });

  it('under the operator’s step-up needs no proof', async () => {
    await call(server, 'POST', `/v1/operator/clients/${walletId}/step-up`, { key: OPERATOR_KEY, body: { method: 'PASSWORD', ttlSeconds: 60 } });
    const before = await completed();
    await wallet.backupWallet('PASSWORD', { password: LATEST, replace: true });
    expect((await completed()).some((id) => before.includes(id))).toBe(false);
  });

  it('the latest password recovers on another device; the old ones no longer do', async () => {
    const device = await open((await call(server, 'POST', `/v1/operator/clients/${walletId}/keys`, { key: OPERATOR_KEY })).body.apiKey);
    for (const stale of [OLD, NEW]) await expect(device.recoverWallet('PASSWORD', { password: stale })).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    expect(await device.recoverWallet('PASSWORD', { password: LATEST })).toEqual(wallet.getAddresses());
    device.stop();
  });

  it('a forged proof ends the session with BACKUP_REPLACEMENT_UNAUTHORISED (replays: test/mpc/backup-proof.test.ts)', async () => {
    const client = createCustodianClient({ baseUrl: server.url, apiKey: (await call(server, 'POST', `/v1/operator/clients/${walletId}/keys`, { key: OPERATOR_KEY })).body.apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const start = { op: 'backup' as const, curve: 'SECP256K1' as const, method: 'PASSWORD' as const, proveCurrent: true };
    // The session never gets as far as the protocol: a party that waits is enough.
    const noParty = () => ({ start: () => [], receive: () => ({ messages: [] }) });
    let seen: { challenge?: Uint8Array; replaces?: string } = {};
    await expect(
      client.runSession({ ...start, idempotencyKey: 'forged-proof-0001' }, noParty, {
        proof: (ready) => {
          seen = ready;
          return randomBytes(2000);
        },
      }),
    ).rejects.toMatchObject({ code: 'BACKUP_REPLACEMENT_UNAUTHORISED' });
    expect(seen.challenge).toHaveLength(32);
    expect(seen.replaces).toMatch(/^[0-9a-f]{64}$/);
  });
});
