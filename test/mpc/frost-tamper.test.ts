/**
 * Hostile messages in every round of every FROST protocol: one byte flipped in each field, small-order
 * and non-canonical points, out-of-range scalars, wrong identifiers, replay, reordering, skipped rounds
 * and messages of another protocol. Each gives a typed error, no result to a party that has not seen
 * an honest run to its end, and the aborted party stays aborted.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { Fn, identifierBytes, type FrostParty } from '../../src/mpc/frost.js';
import { backupParties, complete, drive, flip, keygen, keygenParties, recoverParties, signParties, type ShareResult } from './frost-helpers.js';

const msg = new TextEncoder().encode('tamper');
const k = keygen();
const b = complete(drive<ShareResult>(...backupParties(k.custodian.share, k.client.share)));

type Make = () => readonly [FrostParty<unknown>, FrostParty<unknown>];
interface Case {
  readonly name: string;
  readonly code: ErrorCode;
  readonly make: Make;
  /** One byte inside each field of each message (frame tag and role first). */
  readonly fields: readonly (readonly number[])[];
}

// Field offsets (frost-dkg.ts, frost-sign.ts): M1 rnd1 2, epoch 18, [ids 26, 58,] com; M2 rnd2 2, id 18,
// C0 50, C1 82, pok 114; M3 sid 2, u 34, id 66, C0 98, C1 130, pok 162, f 226; M4 sid 2, f 34, proof 66;
// M5 sid 2, proof 34. S1 rnd1 2, wkid 18, pair 50, epoch 82, id 90, D 122, E 154; S2 rnd2 2, sid 18,
// id 50, D 82, E 114, z 146; S3 sid 2, z 34.
const DKG_FIELDS = [[0, 1, 5, 20, 40], [0, 1, 5, 30, 60, 90, 120, 170], [0, 1, 10, 40, 70, 100, 140, 170, 200, 240], [0, 1, 10, 40, 80, 120], [0, 1, 10, 40, 90]];
const RESHARE_FIELDS = [[0, 1, 5, 20, 30, 70, 100], ...DKG_FIELDS.slice(1)];
const CASES: Case[] = [
  { name: 'keygen', code: 'DKG_FAILED', make: () => keygenParties(0), fields: DKG_FIELDS },
  { name: 'backup', code: 'BACKUP_FAILED', make: () => backupParties(k.custodian.share, k.client.share), fields: RESHARE_FIELDS },
  { name: 'recover', code: 'RECOVER_FAILED', make: () => recoverParties(b.r1.share, b.r2.share, 1), fields: RESHARE_FIELDS },
  { name: 'sign', code: 'SIGN_FAILED', make: () => signParties(k.custodian.share, k.client.share, msg), fields: [[0, 1, 5, 20, 60, 85, 100, 130, 160], [0, 1, 5, 20, 60, 90, 120, 170], [0, 1, 10, 40, 65]] },
];

/** Runs with message t replaced; checks the typed error, no early result, and that the thrower stays aborted. */
function expectRefused(c: Case, t: number, edit: (m: Uint8Array) => Uint8Array, codes: readonly ErrorCode[] = [c.code, 'MALFORMED_MESSAGE']) {
  const [p1, p2] = c.make();
  const o = drive(p1, p2, (i, m) => (i === t ? edit(m) : undefined));
  const where = `${c.name} message ${t + 1}`;
  expect(o.error, where).toBeDefined();
  expect(codes, where).toContain(o.error?.code);
  // The run stops at the tampered message or, for a changed sid contribution, at the first message
  // that carries the sid; the receiver of that message threw.
  const f = o.messages.length - 1;
  expect(f, where).toBeGreaterThanOrEqual(t);
  expect(o.thrower, where).toBe(f % 2 === 0 ? 2 : 1);
  // No party has a result unless the tampered message came after its own last honest check
  // (P1 of keygen/backup/recover has one before M5; P1 of sign before S3).
  const last = c.name === 'sign' ? 2 : 4;
  if (t < last) expect(o.r1 ?? o.r2, where).toBeUndefined();
  else expect(o.r2, where).toBeUndefined();
  const thrower = o.thrower === 1 ? p1 : p2;
  expect(() => thrower.receive(o.messages[f]!), where).toThrow(expect.objectContaining({ code: o.error?.code }));
  return o.error!;
}

