/**
 * Persist and restore (DESIGN §3 rules 2 and 6): a restored wallet lands where the custodian says it is,
 * resumes an operation that was in flight when the process died (or fails it cleanly when the secret
 * it needed lived only in the dead process's memory), and discards a snapshot of another version.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from 'xstate';
import type { Custodian } from '../../src/adapters/ports.js';
import { createTandemWallet } from '../../src/machines/wallet.js';
import { simulatedClientMpc } from '../../src/testing/simulated-mpc.js';
import { MemoryKeychain } from '../../src/adapters/memory-keychain.js';
import { SNAPSHOT_VERSION } from '../../src/machines/wallet-machine.js';
import { newWorld, openDevice, PASSWORD, regions } from '../helpers/world.js';

describe('rehydration', () => {
  it('restores a settled wallet into the same state with no secret in the snapshot', async () => {
    const world = await newWorld();
    const keychain = new MemoryKeychain();
    const { wallet } = await openDevice(world, { keychain });
    await wallet.createWallet();
    await wallet.backupWallet('PASSWORD', { password: PASSWORD });
    const snapshot = wallet.persist();
    expect(snapshot.version).toBe(SNAPSHOT_VERSION);
    wallet.stop();

    const { wallet: restored } = await openDevice(world, { keychain, snapshot: JSON.parse(JSON.stringify(snapshot)) });
    expect(regions(restored)).toEqual({ signingShares: 'STORED_CLIENT', backupShares: 'STORED_CLIENT_BACKUP_SHARE' });
    expect(restored.getAddresses()).toEqual(wallet.getAddresses());
    await restored.signRaw('SECP256K1', new Uint8Array(32));
  });

  it('re-syncs a restored snapshot: changes made elsewhere meanwhile are seen', async () => {
    const world = await newWorld();
    const keychain = new MemoryKeychain();
    const { wallet } = await openDevice(world, { keychain });
    await wallet.createWallet();
    await wallet.backupWallet('PASSWORD', { password: PASSWORD });
    const snapshot = wallet.persist();
    wallet.stop();
    const { wallet: other } = await openDevice(world);
    await other.recoverWallet('PASSWORD', { password: PASSWORD });

    const { wallet: restored } = await openDevice(world, { keychain, snapshot });
    expect(regions(restored)).toEqual({ signingShares: 'shareRevoked', backupShares: 'STORED_CLIENT_BACKUP_SHARE' });
  });

  it('discards a snapshot of another version and syncs from scratch', async () => {
    const world = await newWorld();
    const keychain = new MemoryKeychain();
    const { wallet } = await openDevice(world, { keychain });
    await wallet.createWallet();
    const stale = { ...wallet.persist(), version: SNAPSHOT_VERSION + 1 };
    wallet.stop();
    const { wallet: restored } = await openDevice(world, { keychain, snapshot: stale });
    expect(regions(restored)).toEqual({ signingShares: 'STORED_CLIENT', backupShares: 'none' });
  });

  it('resumes a generate that died after the share reached the keychain: the confirmation completes', async () => {
    const world = await newWorld();
    const keychain = new MemoryKeychain();
    // The first process dies while its confirmation is on the wire: the call never returns.
    let reachedConfirm!: () => void;
    const atConfirm = new Promise<void>((resolve) => (reachedConfirm = resolve));
    const hanging: Custodian = Object.assign(Object.create(world.custodian) as Custodian, {
      confirmSigningPair: () => {
        reachedConfirm();
        return new Promise(() => undefined);
      },
    });
    const first = await createTandemWallet({ custodian: hanging, keychain, mpc: simulatedClientMpc(), backupMethods: {} });
    const dying = first.createWallet().catch((e: unknown) => e);
    await atConfirm;
    const snapshot = first.persist();
    first.stop();
    await expect(dying).resolves.toMatchObject({ code: 'STATE_INVALID' });
    expect((await world.rules.getWallet(world.walletId)).signingPairs.map((p) => p.status)).toEqual(['STORED_DATABASE']);
    expect(await keychain.keys('')).toHaveLength(1);

    // The new process restores the snapshot: the confirm step runs again and generate goes on.
    const { wallet: restored } = await openDevice(world, { keychain, snapshot });
    await waitFor(restored.actor, (s) => s.matches({ active: { signingShares: 'STORED_CLIENT' } }));
    const view = await world.rules.getWallet(world.walletId);
    expect(view.signingPairs.map((p) => [p.curve, p.status])).toEqual([
      ['SECP256K1', 'STORED_CLIENT'],
      ['ED25519', 'STORED_CLIENT'],
    ]);
    expect(restored.actor.getSnapshot().context.outcome).toMatchObject({ operation: 'generate', ok: true });
  });

  it('fails cleanly when the share lived only in the dead process, and generating again works', async () => {
    const world = await newWorld();
    const keychain = new MemoryKeychain();
    const { wallet } = await openDevice(world, { keychain });
    // Stop the world right after the custodian committed the pair: the client share is only in memory.
    world.custodian.injectFault({ call: 'confirmSigningPair', when: 'before' });
    keychain.failNextWrite();
    await expect(wallet.createWallet()).rejects.toMatchObject({ code: 'KEYCHAIN_FAILED' });
    const snapshot = wallet.persist();
    wallet.stop();
    world.custodian.clearFaults();
    const pending = await world.rules.getWallet(world.walletId);
    expect(pending.signingPairs.map((p) => p.status)).toEqual(['STORED_DATABASE']);

    const { wallet: restored } = await openDevice(world, { keychain, snapshot });
    // A pending pair whose share never reached this keychain may be replaced: the address was never shown.
    expect(regions(restored)).toEqual({ signingShares: 'none', backupShares: 'none' });
    expect(restored.getAddresses()).toEqual({});
    await restored.createWallet();
    const view = await world.rules.getWallet(world.walletId);
    expect(view.signingPairs.map((p) => p.status)).toEqual(['SUPERSEDED', 'STORED_CLIENT', 'STORED_CLIENT']);
  });
});
