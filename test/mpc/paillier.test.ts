import fc from 'fast-check';
import { generatePrimeSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { modInverse, randomUnit } from '../../src/mpc/bigint.js';
import { q } from '../../src/mpc/curve.js';
import { bigintArith, type ModArith } from '../../src/mpc/modexp.js';
import { checkPaillierModulus, generatePaillierKey, PaillierSecretKey } from '../../src/mpc/paillier.js';
import { isProbablePrime, type PrimeSource } from '../../src/mpc/primes.js';
import { big, errorCode, expectError, paillierKey, params, withFactor } from './helpers.js';

const sk = paillierKey(0);
const pk = sk.publicKey;
const { n, n2 } = pk;

/** Dec by the textbook formula, without CRT. */
function decTextbook(c: bigint): bigint {
  const phi = sk.phi();
  const u = bigintArith.powMod(c, phi, n2);
  return (((u - 1n) / n) * modInverse(phi, n)) % n;
}

const plaintext = fc.bigInt({ min: 0n, max: n - 1n });

describe('Paillier (§1.3)', () => {
  it('decrypts what it encrypts, by CRT, matching the textbook formula (property)', () => {
    fc.assert(
      fc.property(plaintext, (m) => {
        const c = pk.encrypt(m);
        expect(pk.isValidCiphertext(c)).toBe(true);
        expect(sk.decrypt(c)).toBe(m);
        expect(decTextbook(c)).toBe(m);
      }),
      { numRuns: 8 },
    );
  });

  it('the secret-key encryption (CRT) equals the public one for the same randomness', () => {
    const r = randomUnit(n);
    expect(sk.encrypt(12345n, r)).toBe(pk.encrypt(12345n, r));
  });

  it('homomorphisms: c1·c2 adds, c^k multiplies, c ⊕ a adds a public value', () => {
    fc.assert(
      fc.property(plaintext, plaintext, fc.bigInt({ min: 0n, max: q }), (a, b, k) => {
        const ca = sk.encrypt(a);
        const cb = sk.encrypt(b);
        expect(sk.decrypt(pk.add(ca, cb))).toBe((a + b) % n);
        expect(sk.decrypt(pk.mul(ca, k))).toBe((a * k) % n);
        expect(sk.decrypt(pk.addPlain(ca, b))).toBe((a + b) % n);
      }),
      { numRuns: 4 },
    );
  });

  it('recovers the randomness of a ciphertext (P1 only)', () => {
    const r = randomUnit(n);
    const c = pk.encrypt(987654321n, r);
    expect(sk.recoverRandomness(c, 987654321n)).toBe(r);
  });

  it('N-th roots: σ^N ≡ x (mod N)', () => {
    const x = randomUnit(n);
    expect(bigintArith.powMod(sk.nthRoot(x), n, n)).toBe(x);
  });

  it('validity: 0 < c < N² and gcd(c, N) = 1', () => {
    const [p] = [sk.primes().p];
    expect(pk.isValidCiphertext(0n)).toBe(false);
    expect(pk.isValidCiphertext(n2)).toBe(false);
    expect(pk.isValidCiphertext(n2 + 1n)).toBe(false);
    expect(pk.isValidCiphertext(p)).toBe(false);
    expect(pk.isValidCiphertext(n)).toBe(false);
    expect(pk.isValidCiphertext(1n)).toBe(true);
    expect(errorCode(() => sk.decrypt(p * 7n))).toBe('INTERNAL');
    expect(errorCode(() => pk.encrypt(n))).toBe('INTERNAL');
    expect(errorCode(() => pk.encrypt(-1n))).toBe('INTERNAL');
    expect(errorCode(() => pk.encrypt(1n, 0n))).toBe('INTERNAL');
  });

  it('keeps p_N and q_N out of JSON and error text', () => {
    const json = JSON.stringify(sk, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v));
    expect(json).not.toContain(params.paillier[0]!.p);
    expect(json).not.toContain(params.paillier[0]!.q);
    try {
      sk.decrypt(0n);
    } catch (e) {
      expect(String(e)).not.toContain(params.paillier[0]!.p);
    }
  });
});

