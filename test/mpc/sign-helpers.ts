/**
 * Test-only drivers for signing: one honest key pair from the keygen fixtures (fixture primes, pinned
 * Ñ), and a pump that runs presign S0–S3 between a custodian and a client party.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { MpcParty } from '../../src/mpc/keygen.js';
import {
  ClientPresignature,
  createPresignP1,
  createPresignP2,
  type PresignP1Result,
} from '../../src/mpc/presign.js';
import { decodeClientShare, decodeCustodianShare, type ClientShare, type CustodianShare } from '../../src/mpc/share.js';
import type { SignRequest } from '../../src/mpc/sign-wire.js';
import { p1, p2, pid1, pid2, run } from './keygen-helpers.js';

export { pid1, pid2 };

export interface KeyPair {
  readonly custodian: CustodianShare;
  readonly client: ClientShare;
  readonly custodianBytes: Uint8Array;
  readonly clientBytes: Uint8Array;
}

/** One honest keygen (fixture Paillier key `fixture`, Ñ pinned). */
export function keyPair(fixture = 0): KeyPair {
  const t = run(p1({ fixture }), p2());
  return {
    custodian: decodeCustodianShare(t.custodian.share),
    client: decodeClientShare(t.client.share),
    custodianBytes: t.custodian.share,
    clientBytes: t.client.share,
  };
}

export interface Presigned {
  readonly s0: Uint8Array;
  readonly s1: Uint8Array;
  readonly s2: Uint8Array;
  readonly s3: Uint8Array;
  readonly record: PresignP1Result;
  readonly presignature: ClientPresignature;
}

function one(ms: Uint8Array[]): Uint8Array {
  const [m] = ms;
  if (m === undefined || ms.length !== 1) throw new Error(`expected one message, got ${ms.length}`);
  return m;
}

export function parties(k: KeyPair): { a: MpcParty<PresignP1Result>; b: MpcParty<ClientPresignature> } {
  return {
    a: createPresignP1({ pair: k.custodian, pid1, pid2 }),
    b: createPresignP2({ share: k.client, pid1, pid2 }),
  };
}

/** Runs S0–S3 honestly. */
export function presign(k: KeyPair, a = parties(k).a, b = parties(k).b): Presigned {
  const s0 = one(b.start());
  if (a.start().length !== 0) throw new Error('P1 sends nothing first');
  const s1 = one(a.receive(s0).messages);
  const s2 = one(b.receive(s1).messages);
  const r2 = a.receive(s2);
  const s3 = one(r2.messages);
  const r3 = b.receive(s3);
  if (r2.result === undefined || r3.result === undefined || r3.messages.length !== 0) throw new Error('no presignature');
  return { s0, s1, s2, s3, record: r2.result, presignature: r3.result };
}

export const rawRequest = (text: string): SignRequest => ({
  kind: 'raw',
  payload: new Uint8Array(),
  digest: sha256(utf8ToBytes(text)),
});

/** A request check that accepts the request's own digest (the hook of a `raw` request). */
export const acceptDigest = (req: SignRequest): Uint8Array => req.digest;
