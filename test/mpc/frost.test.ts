import { ed25519 } from '@noble/curves/ed25519.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { isTandemError } from '../../src/errors.js';
import { decodeFrostShare, encodeFrostShare, Fn, FROST_SHARE_BYTES, lagrange } from '../../src/mpc/frost.js';
import { backupParties, complete, drive, keygen, pid1, recoverParties, signParties, type ShareResult } from './frost-helpers.js';
import { createFrostBackupP2, createFrostRecoverP1, createFrostRecoverP2 } from '../../src/mpc/frost-reshare.js';
import { derivePid } from '../../src/mpc/session.js';

const msg = new TextEncoder().encode('solana transaction message');
const strict = (sig: Uint8Array, m: Uint8Array, pk: string) => ed25519.verify(sig, m, hexToBytes(pk), { zip215: false });
/** Test-only: the key the pair interpolates to (what an eject would compute). */
const keyOf = (a: Uint8Array, b: Uint8Array) => {
  const s1 = decodeFrostShare(a).s;
  const s2 = decodeFrostShare(b).s;
  return Fn.add(Fn.mul(lagrange(1), s1), Fn.mul(lagrange(2), s2));
};
const sign = (custodian: Uint8Array, client: Uint8Array, m = msg) => complete(drive<{ signature: Uint8Array }>(...signParties(custodian, client, m)));

describe('FROST keygen → sign', () => {
  const k = keygen();

  it('both parties get the same group key, their own share kinds and one pair id', () => {
    expect(k.custodian.publicKey).toBe(k.client.publicKey);
    expect(k.custodian.publicKey).toMatch(/^[0-9a-f]{64}$/);
    const a = decodeFrostShare(k.custodian.share);
    const b = decodeFrostShare(k.client.share);
    expect([a.kind, b.kind]).toEqual(['custodian-signing', 'client-signing']);
    expect(a.pairId).toEqual(b.pairId);
    expect(a.walletKeyId).toEqual(a.pairId);
    expect(a.epoch).toBe(0n);
    expect(k.client.share.length).toBe(FROST_SHARE_BYTES);
    expect(ed25519.Point.BASE.multiply(keyOf(k.custodian.share, k.client.share)).toHex()).toBe(k.client.publicKey);
  });

  it('signs: both get the same 64-byte signature, which passes strict RFC 8032 verification', () => {
    const s = sign(k.custodian.share, k.client.share);
    expect(s.r1.signature.length).toBe(64);
    expect(s.r1.signature).toEqual(s.r2.signature);
    expect(strict(s.r1.signature, msg, k.client.publicKey)).toBe(true);
    expect(strict(s.r1.signature, new Uint8Array([1]), k.client.publicKey)).toBe(false);
    // The empty message and a long one work too.
    for (const m of [new Uint8Array(0), new Uint8Array(1232).fill(7)]) expect(strict(sign(k.custodian.share, k.client.share, m).r2.signature, m, k.client.publicKey)).toBe(true);
  });

  it('two parties signing different messages fail with SIGN_FAILED and no signature', () => {
    const o = drive(...([signParties(k.custodian.share, k.client.share, msg)[0], signParties(k.custodian.share, k.client.share, new Uint8Array([9]))[1]] as const));
    expect(o.error?.code).toBe('SIGN_FAILED');
    expect(o.r1).toBeUndefined();
    expect(o.r2).toBeUndefined();
  });
});

