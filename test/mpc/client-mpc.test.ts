/**
 * The real client MPC (src/mpc/client.ts) against the custodian's parties, in process: every factory is
 * built from random party ids and pumped against P1 of the same protocol (fixture Paillier primes and
 * integer-commitment parameters, so no prime is generated). Both curves × generate, backup, recover and
 * sign; the shares parse with `publicKeyOf` and nothing else does; every signature verifies (noble,
 * strict for ed25519) and a tampered one does not; S4 carries the request exactly as the server builds it.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { serializeTransaction, type TypedDataDefinition } from 'viem';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type * as Ports from '../../src/adapters/ports.js';
import { checkSignRequest, signRequest, type SignRequest as ChainsSignRequest } from '../../src/chains/sign-request.js';
import { TandemError } from '../../src/errors.js';
import { createBackupP1 } from '../../src/mpc/backup.js';
import { decodeBackupShare } from '../../src/mpc/backup-share.js';
import { bytesToBigint, toFixedBytes } from '../../src/mpc/bigint.js';
import { clientMpc, s4Request, type ClientMpc, type ClientSignRequest, type PartyFactory, type SessionInfo, type ShareResult } from '../../src/mpc/client.js';
import { q } from '../../src/mpc/curve.js';
import { createFrostKeygenP1 } from '../../src/mpc/frost-dkg.js';
import { createFrostBackupP1, createFrostRecoverP1 } from '../../src/mpc/frost-reshare.js';
import { decodeFrostShare } from '../../src/mpc/frost-share.js';
import { createFrostSignP1 } from '../../src/mpc/frost-sign.js';
import { createKeygenP1, type MpcParty } from '../../src/mpc/keygen.js';
import { createPresignP1, type PresignP1Result } from '../../src/mpc/presign.js';
import { createRecoverP1 } from '../../src/mpc/recover.js';
import { decodeClientShare, decodeCustodianShare } from '../../src/mpc/share.js';
import { CustodianSigner } from '../../src/mpc/sign.js';
import { decodeSignS4, type SignRequest as MpcSignRequest } from '../../src/mpc/sign-wire.js';
import { errorCode } from './helpers.js';
import { fixturePrimes, ic } from './keygen-helpers.js';

/** What the custodian expects S4 to carry as the payload: the UTF-8 of the request payload's JSON, or nothing. */
const expectedPayload = (request: ChainsSignRequest): Uint8Array =>
  'payload' in request && request.payload !== undefined ? new TextEncoder().encode(JSON.stringify(request.payload)) : new Uint8Array(0);

const mpc = clientMpc();
const session = (): SessionInfo => ({ pid1: randomBytes(16), pid2: randomBytes(16) });

interface Run<C, P> {
  readonly custodian: C;
  readonly client: P;
  /** Every message, in delivery order, with its receiver. */
  readonly messages: { readonly to: 'custodian' | 'client'; readonly m: Uint8Array }[];
}

/**
 * Shuttles messages between the custodian party and the client party until neither has more to say;
 * `toClient` may replace a message on its way to the client. Both parties must end with a result.
 */
function pump<C, P>(custodian: MpcParty<C>, client: MpcParty<P>, toClient?: (m: Uint8Array, i: number) => Uint8Array): Run<C, P> {
  const queue: { to: 'custodian' | 'client'; m: Uint8Array }[] = [];
  const messages: { to: 'custodian' | 'client'; m: Uint8Array }[] = [];
  let rc: C | undefined;
  let rp: P | undefined;
  let n = 0;
  for (const m of custodian.start()) queue.push({ to: 'client', m });
  for (const m of client.start()) queue.push({ to: 'custodian', m });
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (next.to === 'client' && toClient) next.m = toClient(next.m, n++);
    messages.push(next);
    if (next.to === 'client') {
      const out = client.receive(next.m);
      if (out.result !== undefined) rp = out.result;
      for (const m of out.messages) queue.push({ to: 'custodian', m });
    } else {
      const out = custodian.receive(next.m);
      if (out.result !== undefined) rc = out.result;
      for (const m of out.messages) queue.push({ to: 'client', m });
    }
  }
  if (rc === undefined || rp === undefined) throw new Error(`the run ended without ${rc === undefined ? "the custodian's" : "the client's"} result`);
  return { custodian: rc, client: rp, messages };
}

