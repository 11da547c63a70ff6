/**
 * Audit of issue 3 (keygen side): every received value of §5.1 at the place keygen receives it (K1 at
 * the client, K2 at the custodian, K3 at the client), fed to a real party and expected to abort with a
 * typed error that names the rule and carries no value. Also the derived value Q = Q1 + Q2 ≠ O on both
 * sides, proof reflection (aux 1 ↔ 2) at the party level, and erasure on abort.
 *
 * Messages are rebuilt from the decoded honest transcript (one seeded session in beforeAll) with one
 * field replaced; a party is brought to the right state by replaying it with its seed.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { isTandemError, type TandemError } from '../../src/errors.js';
import { commit } from '../../src/mpc/commitment.js';
import { G, Point, q } from '../../src/mpc/curve.js';
import { IntCommitmentParams } from '../../src/mpc/int-commitment.js';
import {
  decodeKeygenK1,
  decodeKeygenK2,
  decodeKeygenK3,
  KEYGEN_TAGS,
  type KeygenK1,
  type KeygenK2,
  type KeygenK3,
  type KeygenResult,
  type MpcParty,
} from '../../src/mpc/keygen.js';
import { pedersenGroup } from '../../src/mpc/pedersen.js';
import { EqProver, writeEqRound1, writeEqRound2 } from '../../src/mpc/pi-eq.js';
import { proveDl, writeDlProof } from '../../src/mpc/pi-dl.js';
import { writeIcBundle } from '../../src/mpc/pi-ic.js';
import { writeModulusProof } from '../../src/mpc/pi-n.js';
import { writePdlProof } from '../../src/mpc/pi-pdl.js';
import { RangeProver, writeRangeRound1, writeRangeRound2 } from '../../src/mpc/pi-range.js';
import { dkgSid } from '../../src/mpc/session.js';
import { decodeClientShare, decodeCustodianShare } from '../../src/mpc/share.js';
import { encodeWith, type WireWriter } from '../../src/mpc/wire.js';
import { big, errorCode, fixed, params, withFactor } from './helpers.js';
import { ic, installSeededRandom, p1, p2, pid1, pid2, run, seeded, type Transcript } from './keygen-helpers.js';

installSeededRandom();

const grp = pedersenGroup();
const pN = big(params.paillier[0]!.p); // a factor of the fixture-0 N that p1() uses

const make = () => ({ a: seeded(p1(), 'audit/P1'), b: seeded(p2(), 'audit/P2') });
let T: Transcript;
let K1: KeygenK1;
let K2: KeygenK2;
let K3: KeygenK3;
let x1: bigint;
let x2: bigint;
let N: bigint;
let N2: bigint;

beforeAll(() => {
  const { a, b } = make();
  T = run(a, b);
  K1 = decodeKeygenK1(T.k1);
  K2 = decodeKeygenK2(T.k2);
  K3 = decodeKeygenK3(T.k3);
  x1 = decodeCustodianShare(T.custodian.share).x1;
  x2 = decodeClientShare(T.client.share).x2;
  N = K1.n;
  N2 = N * N;
});

// --- re-encoders (the layouts of keygen.ts), so that one field can be replaced ---------------------

const raw = (w: WireWriter, b: Uint8Array): WireWriter => w.bytes(b, b.length);

function encK1(k: KeygenK1): Uint8Array {
  return encodeWith((w) => {
    raw(w, Uint8Array.of(KEYGEN_TAGS.K1));
    w.bytes(k.sid1, 16).fixed(k.epoch, 8).bytes(k.comQ1, 32);
    w.fixed(k.n, 256).fixed(k.cKey, 512).fixed(k.com, 256);
    writeEqRound1(w, k.eq1);
    writeRangeRound1(w, k.range1);
    if (k.icProof !== undefined) {
      raw(w, Uint8Array.of(1));
      writeIcBundle(w, k.ic, k.icProof);
    } else {
      raw(w, Uint8Array.of(0));
      w.fixed(k.ic.nTilde, 256).fixed(k.ic.g, 256).fixed(k.ic.h, 256);
    }
  });
}

function encK2(k: KeygenK2): Uint8Array {
  return encodeWith((w) => {
    raw(w, Uint8Array.of(KEYGEN_TAGS.K2));
    w.bytes(k.sid2, 16).point(k.Q2);
    writeDlProof(w, k.dl);
    w.fixed(k.eEq, 7).fixed(k.eRange, 7).bytes(k.kV, 16);
  });
}

function encK3(k: KeygenK3): Uint8Array {
  return encodeWith((w) => {
    raw(w, Uint8Array.of(KEYGEN_TAGS.K3));
    w.bytes(k.sid, 32).bytes(k.u, 32).point(k.Q1);
    writeDlProof(w, k.dl);
    writePdlProof(w, k.pdl);
    writeEqRound2(w, k.eq2);
    writeRangeRound2(w, k.range2);
    writeModulusProof(w, k.sigma);
  });
}

const at = <T>(arr: readonly T[], i: number, v: T): T[] => arr.map((y, j) => (j === i ? v : y));

// --- drivers -------------------------------------------------------------------------------------

/** Calls fn, expecting a TandemError; returns it. */
function thrown(fn: () => unknown): TandemError {
  try {
    fn();
  } catch (e) {
    if (isTandemError(e)) return e;
    throw new Error(`expected a TandemError, got ${String(e)}`);
  }
  throw new Error('expected a TandemError, got none');
}