describe.each(CASES)('$name: one byte flipped in each field of each message', (c) => {
  it('gives a typed error, no result, and the party stays aborted', () => {
    c.fields.forEach((positions, t) => {
      for (const pos of positions) expectRefused(c, t, flip(pos));
    });
  });
});

const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
];
const NON_CANONICAL = [
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1 (≡ 1)
  '0100000000000000000000000000000000000000000000000000000000000080', // x = 0 with the sign bit
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // y ≥ p
];
// A point with a torsion component: on the curve, not small order, but not in the prime-order subgroup.
const MIXED = bytesToHex(ed25519.Point.BASE.add(ed25519.Point.fromHex(SMALL_ORDER[3]!)).toBytes());
const BAD_POINTS = [...SMALL_ORDER, ...NON_CANONICAL, MIXED];
const BAD_SCALARS = [bytesToHex(Fn.toBytes(Fn.ORDER)), bytesToHex(Fn.toBytes(Fn.ORDER + 1n)), 'ff'.repeat(32)];

const put = (at: number, hex: string) => (m: Uint8Array) => {
  const out = m.slice();
  out.set(hexToBytes(hex), at);
  return out;
};

describe('small-order, non-canonical and mixed-order points, and scalars ≥ ℓ, in every point and scalar field', () => {
  const [kg, , , sg] = CASES as [Case, Case, Case, Case];
  // (message index, offset) of each point field.
  const dkgPoints = [[1, 50], [1, 82], [1, 114], [2, 98], [2, 130], [2, 162], [3, 66], [4, 34]] as const;
  const signPoints = [[0, 122], [0, 154], [1, 82], [1, 114]] as const;
  const dkgScalars = [[2, 226], [3, 34], [3, 98], [4, 66]] as const;
  const signScalars = [[1, 146], [2, 34]] as const;

  it('points: MALFORMED_MESSAGE', () => {
    // Each field gets three of the bad points, in turn, so every bad point lands in several fields.
    const some = (i: number) => [0, 1, 2].map((j) => BAD_POINTS[(3 * i + j) % BAD_POINTS.length]!);
    dkgPoints.forEach(([t, at], i) => some(i).forEach((p) => expectRefused(kg, t, put(at, p), ['MALFORMED_MESSAGE'])));
    signPoints.forEach(([t, at], i) => some(i + 2).forEach((p) => expectRefused(sg, t, put(at, p), ['MALFORMED_MESSAGE'])));
    // And every bad point in one field of each direction.
    for (const p of BAD_POINTS) {
      expectRefused(kg, 1, put(50, p), ['MALFORMED_MESSAGE']);
      expectRefused(sg, 0, put(122, p), ['MALFORMED_MESSAGE']);
    }
  });

  it('scalars ≥ ℓ (and zero shares): MALFORMED_MESSAGE', () => {
    for (const [t, at] of dkgScalars) for (const s of [...BAD_SCALARS, '00'.repeat(32)]) {
      const zeroOk = (t === 3 && at === 98) || (t === 4 && at === 66); // the proof's z may be 0 in principle; 0 then fails the proof
      expectRefused(kg, t, put(at, s), zeroOk ? ['MALFORMED_MESSAGE', 'DKG_FAILED'] : ['MALFORMED_MESSAGE']);
    }
    for (const [t, at] of signScalars) for (const s of BAD_SCALARS) expectRefused(sg, t, put(at, s), ['MALFORMED_MESSAGE']);
  });
});

