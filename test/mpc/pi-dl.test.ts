import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '@noble/hashes/utils.js';
import { decodePoint, G, Point, q, randomScalar } from '../../src/mpc/curve.js';
import { decodeDlProof, encodeDlProof, proveDl, verifyDl, type DlProof } from '../../src/mpc/pi-dl.js';
import type { ProofContext } from '../../src/mpc/session.js';
import { errorCode, expectError, fixed, vectors } from './helpers.js';

const sid = fixed(32, 7);
const ctx: ProofContext = { protocol: 'dkg', sid, aux: 2 };
const w = randomScalar();
const Q = G.multiply(w);
const proof = proveDl(w, Q, ctx);

const replace = <T>(arr: readonly T[], i: number, v: T): T[] => arr.map((x, j) => (j === i ? v : x));
const reject = (p: DlProof, check?: string, c: ProofContext = ctx, statement = Q): void =>
  expectError(() => verifyDl(statement, p, c), 'DKG_FAILED', check);

describe('Π_DL, Fischlin (§2.1)', () => {
  it('accepts an honest proof, with exactly 32 repetitions and e_i < 512', () => {
    verifyDl(Q, proof, ctx);
    expect(proof.A).toHaveLength(32);
    expect(proof.e.every((e) => e >= 0 && e < 512)).toBe(true);
  });

  it('accepts the stored transcript as it is, and rejects it with any byte flipped (property)', () => {
    const v = vectors.piDl;
    const c: ProofContext = { protocol: v.protocol, sid: hexToBytes(v.sid), aux: v.aux };
    const Qv = decodePoint(hexToBytes(v.Q), 'Q');
    const bytes = hexToBytes(v.proof);
    verifyDl(Qv, decodeDlProof(bytes), c);
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const b = bytes.slice();
        b[i]! ^= x;
        const code = errorCode(() => verifyDl(Qv, decodeDlProof(b), c));
        expect(['MALFORMED_MESSAGE', 'DKG_FAILED']).toContain(code);
      }),
      { numRuns: 150 },
    );
  });

  it('rejects a flipped bit in any z_i, e_i or A_i', () => {
    for (const i of [0, 17, 31]) {
      reject({ ...proof, z: replace(proof.z, i, proof.z[i]! ^ 1n) });
      reject({ ...proof, e: replace(proof.e, i, proof.e[i]! ^ 1) });
      const A = proof.A[i]!.toBytes(true);
      A[32]! ^= 1;
      let Ai: Point;
      try {
        Ai = Point.fromBytes(A);
      } catch {
        Ai = proof.A[i]!.add(G); // the flipped x is not on the curve: tamper differently
      }
      reject({ ...proof, A: replace(proof.A, i, Ai) });
    }
  });

  it('rejects a wrong statement, sid, aux (1↔2), protocol label, or a proof replayed in another role', () => {
    reject(proof, 'F(i, e_i, z_i) has 4 zero bits', ctx, Q.add(G));
    reject(proof, undefined, { ...ctx, sid: fixed(32, 8) });
    reject(proof, undefined, { ...ctx, aux: 1 });
    expectError(() => verifyDl(Q, proof, { ...ctx, protocol: 'sign' }), 'SIGN_FAILED');
    expectError(() => verifyDl(Q, proof, { ...ctx, protocol: 'backup' }), 'BACKUP_FAILED');
  });

  it('rejects A_i = O, Q = O, z_i = q, e_i = 512, non-integer e_i', () => {
    reject({ ...proof, A: replace(proof.A, 3, Point.ZERO) }, 'A_i on the curve and ≠ O');
    reject(proof, 'Q on the curve and ≠ O', ctx, Point.ZERO);
    reject({ ...proof, z: replace(proof.z, 0, q) }, '0 ≤ z_i < q');
    reject({ ...proof, z: replace(proof.z, 0, -1n) }, '0 ≤ z_i < q');
    reject({ ...proof, e: replace(proof.e, 0, 512) }, '0 ≤ e_i < 512');
    reject({ ...proof, e: replace(proof.e, 0, 1.5) }, '0 ≤ e_i < 512');
  });

  it('rejects 31 or 33 repetitions, and a (ρ, b) = (5, 26) proof: the counts are fixed', () => {
    const cut = (k: number): DlProof => ({ A: proof.A.slice(0, k), e: proof.e.slice(0, k), z: proof.z.slice(0, k) });
    expectError(() => verifyDl(Q, cut(31), ctx), 'MALFORMED_MESSAGE');
    expectError(() => verifyDl(Q, cut(5), ctx), 'MALFORMED_MESSAGE');
    const more: DlProof = { A: [...proof.A, G], e: [...proof.e, 0], z: [...proof.z, 1n] };
    expectError(() => verifyDl(Q, more, ctx), 'MALFORMED_MESSAGE');
    // and on the wire: a 31- or 33-repetition encoding does not decode
    const enc = encodeDlProof(proof);
    expectError(() => decodeDlProof(enc.slice(0, enc.length - 32)), 'MALFORMED_MESSAGE');
    expectError(() => decodeDlProof(new Uint8Array([...enc, ...new Uint8Array(32)])), 'MALFORMED_MESSAGE');
  });

  it('a prover with the wrong witness produces a proof that fails', () => {
    const bad = proveDl(w === 1n ? 2n : w - 1n, Q, ctx);
    reject(bad);
  });

  it('round-trips on the wire at a fixed size, and random bytes decode to a proof or MALFORMED_MESSAGE (property)', () => {
    const enc = encodeDlProof(proof);
    expect(decodeDlProof(enc)).toEqual(proof);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2400 }), (b) => {
        expect(['none', 'MALFORMED_MESSAGE']).toContain(errorCode(() => decodeDlProof(b)));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.nat({ max: enc.length - 1 }), (k) => {
        expect(errorCode(() => decodeDlProof(enc.slice(0, k)))).toBe('MALFORMED_MESSAGE');
      }),
      { numRuns: 100 },
    );
  });
});
