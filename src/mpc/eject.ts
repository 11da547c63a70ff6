/**
 * Eject (DESIGN §4): the one place the full private key is assembled, from the two shares of one backup
 * pair, on the client, inside the operator's window. Both shares must be of the same pair (same backup
 * pair id, same key, same public shares) — two shares of different pairs would combine into garbage —
 * and the result is checked against the wallet key before it is returned.
 *
 * - SECP256K1: the backup shares are additive, x = b1 + b2 (mod q), with x·G = Q. The result is the
 *   ordinary 32-byte big-endian private key any EVM wallet imports.
 * - ED25519: the backup shares are Shamir shares of identifiers 1 and 2, x = λ1·s1 + λ2·s2 (mod ℓ), with
 *   x·B = Y. The result is the 32-byte little-endian **secret scalar**, not an RFC 8032 seed: there is
 *   no seed that hashes to it, so wallets that import only seeds (most Solana wallets) cannot take it;
 *   signing with it needs an implementation that accepts an expanded key (the scalar plus a nonce prefix).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { TandemError } from '../errors.js';
import type { Curve } from '../types.js';
import { decodeBackupShare } from './backup-share.js';
import { toFixedBytes } from './bigint.js';
import { G, q } from './curve.js';
import { EdPoint, Fn, lagrange } from './frost-curve.js';
import { decodeFrostShare } from './frost-share.js';

export interface EjectedKey {
  /** SECP256K1: the private key (32 bytes, big-endian). ED25519: the secret scalar (32 bytes, little-endian). */
  readonly secret: Uint8Array;
  /** The wallet key it belongs to, in the wallet's format (compressed hex / 32-byte hex). */
  readonly publicKey: string;
}

const mismatch = (why: string) => new TandemError('INVALID_INPUT', { message: `The backup shares do not belong together: ${why}.` });

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Combines the client's and the custodian's backup share of one backup pair into the wallet's secret.
 * Malformed shares are MALFORMED_MESSAGE; shares of different pairs or keys are INVALID_INPUT.
 */
export function combineBackupShares(curve: Curve, clientBackupShare: Uint8Array, custodianBackupShare: Uint8Array): EjectedKey {
  if (curve === 'SECP256K1') {
    const client = decodeBackupShare(clientBackupShare, 'client-backup');
    const custodian = decodeBackupShare(custodianBackupShare, 'custodian-backup');
    if (!sameBytes(client.pairId, custodian.pairId)) throw mismatch('another backup pair');
    if (!client.Q.equals(custodian.Q) || !client.B1.equals(custodian.B1) || !client.B2.equals(custodian.B2)) throw mismatch('another key');
    const x = (client.b + custodian.b) % q;
    if (x === 0n || !G.multiply(x).equals(client.Q)) throw mismatch('they do not add up to the wallet key');
    return { secret: toFixedBytes(x, 32), publicKey: client.Q.toHex(true) };
  }
  const client = decodeFrostShare(clientBackupShare);
  const custodian = decodeFrostShare(custodianBackupShare);
  if (client.kind !== 'client-backup' || custodian.kind !== 'custodian-backup') throw mismatch('not a client and a custodian backup share');
  if (!sameBytes(client.pairId, custodian.pairId)) throw mismatch('another backup pair');
  if (!client.Y.equals(custodian.Y) || !client.Y1.equals(custodian.Y1) || !client.Y2.equals(custodian.Y2)) throw mismatch('another key');
  const x = Fn.add(Fn.mul(lagrange(1), custodian.s), Fn.mul(lagrange(2), client.s));
  if (x === 0n || !EdPoint.BASE.multiply(x).equals(client.Y)) throw mismatch('they do not interpolate to the wallet key');
  return { secret: Fn.toBytes(x), publicKey: client.Y.toHex() };
}

/** The hex of an ejected secret, for apps that want it as text (handle it as the private key it is). */
export const ejectedSecretHex = (key: EjectedKey): string => bytesToHex(key.secret);
