import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { newWorld, openDevice, PASSWORD, regions } from '../helpers/world.js';

const digest = sha256(utf8ToBytes('hello'));

describe('the wallet facade', () => {
  it('generates, backs up, loses the device, recovers and signs with the same keys', async () => {
    const world = await newWorld();
    const { wallet } = await openDevice(world);
    expect(regions(wallet)).toEqual({ signingShares: 'none', backupShares: 'none' });
    expect(wallet.getAddresses()).toEqual({});

    const statuses: string[] = [];
    const addresses = await wallet.createWallet((s, c) => statuses.push(`${s}${c ? ` ${c}` : ''}`));
    expect(statuses).toEqual([
      'Generating share SECP256K1',
      'Parsing share SECP256K1',
      'Storing share SECP256K1',
      'Generating share ED25519',
      'Parsing share ED25519',
      'Storing share ED25519',
      'Done',
    ]);
    expect(addresses.SECP256K1).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(addresses.ED25519).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    expect(regions(wallet)).toEqual({ signingShares: 'STORED_CLIENT', backupShares: 'none' });
    expect(wallet.isWalletOnDevice()).toBe(true);
    expect(wallet.isWalletBackedUp()).toBe(false);

    await wallet.backupWallet('PASSWORD', { password: PASSWORD });
    expect(regions(wallet)).toEqual({ signingShares: 'STORED_CLIENT', backupShares: 'STORED_CLIENT_BACKUP_SHARE' });
    expect(wallet.availableRecoveryMethods()).toEqual(['PASSWORD']);

    const view = await world.rules.getWallet(world.walletId);
    const sig = await wallet.signRaw('SECP256K1', digest);
    expect(secp256k1.verify(sig, digest, hexToBytes(view.publicKeys.SECP256K1!), { prehash: false })).toBe(true);
    const edSig = await wallet.signRaw('ED25519', digest);
    expect(ed25519.verify(edSig, digest, hexToBytes(view.publicKeys.ED25519!), { zip215: false })).toBe(true);
    wallet.stop();

    const { wallet: fresh } = await openDevice(world);
    expect(regions(fresh)).toEqual({ signingShares: 'notOnDevice', backupShares: 'STORED_CLIENT_BACKUP_SHARE' });
    expect(fresh.getAddresses()).toEqual(addresses);
    await expect(fresh.signRaw('SECP256K1', digest)).rejects.toMatchObject({ code: 'SHARE_NOT_ON_DEVICE' });
    await expect(fresh.createWallet()).rejects.toMatchObject({ code: 'STATE_INVALID' });

    const recovered = await fresh.recoverWallet('PASSWORD', { password: PASSWORD });
    expect(recovered).toEqual(addresses);
    expect(regions(fresh)).toEqual({ signingShares: 'STORED_CLIENT', backupShares: 'STORED_CLIENT_BACKUP_SHARE' });
    const sig2 = await fresh.signRaw('SECP256K1', digest);
    expect(secp256k1.verify(sig2, digest, hexToBytes(view.publicKeys.SECP256K1!), { prehash: false })).toBe(true);

    const after = await world.rules.getWallet(world.walletId);
    expect(after.signingPairs.map((p) => [p.curve, p.epoch, p.status])).toEqual([
      ['SECP256K1', 1, 'SUPERSEDED'],
      ['ED25519', 1, 'SUPERSEDED'],
      ['SECP256K1', 2, 'STORED_CLIENT'],
      ['ED25519', 2, 'STORED_CLIENT'],
    ]);
  });

  it('tells the old device its share was revoked after a recovery elsewhere', async () => {
    const world = await newWorld();
    const { wallet: old } = await openDevice(world);
    await old.createWallet();
    await old.backupWallet('PASSWORD', { password: PASSWORD });
    const { wallet: other } = await openDevice(world);
    await other.recoverWallet('PASSWORD', { password: PASSWORD });

    await expect(old.signRaw('SECP256K1', digest)).rejects.toMatchObject({ code: 'SHARE_REVOKED' });
    expect(regions(old)).toEqual({ signingShares: 'shareRevoked', backupShares: 'STORED_CLIENT_BACKUP_SHARE' });
  });

  it('refuses bad input with typed errors and changes nothing', async () => {
    const world = await newWorld();
    const { wallet } = await openDevice(world);
    await expect(wallet.recoverWallet('PASSWORD', { password: PASSWORD })).rejects.toMatchObject({ code: 'NO_VALID_BACKUP' });
    await expect(wallet.backupWallet('PASSWORD', {})).rejects.toMatchObject({ code: 'PASSWORD_REQUIRED' });
    await expect(wallet.backupWallet('PASSKEY', {})).rejects.toMatchObject({ code: 'BACKUP_METHOD_UNAVAILABLE' });
    await expect(wallet.backupWallet('GDRIVE')).rejects.toMatchObject({ code: 'STATE_INVALID' });
    await expect(wallet.signRaw('SECP256K1', digest)).rejects.toMatchObject({ code: 'STATE_INVALID' });
    await wallet.createWallet();
    await expect(wallet.signRaw('SECP256K1', new Uint8Array(31))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(wallet.recoverWallet('PASSWORD', { password: PASSWORD })).rejects.toMatchObject({ code: 'NO_VALID_BACKUP' });
    await wallet.backupWallet('PASSWORD', { password: PASSWORD });
    await expect(wallet.backupWallet('PASSWORD', { password: PASSWORD })).rejects.toMatchObject({ code: 'STATE_INVALID' });
    await expect(wallet.recoverWallet('PASSWORD', { password: 'wrong password' })).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    const view = await world.rules.getWallet(world.walletId);
    expect(view.signingPairs.every((p) => p.status === 'STORED_CLIENT')).toBe(true);
    expect(regions(wallet)).toEqual({ signingShares: 'STORED_CLIENT', backupShares: 'STORED_CLIENT_BACKUP_SHARE' });
  });

  it('retries a failed sync once, before a request and after an operation', async () => {
    const world = await newWorld();
    const { wallet } = await openDevice(world);
    // The sync after Generate fails: the facade syncs again, so the new addresses are returned.
    world.custodian.injectFault({ call: 'getWallet', when: 'before' });
    const addresses = await wallet.createWallet();
    expect(Object.keys(addresses)).toEqual(['SECP256K1', 'ED25519']);
    // A refresh fails and leaves the wallet offline; the next request syncs first and goes through.
    world.custodian.injectFault({ call: 'getWallet', when: 'before' });
    await wallet.refresh();
    expect(wallet.actor.getSnapshot().value).toBe('offline');
    expect(wallet.actor.getSnapshot().context.lastError).toMatchObject({ code: 'WS_CLOSED' });
    await wallet.signRaw('SECP256K1', digest);
    // Twice in a row: the request is refused with the sync's own error code.
    world.custodian.injectFault({ call: 'getWallet', when: 'before' });
    await wallet.refresh();
    world.custodian.injectFault({ call: 'getWallet', when: 'before' });
    await expect(wallet.signRaw('SECP256K1', digest)).rejects.toMatchObject({ code: 'WS_CLOSED' });
  });
  it('signs a typed request: the payload reaches the custodian as JSON; a request the machine cannot carry is refused first', async () => {
    const seen: unknown[] = [];
    const world = await newWorld({ signingPolicy: (ctx) => (seen.push(ctx.request), { allow: true }) });
    const { wallet } = await openDevice(world);
    await wallet.createWallet();
    const view = await world.rules.getWallet(world.walletId);
    const hash = `0x${bytesToHex(digest)}` as const;
    const payload = { message: 'hello', nested: [1, 'two', { three: null }] };
    const sig = await wallet.sign('SECP256K1', { kind: 'eip191', digest: hash, payload });
    expect(secp256k1.verify(sig, digest, hexToBytes(view.publicKeys.SECP256K1!), { prehash: false })).toBe(true);
    expect(seen).toEqual([{ kind: 'eip191', digest: bytesToHex(digest), payload }]);

    const refused: [string, Parameters<typeof wallet.sign>[1]][] = [
      ['a bigint payload', { kind: 'eip712', digest: hash, payload: { amount: 1n } }],
      ['bytes in the payload', { kind: 'eip191', digest: hash, payload: { raw: new Uint8Array(2) } }],
      ['an undefined field', { kind: 'eip191', digest: hash, payload: { message: 'x', extra: undefined } }],
      ['no payload on a typed kind', { kind: 'eip191', digest: hash }],
      ['a payload on raw', { kind: 'raw', digest: hash, payload: {} }],
      ['an unknown kind', { kind: 'bitcoinPsbt' as never, digest: hash, payload: {} }],
      ['a digest without 0x', { kind: 'raw', digest: bytesToHex(digest) }],
      ['a short SECP256K1 digest', { kind: 'raw', digest: '0x1234' }],
    ];
    for (const [label, request] of refused) {
      await expect(wallet.sign('SECP256K1', request), label).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    expect(seen).toHaveLength(1);
    expect(regions(wallet)).toEqual({ signingShares: 'STORED_CLIENT', backupShares: 'none' });
  });
});
