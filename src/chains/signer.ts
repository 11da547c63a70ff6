/**
 * What the chain signers need from a wallet: its addresses and a typed sign. `TandemWallet` is one (its
 * `getAddresses` and `sign`); tests use a plain-key stand-in that checks each request as the custodian
 * does (test/helpers/key-signer.ts).
 */
import type { Curve } from '../types.js';
import type { SignRequest } from './sign-request.js';

export interface WalletSigner {
  /** Addresses of the wallet's confirmed keys: EIP-55 for SECP256K1, base58 for ED25519. */
  getAddresses(): Partial<Record<Curve, string>>;
  /**
   * Signs a request of the custodian's schema. Resolves to the 64-byte signature (SECP256K1 r ‖ s with
   * low s; ED25519 R ‖ S), already verified under the wallet key; rejects with a `TandemError`.
   */
  sign(curve: Curve, request: SignRequest): Promise<Uint8Array>;
}