/** No value in error details: nothing as long as a 128-bit number in hex or decimal (§5.2, DESIGN §6). */
function expectNoValue(e: TandemError): void {
  const json = JSON.stringify(e.toJSON());
  expect(json).not.toMatch(/[0-9a-fA-F]{32}/);
  expect(json).not.toMatch(/\d{39}/);
}

/** Feeds `message` to `party`, expects `code` (and check / field), then the same error again on any later call. */
function expectAbort(
  party: MpcParty<KeygenResult>,
  message: Uint8Array,
  code: string,
  where: { check?: string; proof?: string; field?: string } = {},
  honestNext?: Uint8Array,
): TandemError {
  const e = thrown(() => party.receive(message));
  expect(e.code, JSON.stringify(e.details)).toBe(code);
  if (where.check !== undefined) expect(e.details['check']).toBe(where.check);
  if (where.proof !== undefined) expect(e.details['proof']).toBe(where.proof);
  if (where.field !== undefined) expect(e.details['field']).toBe(where.field);
  expectNoValue(e);
  // aborted for good: the honest message is refused with the same error
  const again = thrown(() => party.receive(honestNext ?? message));
  expect(again.code).toBe(code);
  return e;
}

/** A fresh client awaiting K1 (pinned unless told otherwise). */
function clientAtK1(pinned = true): MpcParty<KeygenResult> {
  const c = p2({ pinned });
  c.start();
  return c;
}

/** The seeded client replayed to await K3 (after `k1`, the honest K1 unless given). */
function clientAtK3(k1: Uint8Array = T.k1): { c: MpcParty<KeygenResult>; k2: Uint8Array } {
  const c = seeded(p2(), 'audit/P2');
  c.start();
  const [k2] = c.receive(k1).messages;
  if (k2 === undefined) throw new Error('no K2');
  return { c, k2 };
}

/** The seeded custodian replayed to await K2. */
function custodianAtK2(): MpcParty<KeygenResult> {
  const a = seeded(p1(), 'audit/P1');
  const [k1] = a.start();
  expect(k1).toEqual(T.k1);
  return a;
}

// --------------------------------------------------------------------------------------------------

