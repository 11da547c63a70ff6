/**
 * The proof of the current backup (src/mpc/backup-proof.ts) against forged inputs: it verifies only for
 * the client share of the named pair, under the same challenge, party ids, pair id and method; any other
 * context, a flipped byte, another pair's share or the custodian's share is BACKUP_REPLACEMENT_UNAUTHORISED.
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { clientBackupPoint, proveCurrentBackup, verifyCurrentBackup, type ReplacementContext } from '../../src/mpc/backup-proof.js';
import { decodeBackupShare } from '../../src/mpc/backup-share.js';
import { decodeFrostShare } from '../../src/mpc/frost-share.js';
import type { Curve } from '../../src/types.js';
import { backupParties as frostBackupParties, complete, drive, keygen as frostKeygen, type ShareResult } from './frost-helpers.js';
import { installSeededRandom, run } from './keygen-helpers.js';
import { backupParties, keygenPair, sharesOf, type Shares } from './reshare-helpers.js';

installSeededRandom();

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const backups: Partial<Record<Curve, { pair: Shares; other: Shares; publicKey: Uint8Array; id: string }>> = {};

beforeAll(() => {
  const signing = sharesOf(keygenPair('proof'));
  const a = backupParties(signing, 'PASSWORD', 'proof-a');
  const b = backupParties(signing, 'PASSWORD', 'proof-b');
  const pair = sharesOf(run(a.a, a.b));
  const s = decodeBackupShare(pair.client, 'client-backup');
  backups.SECP256K1 = { pair, other: sharesOf(run(b.a, b.b)), publicKey: s.Q.toBytes(true), id: hex(s.pairId) };
  const k = frostKeygen();
  const fb = complete(drive<ShareResult>(...frostBackupParties(k.custodian.share, k.client.share)));
  const fo = complete(drive<ShareResult>(...frostBackupParties(k.custodian.share, k.client.share)));
  const f = decodeFrostShare(fb.r2.share);
  backups.ED25519 = { pair: { custodian: fb.r1.share, client: fb.r2.share }, other: { custodian: fo.r1.share, client: fo.r2.share }, publicKey: f.Y.toBytes(), id: hex(f.pairId) };
});

describe.each(['SECP256K1', 'ED25519'] as const)('the proof of the current backup, %s', (curve) => {
  const ctxOf = (id: string): ReplacementContext => ({ challenge: randomBytes(32), pid1: randomBytes(16), pid2: randomBytes(16), backupPairId: id, method: 'PASSWORD' });
  const refused = { code: 'BACKUP_REPLACEMENT_UNAUTHORISED' };

  it('verifies for the pair’s client share, against the point the custodian derives either way', () => {
    const b = backups[curve]!;
    const ctx = ctxOf(b.id);
    const proof = proveCurrentBackup(curve, b.pair.client, ctx);
    const point = clientBackupPoint(curve, { custodianBackupShare: b.pair.custodian });
    expect(() => verifyCurrentBackup(curve, point, b.publicKey, proof, ctx)).not.toThrow();
    // Self-managed: the point from the key and the custodian's public share is the same point.
    const custodianPublic = curve === 'SECP256K1' ? decodeBackupShare(b.pair.custodian, 'custodian-backup').B1.toHex(true) : decodeFrostShare(b.pair.custodian).Y1.toHex();
    expect(hex(clientBackupPoint(curve, { publicKey: hex(b.publicKey), custodianPublicShare: custodianPublic }))).toBe(hex(point));
  });

  it('fails under any other context field, a flipped byte, or for another pair', () => {
    const b = backups[curve]!;
    const ctx = ctxOf(b.id);
    const proof = proveCurrentBackup(curve, b.pair.client, ctx);
    const point = clientBackupPoint(curve, { custodianBackupShare: b.pair.custodian });
    const others: ReplacementContext[] = [
      { ...ctx, challenge: randomBytes(32) },
      { ...ctx, pid1: randomBytes(16) },
      { ...ctx, pid2: randomBytes(16) },
      { ...ctx, backupPairId: backups[curve]!.id.replace(/^./, (c) => (c === '0' ? '1' : '0')) },
      { ...ctx, method: 'GDRIVE' },
    ];
    for (const other of others) expect(() => verifyCurrentBackup(curve, point, b.publicKey, proof, other)).toThrow(expect.objectContaining(refused));
    for (const i of [0, 1, Math.floor(proof.length / 2), proof.length - 1]) {
      const bad = proof.slice();
      bad[i]! ^= 0x01;
      expect(() => verifyCurrentBackup(curve, point, b.publicKey, bad, ctx)).toThrow(expect.objectContaining(refused));
    }
    expect(() => verifyCurrentBackup(curve, point, b.publicKey, proof.subarray(1), ctx)).toThrow(expect.objectContaining(refused));
    expect(() => verifyCurrentBackup(curve, point, b.publicKey, new Uint8Array(0), ctx)).toThrow(expect.objectContaining(refused));
    // Another backup's share proves nothing about this one.
    const otherProof = proveCurrentBackup(curve, b.other.client, ctx);
    expect(() => verifyCurrentBackup(curve, point, b.publicKey, otherProof, ctx)).toThrow(expect.objectContaining(refused));
  });

  it('is made only from a client backup share', () => {
    const b = backups[curve]!;
    expect(() => proveCurrentBackup(curve, b.pair.custodian, ctxOf(b.id))).toThrow(expect.objectContaining({ code: 'MALFORMED_MESSAGE' }));
  });
});
