/**
 * Eject's combination (src/mpc/eject.ts): the two backup shares of one pair give the wallet key's secret
 * on both curves; shares of different pairs, of another key, or of the wrong kinds are refused with typed
 * errors rather than combined into something else.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { G } from '../../src/mpc/curve.js';
import { combineBackupShares } from '../../src/mpc/eject.js';
import { EdPoint, Fn } from '../../src/mpc/frost-curve.js';
import { backupParties as frostBackupParties, complete, drive, keygen as frostKeygen, type ShareResult } from './frost-helpers.js';
import { installSeededRandom, run } from './keygen-helpers.js';
import { backupKey, backupParties, keygenPair, sharesOf, signingKey, type Shares } from './reshare-helpers.js';

installSeededRandom();

describe('combineBackupShares', () => {
  let secpBackup: Shares;
  let secpOther: Shares;
  let secpKey: bigint;
  beforeAll(() => {
    const signing = sharesOf(keygenPair('eject'));
    secpKey = signingKey(signing);
    const a = backupParties(signing, 'PASSWORD', 'eject-a');
    secpBackup = sharesOf(run(a.a, a.b));
    const b = backupParties(signing, 'GDRIVE', 'eject-b');
    secpOther = sharesOf(run(b.a, b.b));
  });

  it('SECP256K1: b1 + b2 is the private key of Q', () => {
    const key = combineBackupShares('SECP256K1', secpBackup.client, secpBackup.custodian);
    expect(BigInt(`0x${Buffer.from(key.secret).toString('hex')}`)).toBe(secpKey);
    expect(key.secret.length).toBe(32);
    expect(key.publicKey).toBe(G.multiply(secpKey).toHex(true));
    expect(backupKey(secpBackup)).toBe(secpKey);
  });

  it('SECP256K1: shares of two different backup pairs of the same key are refused', () => {
    expect(() => combineBackupShares('SECP256K1', secpBackup.client, secpOther.custodian)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('SECP256K1: kinds swapped or another curve’s bytes are MALFORMED_MESSAGE', () => {
    expect(() => combineBackupShares('SECP256K1', secpBackup.custodian, secpBackup.client)).toThrow(expect.objectContaining({ code: 'MALFORMED_MESSAGE' }));
    expect(() => combineBackupShares('ED25519', secpBackup.client, secpBackup.custodian)).toThrow(expect.objectContaining({ code: 'MALFORMED_MESSAGE' }));
  });

  it('ED25519: λ1·s1 + λ2·s2 is the secret scalar of Y; other pairs and keys are refused', () => {
    const k = frostKeygen();
    const backup = complete(drive<ShareResult>(...frostBackupParties(k.custodian.share, k.client.share)));
    const key = combineBackupShares('ED25519', backup.r2.share, backup.r1.share);
    expect(EdPoint.BASE.multiply(Fn.fromBytes(key.secret)).toHex()).toBe(k.client.publicKey);
    expect(key.publicKey).toBe(k.client.publicKey);

    const again = complete(drive<ShareResult>(...frostBackupParties(k.custodian.share, k.client.share)));
    expect(() => combineBackupShares('ED25519', backup.r2.share, again.r1.share)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    const otherKey = frostKeygen();
    const otherBackup = complete(drive<ShareResult>(...frostBackupParties(otherKey.custodian.share, otherKey.client.share)));
    expect(() => combineBackupShares('ED25519', backup.r2.share, otherBackup.r1.share)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    // A signing share is not a backup share.
    expect(() => combineBackupShares('ED25519', k.client.share, backup.r1.share)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