describe('audit §5.1 at K1 (client): Paillier N, ciphertext c_key, Pedersen Com, Ñ elements, flag', () => {
  const k1With = (patch: Partial<KeygenK1>): Uint8Array => encK1({ ...K1, ...patch });

  it('the re-encoder reproduces the honest K1 byte for byte', () => {
    expect(encK1(K1)).toEqual(T.k1);
  });

  it('N: 2047 bits, 0, even, a factor 3 or 8191, prime → DKG_FAILED naming the rule', () => {
    const cases: [bigint, string][] = [
      [N >> 1n, 'bits(N) = 2048'],
      [0n, 'bits(N) = 2048'],
      [N - 1n, 'N odd'],
      [withFactor(3n), 'no prime ≤ 8191 divides N'],
      [withFactor(8191n), 'no prime ≤ 8191 divides N'],
      [big(params.primeN), 'N composite'],
    ];
    for (const [n, check] of cases) expectAbort(clientAtK1(), k1With({ n }), 'DKG_FAILED', { check, proof: 'paillier_n' }, T.k1);
  });

  it('c_key: 0, N², > N², a multiple of a prime factor of N → DKG_FAILED "c_key valid"', () => {
    for (const cKey of [0n, N2, N2 + 1n, (1n << 4096n) - 1n, pN * 3n, N]) {
      expectAbort(clientAtK1(), k1With({ cKey }), 'DKG_FAILED', { check: 'c_key valid' }, T.k1);
    }
  });

  it('Com: outside the order-P′ subgroup, 0 → DKG_FAILED; Com ≥ P → MALFORMED_MESSAGE (fixed-width element above its modulus)', () => {
    for (const com of [(K1.com * (grp.p - 1n)) % grp.p, 0n, grp.p - 1n]) {
      expectAbort(clientAtK1(), k1With({ com }), 'DKG_FAILED', { check: 'Com^P′ ≡ 1' }, T.k1);
    }
    for (const com of [grp.p, (1n << 2048n) - 1n]) {
      expectAbort(clientAtK1(), k1With({ com }), 'MALFORMED_MESSAGE', { field: 'Com' }, T.k1);
    }
  });

  it('pinned client: any of Ñ, g̃, h̃ changed → DKG_FAILED (pin)', () => {
    const variants = [
      new IntCommitmentParams(ic.params.nTilde, ic.params.g, ic.params.h + 1n),
      new IntCommitmentParams(ic.params.nTilde, ic.params.nTilde - ic.params.g, ic.params.h),
      new IntCommitmentParams(ic.params.nTilde + 2n, ic.params.g, ic.params.h),
    ];
    for (const v of variants) {
      expectAbort(clientAtK1(), k1With({ ic: v }), 'DKG_FAILED', { check: 'Ñ, g̃, h̃ match the pinned hash' }, T.k1);
    }
  });

  it('unpinned client: Π_IC bundle with g̃ = 0, g̃ = Ñ, h̃ = 0, h̃ ≥ Ñ, even Ñ, a tampered E → DKG_FAILED (pi_ic)', () => {
    const { nTilde: n, g, h } = ic.params;
    const bad: [IntCommitmentParams, string][] = [
      [new IntCommitmentParams(n, 0n, h), '0 < g̃, h̃ < Ñ'],
      [new IntCommitmentParams(n, n, h), '0 < g̃, h̃ < Ñ'],
      [new IntCommitmentParams(n, g, 0n), '0 < g̃, h̃ < Ñ'],
      [new IntCommitmentParams(n, g, n + 5n), '0 < g̃, h̃ < Ñ'],
      [new IntCommitmentParams(n - 1n, g, h), 'bits(Ñ) = 2048 and Ñ odd'],
    ];
    for (const [prm, check] of bad) {
      expectAbort(clientAtK1(false), k1With({ ic: prm, icProof: ic.proof }), 'DKG_FAILED', { check, proof: 'pi_ic' });
    }
    const E = ic.proof.E.slice();
    E[3]! ^= 0x10;
    expectAbort(clientAtK1(false), k1With({ ic: ic.params, icProof: { ...ic.proof, E } }), 'DKG_FAILED', {
      check: 'E = RO_128(…)',
      proof: 'pi_ic',
    });
  });

  it('a message that is not bytes (a string, null, an array of numbers) → MALFORMED_MESSAGE, and the client stays aborted', () => {
    for (const junk of ['abc', null, [KEYGEN_TAGS.K1, 0, 0]] as unknown as Uint8Array[]) {
      expectAbort(clientAtK1(), junk, 'MALFORMED_MESSAGE', { field: 'message' }, T.k1);
    }
  });

  it('wire: Π_IC flag 2, Ñ = 0 (both flags), a z_i over its bound → MALFORMED_MESSAGE', () => {
    const honest = encK1(K1);
    const flagAt = 1 + 16 + 8 + 32 + 256 + 512 + 256 + 32 + 32;
    expect(honest[flagAt]).toBe(0);
    const flag2 = honest.slice();
    flag2[flagAt] = 2;
    expectAbort(clientAtK1(), flag2, 'MALFORMED_MESSAGE', { field: 'Π_IC flag' }, T.k1);
    const zeroN = honest.slice();
    zeroN.fill(0, flagAt + 1, flagAt + 257);
    expectAbort(clientAtK1(), zeroN, 'MALFORMED_MESSAGE', { field: 'Ñ' }, T.k1);
    const withProof = encK1({ ...K1, icProof: ic.proof });
    const zeroN1 = withProof.slice();
    zeroN1.fill(0, flagAt + 1, flagAt + 257);
    expectAbort(clientAtK1(false), zeroN1, 'MALFORMED_MESSAGE', { field: 'Ñ' });
    // z_0 with one byte more than l+66 bits allow (be16 length 0x0113 = 275 > 273)
    const zAt = flagAt + 1 + 768 + 16;
    const over = new Uint8Array([...withProof.slice(0, zAt), 0x01, 0x13, ...new Uint8Array(275).fill(1), ...withProof.slice(zAt)]);
    expectAbort(clientAtK1(false), over, 'MALFORMED_MESSAGE', { field: 'Π_IC z[0]' });
  });
});