/** Builds the client's party from its factory with the session's ids, as the transport does on `ready`. */
const clientOf = <R>(factory: PartyFactory<R>, s: SessionInfo): MpcParty<R> => factory(s);

/**
 * The custodian's ECDSA sign, as src/server/sessions.ts drives it: presign P1 (record at S2), then S4
 * through CustodianSigner with a request check that compares S4's request with the session's request
 * (kind, digest and payload) byte for byte. Its result is the answer r ‖ s ‖ v.
 */
function custodianEcdsaSign(custodianShare: Uint8Array, request: ChainsSignRequest, s: SessionInfo, seen: MpcSignRequest[] = []): MpcParty<Uint8Array> {
  const share = decodeCustodianShare(custodianShare);
  const digest = checkSignRequest('SECP256K1', request);
  const presign = createPresignP1({ pair: share, pid1: s.pid1, pid2: s.pid2 });
  let record: PresignP1Result | undefined;
  return {
    start: () => presign.start(),
    receive(m) {
      if (record === undefined) {
        const r = presign.receive(m);
        if (r.result !== undefined) record = r.result;
        return { messages: r.messages };
      }
      const out = new CustodianSigner(share).sign({
        presignature: record.secret,
        s4: m,
        checkRequest: (req) => {
          seen.push(req);
          const same = req.kind === request.kind && bytesToHex(req.digest) === bytesToHex(digest) && bytesToHex(req.payload) === bytesToHex(expectedPayload(request));
          if (!same) throw new TandemError('SIGN_FAILED', { message: 'S4 carries another request than the session started with.' });
          return digest;
        },
      });
      if (!out.ok) throw out.error;
      return { messages: [out.answer], result: out.answer };
    },
  };
}

const ecdsaKeygenP1 = (s: SessionInfo) =>
  createKeygenP1({ ...s, epoch: 0n, primeSource: fixturePrimes(0), intCommitment: ic, sendIcProof: true });

const rawDigest = (text: string): Uint8Array => sha256(utf8ToBytes(text));
const raw = (digest: Uint8Array): ChainsSignRequest => ({ kind: 'raw', digest: `0x${bytesToHex(digest)}` });

function expectLowS(signature: Uint8Array): void {
  expect(bytesToBigint(signature.subarray(32)) <= q >> 1n).toBe(true);
}

/** The same signature with s replaced by q − s: valid under lenient ECDSA, refused with lowS. */
function highS(signature: Uint8Array): Uint8Array {
  const out = signature.slice();
  out.set(toFixedBytes(q - bytesToBigint(signature.subarray(32)), 32), 32);
  return out;
}

function flipBit(b: Uint8Array, i: number): Uint8Array {
  const out = b.slice();
  out[i] = (out[i] ?? 0) ^ 1;
  return out;
}

describe('the port', () => {
  it('restates the ClientMpc port of src/adapters/ports.ts exactly (src/mpc imports nothing from the SDK)', () => {
    expectTypeOf<ClientMpc>().toEqualTypeOf<Ports.ClientMpc>();
    expectTypeOf<ShareResult>().toEqualTypeOf<Ports.ShareResult>();
    expectTypeOf<SessionInfo>().toEqualTypeOf<Ports.SessionInfo>();
    expectTypeOf<ClientSignRequest>().toEqualTypeOf<Ports.SignRequest>();
    expectTypeOf<PartyFactory<ShareResult>>().toEqualTypeOf<Ports.PartyFactory<ShareResult>>();
    const asPort: Ports.ClientMpc = clientMpc();
    expect(Object.keys(asPort).sort()).toEqual(['backup', 'combineBackupShares', 'generate', 'proveCurrentBackup', 'publicKeyOf', 'recover', 'sign', 'verify']);
  });
});

