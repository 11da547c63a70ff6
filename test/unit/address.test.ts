import { describe, expect, it } from 'vitest';
import { evmAddress, solanaAddress } from '../../src/machines/address.js';

describe('addresses', () => {
  it('derives the EIP-55 address of a secp256k1 key', () => {
    // Private key 1: the generator point; its address is well known.
    expect(evmAddress('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798')).toBe('0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf');
  });

  it('derives the base58 Solana address of an ed25519 key', () => {
    expect(solanaAddress('00'.repeat(32))).toBe('11111111111111111111111111111111');
    // RFC 8032 test 1 public key.
    expect(solanaAddress('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')).toBe('FVen3X669xLzsi6N2V91DoiyzHzg1uAgqiT8jZ9nS96Z');
  });
});
