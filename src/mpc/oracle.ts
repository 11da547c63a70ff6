/**
 * The random oracle, the XOF and RO_num of §1.6.
 *
 * RO is HMAC-SHA256 under Tandem's own fixed key K_RO over `Enc` of the items (Δ14): keyed so that no
 * other protocol's SHA-256 transcript can collide with ours by accident. The XOF is SHAKE256 for every
 * seed length (Δ15). Every RO call in src/mpc starts with a label (Δ4) that names protocol and item.
 *
 * @example
 * const h0 = ro(label('dkg/pi_dl'), G, Q, [...A], sid, u64(2));
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { internal } from './assert.js';
import { bitLength, bytesToBigint } from './bigint.js';
import { encode, type EncItem } from './encoding.js';

/** K_RO: the first 16 bytes of SHA-256("Tandem Random Oracle Key") = 6f43cd4b…7e35. */
export const K_RO: Uint8Array = sha256(utf8ToBytes('Tandem Random Oracle Key')).slice(0, 16);

/** The prefix of every label: `TANDEM-ECDSA2PC-v1/<protocol>/<item>`. */
export const LABEL_PREFIX = 'TANDEM-ECDSA2PC-v1/';

/** The UTF-8 label `TANDEM-ECDSA2PC-v1/<path>`, always the first RO item. */
export function label(path: string): string {
  return LABEL_PREFIX + path;
}

/** RO(i_1 … i_n) = HMAC-SHA256(K_RO, Enc(i_1) ‖ … ‖ Enc(i_n)); 32 bytes. */
export function ro(...items: readonly EncItem[]): Uint8Array {
  return hmac(sha256, K_RO, encode(...items));
}

/** RO_ℓ: the first ⌈ℓ/8⌉ bytes of RO (ℓ ≤ 256). */
export function roBits(bits: number, ...items: readonly EncItem[]): Uint8Array {
  if (!Number.isInteger(bits) || bits < 1 || bits > 256) throw internal('roBits', 'a length in [1, 256]');
  return ro(...items).slice(0, Math.ceil(bits / 8));
}

/** RO_128, 16 bytes. */
export function ro128(...items: readonly EncItem[]): Uint8Array {
  return roBits(128, ...items);
}

/** XOF(seed, n): the first n bytes of SHAKE256(seed). */
export function xof(seed: Uint8Array, n: number): Uint8Array {
  return shake256(seed, { dkLen: n });
}

/**
 * Successive draws from one seed: the i-th draw of n bytes is bytes [i·n, (i+1)·n) of SHAKE256(seed),
 * as §1.6 requires (draws of different sizes simply continue the one stream).
 */
export class XofStream {
  readonly #hash;
  constructor(seed: Uint8Array) {
    this.#hash = shake256.create().update(seed);
  }
  next(n: number): Uint8Array {
    return this.#hash.xof(n);
  }
}

/** RO_num(…; n) = int_be(XOF(RO(…), ⌈(bits(n)+64)/8⌉)) mod n: 64 extra bits make the bias negligible. */
export function roNum(items: readonly EncItem[], n: bigint): bigint {
  if (n <= 1n) throw internal('roNum', 'a modulus > 1');
  const seed = ro(...items);
  return bytesToBigint(xof(seed, Math.ceil((bitLength(n) + 64) / 8))) % n;
}