describe('audit §5.1 at K2 (custodian): points, scalars, bounded e_i, challenges; Q ≠ O; aux', () => {
  /** A K2 made by a (malicious) client that knows its own x2, under the real sid. */
  function craftK2(w: bigint, Q2: Point, aux: 1 | 2, sid2 = fixed(16, 0x5a)): Uint8Array {
    const sid = dkgSid({ epoch: 0n, pid1, pid2, sid1: K1.sid1, sid2 });
    const dl = proveDl(w, Q2, { protocol: 'dkg', sid, aux });
    return encK2({ sid2, Q2, dl, eEq: 3n, eRange: 5n, kV: fixed(16, 0x11) });
  }

  it('the re-encoder reproduces the honest K2; a crafted K2 with a valid Π_DL (aux 2) is accepted (control)', () => {
    expect(encK2(K2)).toEqual(T.k2);
    const a = custodianAtK2();
    const out = a.receive(craftK2(7n, G.multiply(7n), 2));
    expect(out.messages).toHaveLength(1);
  });

  it('Q2 = −Q1 (so Q = O) with a valid Π_DL → DKG_FAILED "Q = Q1 + Q2 ≠ O"; the prover states are erased', () => {
    const eqAbort = vi.spyOn(EqProver.prototype, 'abort');
    const rangeAbort = vi.spyOn(RangeProver.prototype, 'abort');
    const a = custodianAtK2();
    const Q1 = G.multiply(x1);
    expectAbort(a, craftK2(q - x1, Q1.negate(), 2), 'DKG_FAILED', { check: 'Q = Q1 + Q2 ≠ O' }, T.k2);
    expect(eqAbort).toHaveBeenCalledTimes(1);
    expect(rangeAbort).toHaveBeenCalledTimes(1);
    eqAbort.mockRestore();
    rangeAbort.mockRestore();
    expect(errorCode(() => a.start())).toBe('DKG_FAILED');
  });

  it("a Π_DL made for the custodian's role (aux 1) is rejected (reflection)", () => {
    expectAbort(custodianAtK2(), craftK2(7n, G.multiply(7n), 1), 'DKG_FAILED', { proof: 'pi_dl' }, T.k2);
  });

  it('wire: Q2 and A_i with prefix 04, x ≥ p, x not on the curve → MALFORMED_MESSAGE naming the field', () => {
    const honest = T.k2;
    const patchPoint = (at: number, kind: 'prefix' | 'xp' | 'off'): Uint8Array => {
      const m = honest.slice();
      if (kind === 'prefix') m[at] = 0x04;
      else if (kind === 'xp') m.fill(0xff, at + 1, at + 33);
      else m.fill(0, at + 1, at + 33); // x = 0: x³ + 7 = 7 is not a square mod p
      return m;
    };
    const decode = (m: Uint8Array): string => {
      try {
        decodeKeygenK2(m);
        return 'none';
      } catch (e) {
        return isTandemError(e) ? `${e.code}/${String(e.details['field'])}` : 'crash';
      }
    };
    for (const kind of ['prefix', 'xp', 'off'] as const) {
      expect(decode(patchPoint(17, kind))).toBe('MALFORMED_MESSAGE/Q2');
      expect(decode(patchPoint(50, kind))).toBe('MALFORMED_MESSAGE/Π_DL A[0]');
      expect(decode(patchPoint(50 + 31 * 33, kind))).toBe('MALFORMED_MESSAGE/Π_DL A[31]');
    }
    // and a real custodian aborts on it
    expectAbort(custodianAtK2(), patchPoint(17, 'off'), 'MALFORMED_MESSAGE', { field: 'Q2' }, T.k2);
  });

  it('wire: Fischlin e_i = 512, e_i with a leading zero or 3 bytes, z_i = q, e_eq = 2^52, e_range = 2^50 → MALFORMED_MESSAGE', () => {
    const eAt = 1 + 16 + 33 + 32 * 33;
    const e0len = 2 + ((T.k2[eAt]! << 8) | T.k2[eAt + 1]!);
    const withE0 = (enc: number[]): Uint8Array => new Uint8Array([...T.k2.slice(0, eAt), ...enc, ...T.k2.slice(eAt + e0len)]);
    const field = (m: Uint8Array): string => {
      try {
        decodeKeygenK2(m);
        return 'none';
      } catch (e) {
        return isTandemError(e) ? `${e.code}/${String(e.details['field'])}` : 'crash';
      }
    };
    expect(field(withE0([0, 2, 0x02, 0x00]))).toBe('MALFORMED_MESSAGE/Π_DL e[0]'); // 512
    expect(field(withE0([0, 2, 0x00, 0x05]))).toBe('MALFORMED_MESSAGE/Π_DL e[0]'); // leading zero
    expect(field(withE0([0, 3, 0x01, 0x00, 0x00]))).toBe('MALFORMED_MESSAGE/Π_DL e[0]'); // longer than 512's byte size
    expect(field(withE0([0, 1, 0x00]))).toBe('MALFORMED_MESSAGE/Π_DL e[0]'); // 0 must be the empty string
    expect(field(withE0([0, 0]))).not.toBe('crash'); // e_0 = 0 is well formed (then fails F / the equation)

    const zAt = T.k2.length - 16 - 7 - 7 - 32 * 32;
    const zq = T.k2.slice();
    zq.set(encodeWith((w) => w.fixed(q, 32)), zAt);
    expect(field(zq)).toBe('MALFORMED_MESSAGE/Π_DL z[0]');

    const eEq = T.k2.slice();
    eEq.set(encodeWith((w) => w.fixed(1n << 52n, 7)), T.k2.length - 30);
    expect(field(eEq)).toBe('MALFORMED_MESSAGE/Π_eq challenge');
    const eRange = T.k2.slice();
    eRange.set(encodeWith((w) => w.fixed(1n << 50n, 7)), T.k2.length - 23);
    expect(field(eRange)).toBe('MALFORMED_MESSAGE/Π_range challenge');
    // the largest legal challenges decode
    expect(field(encK2({ ...K2, eEq: (1n << 52n) - 1n, eRange: (1n << 50n) - 1n }))).toBe('none');
    // and a real custodian aborts on an oversize challenge
    expectAbort(custodianAtK2(), eEq, 'MALFORMED_MESSAGE', { field: 'Π_eq challenge' }, T.k2);
  });
});

