import { generatePrimeSync } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isTandemError } from '../../src/errors.js';
import { G, q } from '../../src/mpc/curve.js';
import { intCommitmentPin } from '../../src/mpc/int-commitment.js';
import {
  createKeygenP1,
  createKeygenP2,
  decodeKeygenK1,
  decodeKeygenK2,
  decodeKeygenK3,
  decodeKeygenK4,
  KEYGEN_TAGS,
  type KeygenResult,
  type MpcParty,
} from '../../src/mpc/keygen.js';
import { dkgSid } from '../../src/mpc/session.js';
import { decodeClientShare, decodeCustodianShare } from '../../src/mpc/share.js';
import { errorCode, expectError } from './helpers.js';
import { ic, icPin, installSeededRandom, p1, p2, pid1, pid2, run, seeded, tamperAt, type Transcript } from './keygen-helpers.js';

installSeededRandom();

const session = (tag: string) => () => ({ a: seeded(p1(), `${tag}/P1`), b: seeded(p2(), `${tag}/P2`) });
let T: Transcript;
let U: Transcript;
/** The parties that made U, kept to show that a finished party accepts nothing more. */
let finished: { a: MpcParty<KeygenResult>; b: MpcParty<KeygenResult> };

beforeAll(() => {
  T = run(session('T').call(null).a, session('T').call(null).b);
  finished = session('U').call(null);
  U = run(finished.a, finished.b);
});