describe('keygen → backup → recover → sign, with the same public key', () => {
  const k = keygen();
  const x = keyOf(k.custodian.share, k.client.share);
  const b = complete(drive<ShareResult>(...backupParties(k.custodian.share, k.client.share)));
  const r = complete(drive<ShareResult>(...recoverParties(b.r1.share, b.r2.share, 1)));

  it('backup: a fresh backup pair of the same interpolated key, recording the signing pair', () => {
    expect(b.r1.publicKey).toBe(k.client.publicKey);
    expect(b.r2.publicKey).toBe(k.client.publicKey);
    const [c, d] = [decodeFrostShare(b.r1.share), decodeFrostShare(b.r2.share)];
    expect([c.kind, d.kind]).toEqual(['custodian-backup', 'client-backup']);
    expect(c.pairId).toEqual(d.pairId);
    expect(c.pairId).not.toEqual(decodeFrostShare(k.client.share).pairId);
    expect(c.walletKeyId).toEqual(decodeFrostShare(k.client.share).walletKeyId);
    expect(c.epoch).toBe(0n);
    expect(keyOf(b.r1.share, b.r2.share)).toBe(x);
    // Re-randomised: neither backup share equals a signing share, and the verifying shares are rebuilt.
    expect(c.s).not.toBe(decodeFrostShare(k.custodian.share).s);
    expect(d.Y2.equals(decodeFrostShare(k.client.share).Y2)).toBe(false);
  });

  it('recover: a fresh signing pair at epoch′ that signs under the same key', () => {
    expect(r.r1.publicKey).toBe(k.client.publicKey);
    expect(r.r2.publicKey).toBe(k.client.publicKey);
    const [c, d] = [decodeFrostShare(r.r1.share), decodeFrostShare(r.r2.share)];
    expect([c.kind, d.kind, c.epoch, d.epoch]).toEqual(['custodian-signing', 'client-signing', 1n, 1n]);
    expect(keyOf(r.r1.share, r.r2.share)).toBe(x);
    const s = sign(r.r1.share, r.r2.share);
    expect(strict(s.r2.signature, msg, k.client.publicKey)).toBe(true);
  });

  it('never mixes share sets: old with new, signing with backup, each refused with a typed error', () => {
    const mixes: [Uint8Array, Uint8Array][] = [
      [k.custodian.share, r.r2.share],
      [r.r1.share, k.client.share],
    ];
    for (const [a, c] of mixes) {
      const o = drive(...signParties(a, c, msg));
      expect(o.error?.code).toBe('SIGN_FAILED');
      expect(o.r1 ?? o.r2).toBeUndefined();
    }
    // A backup share cannot sign, and a signing share cannot start a Recover.
    expect(() => signParties(b.r1.share, k.client.share, msg)).toThrow(expect.objectContaining({ code: 'SIGN_FAILED' }));
    expect(() => recoverParties(k.custodian.share, k.client.share)).toThrow(expect.objectContaining({ code: 'RECOVER_FAILED' }));
    // Backup from a mixed pair, and recover from a mixed backup pair, fail too.
    expect(drive(...backupParties(k.custodian.share, r.r2.share)).error?.code).toBe('BACKUP_FAILED');
    const b2 = complete(drive<ShareResult>(...backupParties(k.custodian.share, k.client.share)));
    expect(drive(...recoverParties(b.r1.share, b2.r2.share)).error?.code).toBe('RECOVER_FAILED');
  });

  it('recover authorises a new device: another client party id works, another custodian does not', () => {
    const newDevice = derivePid(new TextEncoder().encode('a new phone'));
    const [c1, c2] = [
      createFrostRecoverP1({ pid1, pid2: newDevice, share: b.r1.share, epoch: 1 }),
      createFrostRecoverP2({ pid1, pid2: newDevice, share: b.r2.share }),
    ];
    const out = complete(drive<ShareResult>(c1, c2));
    expect(out.r2.publicKey).toBe(k.client.publicKey);
    expect(decodeFrostShare(out.r2.share).pid2).toEqual(newDevice);
    const otherCustodian = derivePid(new TextEncoder().encode('someone else'));
    expect(() => createFrostRecoverP2({ pid1: otherCustodian, pid2: newDevice, share: b.r2.share })).toThrow(expect.objectContaining({ code: 'RECOVER_FAILED' }));
    // Backup stays on the device that holds the signing pair.
    expect(() => createFrostBackupP2({ pid1, pid2: newDevice, share: k.client.share, method: 'PASSWORD' })).toThrow(expect.objectContaining({ code: 'BACKUP_FAILED' }));
  });

  it("recover refuses an epoch′ not above the backup's", () => {
    expect(() => recoverParties(b.r1.share, b.r2.share, 0)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('single-use signing state', () => {
  const k = keygen();

  it('a signing party runs once: a second start or a message after the end throws', () => {
    const [p1, p2] = signParties(k.custodian.share, k.client.share, msg);
    const [s1] = p1.start();
    p2.start();
    // A second start is misuse: it throws and aborts that party for good (its nonces are erased).
    const [q1] = signParties(k.custodian.share, k.client.share, msg);
    q1.start();
    expect(() => q1.start()).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => q1.receive(s1!)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    const [s2] = p2.receive(s1!).messages;
    const { messages: [s3] } = p1.receive(s2!);
    p2.receive(s3!);
    for (const [p, m] of [[p1, s2], [p2, s3], [p2, s1]] as const) {
      let err: unknown;
      try {
        p.receive(m!);
      } catch (e) {
        err = e;
      }
      expect(isTandemError(err, 'MALFORMED_MESSAGE')).toBe(true);
    }
  });

  it('cannot be persisted and restored: no enumerable state, toJSON throws, a clone has no methods', () => {
    const [p1] = signParties(k.custodian.share, k.client.share, msg);
    p1.start();
    expect(Object.keys(p1)).toEqual([]);
    expect(() => JSON.stringify(p1)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    const clone = structuredClone(p1) as unknown as Record<string, unknown>;
    expect(clone.receive).toBeUndefined();
    expect(Object.keys(clone)).toEqual([]);
  });

  it('an aborted signer stays aborted and never yields a signature', () => {
    const [p1, p2] = signParties(k.custodian.share, k.client.share, msg);
    const [s1] = p1.start();
    p2.start();
    const [s2] = p2.receive(s1!).messages;
    const bad = s2!.slice();
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
    expect(() => p1.receive(bad)).toThrow(expect.objectContaining({ code: 'SIGN_FAILED' }));
    // Even the honest message is refused now, with the same error.
    expect(() => p1.receive(s2!)).toThrow(expect.objectContaining({ code: 'SIGN_FAILED' }));
  });

  it('share bytes round-trip', () => {
    expect(encodeFrostShare(decodeFrostShare(k.client.share))).toEqual(k.client.share);
  });
});