describe('audit §5.1 at K3 (client): Q1, opening, Π_DL role, Q ≠ O, then each sub-proof through the party', () => {
  const k3With = (patch: Partial<KeygenK3>): Uint8Array => encK3({ ...K3, ...patch });

  it('the re-encoder reproduces the honest K3; the replayed client makes the honest K2', () => {
    expect(encK3(K3)).toEqual(T.k3);
    expect(clientAtK3().k2).toEqual(T.k2);
  });

  it('Q1 = −Q2 (so Q = O), committed in K1 and with a valid Π_DL → DKG_FAILED "Q = Q1 + Q2 ≠ O"', () => {
    const negQ2 = K2.Q2.negate();
    const { commitment, u } = commit('dkg/Q1', K1.sid1, pid1, [negQ2]);
    const k1 = encK1({ ...K1, comQ1: commitment });
    const { c, k2 } = clientAtK3(k1);
    expect(decodeKeygenK2(k2).Q2.equals(K2.Q2)).toBe(true); // same seed: same x2
    const dl = proveDl(q - x2, negQ2, { protocol: 'dkg', sid: K3.sid, aux: 1 });
    expectAbort(c, k3With({ u, Q1: negQ2, dl }), 'DKG_FAILED', { check: 'Q = Q1 + Q2 ≠ O' }, T.k3);
  });

  it("a Π_DL for Q1 made in the client's role (aux 2) is rejected (reflection)", () => {
    const dl = proveDl(x1, K3.Q1, { protocol: 'dkg', sid: K3.sid, aux: 2 });
    expectAbort(clientAtK3().c, k3With({ dl }), 'DKG_FAILED', { proof: 'pi_dl' }, T.k3);
  });

  it('an opening key other than the committed one → DKG_FAILED "commitment opens"; Q1 prefix 04 → MALFORMED_MESSAGE', () => {
    expectAbort(clientAtK3().c, k3With({ u: fixed(32, 1) }), 'DKG_FAILED', { check: 'commitment opens' }, T.k3);
    const m = T.k3.slice();
    m[65] = 0x04;
    expectAbort(clientAtK3().c, m, 'MALFORMED_MESSAGE', { field: 'Q1' }, T.k3);
  });

  it('Π_N σ_i: 0, N, a multiple of a factor of N → DKG_FAILED (pi_n)', () => {
    expectAbort(clientAtK3().c, k3With({ sigma: at(K3.sigma, 0, 0n) }), 'DKG_FAILED', { check: '0 < σ_i < N', proof: 'pi_n' });
    expectAbort(clientAtK3().c, k3With({ sigma: at(K3.sigma, 3, N) }), 'DKG_FAILED', { check: '0 < σ_i < N', proof: 'pi_n' });
    expectAbort(clientAtK3().c, k3With({ sigma: at(K3.sigma, 1, pN) }), 'DKG_FAILED', { proof: 'pi_n' });
  });

  it('Π_PDL c_r: 0, N², gcd ≠ 1; r_z: N, gcd ≠ 1 → DKG_FAILED (pi_pdl)', () => {
    const pdl = K3.pdl;
    const cases: [Partial<typeof pdl>, string][] = [
      [{ cR: 0n }, '0 < c_r < N²'],
      [{ cR: N2 }, '0 < c_r < N²'],
      [{ cR: pN * 5n }, 'gcd(c_r·e·r_z mod N, N) = 1'],
      [{ rZ: N }, '0 < r_z < N'],
      [{ rZ: pN }, 'gcd(c_r·e·r_z mod N, N) = 1'],
    ];
    for (const [patch, check] of cases) {
      expectAbort(clientAtK3().c, k3With({ pdl: { ...pdl, ...patch } }), 'DKG_FAILED', { check, proof: 'pi_pdl' });
    }
  });

  it('Π_eq: D_i a multiple of a factor of N; ν = P′; C̃ = P → DKG_FAILED (eq)', () => {
    const eq = K3.eq2;
    expectAbort(clientAtK3().c, k3With({ eq2: { ...eq, D: at(eq.D, 2, pN) } }), 'DKG_FAILED', {
      check: 'gcd(c·Π(D_i·c̃_i) mod N, N) = 1',
      proof: 'eq',
    });
    expectAbort(clientAtK3().c, k3With({ eq2: { ...eq, nu: grp.pPrime } }), 'DKG_FAILED', { check: '0 ≤ ν < P′', proof: 'eq' });
    expectAbort(clientAtK3().c, k3With({ eq2: { ...eq, CTilde: grp.p } }), 'DKG_FAILED', { check: '0 < C̃ < P', proof: 'eq' });
  });

  it('Π_range: f_i = P′; c̃_i = P → DKG_FAILED (range)', () => {
    const r = K3.range2;
    expectAbort(clientAtK3().c, k3With({ range2: { ...r, f: at(r.f, 7, grp.pPrime) } }), 'DKG_FAILED', {
      check: '0 ≤ f_i < P′',
      proof: 'range',
    });
    expectAbort(clientAtK3().c, k3With({ range2: { ...r, cTilde: at(r.cTilde, 49, grp.p) } }), 'DKG_FAILED', {
      check: '0 < c̃_i < P',
      proof: 'range',
    });
  });

  it('wire: Π_PDL R off the curve, z with a leading zero or over-long, Π_eq d_i ≥ q·2^77, Π_range d_i with a leading zero → MALFORMED_MESSAGE', () => {
    const len = (write: (w: WireWriter) => void): number => encodeWith(write).length;
    const pdlAt = len((w) => {
      raw(w, Uint8Array.of(0)).bytes(K3.sid, 32).bytes(K3.u, 32).point(K3.Q1);
      writeDlProof(w, K3.dl);
    });
    const field = (m: Uint8Array): string => {
      try {
        decodeKeygenK3(m);
        return 'none';
      } catch (e) {
        return isTandemError(e) ? `${e.code}/${String(e.details['field'])}` : 'crash';
      }
    };
    const RAt = pdlAt + 512;
    const offCurve = T.k3.slice();
    offCurve.fill(0, RAt + 1, RAt + 33);
    expect(field(offCurve)).toBe('MALFORMED_MESSAGE/Π_PDL R');
    const zAt = RAt + 33;
    const zLen = (T.k3[zAt]! << 8) | T.k3[zAt + 1]!;
    const z = T.k3.slice(zAt + 2, zAt + 2 + zLen);
    const splice = (from: number, oldLen: number, bytes: number[] | Uint8Array): Uint8Array =>
      new Uint8Array([...T.k3.slice(0, from), ...bytes, ...T.k3.slice(from + oldLen)]);
    expect(field(splice(zAt, 2 + zLen, [0, zLen + 1, 0, ...z]))).toBe('MALFORMED_MESSAGE/Π_PDL z'); // leading zero
    expect(field(splice(zAt, 2 + zLen, [0, 74, ...new Uint8Array(74).fill(0xff)]))).toBe('MALFORMED_MESSAGE/Π_PDL z'); // too long
    expect(field(splice(zAt, 2 + zLen, [0, 73, ...new Uint8Array(73).fill(0xff)]))).toBe('MALFORMED_MESSAGE/Π_PDL z'); // ≥ bound

    const eqDAt = len((w) => {
      raw(w, Uint8Array.of(0)).bytes(K3.sid, 32).bytes(K3.u, 32).point(K3.Q1);
      writeDlProof(w, K3.dl);
      writePdlProof(w, K3.pdl);
    }) + 4 * 512 + 256 + 32;
    const d0Len = (T.k3[eqDAt]! << 8) | T.k3[eqDAt + 1]!;
    const eqBound = encodeWith((w) => w.fixed(q << 77n, 42));
    expect(field(splice(eqDAt, 2 + d0Len, [0, 42, ...eqBound]))).toBe('MALFORMED_MESSAGE/Π_eq d[0]');

    const rangeDAt = len((w) => {
      raw(w, Uint8Array.of(0)).bytes(K3.sid, 32).bytes(K3.u, 32).point(K3.Q1);
      writeDlProof(w, K3.dl);
      writePdlProof(w, K3.pdl);
      writeEqRound2(w, K3.eq2);
    }) + 50 * 256 + 32;
    const rd0Len = (T.k3[rangeDAt]! << 8) | T.k3[rangeDAt + 1]!;
    const rd0 = T.k3.slice(rangeDAt + 2, rangeDAt + 2 + rd0Len);
    expect(field(splice(rangeDAt, 2 + rd0Len, [0, rd0Len + 1, 0, ...rd0]))).toBe('MALFORMED_MESSAGE/Π_range d[0]');
    // and a real client aborts on one of them
    expectAbort(clientAtK3().c, offCurve, 'MALFORMED_MESSAGE', { field: 'Π_PDL R' }, T.k3);
  });
});

