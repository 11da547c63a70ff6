/**
 * The Pedersen group of known order (§1.3, Δ16): the quadratic residues modulo Tandem's own 2048-bit
 * safe prime P, a group of prime order P′ = (P−1)/2. It hosts Com = g_P^x1·h_P^β, the commitment that
 * Π_range and Π_eq tie to the custodian's encrypted share.
 *
 * P was generated once for the project with a safe-prime source (Node's `generatePrimeSync(2048,
 * { safe: true })`) and is never generated at run time. g_P = 4 = 2², and h_P = (√h_P)² where √h_P is
 * derived by hash from P under a fixed label, so nobody knows log_g(h). Both are squares, hence in the
 * order-P′ subgroup. Changing any of this is a protocol change (its values are in the committed vectors).
 *
 * @example
 * const grp = pedersenGroup();
 * const beta = randomBelow(grp.pPrime);
 * const com = grp.commit(x1, beta);
 */
import { internal } from './assert.js';
import { mod } from './bigint.js';
import { bigintArith, FixedBase, type ModArith } from './modexp.js';
import { label, roNum } from './oracle.js';

/** Tandem's Pedersen safe prime P (2048 bits; P′ = (P−1)/2 is prime). */
export const TANDEM_PEDERSEN_P: bigint = BigInt(
  '0x' +
    [
    'c5e13373d5463dda3bc4de794386e09867d6e86fa7fd04baa3b43cf8662033ed9798acb95930ba5e3e332011c021aa71',
    '4da061d71e36f8a57980d8d33d89c42fffa5bf7bf65d21872cb408a2c43957970a3ea37f5ee37688fd2abf42cdd25eb5',
    '057a054424382c4761e2303b16fe2a74c8222c63e5aebb153586a98837374f760bd8dfa8c5d4ce2ed7d2271bd4279dce',
    '27b59885d2f013ee9259ce25a7a658c90a6833a493a207ee3ec7bdf3af59932f43f3cfcaf36581b37caffba9766a51d5',
    '0b60ffaebc91844295e0051aecd52d9dd800c680a01b32d42f87f8309b8859770a5d78f1b5a13b0ece9d3d22f595af1f',
    '309545c1755c953aa48b9b7d1688b753',
    ].join(''),
);

export class PedersenGroup {
  /** P */
  readonly p: bigint;
  /** P′ = (P−1)/2, the order of the subgroup of squares. */
  readonly pPrime: bigint;
  /** g_P = 4 */
  readonly g = 4n;
  /** √g_P = 2 */
  readonly sqrtG = 2n;
  /** √h_P = RO_num(label "pedersen/h", P, P′, 4; P) */
  readonly sqrtH: bigint;
  /** h_P = √h_P² mod P */
  readonly h: bigint;
  readonly arith: ModArith;
  #tables: { g: FixedBase; h: FixedBase; sqrtG: FixedBase; sqrtH: FixedBase } | undefined;

  constructor(p: bigint = TANDEM_PEDERSEN_P, arith: ModArith = bigintArith) {
    this.p = p;
    this.pPrime = (p - 1n) / 2n;
    this.sqrtH = roNum([label('pedersen/h'), p, this.pPrime, 4n], p);
    this.h = (this.sqrtH * this.sqrtH) % p;
    if (this.h <= 1n || this.h === p - 1n) throw internal('h_P', 'an element other than 0, ±1');
    this.arith = arith;
  }

  #t(): { g: FixedBase; h: FixedBase; sqrtG: FixedBase; sqrtH: FixedBase } {
    if (this.#tables === undefined) {
      const bits = this.p.toString(2).length;
      this.#tables = {
        g: new FixedBase(this.g, this.p, bits, this.arith),
        h: new FixedBase(this.h, this.p, bits, this.arith),
        sqrtG: new FixedBase(this.sqrtG, this.p, 384, this.arith),
        sqrtH: new FixedBase(this.sqrtH, this.p, bits, this.arith),
      };
    }
    return this.#tables;
  }

  /** g_P^e mod P, e ≥ 0 */
  powG(e: bigint): bigint {
    return this.#t().g.pow(e);
  }
  /** h_P^e mod P, e ≥ 0 */
  powH(e: bigint): bigint {
    return this.#t().h.pow(e);
  }
  /** 2^e mod P, e ≥ 0 */
  powSqrtG(e: bigint): bigint {
    return this.#t().sqrtG.pow(e);
  }
  /** √h_P^e mod P, e ≥ 0 */
  powSqrtH(e: bigint): bigint {
    return this.#t().sqrtH.pow(e);
  }

  /** Com(x; β) = g_P^x·h_P^β mod P. */
  commit(x: bigint, beta: bigint): bigint {
    if (x < 0n || beta < 0n) throw internal('Pedersen commit', 'non-negative exponents');
    return (this.powG(x) * this.powH(beta)) % this.p;
  }

  /** 0 < v < P and v^P′ ≡ 1 (mod P): v is in the order-P′ subgroup (§5.1). */
  isSubgroupElement(v: bigint): boolean {
    return typeof v === 'bigint' && v > 0n && v < this.p && this.arith.powMod(v, this.pPrime, this.p) === 1n;
  }

  /** a·b mod P */
  mul(a: bigint, b: bigint): bigint {
    return mod(a * b, this.p);
  }
}

const groups = new WeakMap<ModArith, PedersenGroup>();

/** The Pedersen group over TANDEM_PEDERSEN_P, built once per backend (h_P is computed once per process). */
export function pedersenGroup(arith: ModArith = bigintArith): PedersenGroup {
  let grp = groups.get(arith);
  if (grp === undefined) {
    grp = new PedersenGroup(TANDEM_PEDERSEN_P, arith);
    groups.set(arith, grp);
  }
  return grp;
}