describe('wrong identifiers', () => {
  const [kg, bk, , sg] = CASES as [Case, Case, Case, Case];
  const ids = [bytesToHex(identifierBytes(1)), bytesToHex(identifierBytes(2)), bytesToHex(Fn.toBytes(3n))];
  it('a package or commitment under another identifier is refused', () => {
    for (const c of [kg, bk]) {
      for (const id of [ids[0]!, ids[2]!]) expectRefused(c, 1, put(18, id), ['MALFORMED_MESSAGE']); // P2 claims 1 or 3
      for (const id of [ids[1]!, ids[2]!]) expectRefused(c, 2, put(66, id), ['MALFORMED_MESSAGE']); // P1 claims 2 or 3
    }
    for (const id of [ids[1]!, ids[2]!]) expectRefused(sg, 0, put(90, id), ['MALFORMED_MESSAGE']);
    for (const id of [ids[0]!, ids[2]!]) expectRefused(sg, 1, put(50, id), ['MALFORMED_MESSAGE']);
  });
  it('a message claiming the wrong sender role is refused', () => {
    for (const c of CASES) expectRefused(c, 0, (m) => put(1, '02')(m), ['MALFORMED_MESSAGE']);
  });
});

/** Records an honest run's messages. */
const honest = (c: Case) => complete(drive(...c.make())).messages;

describe.each(CASES)('$name: replay, reordering, skipped rounds, other protocols', (c) => {
  const T = honest(c);
  const n = T.length;

  it('a message replayed (or reflected) within the run is refused and aborts the receiver', () => {
    for (let t = 0; t < n - 1; t++) {
      // Slot t+1 gets message t again: reflected to the other party, and replayed to the same one.
      for (const slot of [t + 1, t + 2].filter((x) => x < n)) {
        const o = drive(...c.make(), (i) => (i === slot ? T[t]! : undefined));
        expect(o.error, `message ${t + 1} again in slot ${slot + 1}`).toBeDefined();
        expect(['MALFORMED_MESSAGE', c.code]).toContain(o.error?.code);
      }
    }
  });

  it('a message from another session of the same protocol is refused', () => {
    for (let t = 1; t < n; t++) {
      const o = drive(...c.make(), (i, m) => (i === t ? T[t]! : m));
      expect(o.error, `message ${t + 1} of another session`).toBeDefined();
      expect([c.code, 'MALFORMED_MESSAGE']).toContain(o.error?.code);
    }
  });

  it('reordered or skipped rounds are refused as the wrong round', () => {
    for (let t = 0; t < n; t++) {
      for (let u = 0; u < n; u++) {
        if (u === t || u % 2 !== t % 2) continue; // same receiver, other round
        const o = drive(...c.make(), (i, m) => (i === t ? T[u]! : m));
        expect(o.error?.code, `message ${u + 1} in slot ${t + 1}`).toBe('MALFORMED_MESSAGE');
      }
    }
  });

  it("another protocol's message in each slot is refused as the wrong round", () => {
    for (const other of CASES) {
      if (other === c) continue;
      const U = honest(other);
      for (let t = 0; t < 2; t++) {
        const o = drive(...c.make(), (i, m) => (i === t ? U[t]! : m));
        expect(o.error?.code, `${other.name} message ${t + 1}`).toBe('MALFORMED_MESSAGE');
      }
    }
  });

  it('an empty, truncated or extended message is refused', () => {
    const edits = [() => new Uint8Array(0), (m: Uint8Array) => m.subarray(0, m.length - 1), (m: Uint8Array) => new Uint8Array([...m, 0])];
    // Every edit in the first two slots (both receivers), then one edit per later slot, in turn.
    for (let t = 0; t < n; t++) for (const [j, edit] of edits.entries()) if (t < 2 || j === t % 3) expectRefused(c, t, edit, ['MALFORMED_MESSAGE']);
  });
});

describe('error details carry no secrets', () => {
  it('a refused share names the field, never the bytes', () => {
    const [kg] = CASES as [Case];
    const e = expectRefused(kg, 2, put(226, 'ff'.repeat(32)), ['MALFORMED_MESSAGE']);
    expect(e.details).toEqual({ field: 'share f1(2)', expected: 'a scalar below ℓ' });
    expect(JSON.stringify(e.toJSON())).not.toMatch(/[0-9a-f]{16}/);
  });
});
