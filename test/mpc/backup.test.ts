import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BACKUP_TAGS,
  createBackupP1,
  createBackupP2,
  decodeBackupB1,
  decodeBackupB2,
  decodeBackupB3,
  decodeBackupB4,
  type BackupResult,
} from '../../src/mpc/backup.js';
import { KEYGEN_TAGS } from '../../src/mpc/keygen.js';
import { RECOVER_TAGS } from '../../src/mpc/recover.js';
import { SIGN_TAGS } from '../../src/mpc/sign-wire.js';
import { BACKUP_SHARE_KINDS, decodeBackupShare, encodeBackupShare } from '../../src/mpc/backup-share.js';
import { G, q } from '../../src/mpc/curve.js';
import { label, ro } from '../../src/mpc/oracle.js';
import { proveDl, writeDlProof } from '../../src/mpc/pi-dl.js';
import { backupSid } from '../../src/mpc/session.js';
import { decodeClientShare } from '../../src/mpc/share.js';
import { encodeWith } from '../../src/mpc/wire.js';
import { errorCode, expectError } from './helpers.js';
import { installSeededRandom, run, tamperAt, type Transcript } from './keygen-helpers.js';
import { backupKey, backupParties, keygenPair, pid1, pid2, sharesOf, signingKey, type Shares } from './reshare-helpers.js';

installSeededRandom();

let K: Transcript;
let signing: Shares;
let pristine: Shares;
let x: bigint;
let B: Transcript;
let other: Transcript;
const make = () => backupParties(signing, 'PASSWORD', 'B');

beforeAll(() => {
  K = keygenPair('backup');
  signing = sharesOf(K);
  pristine = { custodian: signing.custodian.slice(), client: signing.client.slice() };
  x = signingKey(signing);
  B = run(make().a, make().b);
  const o = backupParties(signing, 'PASSWORD', 'other');
  other = run(o.a, o.b);
});

const result = (r: unknown): BackupResult => r as BackupResult;

/** The signing pair is exactly as keygen left it: same bytes, still decodes, still a pair of x. */
function signingIntact(): void {
  expect(signing.custodian).toEqual(pristine.custodian);
  expect(signing.client).toEqual(pristine.client);
  expect(signingKey(signing)).toBe(x);
}