describe('SECP256K1 (ECDSA-2PC, the client is P2)', () => {
  const s = session();
  let gen: Run<{ share: Uint8Array; publicKey: string }, ShareResult>;
  let backup: Run<{ share: Uint8Array; publicKey: string }, ShareResult>;

  beforeAll(() => {
    gen = pump(ecdsaKeygenP1(s), clientOf(mpc.generate('SECP256K1'), s));
    const b = mpc.backup('SECP256K1', gen.client.share, 'PASSWORD');
    backup = pump(createBackupP1({ ...s, share: gen.custodian.share, method: 'PASSWORD' }), clientOf(b, s));
  });

  it('generate: both parties agree on Q, in the custodian’s format (compressed hex), and publicKeyOf reads it back', () => {
    expect(gen.client.publicKey).toBe(gen.custodian.publicKey);
    expect(gen.client.publicKey).toMatch(/^0[23][0-9a-f]{64}$/);
    // The pair the run made, as the custodian names it: the session id bound into both shares.
    expect(Object.keys(gen.client).sort()).toEqual(['pairId', 'publicKey', 'share']);
    expect(gen.client.pairId).toBe(bytesToHex(decodeCustodianShare(gen.custodian.share).pairId));
    expect(mpc.publicKeyOf('SECP256K1', gen.client.share)).toBe(gen.client.publicKey);
    expect(decodeClientShare(gen.client.share).pid2).toEqual(s.pid2);
  });

  it('backup: a client backup share of the same key, which publicKeyOf reads and which cannot sign', () => {
    expect(backup.client.publicKey).toBe(gen.client.publicKey);
    expect(backup.custodian.publicKey).toBe(gen.client.publicKey);
    expect(Object.keys(backup.client).sort()).toEqual(['pairId', 'publicKey', 'share']);
    expect(backup.client.pairId).toBe(bytesToHex(decodeBackupShare(backup.custodian.share, 'custodian-backup').pairId));
    expect(decodeBackupShare(backup.client.share, 'client-backup').method).toBe('PASSWORD');
    expect(mpc.publicKeyOf('SECP256K1', backup.client.share)).toBe(gen.client.publicKey);
    expect(errorCode(() => mpc.sign('SECP256K1', backup.client.share, raw(rawDigest('x')), rawDigest('x')))).toBe('MALFORMED_MESSAGE');
  });

  it('recover on a new device: a fresh signing share of the same key, which signs', () => {
    const device = { pid1: s.pid1, pid2: randomBytes(16) };
    const r = pump(
      createRecoverP1({ ...device, share: backup.custodian.share, epoch: 1n, primeSource: fixturePrimes(1), intCommitment: ic, sendIcProof: true }),
      clientOf(mpc.recover('SECP256K1', backup.client.share), device),
    );
    expect(r.client.publicKey).toBe(gen.client.publicKey);
    expect(r.custodian.publicKey).toBe(gen.client.publicKey);
    expect(mpc.publicKeyOf('SECP256K1', r.client.share)).toBe(gen.client.publicKey);
    expect(decodeClientShare(r.client.share).epoch).toBe(1n);

    const digest = rawDigest('after recovery');
    const signed = pump(custodianEcdsaSign(r.custodian.share, raw(digest), device), clientOf(mpc.sign('SECP256K1', r.client.share, raw(digest), digest), device));
    expect(mpc.verify('SECP256K1', gen.client.publicKey, digest, signed.client.signature)).toBe(true);
  });

  it('signs a raw digest: presign, S4 after S3, one answer; 64-byte r ‖ s with low s that noble verifies', () => {
    const digest = rawDigest('hello tandem');
    const seen: MpcSignRequest[] = [];
    const run = pump(custodianEcdsaSign(gen.custodian.share, raw(digest), s, seen), clientOf(mpc.sign('SECP256K1', gen.client.share, raw(digest), digest), s));
    const { signature } = run.client;
    expect(Object.keys(run.client)).toEqual(['signature']);
    expect(signature).toHaveLength(64);
    expectLowS(signature);
    expect(secp256k1.verify(signature, digest, hexToBytes(gen.client.publicKey), { prehash: false, lowS: true })).toBe(true);
    expect(signature).toEqual(run.custodian.subarray(0, 64)); // the custodian's r ‖ s ‖ v, without v
    expect(mpc.verify('SECP256K1', gen.client.publicKey, digest, signature)).toBe(true);
    // S0, S1, S2, S3, S4, answer: S4 is the only message after S3, and the answer the only one after S4.
    expect(run.messages.map((x) => x.to)).toEqual(['custodian', 'client', 'custodian', 'client', 'custodian', 'client']);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.kind).toBe('raw');
    expect(seen[0]?.payload).toHaveLength(0);
  });

  it('signs an eip191 request: S4 carries the payload the custodian expects, and the signature verifies', () => {
    const request = signRequest('SECP256K1', 'eip191', { message: 'Sign in to Tandem' });
    const digest = checkSignRequest('SECP256K1', request);
    const seen: MpcSignRequest[] = [];
    const run = pump(custodianEcdsaSign(gen.custodian.share, request, s, seen), clientOf(mpc.sign('SECP256K1', gen.client.share, request, digest), s));
    expect(new TextDecoder().decode(seen[0]?.payload)).toBe('{"message":"Sign in to Tandem"}');
    expect(secp256k1.verify(run.client.signature, digest, hexToBytes(gen.client.publicKey), { prehash: false, lowS: true })).toBe(true);
    expectLowS(run.client.signature);
  });

  it('a factory makes a fresh party per session: a retried session signs again with a new presignature', () => {
    const digest = rawDigest('retry');
    const factory = mpc.sign('SECP256K1', gen.client.share, raw(digest), digest);
    const a = pump(custodianEcdsaSign(gen.custodian.share, raw(digest), s), factory(s));
    const b = pump(custodianEcdsaSign(gen.custodian.share, raw(digest), s), factory(s));
    expect(a.client.signature).not.toEqual(b.client.signature); // a different nonce R
    for (const x of [a, b]) expect(mpc.verify('SECP256K1', gen.client.publicKey, digest, x.client.signature)).toBe(true);
  });

  it('refuses an answer that is not a signature of the digest under Q, and stays aborted', () => {
    const digest = rawDigest('tampered answer');
    const party = clientOf(mpc.sign('SECP256K1', gen.client.share, raw(digest), digest), s);
    let answer: Uint8Array | undefined;
    expect(() =>
      pump(custodianEcdsaSign(gen.custodian.share, raw(digest), s), party, (m, i) => {
        if (i !== 2) return m;
        answer = m;
        return flipBit(m, 40); // s changed: no longer verifies
      }),
    ).toThrow(TandemError);
    expect(errorCode(() => party.receive(answer!))).toBe('SIGN_FAILED');
  });

  it('checks its inputs before any session: Solana kinds, digest mismatch, wrong digest length, raw with a payload', () => {
    const share = gen.client.share;
    const digest = rawDigest('inputs');
    const sol = { kind: 'solanaMessage' as const, payload: { message: 'aGk=' }, digest: `0x${bytesToHex(digest)}` };
    expect(errorCode(() => mpc.sign('SECP256K1', share, sol, digest))).toBe('INVALID_INPUT');
    expect(errorCode(() => mpc.sign('SECP256K1', share, { kind: 'solanaTransaction', digest: bytesToHex(digest) }, digest))).toBe('INVALID_INPUT');
    expect(errorCode(() => mpc.sign('SECP256K1', share, raw(rawDigest('other')), digest))).toBe('INVALID_INPUT');
    expect(errorCode(() => mpc.sign('SECP256K1', share, raw(digest.subarray(1)), digest.subarray(1)))).toBe('INVALID_INPUT');
    expect(errorCode(() => mpc.sign('SECP256K1', share, { kind: 'raw', digest: bytesToHex(digest), payload: { x: 1 } }, digest))).toBe('INVALID_INPUT');
    expect(errorCode(() => mpc.sign('SECP256K1', share, { kind: 'raw', digest: 'zz' }, digest))).toBe('INVALID_INPUT');
    // The port's plain hex (no 0x) names the digest as well as the chains' 0x form.
    expect(() => mpc.sign('SECP256K1', share, { kind: 'raw', digest: bytesToHex(digest).toUpperCase() }, digest)).not.toThrow();
    expect(errorCode(() => mpc.backup('SECP256K1', share, 'CARRIER_PIGEON' as never))).toBe('INVALID_INPUT');
    expect(errorCode(() => mpc.generate('P256' as never))).toBe('INVALID_INPUT');
    expect(errorCode(() => mpc.recover('SECP256K1', share))).toBe('MALFORMED_MESSAGE'); // a signing share is no backup share
    expect(errorCode(() => mpc.backup('SECP256K1', backup.client.share, 'PASSWORD'))).toBe('MALFORMED_MESSAGE');
  });

  it('copies the share: zeroing the caller’s buffer after the call does not change the run', () => {
    const mine = gen.client.share.slice();
    const factory = mpc.backup('SECP256K1', mine, 'PASSKEY');
    mine.fill(0);
    const r = pump(createBackupP1({ ...s, share: gen.custodian.share, method: 'PASSKEY' }), factory(s));
    expect(r.client.publicKey).toBe(gen.client.publicKey);
  });

  it('publicKeyOf refuses custodian shares, garbage, truncations and ED25519 shares with MALFORMED_MESSAGE', () => {
    const refused = [
      gen.custodian.share,
      backup.custodian.share,
      new Uint8Array(0),
      new Uint8Array([1]),
      randomBytes(64),
      gen.client.share.subarray(0, gen.client.share.length - 1),
      backup.client.share.subarray(0, 100),
      flipBit(backup.client.share, backup.client.share.length - 1), // b no longer matches B2
      new Uint8Array([...gen.client.share, 0]),
    ];
    for (const bytes of refused) expect(errorCode(() => mpc.publicKeyOf('SECP256K1', bytes))).toBe('MALFORMED_MESSAGE');
    // And a SECP256K1 share is no ED25519 share.
    expect(errorCode(() => mpc.publicKeyOf('ED25519', gen.client.share))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => mpc.publicKeyOf('ED25519', backup.client.share))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => mpc.publicKeyOf('SECP256K1', 'not bytes' as never))).toBe('MALFORMED_MESSAGE');
  });

  it('verify is false, never a throw, for tampered, high-s, foreign or malformed input', () => {
    const digest = rawDigest('verify');
    const { signature } = pump(custodianEcdsaSign(gen.custodian.share, raw(digest), s), clientOf(mpc.sign('SECP256K1', gen.client.share, raw(digest), digest), s)).client;
    const pk = gen.client.publicKey;
    expect(mpc.verify('SECP256K1', pk, digest, signature)).toBe(true);
    expect(mpc.verify('SECP256K1', pk, digest, flipBit(signature, 5))).toBe(false);
    expect(mpc.verify('SECP256K1', pk, digest, flipBit(signature, 60))).toBe(false);
    expect(mpc.verify('SECP256K1', pk, flipBit(digest, 0), signature)).toBe(false);
    expect(secp256k1.verify(highS(signature), digest, hexToBytes(pk), { prehash: false, lowS: false })).toBe(true);
    expect(mpc.verify('SECP256K1', pk, digest, highS(signature))).toBe(false);
    expect(mpc.verify('SECP256K1', bytesToHex(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey())), digest, signature)).toBe(false);
    expect(mpc.verify('SECP256K1', 'zz', digest, signature)).toBe(false);
    expect(mpc.verify('SECP256K1', pk.slice(2), digest, signature)).toBe(false);
    expect(mpc.verify('SECP256K1', pk, digest, signature.subarray(0, 63))).toBe(false);
    expect(mpc.verify('SECP256K1', pk, digest, new Uint8Array(64))).toBe(false);
    expect(mpc.verify('SECP256K1', pk, digest.subarray(1), signature)).toBe(false);
    expect(mpc.verify('ED25519', pk, digest, signature)).toBe(false);
    expect(mpc.verify('P256' as never, pk, digest, signature)).toBe(false);
    expect(mpc.verify('SECP256K1', pk, 'digest' as never, signature)).toBe(false);
  });
});

