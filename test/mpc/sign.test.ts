import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { TandemError } from '../../src/errors.js';
import { mod, randomBelow, toFixedBytes } from '../../src/mpc/bigint.js';
import { G, q, randomScalar } from '../../src/mpc/curve.js';
import { ClientPresignatures } from '../../src/mpc/presign.js';
import {
  assertSignatureVerifies,
  checkSignatureAnswer,
  CustodianSigner,
  custodianSign,
  finishSignature,
  type CustodianSignOutcome,
} from '../../src/mpc/sign.js';
import {
  decodePresignatureRecord,
  decodeSignature,
  decodeSignS4,
  encodePresignatureRecord,
  encodeSignature,
  type SignRequest,
} from '../../src/mpc/sign-wire.js';
import { errorCode, expectError } from './helpers.js';
import { recoverAddress, toHex } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';

const bytesToHex0x = (b: Uint8Array): `0x${string}` => `0x${Buffer.from(b).toString('hex')}`;
import { acceptDigest, keyPair, presign, rawRequest, type KeyPair, type Presigned } from './sign-helpers.js';

let k: KeyPair;
let signer: CustodianSigner;
const pool: Presigned[] = [];
/** A fresh presignature from the pool made in beforeAll (made once, up front: presign is the costly part). */
const next = (): Presigned => {
  const p = pool.shift();
  if (p === undefined) throw new Error('presignature pool exhausted');
  return p;
};

beforeAll(() => {
  k = keyPair();
  signer = new CustodianSigner(k.custodian);
  signer.precompute(1);
  for (let i = 0; i < 15; i++) pool.push(presign(k));
});

function expectOk(out: CustodianSignOutcome): Extract<CustodianSignOutcome, { ok: true }> {
  if (!out.ok) throw new Error(`expected a signature, got ${out.reason}: ${out.error.message}`);
  return out;
}

function expectFailure(out: CustodianSignOutcome, reason: string, code?: string): TandemError {
  if (out.ok) throw new Error(`expected a ${reason} failure, got a signature`);
  expect(out.reason).toBe(reason);
  if (code !== undefined) expect(out.error.code).toBe(code);
  return out.error;
}

/** The custodian hook for typed kinds: recompute the digest from the payload (sha256 stands in for viem). */
const recompute = (req: SignRequest): Uint8Array => {
  if (req.kind === 'raw') return req.digest;
  const d = sha256(req.payload);
  if (!d.every((x, i) => x === req.digest[i])) throw new TandemError('SIGN_FAILED', { details: { check: 'digest matches payload' } });
  return d;
};

const typed = (kind: SignRequest['kind'], text: string): SignRequest => {
  const payload = utf8ToBytes(text);
  return { kind, payload, digest: sha256(payload) };
};

