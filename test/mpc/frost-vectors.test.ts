/**
 * RFC 9591 Appendix E.1, FROST(Ed25519, SHA-512), against the noble calls Tandem's parties wrap.
 * The RFC vector is 2-of-3 with signers {1, 3}, so it cannot run through a 2-of-2 party; it checks
 * the underlying noble calls (dealer shares, round one, round two, aggregation) byte for byte, then
 * Tandem's own pieces where they apply: the Lagrange coefficients of {1, 2} on the vector's shares,
 * strict RFC 8032 verification of the RFC signature, and noble's DKG with the vector's packages
 * (the frost-rs DKG vector noble tests with).
 */
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import type { DKG_Secret, NonceCommitments, Nonces, RNG } from '@noble/curves/abstract/frost.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { Fn, lagrange, verifyEd25519Strict } from '../../src/mpc/frost.js';

const V = {
  secret: '7b1c33d3f5291d85de664833beb1ad469f7fb6025a0ec78b3a790c6e13a98304',
  verifyingKey: '15d21ccd7ee42959562fc8aa63224c8851fb3ec85a3faf66040d380fb9738673',
  message: '74657374',
  coefficient: '178199860edd8c62f5212ee91eff1295d0d670ab4ed4506866bae57e7030b204',
  shares: {
    1: '929dcc590407aae7d388761cddb0c0db6f5627aea8e217f4a033f2ec83d93509',
    2: 'a91e66e012e4364ac9aaa405fcafd370402d9859f7b6685c07eed76bf409e80d',
    3: 'd3cb090a075eb154e82fdb4b3cb507f110040905468bb9c46da8bdea643a9a02',
  },
  round1: [
    {
      id: 1,
      hidingRandomness: '06894e04ee4aceec8619d5f6a0a180e2f47194d2ac306cba586b555e7c48d765',
      bindingRandomness: '40d6f879ff22e22409f7d808fed81f37118e7d3e4af71c0f44c60207553bcbce',
      hidingNonce: 'ef6599dea4010581a72b3018c37c29a4341d7cab0773e8687ca74dcf14009701',
      bindingNonce: '2baadfa0c69aa60d517ad4751de372a73f9d89cfc39026601f18458cdec12605',
      hidingCommitment: '9b116f12589591a7e23fe8048059ab10ab48e67739e7a2fb3890f61a7999478c',
      bindingCommitment: 'c39b66b7dfccb122da24f13587f9a08c4347cae70046ca15169adf90ba65854d',
      sigShare: '60997f0142e43e8005027fe5ab7447dac00d22c2d7ddd9571a02613ba7d81c08',
    },
    {
      id: 3,
      hidingRandomness: 'fa5d950626782aade9e33fa781376d4888c2d1de7c37518bc248eb818ed0cdde',
      bindingRandomness: '7459a4d14ded0e365b085271be8dc6600d5b88f3978a2174297ffa32001a5afc',
      hidingNonce: '80f8d9a4b8f9366e1a0b618107c907cd3ee29fa9bb40b4691cc1bde696240005',
      bindingNonce: '2610b664a5a187b4855e87d2ff485bebdf043dc2f161fcd4854cd01dc0276404',
      hidingCommitment: 'e679a2a971748ccfaabead4dbe8ac1def61275c186c79d471e1e45091ad1e687',
      bindingCommitment: 'b2a942478453fabb6bd3181c56ba657413447b4136e1daea2484d396d1a516b3',
      sigShare: '79390e78bc59699c7af831f8f5fb478ec871a85f561a8641b5670ac4443f720f',
    },
  ],
  signature:
    '154fb694ee7fcb37bf2381d94488c2a84b03b3352ad085feca81ad26d45852b7ecfe971ce4da95c4a95db93ac376b053897fca212ef85f99cf696bffeb178f07',
} as const;

/** An RNG that returns the given byte strings in order (noble's test idiom). */
const bufferRng = (list: Uint8Array[]): RNG =>
  ((len?: number) => {
    const next = list.shift();
    if (next === undefined || next.length !== len) throw new Error('test RNG exhausted or wrong length');
    return next;
  }) as RNG;
