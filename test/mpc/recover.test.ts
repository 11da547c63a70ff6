import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBackupShare, encodeBackupShare } from '../../src/mpc/backup-share.js';
import { G, q } from '../../src/mpc/curve.js';
import {
  createRecoverP1,
  createRecoverP2,
  decodeRecoverR1,
  decodeRecoverR2,
  decodeRecoverR3,
  decodeRecoverR4,
  RECOVER_TAGS,
  type RecoverResult,
} from '../../src/mpc/recover.js';
import { recoverSid } from '../../src/mpc/session.js';
import { decodeClientShare, decodeCustodianShare } from '../../src/mpc/share.js';
import { errorCode, expectError } from './helpers.js';
import { fixturePrimes, ic, icPin, installSeededRandom, run, tamperAt, type Transcript } from './keygen-helpers.js';
import {
  backupKey,
  backupParties,
  keygenPair,
  pid1,
  pid2,
  recoverParties,
  sharesOf,
  signingKey,
  type Shares,
} from './reshare-helpers.js';

installSeededRandom();

let K: Transcript;
let x: bigint;
let W: Shares; // PASSWORD backup
let P: Shares; // PASSKEY backup
let R: Transcript; // recover from W at epoch 1
let R2: Transcript; // recover from W again, at epoch 2
const make = () => recoverParties(W, 'R');
const result = (r: unknown): RecoverResult => r as RecoverResult;

beforeAll(() => {
  K = keygenPair('recover');
  x = signingKey(sharesOf(K));
  const w = backupParties(sharesOf(K), 'PASSWORD', 'W');
  W = sharesOf(run(w.a, w.b));
  const p = backupParties(sharesOf(K), 'PASSKEY', 'K');
  P = sharesOf(run(p.a, p.b));
  R = run(make().a, make().b);
  const again = recoverParties(W, 'R-again', { epoch: 2n, fixture: 2 });
  R2 = run(again.a, again.b);
});

