/**
 * Crash sweep of Recover against a real custodian process (issue #9, DESIGN §3): a recovery on a new
 * device is interrupted at every change of the wallet actor's snapshot; after the restored process syncs,
 * the invariants hold (the keys never change, the backup stays usable, at most one pair per curve can
 * sign) and the recovery can be finished, after which the device signs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackupMethod, MemoryKeychain } from '../../src/adapters/index.js';
import { CURVES } from '../../src/types.js';
import { crashDuring } from '../helpers/client-process.js';
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { checkInvariants, eventually, METHOD, newDeviceKey, newWallet, openClient, signBoth, snapshotOfTruth } from './sweep-helpers.js';

const dir = tempDir();
let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`);
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe('a crash at every step of Recover', () => {
  it('keeps the keys and the backup, and the recovery can be finished', { timeout: 300_000 }, async () => {
    const method = new MemoryBackupMethod(METHOD);
    const { walletId, apiKey } = await newWallet(server);
    const original = await openClient(server, { apiKey, keychain: new MemoryKeychain() }, method);
    await original.wallet.createWallet();
    await original.wallet.backupWallet(METHOD);
    original.kill();

    const newDevice = async () => ({ apiKey: await newDeviceKey(server, walletId), keychain: new MemoryKeychain() });
    const calibrate = await openClient(server, await newDevice(), method);
    const { changes } = await crashDuring(calibrate, (w) => w.recoverWallet(METHOD), Number.POSITIVE_INFINITY);
    expect(changes).toBeGreaterThanOrEqual(8);

    for (let point = 1; point <= changes; point++) {
      const label = `recover, crash after change ${point}/${changes}`;
      const before = await snapshotOfTruth(server, walletId);
      const device = await newDevice();
      const crash = await crashDuring(await openClient(server, device, method), (w) => w.recoverWallet(METHOD), point);
      expect(crash.crashed, label).toBe(true);

      const restored = await openClient(server, device, method, crash.persisted);
      await eventually(() => restored.wallet.refresh());
      await checkInvariants(server, walletId, restored.wallet, device.keychain, before, label);
      const detail = restored.wallet.actor.getSnapshot().context.detail!;
      if (!CURVES.every((c) => detail.curves[c].state === 'STORED_CLIENT')) await eventually(() => restored.wallet.recoverWallet(METHOD));
      await checkInvariants(server, walletId, restored.wallet, device.keychain, before, `${label}, finished`);
      await signBoth(server, walletId, restored.wallet, label);
      restored.kill();
    }
  });
});
