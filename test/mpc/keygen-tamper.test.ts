import { beforeAll, describe, expect, it } from 'vitest';
import { installSeededRandom, p1, p2, run, seeded, tamperAt, type Transcript } from './keygen-helpers.js';

installSeededRandom();

const make = () => ({ a: seeded(p1(), 'tamper/P1'), b: seeded(p2(), 'tamper/P2') });
let T: Transcript;
beforeAll(() => {
  const { a, b } = make();
  T = run(a, b);
});

/**
 * One byte inside each field of each message (the field layouts of keygen.ts; the variable-length
 * tails of K2 and K3 are sampled at fixed fractions), plus the round tag and the last byte.
 */
const K1_FIELDS = [0, 8, 20, 40, 180, 600, 950, 1100, 1130, 1145, 1300, 1600, 1913];
// K2: tag, sid2, Q2, Π_DL A and z, then from the end e_eq, e_range, kV (Π_DL's e_i vary in length).
const K2_FIELDS = [0, 8, 30, 600, -500, -27, -20, -8];
const K3_FRACTIONS = [0, 0.001, 0.011, 0.05, 0.11, 0.13, 0.35, 0.6, 0.85, 0.999];
const K4_FIELDS = [0, 5, 50];

const flip = (pos: number) => (m: Uint8Array): Uint8Array => {
  const out = m.slice();
  const i = pos < 0 ? out.length + pos : Math.min(pos, out.length - 1);
  out[i] = (out[i] ?? 0) ^ 0x41;
  return out;
};

function check(t: number, pos: number): void {
  const o = tamperAt(T, make, t, flip(pos));
  const where = `K${t + 1} byte ${pos}`;
  expect(o.error, where).toBeDefined();
  expect(['DKG_FAILED', 'MALFORMED_MESSAGE'], where).toContain(o.error?.code);
  expect(o.custodianResult, where).toBe(false);
  // (The client's result of a run with a tampered K4 came earlier, on the honest K3; see keygen.test.ts.)
  expect(o.clientResult, where).toBe(false);
  expect(o.stillAborted, where).toBe(true);
}

describe('keygen with one byte flipped in any message: someone aborts with a typed error, and no result', () => {
  it('K1 (client side; fields that only later checks can see abort at K2 or K3)', () => {
    expect(T.k1.length).toBe(1914);
    for (const pos of K1_FIELDS) check(0, pos);
  });
  it('K2', () => {
    for (const pos of K2_FIELDS) check(1, pos);
  });
  it('K3', () => {
    for (const f of K3_FRACTIONS) check(2, Math.floor(f * T.k3.length));
  });
  it('K4', () => {
    for (const pos of K4_FIELDS) check(3, pos);
  });
});
