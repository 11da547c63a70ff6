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
import type Database from 'better-sqlite3';
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

function meta(db: Database.Database, name: string): Uint8Array | undefined {
  const row = db.prepare('SELECT value FROM server_meta WHERE name = ?').get(name) as { value: Buffer } | undefined;
  return row ? new Uint8Array(row.value) : undefined;
}

function setMeta(db: Database.Database, name: string, value: Uint8Array): void {
  db.prepare('INSERT INTO server_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(name, Buffer.from(value));
}

export function loadOrCreateIdentity(db: Database.Database, keys: MasterKeys): CustodianIdentity {
  let sealed = meta(db, 'identity-secret');
  if (!sealed) {
    setMeta(db, 'identity-secret', sealValue(keys, 'server/identity', ed25519.utils.randomSecretKey()));
    sealed = meta(db, 'identity-secret')!;
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

export function loadOrCreateIcBundle(db: Database.Database, source: PrimeSource = nodePrimeSource): IcBundle {
  let encoded = meta(db, 'ic-bundle');
  if (!encoded) {
    const { params, proof } = generateIntCommitmentParams(source);
    setMeta(db, 'ic-bundle', encodeIcBundle(params, proof));
    encoded = meta(db, 'ic-bundle')!;
  }
  const { params, proof } = decodeIcBundle(encoded);
  return { params, proof, encoded };
}
