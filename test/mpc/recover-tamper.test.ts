import { beforeAll, describe, expect, it } from 'vitest';
import { installSeededRandom, run, tamperAt, type Transcript } from './keygen-helpers.js';
import { backupKey, backupParties, keygenPair, recoverParties, sharesOf, signingKey, type Shares } from './reshare-helpers.js';

installSeededRandom();

let x: bigint;
let signing: Shares;
let backup: Shares;
let pristine: { signing: Shares; backup: Shares };
let R: Transcript;
const make = () => recoverParties(backup, 'T');
const copy = (s: Shares): Shares => ({ custodian: s.custodian.slice(), client: s.client.slice() });

beforeAll(() => {
  const K = keygenPair('recover-tamper');
  signing = sharesOf(K);
  x = signingKey(signing);
  const b = backupParties(signing, 'PASSWORD', 'T');
  backup = sharesOf(run(b.a, b.b));
  pristine = { signing: copy(signing), backup: copy(backup) };
  R = run(make().a, make().b);
});

const flip = (pos: number) => (m: Uint8Array): Uint8Array => {
  const out = m.slice();
  const i = pos < 0 ? out.length + pos : Math.min(pos, out.length - 1);
  out[i] = (out[i] ?? 0) ^ 0x41;
  return out;
};

function check(t: number, pos: number): void {
  const o = tamperAt(R, make, t, flip(pos));
  const where = `R${t + 1} byte ${pos}`;
  expect(['RECOVER_FAILED', 'MALFORMED_MESSAGE'], where).toContain(o.error?.code);
  expect(o.custodianResult, where).toBe(false);
  // The client outputs at R3, after its last check. A tampered R4, or a δ2 changed in R2 (which only the
  // custodian's share depends on), is caught by the custodian at R4, which then never installs the pair.
  if (o.clientResult) expect(o.error?.details['check'], where).toBe('R4 confirmation matches');
  if (t < 3 && !(t === 1 && pos >= 17 && pos < 49)) expect(o.clientResult, where).toBe(false);
  expect(o.stillAborted, where).toBe(true);
  // the previous pairs are untouched byte for byte
  expect(signing.custodian, where).toEqual(pristine.signing.custodian);
  expect(signing.client, where).toEqual(pristine.signing.client);
  expect(backup.custodian, where).toEqual(pristine.backup.custodian);
  expect(backup.client, where).toEqual(pristine.backup.client);
}

/**
 * One byte inside each field of each message. R1 has K1's layout (rnd_P1 for sid1, the δ1 commitment
 * for the Q1 commitment): tag, rnd_P1, epoch′, commitment, N′, c_b, Com, Π_eq and Π_range commitments,
 * Π_IC flag, Ñ/g̃/h̃. R2: tag, rnd_P2, δ2, B2, Π_DL, then from the end e_eq, e_range, kV. R3: tag, sid,
 * δ1, u, then Π_DL (3%), Π_PDL (8%), Π_eq (12%), Π_range (60%) and σ (the last byte). R4: tag, sid, confirm.
 */
const R1_FIELDS = [0, 8, 20, 40, 180, 600, 950, 1100, 1130, 1145, 1300, 1913];
const R2_FIELDS = [0, 8, 30, 60, 600, -500, -27, -20, -8];
const R3_FIELDS = [0, 10, 40, 80, 0.03, 0.08, 0.12, 0.6, 0.999];
const R4_FIELDS = [0, 5, 50];

describe('recover with one byte flipped in any field: a typed error, no result, previous pairs intact', () => {
  it('R1', () => {
    expect(R.k1.length).toBe(1914);
    for (const pos of R1_FIELDS) check(0, pos);
  });
  it('R2', () => {
    for (const pos of R2_FIELDS) check(1, pos);
  });
  it('R3', () => {
    for (const f of R3_FIELDS) check(2, f < 1 ? Math.floor(f * R.k3.length) : f);
  });
  it('R4', () => {
    for (const pos of R4_FIELDS) check(3, pos);
  });
  it('after every abort the earlier signing pair and the backup pair still decode and are pairs of the same x', () => {
    expect(signingKey(signing)).toBe(x);
    expect(backupKey(backup)).toBe(x);
  });
});
