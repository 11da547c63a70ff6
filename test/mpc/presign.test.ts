import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { G, q, randomScalar } from '../../src/mpc/curve.js';
import { proveDl } from '../../src/mpc/pi-dl.js';
import { createPresignP1, createPresignP2 } from '../../src/mpc/presign.js';
import { signSid } from '../../src/mpc/session.js';
import {
  decodePresignatureRecord,
  decodeSignature,
  decodeSignS0,
  decodeSignS1,
  decodeSignS2,
  decodeSignS3,
  decodeSignS4,
  encodeSignS0,
  encodeSignS2,
  MAX_SIGN_PAYLOAD_BYTES,
  signMessageSid,
  SIGN_TAGS,
} from '../../src/mpc/sign-wire.js';
import { errorCode, expectError } from './helpers.js';
import { keyPair, parties, pid1, pid2, presign, rawRequest, type KeyPair, type Presigned } from './sign-helpers.js';

let k: KeyPair;
let T: Presigned;
let s4: Uint8Array;

beforeAll(() => {
  k = keyPair();
  T = presign(k);
  s4 = presign(k).presignature.sign(rawRequest('presign tests'));
});

const flip = (m: Uint8Array, i: number, x = 1): Uint8Array => {
  const t = m.slice();
  t[i] = (t[i] ?? 0) ^ x;
  return t;
};

/** A session run honestly up to the message the test tampers with: P1 awaiting S2, P2 awaiting S3. */
function upToS2(): { a: ReturnType<typeof parties>['a']; b: ReturnType<typeof parties>['b']; s1: Uint8Array; s2: Uint8Array } {
  const { a, b } = parties(k);
  const [s0] = b.start();
  a.start();
  const [s1] = a.receive(s0 ?? new Uint8Array()).messages;
  const [s2] = b.receive(s1 ?? new Uint8Array()).messages;
  if (s1 === undefined || s2 === undefined) throw new Error('no messages');
  return { a, b, s1, s2 };
}

