/**
 * The custodian's long-lived public material, made on first start and kept in the database: its identity
 * key (whose hash is its party id, ECDSA-2PC §1.8, pinned by clients at first contact) and the one-time
 * integer-commitment parameters with their Π_IC (§2.6). The identity's secret half is sealed under the
 * master key like every other custodian secret.
 */
import { generatePrimeSync } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { ServerData } from './store/server-data.js';
import { decodeIcBundle, encodeIcBundle, generateIntCommitmentParams, type IcProof } from '../mpc/pi-ic.js';
import type { IntCommitmentParams } from '../mpc/int-commitment.js';
import type { PrimeSource } from '../mpc/primes.js';
import { derivePid } from '../mpc/session.js';
import { openValue, sealValue, type MasterKeys } from './at-rest.js';

export interface CustodianIdentity {
  readonly publicKey: Uint8Array;
  /** pid_P1 = RO_128("pid", SHA-256(identity public key)). */
  readonly pid: Uint8Array;
}

export interface IcBundle {
  readonly params: IntCommitmentParams;
  readonly proof: IcProof;
  readonly encoded: Uint8Array;
}

/** Node's prime generator: the custodian's (P1's) source of Paillier and safe primes. */
export const nodePrimeSource: PrimeSource = (bits, { safe }) => generatePrimeSync(bits, { safe, bigint: true });

export async function loadOrCreateIdentity(data: ServerData, keys: MasterKeys): Promise<CustodianIdentity> {
  let sealed = await data.getMeta('identity-secret');
  if (!sealed) {
    // Two instances starting at once both try; the first write wins and both read it back.
    await data.setMetaIfAbsent('identity-secret', sealValue(keys, 'server/identity', ed25519.utils.randomSecretKey()));
    sealed = (await data.getMeta('identity-secret'))!;
  }
  const secret = openValue(keys, 'server/identity', sealed);
  const publicKey = ed25519.getPublicKey(secret);
  secret.fill(0);
  return { publicKey, pid: derivePid(sha256(publicKey)) };
}

/** The client's party id: its authenticated credential is the API key it presented (by key id). */
export function clientPid(keyId: string): Uint8Array {
  return derivePid(utf8ToBytes(`tandem-client-key:${keyId}`));
}

export async function loadOrCreateIcBundle(data: ServerData, source: PrimeSource = nodePrimeSource): Promise<IcBundle> {
  let encoded = await data.getMeta('ic-bundle');
  if (!encoded) {
    const { params, proof } = generateIntCommitmentParams(source);
    await data.setMetaIfAbsent('ic-bundle', encodeIcBundle(params, proof));
    encoded = (await data.getMeta('ic-bundle'))!;
  }
  const { params, proof } = decodeIcBundle(encoded);
  return { params, proof, encoded };
}
