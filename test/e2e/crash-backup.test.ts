/**
 * Crash sweep of Backup against a real custodian process (issue #9, DESIGN §3): a replacement backup is
 * interrupted at every change of the wallet actor's snapshot; after the restored process syncs, the
 * invariants hold — in particular the wallet stays recoverable from its completed backup at every crash
 * point — and a new backup then completes. A recovery on another device at the end proves the last one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackupMethod, MemoryKeychain } from '../../src/adapters/index.js';
import { crashDuring } from '../helpers/client-process.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';
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

describe('a crash at every step of Backup', () => {
  it('never leaves the wallet without a completed backup, and the next backup completes', { timeout: 300_000 }, async () => {
    const method = new MemoryBackupMethod(METHOD);
    const { walletId, apiKey } = await newWallet(server);
    const device = { apiKey, keychain: new MemoryKeychain() };
    const first = await openClient(server, device, method);
    await first.wallet.createWallet();
    await first.wallet.backupWallet(METHOD);
    let persisted = first.wallet.persist();
    first.kill();
    // Replacing a completed backup needs the current one or the operator's step-up: the operator opens it.
    const stepUp = () => call(server, 'POST', `/v1/operator/clients/${walletId}/step-up`, { key: OPERATOR_KEY, body: { method: METHOD, ttlSeconds: 600 } });
    await stepUp();

    const calibrate = await openClient(server, device, method, persisted);
    await calibrate.wallet.refresh();
    const { changes, persisted: afterCalibration } = await crashDuring(calibrate, (w) => w.backupWallet(METHOD, { replace: true }), Number.POSITIVE_INFINITY);
    expect(changes).toBeGreaterThanOrEqual(8);
    persisted = afterCalibration;

    for (let point = 1; point <= changes; point++) {
      const label = `backup, crash after change ${point}/${changes}`;
      const before = await snapshotOfTruth(server, walletId);
      expect(before.backedUp, label).toBe(true);
      const running = await openClient(server, device, method, persisted);
      await eventually(() => running.wallet.refresh());
      const crash = await crashDuring(running, (w) => w.backupWallet(METHOD, { replace: true }), point);
      expect(crash.crashed, label).toBe(true);

      const restored = await openClient(server, device, method, crash.persisted);
      await eventually(() => restored.wallet.refresh());
      await checkInvariants(server, walletId, restored.wallet, device.keychain, before, label);
      await eventually(() => restored.wallet.backupWallet(METHOD, { replace: true }));
      await checkInvariants(server, walletId, restored.wallet, device.keychain, before, `${label}, finished`);
      await signBoth(server, walletId, restored.wallet, label);
      persisted = restored.wallet.persist();
      restored.kill();
    }

    // The backup the sweep ended with recovers the same keys on another device.
    const other = { apiKey: await newDeviceKey(server, walletId), keychain: new MemoryKeychain() };
    const recovering = await openClient(server, other, method);
    const keys = (await snapshotOfTruth(server, walletId)).publicKeys;
    await recovering.wallet.recoverWallet(METHOD);
    expect((await snapshotOfTruth(server, walletId)).publicKeys).toEqual(keys);
    await signBoth(server, walletId, recovering.wallet, 'after the backup sweep');
    recovering.kill();
  });
});
