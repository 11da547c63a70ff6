/**
 * Crash sweep of Generate against a real custodian process (issue #9, DESIGN §3 rules 1–6): for every
 * change of the wallet actor's snapshot during a two-curve Generate, the client process dies there, a
 * new process restores the snapshot persisted at that moment (empty vault, same keychain) — or starts
 * without one —, the DESIGN §3 invariants are checked against the custodian, and the wallet can then be
 * finished and signs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackupMethod, MemoryKeychain } from '../../src/adapters/index.js';
import { CURVES } from '../../src/types.js';
import { crashDuring } from '../helpers/client-process.js';
import { startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { checkInvariants, eventually, METHOD, newWallet, openClient, signBoth, snapshotOfTruth } from './sweep-helpers.js';

const dir = tempDir();
let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`);
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe('a crash at every step of Generate', () => {
  it('leaves the wallet consistent with the custodian and finishable, with one key per curve', { timeout: 300_000 }, async () => {
    const method = new MemoryBackupMethod(METHOD);
    // One clean run to count the crash points.
    const calibration = await newWallet(server);
    const clean = await openClient(server, { apiKey: calibration.apiKey, keychain: new MemoryKeychain() }, method);
    const { changes } = await crashDuring(clean, (w) => w.createWallet(), Number.POSITIVE_INFINITY);
    expect(changes).toBeGreaterThanOrEqual(8);

    // With the snapshot persisted at the crash (the machine resumes its steps), and without one (an app
    // that had not saved it yet: the start-up sync must find and finish a pending pair by itself).
    for (const [variant, point] of [true, false].flatMap((withSnapshot) => Array.from({ length: changes }, (_, i) => [withSnapshot, i + 1] as const))) {
      const label = `generate, crash after change ${point}/${changes}, ${variant ? 'restored from its snapshot' : 'started afresh'}`;
      const { walletId, apiKey } = await newWallet(server);
      const device = { apiKey, keychain: new MemoryKeychain() };
      const before = await snapshotOfTruth(server, walletId);
      const { persisted, crashed } = await crashDuring(await openClient(server, device, method), (w) => w.createWallet(), point);
      expect(crashed, label).toBe(true);

      const restored = await openClient(server, device, method, variant ? persisted : undefined);
      await eventually(() => restored.wallet.refresh());
      await checkInvariants(server, walletId, restored.wallet, device.keychain, before, label);
      // Rule 3: an address is shown only for a confirmed key.
      const shown = restored.wallet.getAddresses();
      const view = restored.wallet.actor.getSnapshot().context.detail!;
      for (const c of CURVES) expect(shown[c] !== undefined, `${label}: ${c} address`).toBe(view.curves[c].state === 'STORED_CLIENT');

      // Finish what the crash interrupted (a finished Generate is not run again: it would be refused).
      if (!CURVES.every((c) => view.curves[c].state === 'STORED_CLIENT')) await eventually(() => restored.wallet.createWallet());
      expect(Object.keys(restored.wallet.getAddresses()).sort(), label).toEqual([...CURVES].sort());
      const fixed = await snapshotOfTruth(server, walletId);
      await checkInvariants(server, walletId, restored.wallet, device.keychain, fixed, `${label}, finished`);
      await signBoth(server, walletId, restored.wallet, label);
      restored.kill();
    }
  });
});