describe('sign: S4 → a verified signature (§3.2)', () => {
  it('many signatures from one key verify with noble (prehash: false) and viem, low s, and v recovers Q', async () => {
    const Q = k.client.Q;
    const requests = [rawRequest('one'), typed('eip191', 'two'), typed('eip712', '{"three":3}'), typed('evmTransaction', 'four'), rawRequest('five')];
    const rs = new Set<bigint>();
    for (const req of requests) {
      const p = next();
      const s4 = p.presignature.sign(req);
      const out = expectOk(signer.sign({ presignature: p.record.secret.slice(), s4, checkRequest: recompute }));
      const { r, s, v } = out.signature;
      rs.add(r);
      expect(s <= q >> 1n).toBe(true);
      const compact = new secp256k1.Signature(r, s).toBytes('compact');
      // Pinned (§8.2 item 2): noble v2 needs prehash: false to treat the input as the digest itself.
      expect(secp256k1.verify(compact, req.digest, Q.toBytes(true), { prehash: false })).toBe(true);
      expect(secp256k1.verify(compact, req.digest, Q.toBytes(true))).toBe(false);
      expect(new secp256k1.Signature(r, s, v).recoverPublicKey(req.digest).equals(Q)).toBe(true);
      expect(secp256k1.recoverPublicKey(new secp256k1.Signature(r, s, v).toBytes('recovered'), req.digest, { prehash: false })).toEqual(
        Q.toBytes(true),
      );
      // And with viem, as an EVM app would: the recovered address is the wallet's address.
      const address = publicKeyToAddress(bytesToHex0x(Q.toBytes(false)));
      expect(await recoverAddress({ hash: bytesToHex0x(req.digest), signature: { r: toHex(r, { size: 32 }), s: toHex(s, { size: 32 }), yParity: v & 1 } })).toBe(address);
      // The client checks the custodian's answer on its own digest.
      expect(checkSignatureAnswer(Q, req.digest, out.answer)).toEqual(out.signature);
      expectError(() => checkSignatureAnswer(Q, sha256(req.digest), out.answer), 'SIGN_FAILED', 'ECDSA verifies under Q');
      expect(decodeSignature(out.answer)).toEqual(out.signature);
      // S4 carries the request byte for byte.
      expect(decodeSignS4(s4).request).toEqual(req);
    }
    expect(rs.size).toBe(requests.length);
  });

  it('low s and the recovery id: finishSignature against plain single-key ECDSA, both flips', () => {
    const x = randomScalar();
    const Q = G.multiply(x);
    const flips = new Set<boolean>();
    for (let i = 0; i < 16; i++) {
      const kk = randomScalar();
      const R = G.multiply(kk);
      const r = mod(R.toAffine().x, q);
      const m = randomBelow(q);
      const sHigh = (((m + r * x) % q) * modInv(kk)) % q > q >> 1n;
      flips.add(sHigh);
      const sig = finishSignature(R, (m + r * x) % q, kk);
      expect(sig.s <= q >> 1n).toBe(true);
      assertSignatureVerifies(Q, toFixedBytes(m, 32), sig);
    }
    expect(flips.size).toBe(2);
    expectError(() => finishSignature(G, 0n, 1n), 'SIGN_FAILED', 's ≠ 0');
  });

  it('a refused request (policy, tampered typed digest, hook digest ≠ request digest) decrypts nothing', () => {
    const decrypt = vi.spyOn(k.custodian.paillier, 'decrypt');
    try {
      const p1 = next();
      const refused = signer.sign({
        presignature: p1.record.secret.slice(),
        s4: p1.presignature.sign(rawRequest('no')),
        checkRequest: () => {
          throw new TandemError('POLICY_REFUSED');
        },
      });
      expectFailure(refused, 'request', 'POLICY_REFUSED');

      const p2 = next();
      const tampered = { ...typed('eip191', 'pay 1'), digest: sha256(utf8ToBytes('pay 1000')) };
      expectFailure(signer.sign({ presignature: p2.record.secret.slice(), s4: p2.presignature.sign(tampered), checkRequest: recompute }), 'request', 'SIGN_FAILED');

      const p3 = next();
      const other = signer.sign({ presignature: p3.record.secret.slice(), s4: p3.presignature.sign(rawRequest('a')), checkRequest: () => sha256(utf8ToBytes('b')) });
      expect(expectFailure(other, 'request', 'SIGN_FAILED').details['check']).toBe('the checked digest is the request digest');
      expect(decrypt).not.toHaveBeenCalled();
    } finally {
      decrypt.mockRestore();
    }
  });

  it('an asynchronous request check (an HTTP policy hook) works the same way', async () => {
    const p = next();
    const s4 = p.presignature.sign(rawRequest('async'));
    const out = await new CustodianSigner(k.custodian).signAsync({ presignature: p.record.secret.slice(), s4, checkRequest: async (r) => r.digest });
    expectOk(out);
  });

  it('a tampered S4 is a `proof` failure, before any decryption', () => {
    const decrypt = vi.spyOn(k.custodian.paillier, 'decrypt');
    try {
      const p = next();
      const s4 = p.presignature.sign(rawRequest('tamper'));
      const tampered = s4.slice();
      const at = s4.length - 300; // inside Π_sign's v or z4
      tampered[at] = (tampered[at] ?? 0) ^ 1;
      const a = new CustodianSigner(k.custodian);
      expectFailure(a.sign({ presignature: p.record.secret.slice(), s4: tampered, checkRequest: acceptDigest }), 'proof');
      // Malformed bytes, and an S4 of another presignature, are proof failures too.
      const b = new CustodianSigner(k.custodian);
      expectFailure(b.sign({ presignature: p.record.secret.slice(), s4: s4.subarray(0, 100), checkRequest: acceptDigest }), 'proof', 'MALFORMED_MESSAGE');
      const other = next();
      const c = new CustodianSigner(k.custodian);
      const out = c.sign({ presignature: other.record.secret.slice(), s4, checkRequest: acceptDigest });
      expect(expectFailure(out, 'proof', 'SIGN_FAILED').details['check']).toBe('S4 sid names the presignature');
      expect(decrypt).not.toHaveBeenCalled();
    } finally {
      decrypt.mockRestore();
    }
  });

  it('Π_sign accepted but the signature fails (a corrupt record: wrong k1) is a `verify` failure', () => {
    const p = next();
    const rec = decodePresignatureRecord(p.record.secret);
    const corrupt = encodePresignatureRecord({ ...rec, k1: (rec.k1 % (q - 1n)) + 1n });
    const out = custodianSign(k.custodian, { presignature: corrupt, s4: p.presignature.sign(rawRequest('corrupt')), checkRequest: acceptDigest });
    expectFailure(out, 'verify', 'SIGN_FAILED');
  });

  it('single use: a client presignature signs once, the store hands each out once, the signer runs a record once', () => {
    const store = new ClientPresignatures();
    const a = next();
    const b = next();
    store.add(a.presignature);
    store.add(b.presignature);
    expect(store.count(k.client.pairId)).toBe(2);
    expect(() => store.add(a.presignature)).toThrow();
    const first = store.take(k.client.pairId);
    expect(first).toBe(a.presignature);
    expect(store.take(k.client.pairId, a.presignature.sid)).toBeUndefined();
    const s4 = a.presignature.sign(rawRequest('once'));
    // A second S4 for the same presignature cannot be made, neither for another m nor for the same one.
    expectError(() => a.presignature.sign(rawRequest('twice')), 'SIGN_FAILED', 'presignature unused');
    expectError(() => a.presignature.sign(rawRequest('once')), 'SIGN_FAILED', 'presignature unused');
    expect(a.presignature.usable).toBe(false);
    expect(JSON.stringify(a.presignature)).toBe('{"presignature":"in memory only"}');

    const custodian = new CustodianSigner(k.custodian);
    expectOk(custodian.sign({ presignature: a.record.secret.slice(), s4, checkRequest: acceptDigest }));
    expectError(() => custodian.sign({ presignature: a.record.secret.slice(), s4, checkRequest: acceptDigest }), 'SIGN_FAILED', 'presignature unused');
    // The record's bytes are zeroed once read.
    const copy = a.record.secret.slice();
    expectError(() => custodian.sign({ presignature: copy, s4, checkRequest: acceptDigest }), 'SIGN_FAILED');
    expect(copy.every((x) => x === 0)).toBe(true);

    // Burning: the pair's status changed.
    store.burn(k.client.pairId);
    expect(store.count(k.client.pairId)).toBe(0);
    expect(b.presignature.usable).toBe(false);
    expectError(() => b.presignature.sign(rawRequest('burned')), 'SIGN_FAILED', 'presignature unused');
  });

  it('a record of another pair is the caller’s bug: INTERNAL, nothing signed', () => {
    const p = next();
    const rec = decodePresignatureRecord(p.record.secret);
    const foreign = encodePresignatureRecord({ ...rec, pairId: new Uint8Array(32).fill(9) });
    expect(errorCode(() => signer.sign({ presignature: foreign, s4: p.presignature.sign(rawRequest('x')), checkRequest: acceptDigest }))).toBe('INTERNAL');
  });

  it('signature answers: canonical, low s only, v ≤ 3', () => {
    const sig = { r: 5n, s: 7n, v: 1 };
    const b = encodeSignature(sig);
    expect(b.length).toBe(65);
    expect(decodeSignature(b)).toEqual(sig);
    expectError(() => decodeSignature(encodeSignature({ ...sig, s: q - 7n })), 'MALFORMED_MESSAGE');
    const v4 = b.slice();
    v4[64] = 4;
    expectError(() => decodeSignature(v4), 'MALFORMED_MESSAGE');
    expectError(() => decodeSignature(b.subarray(0, 64)), 'MALFORMED_MESSAGE');
  });
});

function modInv(a: bigint): bigint {
  let [r0, r1, s0, s1] = [a % q, q, 1n, 0n];
  while (r1 !== 0n) {
    const t = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - t * r1, s1, s0 - t * s1];
  }
  return mod(s0, q);
}
