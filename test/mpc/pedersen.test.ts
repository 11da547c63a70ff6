import { describe, expect, it } from 'vitest';
import { randomBelow } from '../../src/mpc/bigint.js';
import { q } from '../../src/mpc/curve.js';
import { label, roNum } from '../../src/mpc/oracle.js';
import { pedersenGroup, TANDEM_PEDERSEN_P } from '../../src/mpc/pedersen.js';
import { isProbablePrime } from '../../src/mpc/primes.js';
import { big, vectors } from './helpers.js';

const grp = pedersenGroup();

describe('the Pedersen group (§1.3, Δ16)', () => {
  it('P is a 2048-bit safe prime', () => {
    expect(TANDEM_PEDERSEN_P.toString(2)).toHaveLength(2048);
    expect(isProbablePrime(TANDEM_PEDERSEN_P, 16)).toBe(true);
    expect(isProbablePrime((TANDEM_PEDERSEN_P - 1n) / 2n, 16)).toBe(true);
    expect(grp.pPrime).toBe((TANDEM_PEDERSEN_P - 1n) / 2n);
  });

  it('h_P is recomputed from P, lies in the order-P′ subgroup and is not ±1', () => {
    const sqrtH = roNum([label('pedersen/h'), grp.p, grp.pPrime, 4n], grp.p);
    expect(grp.sqrtH).toBe(sqrtH);
    expect(grp.h).toBe((sqrtH * sqrtH) % grp.p);
    expect(grp.arith.powMod(grp.h, grp.pPrime, grp.p)).toBe(1n);
    expect(grp.h).not.toBe(1n);
    expect(grp.h).not.toBe(grp.p - 1n);
    expect(grp.isSubgroupElement(grp.g)).toBe(true);
    expect(grp.isSubgroupElement(grp.p - 1n)).toBe(false); // −1 is a non-residue mod a safe prime
  });

  it('P, P′ and h_P match the committed vectors', () => {
    expect(grp.p).toBe(big(vectors.pedersen.p));
    expect(grp.pPrime).toBe(big(vectors.pedersen.pPrime));
    expect(grp.sqrtH).toBe(big(vectors.pedersen.sqrtH));
    expect(grp.h).toBe(big(vectors.pedersen.h));
  });

  it('commits in the subgroup, and the fixed-base powers agree with plain exponentiation', () => {
    const x = randomBelow(q);
    const beta = randomBelow(grp.pPrime);
    const com = grp.commit(x, beta);
    expect(grp.isSubgroupElement(com)).toBe(true);
    expect(com).toBe((grp.arith.powMod(4n, x, grp.p) * grp.arith.powMod(grp.h, beta, grp.p)) % grp.p);
    expect(grp.powSqrtG(x)).toBe(grp.arith.powMod(2n, x, grp.p));
    expect(grp.powSqrtH(beta)).toBe(grp.arith.powMod(grp.sqrtH, beta, grp.p));
    expect(pedersenGroup()).toBe(grp); // built once per backend
  });

  it('has room for the proofs: P > 2·q·2^64 (Π_range) and P > q·2^131 (Π_eq)', () => {
    expect(grp.p > 2n * (q << 64n)).toBe(true);
    expect(grp.p > q << 131n).toBe(true);
  });
});