describe('S4 request bytes', () => {
  const digest = rawDigest('s4');
  const typed: TypedDataDefinition = {
    domain: { name: 'Tandem', version: '1', chainId: 1 },
    types: { Mail: [{ name: 'contents', type: 'string' }] },
    primaryType: 'Mail',
    message: { contents: 'hello' },
  };
  const requests: ChainsSignRequest[] = [
    raw(digest),
    signRequest('SECP256K1', 'eip191', { message: 'héllo ✓' }),
    signRequest('SECP256K1', 'eip191', { raw: '0xdeadbeef' }),
    signRequest('SECP256K1', 'eip712', typed),
    signRequest('SECP256K1', 'evmTransaction', { serialized: serializeTransaction({ chainId: 1, nonce: 0, to: '0x0000000000000000000000000000000000000001', value: 1n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n, gas: 21000n }) }),
  ];

  it.each(requests.map((r) => [r.kind, r] as const))('%s: kind, payload and digest are exactly what the server builds', (_kind, request) => {
    const d = checkSignRequest('SECP256K1', request);
    const r = s4Request(request, d);
    expect(r.kind).toBe(request.kind);
    expect(bytesToHex(r.payload)).toBe(bytesToHex(expectedPayload(request)));
    expect(r.digest).toEqual(d);
  });

  it('S4 itself carries that request', () => {
    const request = requests[1]!;
    const s = session();
    const gen = pump(ecdsaKeygenP1(s), clientOf(mpc.generate('SECP256K1'), s));
    const d = checkSignRequest('SECP256K1', request);
    const run = pump(custodianEcdsaSign(gen.custodian.share, request, s), clientOf(mpc.sign('SECP256K1', gen.client.share, request, d), s));
    const s4 = run.messages.filter((x) => x.to === 'custodian').at(-1)!.m;
    const carried = decodeSignS4(s4).request;
    expect(bytesToHex(carried.payload)).toBe(bytesToHex(expectedPayload(request)));
    expect(carried.digest).toEqual(d);
  });

  it('refuses the Solana kinds with INVALID_INPUT', () => {
    for (const kind of ['solanaMessage', 'solanaTransaction'] as const) {
      expect(errorCode(() => s4Request({ kind, payload: { message: 'aGk=' }, digest: '0x' }, digest))).toBe('INVALID_INPUT');
    }
    expect(errorCode(() => s4Request({ kind: 'eip191', payload: { n: 1n }, digest: '0x' }, digest))).toBe('INVALID_INPUT');
  });
});