describe('presign S0–S3 (§3.2)', () => {
  it('an honest run: both sides agree on sid and R, and the record holds the custodian’s half', () => {
    const rec = decodePresignatureRecord(T.record.secret);
    expect(rec.sid).toEqual(T.presignature.sid);
    expect(rec.pairId).toEqual(k.custodian.pairId);
    expect(rec.R.equals(T.presignature.R)).toBe(true);
    expect(rec.R2.equals(decodeSignS2(T.s2).R2)).toBe(true);
    expect(G.multiply(rec.k1).equals(decodeSignS3(T.s3).R1)).toBe(true);
    const s0 = decodeSignS0(T.s0);
    const s1 = decodeSignS1(T.s1);
    const sid = signSid({ ...k.client, pid1, pid2, rndP1: s1.rndP1, rndP2: s0.rndP2 });
    expect(rec.sid).toEqual(sid);
    expect(signMessageSid(T.s2)).toEqual(sid);
    expect(signMessageSid(T.s3)).toEqual(sid);
    expect([T.s0[0], T.s1[0], T.s2[0], T.s3[0], s4[0]]).toEqual(Object.values(SIGN_TAGS));
  });

  it('S0 naming another wallet key, pair or epoch is refused, and the party stays aborted', () => {
    const s0 = decodeSignS0(T.s0);
    const cases = [
      [{ ...s0, walletKeyId: new Uint8Array(32).fill(1) }, 'wallet_key_id names this pair'],
      [{ ...s0, pairId: new Uint8Array(32).fill(2) }, 'pair_id names this pair'],
      [{ ...s0, epoch: s0.epoch + 1n }, 'epoch matches the pair'],
    ] as const;
    for (const [msg, check] of cases) {
      const a = createPresignP1({ pair: k.custodian, pid1, pid2 });
      a.start();
      expectError(() => a.receive(encodeSignS0(msg)), 'SIGN_FAILED', check);
      expectError(() => a.receive(T.s0), 'SIGN_FAILED', check);
    }
    const a = createPresignP1({ pair: k.custodian, pid1, pid2 });
    a.start();
    expectError(() => a.receive(T.s0.subarray(0, 50)), 'MALFORMED_MESSAGE');
  });

  it('messages out of order are refused', () => {
    const a = createPresignP1({ pair: k.custodian, pid1, pid2 });
    expectError(() => a.receive(T.s0), 'MALFORMED_MESSAGE');
    const b = createPresignP2({ share: k.client, pid1, pid2 });
    b.start();
    expectError(() => b.receive(T.s3), 'MALFORMED_MESSAGE');
    const a2 = createPresignP1({ pair: k.custodian, pid1, pid2 });
    a2.start();
    expectError(() => a2.receive(T.s2), 'MALFORMED_MESSAGE');
  });

  it('a tampered S1 or S2 is refused by the custodian at S2', () => {
    // S1's rnd_P1 changed: the client derives another sid, and the custodian refuses its S2.
    {
      const { a, b } = parties(k);
      const [s0] = b.start();
      a.start();
      const [s1] = a.receive(s0 ?? new Uint8Array()).messages;
      const [s2] = b.receive(flip(s1 ?? new Uint8Array(), 3)).messages;
      expectError(() => a.receive(s2 ?? new Uint8Array()), 'SIGN_FAILED', 'sid matches the session');
    }
    const tamper = [
      (s2: Uint8Array) => flip(s2, 5), // sid
      (s2: Uint8Array) => flip(s2, 1 + 32 + 33 + 40), // inside Π_DL's A
      (s2: Uint8Array) => flip(s2, s2.length - 1), // the last z
    ];
    for (const t of tamper) {
      const { a, s2 } = upToS2();
      expect(['SIGN_FAILED', 'MALFORMED_MESSAGE']).toContain(errorCode(() => a.receive(t(s2))));
    }
    // R2 replaced by a point with a proof made for the other direction (aux 1), or for another sid.
    const { a, s2 } = upToS2();
    const sid = decodeSignS2(s2).sid;
    const k2 = randomScalar();
    const R2 = G.multiply(k2);
    expectError(() => a.receive(encodeSignS2({ sid, R2, dl: proveDl(k2, R2, { protocol: 'sign', sid, aux: 1 }) })), 'SIGN_FAILED');
    const fresh = upToS2();
    const sid2 = decodeSignS2(fresh.s2).sid;
    expectError(
      () => fresh.a.receive(encodeSignS2({ sid: sid2, R2, dl: proveDl(k2, R2, { protocol: 'sign', sid: new Uint8Array(32), aux: 2 }) })),
      'SIGN_FAILED',
    );
    // …whereas a client's own R2 with the right proof is accepted.
    const ok = upToS2();
    const sid3 = decodeSignS2(ok.s2).sid;
    expect(ok.a.receive(encodeSignS2({ sid: sid3, R2, dl: proveDl(k2, R2, { protocol: 'sign', sid: sid3, aux: 2 }) })).result).toBeDefined();
  });

  it('a tampered S3 (sid, opening, R1, Π_DL) is refused by the client', () => {
    const offsets = [
      [5, 'sid matches the session'],
      [1 + 32 + 4, 'commitment opens'], // u
      [1 + 32 + 32 + 10, undefined], // R1 (either not a point, or the commitment fails)
      [-1, 'commitment opens'], // the last byte: the last z of Π_DL (S3's length varies with Π_DL's e_i)
    ] as const;
    for (const [at, check] of offsets) {
      const { a, b, s2 } = upToS2();
      const [s3] = a.receive(s2).messages;
      const honest = s3 ?? new Uint8Array();
      const tampered = flip(honest, at < 0 ? honest.length - 1 : at);
      const code = errorCode(() => b.receive(tampered));
      expect(['SIGN_FAILED', 'MALFORMED_MESSAGE']).toContain(code);
      if (check !== undefined) expectError(() => b.receive(tampered), 'SIGN_FAILED', check);
      // Aborted: the honest S3 is refused too.
      expect(errorCode(() => b.receive(s3 ?? new Uint8Array()))).toBe(code);
    }
  });

  it('S4 and sign-request encodings are strict', () => {
    const req = decodeSignS4(s4).request;
    expect(req.kind).toBe('raw');
    const kindAt = 1 + 32;
    expectError(() => decodeSignS4(flip(s4, kindAt, 0x07)), 'MALFORMED_MESSAGE'); // kind 7 does not exist
    expectError(() => decodeSignS4(flip(s4, kindAt + 4, 1)), 'MALFORMED_MESSAGE'); // raw with a payload length
    const huge = s4.slice();
    huge.set([0, 0x10, 0, 0], kindAt + 1); // 1 MiB
    huge[kindAt] = 1;
    expectError(() => decodeSignS4(huge), 'MALFORMED_MESSAGE');
    expect(MAX_SIGN_PAYLOAD_BYTES).toBe(256 * 1024);
    expectError(() => decodeSignS4(new Uint8Array([...s4, 0])), 'MALFORMED_MESSAGE');
    expectError(() => decodeSignS4(s4.subarray(0, s4.length - 1)), 'MALFORMED_MESSAGE');
    expectError(() => signMessageSid(T.s0), 'MALFORMED_MESSAGE');
    expectError(() => T.presignature.sign({ kind: 'raw', payload: new Uint8Array(1), digest: new Uint8Array(32) }), 'MALFORMED_MESSAGE');
    expectError(() => T.presignature.sign({ kind: 'raw', payload: new Uint8Array(), digest: new Uint8Array(31) }), 'MALFORMED_MESSAGE');
    // An invalid request does not spend the presignature.
    expect(T.presignature.usable).toBe(true);
  });

  it('decoders never crash: random bytes and bit flips give a value or MALFORMED_MESSAGE', () => {
    const decoders: [string, (b: Uint8Array) => unknown, Uint8Array][] = [
      ['S0', decodeSignS0, T.s0],
      ['S1', decodeSignS1, T.s1],
      ['S2', decodeSignS2, T.s2],
      ['S3', decodeSignS3, T.s3],
      ['S4', decodeSignS4, s4],
      ['record', decodePresignatureRecord, T.record.secret],
      ['signature', decodeSignature, new Uint8Array(65).fill(1)],
    ];
    for (const [, decode, honest] of decoders) {
      const ok = (b: Uint8Array) => ['none', 'MALFORMED_MESSAGE'].includes(errorCode(() => decode(b)));
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), ok), { numRuns: 60 });
      fc.assert(
        fc.property(fc.nat(honest.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => ok(flip(honest, i, x))),
        { numRuns: 60 },
      );
      fc.assert(fc.property(fc.nat(honest.length - 1), (n) => errorCode(() => decode(honest.subarray(0, n))) === 'MALFORMED_MESSAGE'), {
        numRuns: 30,
      });
    }
    // A record with k1 = 0 or ≥ q, or with the wrong kind byte, is malformed.
    const rec = T.record.secret;
    const k1At = 2 + 32 + 32 + 32 + 8;
    const zero = rec.slice();
    zero.fill(0, k1At, k1At + 32);
    expectError(() => decodePresignatureRecord(zero), 'MALFORMED_MESSAGE');
    const big = rec.slice();
    big.fill(0xff, k1At, k1At + 32);
    expectError(() => decodePresignatureRecord(big), 'MALFORMED_MESSAGE');
    expectError(() => decodePresignatureRecord(flip(rec, 1, 0x02)), 'MALFORMED_MESSAGE');
    expect(q > 0n).toBe(true);
  });
});