describe('Backup B1–B4 (§3.4)', () => {
  it('makes a fresh backup pair of the same key: B1 + B2 = Q, b1 + b2 = x, and new shares', () => {
    const c = result(B.client);
    const p = result(B.custodian);
    expect(c.publicKey).toBe(K.client.publicKey);
    expect(p.publicKey).toBe(K.client.publicKey);
    expect(backupKey(sharesOf(B))).toBe(x); // test-only
    const b1 = decodeBackupShare(p.share, 'custodian-backup');
    const b2 = decodeBackupShare(c.share, 'client-backup');
    expect(b1.B1.add(b1.B2).toHex(true)).toBe(K.client.publicKey);
    expect(b1.B1.equals(b2.B1) && b1.B2.equals(b2.B2)).toBe(true);
    expect(p.B1).toBe(b1.B1.toHex(true));
    expect(c.B2).toBe(b2.B2.toHex(true));
    // fresh: differs from the signing shares and from another backup of the same pair
    expect(b2.b).not.toBe(decodeClientShare(signing.client).x2);
    expect(decodeBackupShare(other.client.share, 'client-backup').b).not.toBe(b2.b);
    signingIntact();
  });

  it('names the new backup pair (its sid), the method and the source signing pair (pair id, epoch)', () => {
    const src = decodeClientShare(signing.client);
    const sid = backupSid({
      walletKeyId: src.walletKeyId,
      pairId: src.pairId,
      epoch: src.epoch,
      method: 'PASSWORD',
      pid1,
      pid2,
      rndP1: decodeBackupB1(B.k1).rnd1,
      rndP2: decodeBackupB2(B.k2).rnd2,
    });
    for (const r of [result(B.client), result(B.custodian)]) {
      expect(r.backupPairId).toEqual(sid);
      expect(r.walletKeyId).toEqual(src.walletKeyId);
      expect(r.sourcePairId).toEqual(src.pairId);
      expect(r.sourceEpoch).toBe(src.epoch);
      expect(r.method).toBe('PASSWORD');
    }
    for (const [bytes, kind] of [
      [B.custodian.share, 'custodian-backup'],
      [B.client.share, 'client-backup'],
    ] as const) {
      const s = decodeBackupShare(bytes, kind);
      expect(s.pairId).toEqual(sid);
      expect(s.sourcePairId).toEqual(src.pairId);
      expect(s.method).toBe('PASSWORD');
      expect(encodeBackupShare(s)).toEqual(bytes);
    }
    expect(decodeBackupB3(B.k3).sid).toEqual(sid);
    expect(decodeBackupB4(B.k4).sid).toEqual(sid);
    expect(B.k1[0]).toBe(BACKUP_TAGS.B1);
    expect(B.k1.length + B.k2.length + B.k3.length + B.k4.length).toBeLessThan(8 * 1024);
  });

  it('two methods: different pair ids and shares, both of the same key', () => {
    const k = backupParties(signing, 'PASSKEY', 'P');
    const P = run(k.a, k.b);
    expect(result(P.custodian).backupPairId).not.toEqual(result(B.custodian).backupPairId);
    expect(result(P.custodian).method).toBe('PASSKEY');
    expect(backupKey(sharesOf(P))).toBe(x);
    expect(decodeBackupShare(P.client.share, 'client-backup').b).not.toBe(decodeBackupShare(B.client.share, 'client-backup').b);
  });

  it('a malicious client whose B2 is not Q − B1 (valid Π_DL and confirmation) is refused at B4', () => {
    const { sid, B1 } = decodeBackupB3(B.k3);
    const Q = decodeClientShare(signing.client).Q;
    const b2 = 12345n;
    const B2 = G.multiply(b2);
    const forged = encodeWith((w) => {
      w.bytes(new Uint8Array([BACKUP_TAGS.B4]), 1);
      w.bytes(sid, 32);
      w.point(B2);
      writeDlProof(w, proveDl(b2, B2, { protocol: 'backup', sid, aux: 2 }));
      w.bytes(ro(label('backup/confirm'), sid, Q, B1, B2), 32);
    });
    const o = tamperAt(B, make, 3, () => forged);
    expect(o.error?.code).toBe('BACKUP_FAILED');
    expect(o.error?.details['check']).toBe('B1 + B2 = Q');
    expect(o.custodianResult).toBe(false);
  });

  it('a malicious custodian whose B1 is not Q − b2·G (valid opening and Π_DL) is refused at B3', () => {
    const m = decodeBackupB3(B.k3);
    const b1 = 777n;
    const forged = encodeWith((w) => {
      w.bytes(new Uint8Array([BACKUP_TAGS.B3]), 1);
      w.bytes(m.sid, 32);
      w.scalar(m.delta1);
      w.bytes(m.u, 32);
      w.point(G.multiply(b1));
      writeDlProof(w, proveDl(b1, G.multiply(b1), { protocol: 'backup', sid: m.sid, aux: 1 }));
    });
    const o = tamperAt(B, make, 2, () => forged);
    expect(o.error?.code).toBe('BACKUP_FAILED');
    expect(o.error?.details['check']).toBe('B1 + b2·G = Q');
    expect(o.clientResult).toBe(false);
  });

  it('a wrong or tampered signing share fails loudly (never a backup of another key), and changes nothing', () => {
    const flip = (bytes: Uint8Array, at: number): Uint8Array => {
      const out = bytes.slice();
      out[at] = (out[at] ?? 0) ^ 1;
      return out;
    };
    const badQ = createBackupP2({ pid1, pid2, share: flip(signing.client, 120), method: 'PASSWORD' });
    expectError(() => badQ.start(), 'MALFORMED_MESSAGE');
    expectError(() => badQ.receive(B.k1), 'MALFORMED_MESSAGE'); // stays aborted
    const badX1 = createBackupP1({ pid1, pid2, share: flip(signing.custodian, 145), method: 'PASSWORD' });
    expectError(() => badX1.start(), 'MALFORMED_MESSAGE'); // Dec(c_key) ≠ x1
    // A client share has no Q2 to check x2 against at load (§3), so a flipped x2 is caught at B3: B1 + b2·G ≠ Q.
    const badClient = createBackupP2({ pid1, pid2, share: flip(signing.client, 150), method: 'PASSWORD' });
    const badX2 = tamperAt(B, () => ({ a: make().a, b: badClient }), 0, (m) => m);
    expect(badX2.error?.code).toBe('BACKUP_FAILED');
    expect(badX2.error?.details['check']).toBe('B1 + b2·G = Q');
    expect(badX2.clientResult || badX2.custodianResult).toBe(false);
    const swapped = createBackupP1({ pid1, pid2, share: signing.client, method: 'PASSWORD' });
    expectError(() => swapped.start(), 'MALFORMED_MESSAGE');
    const backupAsSigning = createBackupP2({ pid1, pid2, share: B.client.share, method: 'PASSWORD' });
    expectError(() => backupAsSigning.start(), 'MALFORMED_MESSAGE');
    signingIntact();
  });

  it('parties that disagree on the method, the pids or the pair derive different sids: refused at B3', () => {
    const other16 = new Uint8Array(16).fill(0x33);
    for (const b of [
      createBackupP2({ pid1, pid2, share: signing.client, method: 'PASSKEY' }),
      createBackupP2({ pid1, pid2: other16, share: signing.client, method: 'PASSWORD' }),
    ]) {
      const o = tamperAt(B, () => ({ a: make().a, b }), 0, (m) => m);
      expect(o.error?.code).toBe('BACKUP_FAILED');
      expect(o.error?.details['check']).toBe('sid matches the session');
      expect(o.by).toBe('P2');
      expect(o.clientResult || o.custodianResult).toBe(false);
    }
  });

  it('one byte flipped in every field of every message → a typed error, no result, the party stays aborted', () => {
    // B1: tag, rnd_P1, commitment. B2: tag, rnd_P2, δ2. B3: tag, sid, δ1, u, B1, Π_DL (A, e, z).
    // B4: tag, sid, B2, Π_DL, confirm.
    const fields: [number, number[]][] = [
      [0, [0, 5, 30, 48]],
      [1, [0, 5, 20, 48]],
      [2, [0, 10, 40, 80, 100, 140, -200, -40, -1]],
      [3, [0, 10, 40, 80, -300, -100, -40, -1]],
    ];
    for (const [t, positions] of fields) {
      for (const pos of positions) {
        const o = tamperAt(B, make, t, (m) => {
          const out = m.slice();
          const i = pos < 0 ? out.length + pos : pos;
          out[i] = (out[i] ?? 0) ^ 0x41;
          return out;
        });
        const where = `B${t + 1} byte ${pos}`;
        expect(['BACKUP_FAILED', 'MALFORMED_MESSAGE'], where).toContain(o.error?.code);
        expect(o.custodianResult, where).toBe(false);
        if (t < 3) expect(o.clientResult, where).toBe(false);
        expect(o.stillAborted, where).toBe(true);
      }
    }
    signingIntact();
  });

  it('rounds skipped, repeated, reordered or reflected, and another session’s messages → typed errors', () => {
    const skip = tamperAt(B, make, 0, () => B.k3);
    expect(skip.error?.details['field']).toBe('round');
    const repeated = tamperAt(B, make, 2, () => B.k1);
    expect(repeated.error?.details['field']).toBe('round');
    const reflected = tamperAt(B, make, 1, () => B.k1);
    expect(reflected.error?.details['field']).toBe('round');
    const b4first = tamperAt(B, make, 1, () => B.k4);
    expect(b4first.error?.code).toBe('MALFORMED_MESSAGE');
    const a = make().a;
    a.start();
    a.receive(B.k2);
    expectError(() => a.receive(B.k2), 'MALFORMED_MESSAGE');
    expectError(() => a.receive(B.k4), 'MALFORMED_MESSAGE');
    const c = make().b;
    expectError(() => c.receive(B.k1), 'MALFORMED_MESSAGE'); // before start

    const b3 = tamperAt(B, make, 2, () => other.k3);
    expect(b3.error?.details['check']).toBe('sid matches the session');
    const b4 = tamperAt(B, make, 3, () => other.k4);
    expect(b4.error?.details['check']).toBe('sid matches the session');
    // another session's B2: P1 proves and sends B3 under a sid the client never derived
    const b2 = tamperAt(B, make, 1, () => other.k2);
    expect(b2.error?.code).toBe('BACKUP_FAILED');
    expect(b2.by).toBe('P2');
    for (const o of [skip, repeated, reflected, b4first, b3, b4, b2]) {
      expect(o.custodianResult).toBe(false);
      expect(o.stillAborted).toBe(true);
    }
    const finished = make();
    run(finished.a, finished.b);
    expectError(() => finished.a.receive(B.k4), 'MALFORMED_MESSAGE');
    expectError(() => finished.b.receive(B.k3), 'MALFORMED_MESSAGE');
    signingIntact();
  });

  it('round tags are distinct across keygen, signing, backup and recover; another protocol’s message is the wrong round', () => {
    const tags = [KEYGEN_TAGS, SIGN_TAGS, BACKUP_TAGS, RECOVER_TAGS].flatMap((t) => Object.values(t) as number[]);
    expect(new Set(tags).size).toBe(tags.length);
    const c = make().b;
    c.start();
    expectError(() => c.receive(K.k1), 'MALFORMED_MESSAGE'); // a keygen K1 where B1 is expected
    const a = make().a;
    a.start();
    expectError(() => a.receive(K.k2), 'MALFORMED_MESSAGE');
  });

  it('decoders: truncated, spliced or random bytes are MALFORMED_MESSAGE, never a crash (property)', () => {
    const decoders = [decodeBackupB1, decodeBackupB2, decodeBackupB3, decodeBackupB4] as const;
    const honest = [B.k1, B.k2, B.k3, B.k4];
    fc.assert(
      fc.property(fc.nat({ max: 3 }), fc.nat(), fc.uint8Array({ maxLength: 96 }), (i, cut, junk) => {
        const m = honest[i]!;
        const decode = decoders[i]!;
        expect(errorCode(() => decode(m.slice(0, cut % m.length)))).toBe('MALFORMED_MESSAGE');
        expect(errorCode(() => decode(junk))).toBe('MALFORMED_MESSAGE');
        expect(['none', 'MALFORMED_MESSAGE']).toContain(errorCode(() => decode(new Uint8Array([...m.slice(0, cut % m.length), ...junk]))));
      }),
      { numRuns: 150 },
    );
  });

  it('backup-share decoder: any flipped byte is MALFORMED_MESSAGE or a share of the same key; random bytes never crash (property)', () => {
    const bytes = B.client.share;
    const Q = K.client.publicKey;
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.uint8Array({ maxLength: 300 }), (pos, bit, junk) => {
        const out = bytes.slice();
        const i = pos % out.length;
        out[i] = (out[i] ?? 0) ^ bit;
        try {
          const s = decodeBackupShare(out, 'client-backup');
          // only the names (ids, epoch, pids) may change undetected; never the key or the share
          expect(s.Q.toHex(true)).toBe(Q);
          expect(s.b).toBe(decodeBackupShare(bytes, 'client-backup').b);
        } catch (e) {
          expect(errorCode(() => { throw e; })).toBe('MALFORMED_MESSAGE');
        }
        expect(errorCode(() => decodeBackupShare(junk, 'custodian-backup'))).toBe('MALFORMED_MESSAGE');
        expect(errorCode(() => decodeBackupShare(new Uint8Array([1, BACKUP_SHARE_KINDS['client-backup'], ...junk]), 'client-backup'))).toBe(
          'MALFORMED_MESSAGE',
        );
      }),
      { numRuns: 200 },
    );
    expect(q > 0n).toBe(true);
  });
});