/** noble maps 48 RNG bytes to scalar+1; feed it v−1 so the dealer uses exactly the vector's coefficient. */
const mockScalar = (hex: string) => {
  const v = Fn.fromBytes(hexToBytes(hex)) - 1n;
  const out = new Uint8Array(48);
  for (let i = 0, x = v; i < 48; i++, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
};

describe('RFC 9591 E.1 FROST(Ed25519, SHA-512), through the noble calls Tandem wraps', () => {
  it('dealer shares, round one, round two and the aggregate match the RFC byte for byte', () => {
    const signers = { min: 2, max: 3 };
    const deal = ed25519_FROST.trustedDealer(signers, undefined, hexToBytes(V.secret), bufferRng([mockScalar(V.coefficient)]));
    expect(bytesToHex(deal.public.commitments[0]!)).toBe(V.verifyingKey);
    for (const id of [1, 2, 3] as const) {
      expect(bytesToHex(deal.secretShares[ed25519_FROST.Identifier.fromNumber(id)]!.signingShare)).toBe(V.shares[id]);
    }
    const msg = hexToBytes(V.message);
    const nonces: Record<string, Nonces> = {};
    const list: NonceCommitments[] = [];
    for (const o of V.round1) {
      const id = ed25519_FROST.Identifier.fromNumber(o.id);
      const c = ed25519_FROST.commit(deal.secretShares[id]!, bufferRng([hexToBytes(o.hidingRandomness), hexToBytes(o.bindingRandomness)]));
      expect(bytesToHex(c.nonces.hiding)).toBe(o.hidingNonce);
      expect(bytesToHex(c.nonces.binding)).toBe(o.bindingNonce);
      expect(bytesToHex(c.commitments.hiding)).toBe(o.hidingCommitment);
      expect(bytesToHex(c.commitments.binding)).toBe(o.bindingCommitment);
      nonces[id] = c.nonces;
      list.push(c.commitments);
    }
    const shares: Record<string, Uint8Array> = {};
    for (const o of V.round1) {
      const id = ed25519_FROST.Identifier.fromNumber(o.id);
      shares[id] = ed25519_FROST.signShare(deal.secretShares[id]!, deal.public, nonces[id]!, list, msg);
      expect(bytesToHex(shares[id])).toBe(o.sigShare);
      expect(ed25519_FROST.verifyShare(deal.public, list, msg, id, shares[id])).toBe(true);
      // noble consumes the nonces: a second signShare with the same object throws.
      expect(() => ed25519_FROST.signShare(deal.secretShares[id]!, deal.public, nonces[id]!, list, msg)).toThrow();
    }
    const sig = ed25519_FROST.aggregate(deal.public, list, msg, shares);
    expect(bytesToHex(sig)).toBe(V.signature);
  });

  it('the RFC signature passes strict RFC 8032 verification (what Tandem requires)', () => {
    const sig = hexToBytes(V.signature);
    expect(verifyEd25519Strict(sig, hexToBytes(V.message), hexToBytes(V.verifyingKey))).toBe(true);
    expect(ed25519.verify(sig, hexToBytes(V.message), hexToBytes(V.verifyingKey), { zip215: false })).toBe(true);
    const bad = sig.slice();
    bad[63] = (bad[63] ?? 0) ^ 0x10; // s ≥ ℓ (non-canonical): refused
    expect(verifyEd25519Strict(bad, hexToBytes(V.message), hexToBytes(V.verifyingKey))).toBe(false);
  });

  it("Tandem's Lagrange coefficients for {1, 2} interpolate the RFC's shares 1 and 2 to the group secret", () => {
    expect(lagrange(1)).toBe(2n);
    expect(lagrange(2)).toBe(Fn.neg(1n));
    const s1 = Fn.fromBytes(hexToBytes(V.shares[1]));
    const s2 = Fn.fromBytes(hexToBytes(V.shares[2]));
    const x = Fn.add(Fn.mul(lagrange(1), s1), Fn.mul(lagrange(2), s2));
    expect(bytesToHex(Fn.toBytes(x))).toBe(V.secret);
    expect(ed25519.Point.BASE.multiply(x).toHex()).toBe(V.verifyingKey);
  });
});

/** The frost-rs DKG vector (2-of-3) noble tests its DKG with: participant 1's view. */
const DKG = {
  verifyingKey: '3d9a67b93cec3acad2d32349cf7bdffaa23ae031a81174ddadae1c96bb455f4d',
  p1: {
    signingKey: 'fc36bff380c95d607cd78080f493dd382df50f7007ec1b150b9bfbd8041fd208',
    coefficient: '2d2c3e2b558e555b1608838e0ded66cd36d8aaa9ed1e39ce8474855d0825b20e',
    /** What participant 1 received from 2 and 3 (the vector's `signing_shares` of participant 1). */
    received: {
      2: 'ebb85acf4d46173f519a8680eac89f567d3f4a568843b741b251cc2f3d112b05',
      3: 'f088e2c4b3a7f81836968c642721031ed8828d2e3d532fecaa85c481e445000c',
    },
    verifyingShare: 'f6b5e87c902796d8dab6369cbd6d342a32e46c136e9f1f5af2fc385aed804de3',
    signingShare: '2afd4ef9a27f9e636dd627ae56772951b98f929ebaa13b11ede611e82e9baf08',
  },
  others: [
    {
      id: 2,
      commitments: [
        '17194e192408980956a9cfc388d38456b2e9619c42a57196facd7feaf980a3bd',
        '0b560ce2f1130dc7066fc47f6e3f1858ef553faf6bbc19d3cd2a502052f95ae5',
      ],
      pok: '4062dc7fc11144e636f4eddd7f2d8d3e02761671ae913674314a12b91f50bf98e9c410d651c45c3a1766c88524fccb7670de191e12686324c59333e74fc93402',
      /** What participant 1 sends this one (its `signing_shares["1"]` in the vector). */
      fromP1: '7ce74f90f61fe466fcad9757527aeda99aa565c3e2298eb11484069415693606',
    },
    {
      id: 3,
      commitments: [
        '0e9c22b9edbcd06757eee5ba3cfeb74e4fa6470932aa1ab689c86f1fe3dde70c',
        '0ae6e3e6ff1d612adb5cabb425ee51f2be9952467ce9b6d83095322909a42dd7',
      ],
      pok: '37df5a836ceaaf9f5e3b9ae6a485bad5c15788f3883386fe43f2921bbe2cb987d23683ca18973065a00d69bbf74f7961889b820e64f98878df7844a4e4785907',
      fromP1: 'bc3f985e314b276a3c192343816d7562d17d106dd048c77f99f88bf11d8ee804',
    },
  ],
} as const;

describe("noble's DKG (the calls frost-dkg.ts wraps) on the frost-rs / noble DKG vector", () => {
  const signers = { min: 2, max: 3 };
  const id = (n: number) => ed25519_FROST.Identifier.fromNumber(n);
  const round1 = DKG.others.map((o) => ({ identifier: id(o.id), commitment: o.commitments.map(hexToBytes), proofOfKnowledge: hexToBytes(o.pok) }));
  const secret = (): DKG_Secret => {
    const { coefficients, commitment } = ed25519_FROST.utils.generateSecretPolynomial(signers, hexToBytes(DKG.p1.signingKey), [
      Fn.fromBytes(hexToBytes(DKG.p1.coefficient)),
    ]);
    return { identifier: Fn.fromBytes(hexToBytes(id(1))), coefficients, commitment, signers } as DKG_Secret;
  };

  it('round 2 sends the vector shares; round 3 yields the vector key, verifying share and signing share', () => {
    const s = secret();
    const out = ed25519_FROST.DKG.round2(s, round1);
    for (const o of DKG.others) expect(bytesToHex(out[id(o.id)]!.signingShare)).toBe(o.fromP1);
    const key = ed25519_FROST.DKG.round3(
      s,
      round1,
      DKG.others.map((o) => ({ identifier: id(o.id), signingShare: hexToBytes(DKG.p1.received[o.id]) })),
    );
    expect(bytesToHex(key.public.commitments[0]!)).toBe(DKG.verifyingKey);
    expect(bytesToHex(key.public.verifyingShares[id(1)]!)).toBe(DKG.p1.verifyingShare);
    expect(bytesToHex(key.secret.signingShare)).toBe(DKG.p1.signingShare);
  });

  it('a tampered proof of knowledge or share is refused by the noble calls', () => {
    const badPok = round1.map((r, i) => (i === 0 ? { ...r, proofOfKnowledge: r.proofOfKnowledge.map((b, j) => (j === 40 ? b ^ 1 : b)) } : r));
    expect(() => ed25519_FROST.DKG.round2(secret(), badPok)).toThrow();
    const s = secret();
    ed25519_FROST.DKG.round2(s, round1);
    const shares = DKG.others.map((o, i) => {
      const b = hexToBytes(DKG.p1.received[o.id]);
      if (i === 1) b[0] = (b[0] ?? 0) ^ 1;
      return { identifier: id(o.id), signingShare: b };
    });
    expect(() => ed25519_FROST.DKG.round3(s, round1, shares)).toThrow();
  });
});