describe('ED25519 (FROST, the client is identifier 2)', () => {
  const s = session();
  let gen: Run<ShareResult, ShareResult>;
  let backup: Run<ShareResult, ShareResult>;

  beforeAll(() => {
    gen = pump(createFrostKeygenP1({ ...s, epoch: 0 }), clientOf(mpc.generate('ED25519'), s));
    backup = pump(createFrostBackupP1({ ...s, share: gen.custodian.share, method: 'GDRIVE' }), clientOf(mpc.backup('ED25519', gen.client.share, 'GDRIVE'), s));
  });

  const frostSign = (shares: { custodian: Uint8Array; client: Uint8Array }, request: ChainsSignRequest, sess = s) => {
    const message = checkSignRequest('ED25519', request);
    return pump(createFrostSignP1({ ...sess, share: shares.custodian, message }), clientOf(mpc.sign('ED25519', shares.client, request, message), sess));
  };
  const solana = (text: string): ChainsSignRequest => signRequest('ED25519', 'solanaMessage', { message: base64.encode(utf8ToBytes(text)) });

  it('generate: both parties agree on Y (32-byte hex), and publicKeyOf reads it back', () => {
    expect(gen.client.publicKey).toBe(gen.custodian.publicKey);
    expect(gen.client.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(mpc.publicKeyOf('ED25519', gen.client.share)).toBe(gen.client.publicKey);
    expect(decodeFrostShare(gen.client.share).kind).toBe('client-signing');
  });

  it('backup: a client backup share of the same key, which publicKeyOf reads and which cannot sign', () => {
    expect(backup.client.publicKey).toBe(gen.client.publicKey);
    expect(decodeFrostShare(backup.client.share).kind).toBe('client-backup');
    expect(mpc.publicKeyOf('ED25519', backup.client.share)).toBe(gen.client.publicKey);
    const message = utf8ToBytes('no');
    expect(errorCode(() => mpc.sign('ED25519', backup.client.share, { kind: 'raw', digest: bytesToHex(message) }, message))).toBe('MALFORMED_MESSAGE');
  });

  it('recover on a new device: a fresh signing share of the same key, which signs', () => {
    const device = { pid1: s.pid1, pid2: randomBytes(16) };
    const r = pump(createFrostRecoverP1({ ...device, share: backup.custodian.share, epoch: 1 }), clientOf(mpc.recover('ED25519', backup.client.share), device));
    expect(r.client.publicKey).toBe(gen.client.publicKey);
    expect(r.custodian.publicKey).toBe(gen.client.publicKey);
    expect(mpc.publicKeyOf('ED25519', r.client.share)).toBe(gen.client.publicKey);
    expect(decodeFrostShare(r.client.share).epoch).toBe(1n);
    const signed = frostSign({ custodian: r.custodian.share, client: r.client.share }, solana('after recovery'), device);
    expect(mpc.verify('ED25519', gen.client.publicKey, utf8ToBytes('after recovery'), signed.client.signature)).toBe(true);
  });

  it('signs a Solana message and a raw message: the exact bytes, verified strictly', () => {
    const shares = { custodian: gen.custodian.share, client: gen.client.share };
    for (const [request, message] of [
      [solana('hello solana'), utf8ToBytes('hello solana')],
      [{ kind: 'raw', digest: `0x${bytesToHex(utf8ToBytes('raw bytes'))}` } as ChainsSignRequest, utf8ToBytes('raw bytes')],
    ] as const) {
      const run = frostSign(shares, request);
      expect(run.client.signature).toEqual(run.custodian.signature);
      expect(run.client.signature).toHaveLength(64);
      expect(ed25519.verify(run.client.signature, message, hexToBytes(gen.client.publicKey), { zip215: false })).toBe(true);
      expect(mpc.verify('ED25519', gen.client.publicKey, message, run.client.signature)).toBe(true);
    }
  });

  it('checks its inputs before any session: EVM kinds and a request naming other bytes', () => {
    const message = utf8ToBytes('m');
    const share = gen.client.share;
    expect(errorCode(() => mpc.sign('ED25519', share, { kind: 'eip191', payload: { message: 'm' }, digest: bytesToHex(message) }, message))).toBe('INVALID_INPUT');
    expect(errorCode(() => mpc.sign('ED25519', share, { kind: 'raw', digest: '00' }, message))).toBe('INVALID_INPUT');
    expect(errorCode(() => mpc.recover('ED25519', share))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => mpc.backup('ED25519', backup.client.share, 'GDRIVE'))).toBe('MALFORMED_MESSAGE');
  });

  it('publicKeyOf refuses custodian shares, garbage and SECP256K1 bytes with MALFORMED_MESSAGE', () => {
    const refused = [
      gen.custodian.share,
      backup.custodian.share,
      new Uint8Array(0),
      randomBytes(234),
      gen.client.share.subarray(1),
      flipBit(gen.client.share, gen.client.share.length - 1),
    ];
    for (const bytes of refused) expect(errorCode(() => mpc.publicKeyOf('ED25519', bytes))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => mpc.publicKeyOf('SECP256K1', gen.client.share))).toBe('MALFORMED_MESSAGE');
    expect(errorCode(() => mpc.publicKeyOf('SECP256K1', backup.client.share))).toBe('MALFORMED_MESSAGE');
  });

  it('verify is strict and false, never a throw, on tampered, non-canonical or malformed input', () => {
    const message = utf8ToBytes('strict');
    const { signature } = frostSign({ custodian: gen.custodian.share, client: gen.client.share }, { kind: 'raw', digest: `0x${bytesToHex(message)}` }).client;
    const pk = gen.client.publicKey;
    expect(mpc.verify('ED25519', pk, message, signature)).toBe(true);
    expect(mpc.verify('ED25519', pk, message, flipBit(signature, 3))).toBe(false);
    expect(mpc.verify('ED25519', pk, message, flipBit(signature, 40))).toBe(false);
    expect(mpc.verify('ED25519', pk, utf8ToBytes('strict!'), signature)).toBe(false);
    // S + ℓ: accepted by lenient verifiers that skip the S < ℓ check, refused by RFC 8032 strict.
    const L = ed25519.Point.Fn.ORDER;
    const S = bytesToBigint(signature.slice(32).reverse());
    const sPlusL = signature.slice();
    sPlusL.set(toFixedBytes(S + L, 32).reverse(), 32);
    expect(mpc.verify('ED25519', pk, message, sPlusL)).toBe(false);
    expect(mpc.verify('ED25519', 'zz', message, signature)).toBe(false);
    expect(mpc.verify('ED25519', pk.slice(2), message, signature)).toBe(false);
    expect(mpc.verify('ED25519', pk, message, signature.subarray(1))).toBe(false);
    expect(mpc.verify('ED25519', '00'.repeat(32), message, signature)).toBe(false); // a small-order key
  });
});
