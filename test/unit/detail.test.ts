import { describe, expect, it } from 'vitest';
import { backupAggregate, completedMethods, deriveDetail, devicePairIds, signingAggregate } from '../../src/machines/detail.js';
import type { BackupPairView, SigningPairView, WalletView } from '../../src/types.js';
import { KEYS } from '../helpers/details.js';

const pair = (pairId: string, curve: 'SECP256K1' | 'ED25519', status: SigningPairView['status'], epoch: number): SigningPairView => ({ pairId, curve, status, epoch, publicKey: KEYS[curve], createdAt: epoch });
const backup = (backupPairId: string, curve: 'SECP256K1' | 'ED25519', method: BackupPairView['method'], status: BackupPairView['status']): BackupPairView => ({ backupPairId, curve, method, status, publicKey: KEYS[curve], createdAt: 1 });
const view = (signingPairs: SigningPairView[], backupPairs: BackupPairView[] = [], confirmed = true): WalletView => ({
  walletId: 'w',
  archived: false,
  publicKeys: confirmed ? { SECP256K1: KEYS.SECP256K1, ED25519: KEYS.ED25519 } : {},
  signingPairs,
  backupPairs,
});

describe('deriveDetail', () => {
  it('reads only well-formed keychain keys of this wallet', () => {
    const ids = devicePairIds('w', ['w/SECP256K1/a', 'w/ED25519/b', 'x/SECP256K1/c', 'w/OTHER/d', 'w/SECP256K1/e/f', 'w/SECP256K1/']);
    expect([...ids.SECP256K1]).toEqual(['a']);
    expect([...ids.ED25519]).toEqual(['b']);
  });

  it('tells confirmed, pending, not-on-device, revoked and locked curves apart', () => {
    const v = view([pair('s1', 'SECP256K1', 'SUSPENDED', 1), pair('s2', 'SECP256K1', 'STORED_CLIENT', 2), pair('e1', 'ED25519', 'STORED_CLIENT', 1)]);
    expect(deriveDetail(v, ['w/SECP256K1/s2', 'w/ED25519/e1']).curves.SECP256K1.state).toBe('STORED_CLIENT');
    expect(deriveDetail(v, ['w/SECP256K1/s1']).curves.SECP256K1.state).toBe('shareRevoked');
    expect(deriveDetail(v, []).curves.SECP256K1.state).toBe('notOnDevice');
    const recovering = view([pair('s1', 'SECP256K1', 'SUSPENDED', 1), pair('s2', 'SECP256K1', 'STORED_DATABASE', 2)]);
    expect(deriveDetail(recovering, ['w/SECP256K1/s1', 'w/SECP256K1/s2']).curves.SECP256K1.state).toBe('pending');
    expect(deriveDetail(recovering, ['w/SECP256K1/s1']).curves.SECP256K1.state).toBe('shareRevoked');
    const locked = view([pair('s1', 'SECP256K1', 'LOCKED', 1)]);
    expect(deriveDetail(locked, ['w/SECP256K1/s1']).curves.SECP256K1.state).toBe('locked');
  });

  it('shows no address before the first confirmation, and a pending pair off the device is replaceable', () => {
    const v = view([pair('s1', 'SECP256K1', 'STORED_DATABASE', 1)], [], false);
    expect(deriveDetail(v, []).curves.SECP256K1).toMatchObject({ state: 'none', address: null, publicKey: null });
    expect(deriveDetail(v, ['w/SECP256K1/s1']).curves.SECP256K1).toMatchObject({ state: 'pending', address: null });
  });

  it('aggregates: the least advanced curve, the most advanced method', () => {
    const pairs = [pair('s', 'SECP256K1', 'STORED_CLIENT', 1), pair('e', 'ED25519', 'STORED_CLIENT', 1)];
    const keys = ['w/SECP256K1/s', 'w/ED25519/e'];
    const d = deriveDetail(view(pairs, [backup('b1', 'SECP256K1', 'PASSWORD', 'STORED_CLIENT_BACKUP_SHARE'), backup('b2', 'ED25519', 'PASSWORD', 'STORED_CLIENT_BACKUP_SHARE_KEY'), backup('b3', 'SECP256K1', 'GDRIVE', 'STORED_CUSTODIAN_BACKUP_SHARE')]), keys);
    expect(signingAggregate(d)).toBe('STORED_CLIENT');
    expect(backupAggregate(d)).toBe('STORED_CLIENT_BACKUP_SHARE_KEY');
    expect(completedMethods(d)).toEqual([]);
    const done = deriveDetail(view(pairs, [backup('b1', 'SECP256K1', 'PASSWORD', 'STORED_CLIENT_BACKUP_SHARE'), backup('b2', 'ED25519', 'PASSWORD', 'STORED_CLIENT_BACKUP_SHARE'), backup('b0', 'ED25519', 'PASSWORD', 'SUPERSEDED')]), keys);
    expect(backupAggregate(done)).toBe('STORED_CLIENT_BACKUP_SHARE');
    expect(completedMethods(done)).toEqual(['PASSWORD']);
    expect(signingAggregate(deriveDetail(view(pairs), ['w/SECP256K1/s']))).toBe('notOnDevice');
  });
});
