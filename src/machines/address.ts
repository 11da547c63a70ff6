/**
 * Addresses from wallet keys: EIP-55 for secp256k1 (EVM), base58 for ed25519 (Solana). Derived here
 * rather than in src/chains because the lifecycle shows them (rule 3: only once a pair is confirmed).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { base58 } from '@scure/base';
import type { Curve } from '../types.js';

export function evmAddress(publicKeyHex: string): string {
  const uncompressed = secp256k1.Point.fromHex(publicKeyHex).toBytes(false);
  const lower = bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12));
  const hash = bytesToHex(keccak_256(utf8ToBytes(lower)));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) out += parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  return out;
}

export function solanaAddress(publicKeyHex: string): string {
  return base58.encode(hexToBytes(publicKeyHex));
}

export function addressOf(curve: Curve, publicKeyHex: string): string {
  return curve === 'SECP256K1' ? evmAddress(publicKeyHex) : solanaAddress(publicKeyHex);
}