describe('Recover R1–R4 (§3.5)', () => {
  it('keygen → backup → recover keeps Q, and the new signing shares are a fresh pair of the same x', () => {
    expect(R.client.publicKey).toBe(K.client.publicKey);
    expect(R.custodian.publicKey).toBe(K.client.publicKey);
    expect(signingKey(sharesOf(R))).toBe(x); // test-only
    const c = decodeCustodianShare(R.custodian.share); // load checks: Dec(c_key′) = x1′
    const d = decodeClientShare(R.client.share);
    expect(c.x1 > 0n && c.x1 < 2n * q).toBe(true); // an integer, not reduced (§1.4)
    expect(c.cKey).toBe(d.cKey);
    expect(c.paillier.n).toBe(d.n);
    expect(d.n).not.toBe(decodeClientShare(K.client.share).n); // a fresh Paillier key
    expect(d.x2).not.toBe(decodeClientShare(K.client.share).x2);
    expect(d.x2).not.toBe(decodeBackupShare(W.client, 'client-backup').b);
    expect(d.icPin).toEqual(icPin);
    expect(G.multiply(c.x1 % q).add(G.multiply(d.x2)).toHex(true)).toBe(K.client.publicKey);
  });

  it('names the new pair (the recover sid, epoch′), the key and the backup pair consumed', () => {
    const b = decodeBackupShare(W.client, 'client-backup');
    const sid = recoverSid({
      walletKeyId: b.walletKeyId,
      backupPairId: b.pairId,
      epoch: 1n,
      pid1,
      pid2,
      rndP1: decodeRecoverR1(R.k1).rnd1,
      rndP2: decodeRecoverR2(R.k2).rnd2,
    });
    for (const r of [result(R.client), result(R.custodian)]) {
      expect(r.pairId).toEqual(sid);
      expect(r.epoch).toBe(1n);
      expect(r.walletKeyId).toEqual(decodeClientShare(K.client.share).walletKeyId);
      expect(r.backupPairId).toEqual(b.pairId);
    }
    for (const s of [decodeClientShare(R.client.share), decodeCustodianShare(R.custodian.share)]) {
      expect(s.pairId).toEqual(sid);
      expect(s.epoch).toBe(1n);
      expect(s.walletKeyId).toEqual(b.walletKeyId);
    }
    expect(decodeRecoverR3(R.k3).sid).toEqual(sid);
    expect(decodeRecoverR4(R.k4).sid).toEqual(sid);
    expect(R.k1[0]).toBe(RECOVER_TAGS.R1);
  });

  it('the same backup pair recovers again (a new pair id, the next epoch), and stays valid', () => {
    expect(signingKey(sharesOf(R2))).toBe(x);
    expect(result(R2.custodian).pairId).not.toEqual(result(R.custodian).pairId);
    expect(result(R2.custodian).epoch).toBe(2n);
    expect(backupKey(W)).toBe(x);
  });

  it('backups of two methods coexist and each recovers, also on a new device (another pid2)', () => {
    const device = new Uint8Array(16).fill(0xc3);
    const r = recoverParties(P, 'RP', { epoch: 3n, newPid2: device });
    const T = run(r.a, r.b);
    expect(T.client.publicKey).toBe(K.client.publicKey);
    expect(signingKey(sharesOf(T))).toBe(x);
    expect(decodeClientShare(T.client.share).pid2).toEqual(device);
    expect(result(T.client).backupPairId).toEqual(decodeBackupShare(P.client, 'client-backup').pairId);
    expect(backupKey(W)).toBe(x);
    expect(backupKey(P)).toBe(x);
  });

  it('a client backup share of another backup pair (another method) is refused by the custodian at R2', () => {
    const o = tamperAt(R, () => ({ a: make().a, b: recoverParties({ custodian: W.custodian, client: P.client }, 'R').b }), 0, (m) => m);
    expect(o.error?.code).toBe('RECOVER_FAILED');
    expect(o.error?.details['check']).toBe('B2 equals the stored B2');
    expect(o.by).toBe('P1');
    expect(o.clientResult || o.custodianResult).toBe(false);
  });

  it('a self-consistent forged client backup share (another b2, so another Q) is refused at R2', () => {
    const b = decodeBackupShare(W.client, 'client-backup');
    const b2 = 4242n;
    const forged = encodeBackupShare({ ...b, b: b2, B2: G.multiply(b2), Q: b.B1.add(G.multiply(b2)) });
    const o = tamperAt(R, () => ({ a: make().a, b: recoverParties({ custodian: W.custodian, client: forged }, 'R').b }), 0, (m) => m);
    expect(o.error?.code).toBe('RECOVER_FAILED');
    expect(o.error?.details['check']).toBe('B2 equals the stored B2');
    expect(o.clientResult || o.custodianResult).toBe(false);
  });

  it('a custodian with a wrong b1 (a forged, self-consistent share) is refused by the client at R3: never another key', () => {
    const b = decodeBackupShare(W.custodian, 'custodian-backup');
    const b1 = 31337n;
    const forged = encodeBackupShare({ ...b, b: b1, B1: G.multiply(b1), Q: G.multiply(b1).add(b.B2) });
    const { a, b: c } = recoverParties({ custodian: forged, client: W.client }, 'forged');
    const [r1] = a.start();
    c.start();
    const [r2] = c.receive(r1!).messages;
    const [r3] = a.receive(r2!).messages; // the custodian proves its (wrong) B1 honestly
    let thrown: unknown;
    try {
      c.receive(r3!);
    } catch (e) {
      thrown = e;
    }
    expect(errorCode(() => { throw thrown; })).toBe('RECOVER_FAILED');
    expect((thrown as { details: Record<string, unknown> }).details['proof']).toBe('pi_dl');
    expectError(() => c.receive(r3!), 'RECOVER_FAILED'); // stays aborted, no share for another key
  });

  it('tampered, swapped or signing shares fail loudly at start; epochs are checked', () => {
    const flip = (bytes: Uint8Array, at: number): Uint8Array => {
      const out = bytes.slice();
      out[at] = (out[at] ?? 0) ^ 1;
      return out;
    };
    const n = W.client.length;
    for (const at of [1, 160, 190, n - 40, n - 1]) { // kind, Q, B1, B2, b (ids and pids are names: see backup.test.ts)
      const c = createRecoverP2({ pid1, pid2, share: flip(W.client, at), icPin });
      expectError(() => c.start(), 'MALFORMED_MESSAGE');
      expectError(() => c.receive(R.k1), 'MALFORMED_MESSAGE');
      const opts = { pid1, pid2, epoch: 1n, primeSource: fixturePrimes(1), intCommitment: ic, sendIcProof: false };
      expectError(() => createRecoverP1({ ...opts, share: flip(W.custodian, at) }).start(), 'MALFORMED_MESSAGE');
    }
    const opts = { pid1, pid2, epoch: 1n, primeSource: fixturePrimes(1), intCommitment: ic, sendIcProof: false };
    expectError(() => createRecoverP1({ ...opts, share: W.client }).start(), 'MALFORMED_MESSAGE');
    expectError(() => createRecoverP1({ ...opts, share: K.custodian.share }).start(), 'MALFORMED_MESSAGE');
    expectError(() => createRecoverP2({ pid1, pid2, share: K.client.share }).start(), 'MALFORMED_MESSAGE');
    expectError(() => createRecoverP1({ ...opts, epoch: 0n, share: W.custodian }).start(), 'INTERNAL');
    const wrongEpoch = createRecoverP2({ pid1, pid2, share: W.client, icPin, expectedEpoch: 5n });
    wrongEpoch.start();
    expectError(() => wrongEpoch.receive(R.k1), 'RECOVER_FAILED', 'epoch′ is the expected one');
    const noPin = createRecoverP2({ pid1, pid2, share: W.client });
    noPin.start();
    expectError(() => noPin.receive(R.k1), 'RECOVER_FAILED', 'Π_IC present (no pinned parameters)');
  });

  it('rounds skipped, repeated, reordered or reflected, and another session’s messages → typed errors', () => {
    for (const [first, second] of [
      [R.k3, R.k1],
      [R.k2, R.k1],
      [R.k4, R.k1],
    ] as const) {
      const c = make().b;
      c.start();
      expectError(() => c.receive(first), 'MALFORMED_MESSAGE');
      expectError(() => c.receive(second), 'MALFORMED_MESSAGE');
    }
    const repeated = tamperAt(R, make, 2, () => R.k1);
    expect(repeated.error?.details['field']).toBe('round');
    const skip = tamperAt(R, make, 1, () => R.k4);
    expect(skip.error?.details['field']).toBe('round');
    const reflected = tamperAt(R, make, 1, () => R.k3);
    expect(reflected.error?.details['field']).toBe('round');
    // another session of the same backup pair: its R2 carries the right B2, but its Π_DL is bound to another sid
    const r2 = tamperAt(R, make, 1, () => R2.k2);
    expect(r2.error?.code).toBe('RECOVER_FAILED');
    expect(r2.error?.details['proof']).toBe('pi_dl');
    const r3 = tamperAt(R, make, 2, () => R2.k3);
    expect(r3.error?.details['check']).toBe('sid matches the session');
    const r4 = tamperAt(R, make, 3, () => R2.k4);
    expect(r4.error?.details['check']).toBe('sid matches the session');
    for (const o of [repeated, skip, reflected, r2, r3, r4]) {
      expect(o.custodianResult).toBe(false);
      expect(o.stillAborted).toBe(true);
    }
    expect(r3.clientResult).toBe(false);
    const a = make().a;
    expectError(() => a.receive(R.k2), 'MALFORMED_MESSAGE'); // before start
    expectError(() => a.start(), 'MALFORMED_MESSAGE'); // aborted for good
  });

  it('decoders: truncated, spliced or random bytes are MALFORMED_MESSAGE, never a crash (property)', () => {
    const decoders = [(m: Uint8Array) => decodeRecoverR1(m), decodeRecoverR2, decodeRecoverR3, decodeRecoverR4] as const;
    const honest = [R.k1, R.k2, R.k3, R.k4];
    fc.assert(
      fc.property(fc.nat({ max: 3 }), fc.nat(), fc.uint8Array({ maxLength: 96 }), (i, cut, junk) => {
        const m = honest[i]!;
        const decode = decoders[i]!;
        expect(errorCode(() => decode(m.slice(0, cut % m.length)))).toBe('MALFORMED_MESSAGE');
        expect(errorCode(() => decode(junk))).toBe('MALFORMED_MESSAGE');
        expect(['none', 'MALFORMED_MESSAGE']).toContain(errorCode(() => decode(new Uint8Array([...m.slice(0, cut % m.length), ...junk]))));
      }),
      { numRuns: 120 },
    );
  });

  it('the client on random bytes in place of R1 aborts with MALFORMED_MESSAGE (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (junk, tagged) => {
        const c = createRecoverP2({ pid1, pid2, share: W.client, icPin });
        c.start();
        const m = tagged ? new Uint8Array([RECOVER_TAGS.R1, ...junk]) : junk;
        expect(errorCode(() => c.receive(m))).toBe('MALFORMED_MESSAGE');
      }),
      { numRuns: 60 },
    );
  });
});