describe('audit: decoders and the client fuzzed past the round tag (fast-check)', () => {
  const decoders = [
    (m: Uint8Array) => decodeKeygenK1(m),
    (m: Uint8Array) => decodeKeygenK2(m),
    (m: Uint8Array) => decodeKeygenK3(m),
  ] as const;
  const tags = [KEYGEN_TAGS.K1, KEYGEN_TAGS.K2, KEYGEN_TAGS.K3] as const;

  it('honest messages (K1 with and without Π_IC, K2, K3) with 1–4 bytes changed, or cut and extended: a value or MALFORMED_MESSAGE', () => {
    const honest = (): Uint8Array[] => [T.k1, encK1({ ...K1, icProof: ic.proof }), T.k2, T.k3];
    const which = [0, 0, 1, 2] as const;
    fc.assert(
      fc.property(
        fc.nat({ max: 3 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 300 }),
        (i, flips, cut, tail) => {
          const m = honest()[i]!.slice();
          const decode = decoders[which[i]!];
          for (const [pos, x] of flips) m[1 + (pos % (m.length - 1))]! ^= x; // keep the tag: go past it
          expect(['none', 'MALFORMED_MESSAGE']).toContain(errorCode(() => decode(m)));
          const spliced = new Uint8Array([...m.slice(0, 1 + (cut % (m.length - 1))), ...tail]);
          expect(['none', 'MALFORMED_MESSAGE']).toContain(errorCode(() => decode(spliced)));
        },
      ),
      { numRuns: 120 },
    );
  });

  it('the right tag followed by random bytes of any length: MALFORMED_MESSAGE, never a crash', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 }), fc.uint8Array({ maxLength: 4000 }), (i, body) => {
        expect(errorCode(() => decoders[i]!(new Uint8Array([tags[i]!, ...body])))).toBe('MALFORMED_MESSAGE');
      }),
      { numRuns: 150 },
    );
  });

  it('a pinned client given K1 with random bytes changed: accepted (then K2) or a typed error, never INTERNAL or a crash', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }), (flips) => {
        const m = T.k1.slice();
        for (const [pos, x] of flips) m[1 + (pos % (m.length - 1))]! ^= x;
        const code = errorCode(() => clientAtK1().receive(m));
        expect(['none', 'MALFORMED_MESSAGE', 'DKG_FAILED']).toContain(code);
      }),
      { numRuns: 20 },
    );
  });
});
