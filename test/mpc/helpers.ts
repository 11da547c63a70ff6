/** Shared test helpers for test/mpc: fixtures, error assertions, a prime source over fixture primes. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { isTandemError, type ErrorCode } from '../../src/errors.js';
import { PaillierSecretKey } from '../../src/mpc/paillier.js';
import { IntCommitmentParams } from '../../src/mpc/int-commitment.js';
import type { IcProof } from '../../src/mpc/pi-ic.js';
import { hexToBytes } from '@noble/hashes/utils.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'mpc');

export interface Params {
  paillier: { p: string; q: string }[];
  intCommitment: {
    pTilde: string;
    qTilde: string;
    nTilde: string;
    g: string;
    h: string;
    omega: string;
    proof: { E: string; z: string[] };
  };
  gcdModulus: { n: string; r: string };
  primeN: string;
}

export const params: Params = JSON.parse(readFileSync(join(fixtures, 'params.json'), 'utf8')) as Params;
/** vectors.json, loosely typed: each test reads the fields it pins. */
export const vectors: any = JSON.parse(readFileSync(join(fixtures, 'vectors.json'), 'utf8'));

export const big = (h: string): bigint => BigInt('0x' + h);

/** Fixture Paillier key i (0..2). */
export function paillierKey(i: number): PaillierSecretKey {
  const k = params.paillier[i];
  if (k === undefined) throw new Error(`no Paillier fixture ${i}`);
  return new PaillierSecretKey(big(k.p), big(k.q));
}

export function icFixture(): { params: IntCommitmentParams; proof: IcProof; omega: bigint } {
  const f = params.intCommitment;
  return {
    params: new IntCommitmentParams(big(f.nTilde), big(f.g), big(f.h)),
    proof: { E: hexToBytes(f.proof.E), z: f.proof.z.map(big) },
    omega: big(f.omega),
  };
}

/** Runs fn and expects a TandemError with `code` (and, when given, details.check = check). */
export function expectError(fn: () => unknown, code: ErrorCode, check?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(isTandemError(thrown), `expected a TandemError ${code}, got ${String(thrown)}`).toBe(true);
  if (!isTandemError(thrown)) return;
  expect(thrown.code).toBe(code);
  if (check !== undefined) expect(thrown.details['check']).toBe(check);
}

/** Calls fn; returns the TandemError code it threw, or 'none'. Any other throw fails the test. */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
    return 'none';
  } catch (e) {
    if (!isTandemError(e)) throw e;
    return e.code;
  }
}

export const fixed = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

/** An odd 2048-bit multiple of f (for sieve tests). */
export function withFactor(f: bigint): bigint {
  const m = ((1n << 2047n) / f + 1n) | 1n;
  return f * m;
}
