import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { q } from '../../src/mpc/curve.js';
import {
  clientSharePublicKey,
  decodeClientShare,
  decodeCustodianShare,
  encodeClientShare,
  encodeCustodianShare,
  SHARE_KIND_CLIENT_ECDSA,
  SHARE_VERSION,
  type ClientShare,
  type CustodianShare,
} from '../../src/mpc/share.js';
import { errorCode, expectError } from './helpers.js';
import { installSeededRandom, p1, p2, run, seeded, type Transcript } from './keygen-helpers.js';

installSeededRandom();

let T: Transcript;
let client: ClientShare;
let custodian: CustodianShare;
beforeAll(() => {
  T = run(seeded(p1(), 'share/P1'), seeded(p2(), 'share/P2'));
  client = decodeClientShare(T.client.share);
  custodian = decodeCustodianShare(T.custodian.share);
});

/** Offsets: version 1, kind 1, wallet_key_id 32, pair_id 32, epoch 8, pid1 16, pid2 16, then Q (33). */
const Q_AT = 106;
const X2_AT = Q_AT + 33;

const patch = (b: Uint8Array, at: number, bytes: number[] | Uint8Array): Uint8Array => {
  const out = b.slice();
  out.set(bytes, at);
  return out;
};

describe('share serialisation (§3 key state)', () => {
  it('round-trips both shares byte for byte; the client share is compact', () => {
    expect(encodeClientShare(client)).toEqual(T.client.share);
    expect(encodeCustodianShare(custodian)).toEqual(T.custodian.share);
    expect(T.client.share[0]).toBe(SHARE_VERSION);
    expect(T.client.share[1]).toBe(SHARE_KIND_CLIENT_ECDSA);
    expect(T.client.share.length).toBe(1739);
    expect(T.client.share.length).toBeLessThanOrEqual(8 * 1024);
    expect(clientSharePublicKey(T.client.share)).toBe(T.client.publicKey);
    expect(custodian.paillier.n).toBe(client.n);
  });

  it('rejects another version, the other party’s kind, and trailing or missing bytes', () => {
    expectError(() => decodeClientShare(patch(T.client.share, 0, [2])), 'MALFORMED_MESSAGE');
    expectError(() => decodeClientShare(T.custodian.share), 'MALFORMED_MESSAGE');
    expectError(() => decodeCustodianShare(T.client.share), 'MALFORMED_MESSAGE');
    expectError(() => decodeClientShare(new Uint8Array([...T.client.share, 0])), 'MALFORMED_MESSAGE');
    expectError(() => decodeCustodianShare(T.custodian.share.slice(0, -1)), 'MALFORMED_MESSAGE');
  });

  it('client: rejects x2 = 0 or ≥ q, an invalid Q, c_key ≥ N², an even N, and a pin that does not match', () => {
    expectError(() => decodeClientShare(patch(T.client.share, X2_AT, new Uint8Array(32))), 'MALFORMED_MESSAGE');
    const qBytes = Uint8Array.from(q.toString(16).match(/../g)!.map((h) => Number.parseInt(h, 16)));
    expectError(() => decodeClientShare(patch(T.client.share, X2_AT, qBytes)), 'MALFORMED_MESSAGE');
    expectError(() => decodeClientShare(patch(T.client.share, Q_AT, [0x04])), 'MALFORMED_MESSAGE');
    const nAt = X2_AT + 32;
    expectError(() => decodeClientShare(patch(T.client.share, nAt + 255, [T.client.share[nAt + 255]! & 0xfe])), 'MALFORMED_MESSAGE');
    expectError(() => decodeClientShare(patch(T.client.share, nAt + 256, new Uint8Array(512).fill(0xff))), 'MALFORMED_MESSAGE');
    const pin = T.client.share.length - 32;
    expectError(() => decodeClientShare(patch(T.client.share, pin, [T.client.share[pin]! ^ 1])), 'MALFORMED_MESSAGE');
  });

  it('custodian: rejects x1 that is not the plaintext of c_key, and equal or short primes', () => {
    const x1 = encodeCustodianShare({ ...custodian, x1: custodian.x1 + 1n });
    expectError(() => decodeCustodianShare(x1), 'MALFORMED_MESSAGE');
    const len = ((T.custodian.share[X2_AT] ?? 0) << 8) | (T.custodian.share[X2_AT + 1] ?? 0);
    const pAt = X2_AT + 2 + len;
    const p = T.custodian.share.slice(pAt, pAt + 128);
    expectError(() => decodeCustodianShare(patch(T.custodian.share, pAt + 128, p)), 'MALFORMED_MESSAGE');
    expectError(() => decodeCustodianShare(patch(T.custodian.share, pAt, [0x01])), 'MALFORMED_MESSAGE');
  });

  it('decoders: truncated or random bytes are MALFORMED_MESSAGE; a flipped byte is caught or harmless, never a crash (property)', () => {
    const shares = [
      [T.client.share, decodeClientShare],
      [T.custodian.share, decodeCustodianShare],
    ] as const;
    fc.assert(
      fc.property(fc.nat({ max: 1 }), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.uint8Array({ maxLength: 64 }), (i, at, x, junk) => {
        const [share, decode] = shares[i]!;
        const k = at % share.length;
        expect(errorCode(() => decode(share.slice(0, k)))).toBe('MALFORMED_MESSAGE');
        expect(errorCode(() => decode(junk))).toBe('MALFORMED_MESSAGE');
        expect(['none', 'MALFORMED_MESSAGE']).toContain(errorCode(() => decode(patch(share, k, [share[k]! ^ x]))));
      }),
      { numRuns: 60 },
    );
  });
});