describe('keygen K1–K4 (§3.1)', () => {
  it('an honest run with a fresh Paillier key and Π_IC: both parties agree on Q, and x1 + x2 = x with Q = x·G', () => {
    // The one test that makes fresh primes (Node's generatePrimeSync, test code only).
    const custodian = createKeygenP1({
      pid1,
      pid2,
      epoch: 3n,
      primeSource: (bits, { safe }) => generatePrimeSync(bits, { safe, bigint: true }),
      intCommitment: ic,
    });
    const client = createKeygenP2({ pid1, pid2, expectedEpoch: 3 });
    const t = run(custodian, client);
    expect(t.client.publicKey).toBe(t.custodian.publicKey);
    expect(t.k1[0]).toBe(KEYGEN_TAGS.K1);

    const s1 = decodeCustodianShare(t.custodian.share);
    const s2 = decodeClientShare(t.client.share);
    expect(s1.Q.equals(s2.Q)).toBe(true);
    expect(s2.Q.toHex(true)).toBe(t.client.publicKey);
    expect(G.multiply((s1.x1 + s2.x2) % q).equals(s2.Q)).toBe(true); // test-only: the key never exists whole
    expect(s1.x1 > 0n && s1.x1 < q).toBe(true);

    const k1 = decodeKeygenK1(t.k1);
    const k2 = decodeKeygenK2(t.k2);
    const sid = dkgSid({ epoch: 3n, pid1, pid2, sid1: k1.sid1, sid2: k2.sid2 });
    for (const s of [s1, s2]) {
      expect(s.walletKeyId).toEqual(sid);
      expect(s.pairId).toEqual(sid);
      expect(s.epoch).toBe(3n);
      expect(s.pid1).toEqual(pid1);
      expect(s.pid2).toEqual(pid2);
      expect(s.cKey).toBe(k1.cKey);
    }
    expect(s2.n).toBe(s1.paillier.n);
    expect(s2.icPin).toEqual(intCommitmentPin(ic.params));
    expect(decodeKeygenK3(t.k3).sid).toEqual(sid);
    expect(decodeKeygenK4(t.k4).sid).toEqual(sid);
  });

  it('with pinned parameters K1 carries no Π_IC, and a pin that does not match is refused', () => {
    expect(decodeKeygenK1(T.k1).icProof).toBeUndefined();
    expect(decodeClientShare(T.client.share).icPin).toEqual(icPin);
    const wrongPin = createKeygenP2({ pid1, pid2, icPin: new Uint8Array(32).fill(7) });
    wrongPin.start();
    expectError(() => wrongPin.receive(T.k1), 'DKG_FAILED', 'Ñ, g̃, h̃ match the pinned hash');
    const noProof = createKeygenP2({ pid1, pid2 });
    noProof.start();
    expectError(() => noProof.receive(T.k1), 'DKG_FAILED', 'Π_IC present (no pinned parameters)');
  });

  it('a client that expects another epoch′ refuses K1', () => {
    const c = createKeygenP2({ pid1, pid2, icPin, expectedEpoch: 1n });
    c.start();
    expectError(() => c.receive(T.k1), 'DKG_FAILED', 'epoch′ is the expected one');
  });

  it('parties that disagree on a pid derive different sids: the custodian rejects the client Π_DL at K2', () => {
    const other = new Uint8Array(16).fill(0x33);
    for (const client of [createKeygenP2({ pid1, pid2: other, icPin }), createKeygenP2({ pid1: other, pid2, icPin })]) {
      const o = tamperAt(T, () => ({ a: seeded(p1(), 'T/P1'), b: seeded(client, 'T/P2') }), 0, (m) => m);
      expect(o.error?.code).toBe('DKG_FAILED');
      expect(o.error?.details['proof']).toBe('pi_dl');
      expect(o.by).toBe('P1');
      expect(o.stillAborted).toBe(true);
    }
  });

  it('messages from another session are rejected: K2 (Π_DL under another sid), K3 and K4 (sid)', () => {
    const k2 = tamperAt(T, session('T'), 1, () => U.k2);
    expect(k2.error?.code).toBe('DKG_FAILED');
    expect(k2.error?.details['proof']).toBe('pi_dl');
    const k3 = tamperAt(T, session('T'), 2, () => U.k3);
    expect(k3.error?.details['check']).toBe('sid matches the session');
    const k4 = tamperAt(T, session('T'), 3, () => U.k4);
    expect(k4.error?.details['check']).toBe('sid matches the session');
    for (const o of [k2, k3, k4]) {
      expect(o.custodianResult).toBe(false);
      expect(o.stillAborted).toBe(true);
    }
    expect(k3.clientResult).toBe(false);
  });

  it('rounds skipped, repeated, reordered or reflected are the wrong round (MALFORMED_MESSAGE), and abort', () => {
    // client: K3 before K1; K1 twice; its own K2 reflected back; K4
    for (const [first, second] of [
      [T.k3, T.k1],
      [T.k2, T.k1],
      [T.k4, T.k1],
    ] as const) {
      const c = p2();
      c.start();
      expectError(() => c.receive(first), 'MALFORMED_MESSAGE');
      expectError(() => c.receive(second), 'MALFORMED_MESSAGE');
    }
    const twice = tamperAt(T, session('T'), 2, () => T.k1);
    expect(twice.error?.code).toBe('MALFORMED_MESSAGE');
    expect(twice.error?.details['field']).toBe('round');
    expect(twice.stillAborted).toBe(true);

    // custodian: K4 before K2; K2 twice (the second aborts, so the real K4 is refused); K1 or K3 reflected
    const skip = tamperAt(T, session('T'), 1, () => T.k4);
    expect(skip.error?.code).toBe('MALFORMED_MESSAGE');
    const a = seeded(p1(), 'T/P1');
    a.start();
    a.receive(T.k2);
    expectError(() => a.receive(T.k2), 'MALFORMED_MESSAGE');
    expectError(() => a.receive(T.k4), 'MALFORMED_MESSAGE');
    const reflected = tamperAt(T, session('T'), 1, () => T.k3);
    expect(reflected.error?.code).toBe('MALFORMED_MESSAGE');
  });

  it('start is called once and first; nothing is accepted before start or after the end', () => {
    const c = p2();
    expectError(() => c.receive(T.k1), 'MALFORMED_MESSAGE');
    expectError(() => c.start(), 'MALFORMED_MESSAGE'); // aborted by the early message: stays aborted
    expectError(() => c.receive(T.k1), 'MALFORMED_MESSAGE');
    const c2 = p2();
    c2.start();
    expectError(() => c2.start(), 'INTERNAL');
    expectError(() => c2.receive(T.k1), 'INTERNAL');

    expectError(() => finished.a.receive(U.k4), 'MALFORMED_MESSAGE');
    expectError(() => finished.b.receive(U.k3), 'MALFORMED_MESSAGE');
    expectError(() => finished.a.start(), 'MALFORMED_MESSAGE'); // the late message ended it for good
  });

  it('wrong sizes: each message truncated by one byte, K1 and K3 with one byte appended → MALFORMED_MESSAGE at the receiver', () => {
    const truncate = (m: Uint8Array): Uint8Array => m.slice(0, -1);
    const append = (m: Uint8Array): Uint8Array => new Uint8Array([...m, 0]);
    for (let t = 0; t < 4; t++) {
      for (const tamper of t % 2 === 0 ? [truncate, append] : [truncate]) {
        const o = tamperAt(T, session('T'), t, tamper);
        expect(o.error?.code, `K${t + 1}`).toBe('MALFORMED_MESSAGE');
        expect(o.by).toBe(t % 2 === 0 ? 'P2' : 'P1');
        expect(o.clientResult || o.custodianResult).toBe(false);
        expect(o.stillAborted).toBe(true);
      }
    }
  });

  it('message decoders: truncated or random bytes are MALFORMED_MESSAGE, never a crash (property)', () => {
    const decoders = [decodeKeygenK1, decodeKeygenK2, decodeKeygenK3, decodeKeygenK4] as const;
    const honest = [T.k1, T.k2, T.k3, T.k4];
    fc.assert(
      fc.property(fc.nat({ max: 3 }), fc.nat(), fc.uint8Array({ maxLength: 96 }), (i, cut, junk) => {
        const m = honest[i]!;
        const decode = decoders[i]!;
        expect(errorCode(() => decode(m.slice(0, cut % m.length)))).toBe('MALFORMED_MESSAGE');
        expect(errorCode(() => decode(junk))).toBe('MALFORMED_MESSAGE');
        const spliced = new Uint8Array([...m.slice(0, cut % m.length), ...junk]);
        expect(['none', 'MALFORMED_MESSAGE']).toContain(errorCode(() => decode(spliced)));
      }),
      { numRuns: 150 },
    );
  });

  it('the client on random bytes in place of K1 aborts with a typed error (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (junk, tagged) => {
        const c = p2();
        c.start();
        const m = tagged ? new Uint8Array([KEYGEN_TAGS.K1, ...junk]) : junk;
        let code = 'none';
        try {
          c.receive(m);
        } catch (e) {
          expect(isTandemError(e)).toBe(true);
          code = isTandemError(e) ? e.code : 'other';
        }
        expect(code).toBe('MALFORMED_MESSAGE');
      }),
      { numRuns: 100 },
    );
  });
});