describe('Paillier key generation with an injected prime source', () => {
  it('uses Node’s generatePrimeSync when the caller passes it (test code only)', () => {
    const source: PrimeSource = (bits, { safe }) => generatePrimeSync(bits, { safe, bigint: true });
    const key = generatePaillierKey(source);
    expect(key.n.toString(2)).toHaveLength(2048);
    expect(key.decrypt(key.publicKey.encrypt(42n))).toBe(42n);
  });

  it('draws again on equal primes or a short product, and asks only for non-safe 1024-bit primes', () => {
    const p0 = big(params.paillier[0]!.p);
    const q0 = big(params.paillier[0]!.q);
    // two 1024-bit primes just above 2^1023: their product has only 2047 bits
    const s1 = nextPrime((1n << 1023n) + 1n);
    const s2 = nextPrime(s1 + 2n);
    expect((s1 * s2).toString(2)).toHaveLength(2047);
    const seq = [p0, p0, s1, s2, p0, q0];
    const asked: string[] = [];
    const source: PrimeSource = (bits, { safe }) => {
      asked.push(`${bits}/${safe}`);
      const v = seq.shift();
      if (v === undefined) throw new Error('exhausted');
      return v;
    };
    const key = generatePaillierKey(source);
    expect(key.n).toBe(p0 * q0);
    expect(new Set(asked)).toEqual(new Set(['1024/false']));
  });

  it('accepts an injected arithmetic backend and uses it', () => {
    let calls = 0;
    const counting: ModArith = { powMod: (b, e, m) => (calls++, bigintArith.powMod(b, e, m)) };
    const key = new PaillierSecretKey(big(params.paillier[1]!.p), big(params.paillier[1]!.q), counting);
    expect(key.decrypt(key.publicKey.encrypt(7n))).toBe(7n);
    expect(calls).toBeGreaterThan(0);
  });

  it('refuses primes of the wrong size or equal primes', () => {
    const p0 = big(params.paillier[0]!.p);
    expect(errorCode(() => new PaillierSecretKey(p0, p0))).toBe('INTERNAL');
    expect(errorCode(() => new PaillierSecretKey(p0, 1009n))).toBe('INTERNAL');
  });
});

describe('acceptance rules for a received N (§1.3, §5.1) other than Π_N', () => {
  const ok = n;
  it('accepts an honest N', () => {
    checkPaillierModulus(ok, 'DKG_FAILED');
    checkPaillierModulus(paillierKey(1).n, 'DKG_FAILED');
  });

  it('rejects each bad N with a typed error that names the rule', () => {
    const bad = (v: bigint, rule: string): void => expectError(() => checkPaillierModulus(v, 'DKG_FAILED'), 'DKG_FAILED', rule);
    bad(ok >> 1n, 'bits(N) = 2048'); // 2047 bits
    bad(ok << 1n | 1n, 'bits(N) = 2048'); // 2049 bits
    bad(0n, 'bits(N) = 2048');
    bad(1n, 'bits(N) = 2048');
    bad(ok - 1n, 'N odd');
    bad(withFactor(3n), 'no prime ≤ 8191 divides N');
    bad(withFactor(8191n), 'no prime ≤ 8191 divides N');
    bad(big(params.primeN), 'N composite');
  });

  it('lets through what only Π_N can catch: an N sharing a 20-bit factor with φ(N)', () => {
    checkPaillierModulus(big(params.gcdModulus.n), 'DKG_FAILED');
  });

  it('reports with the caller’s protocol code', () => {
    expectError(() => checkPaillierModulus(ok - 1n, 'RECOVER_FAILED'), 'RECOVER_FAILED', 'N odd');
  });
});

function nextPrime(start: bigint): bigint {
  for (let c = start | 1n; ; c += 2n) if (isProbablePrime(c, 3)) return c;
}
