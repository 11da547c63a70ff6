/**
 * A `WalletSigner` stand-in for chain tests that do not need the two-party protocol: one plain key per
 * curve. It checks every request exactly as the custodian does (`checkSignRequest`) before signing, so a
 * chain signer that sends a digest other than its payload's fails here too. Test code only.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { privateKeyToAddress } from 'viem/accounts';
import { bytesToHex } from '@noble/hashes/utils.js';
import { base58 } from '@scure/base';
import { checkSignRequest, type SignRequest } from '../../src/chains/sign-request.js';
import type { WalletSigner } from '../../src/chains/signer.js';
import { TandemError } from '../../src/errors.js';
import type { Curve } from '../../src/types.js';

export interface KeySigner extends WalletSigner {
  readonly secp256k1Key: Uint8Array;
  readonly ed25519Seed: Uint8Array;
  /** Every request that reached the "custodian", in order. */
  readonly requests: { curve: Curve; request: SignRequest }[];
}

export function keySigner(seed = 1): KeySigner {
  const secp256k1Key = new Uint8Array(32).fill(seed);
  const ed25519Seed = new Uint8Array(32).fill(seed + 100);
  const requests: { curve: Curve; request: SignRequest }[] = [];
  return {
    secp256k1Key,
    ed25519Seed,
    requests,
    getAddresses: () => ({
      SECP256K1: privateKeyToAddress(`0x${bytesToHex(secp256k1Key)}`),
      ED25519: base58.encode(ed25519.getPublicKey(ed25519Seed)),
    }),
    async sign(curve, request) {
      // Round-trips through JSON like the wire, so a payload that does not survive JSON fails here too.
      const wire = JSON.parse(JSON.stringify(request)) as SignRequest;
      requests.push({ curve, request: wire });
      const bytes = checkSignRequest(curve, wire);
      if (curve === 'SECP256K1') return secp256k1.sign(bytes, secp256k1Key, { prehash: false, lowS: true });
      if (curve === 'ED25519') return ed25519.sign(bytes, ed25519Seed);
      throw new TandemError('INVALID_INPUT');
    },
  };
}
