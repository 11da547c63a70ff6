/**
 * PASSKEY's logic against a fake WebAuthn authenticator with PRF (test/helpers/fake-authenticator.ts). Every
 * error is checked for the data key, the credential secrets, the PRF outputs and the keys derived from them.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PasskeyBackupMethod } from '../../src/adapters/passkey-backup-method.js';
import { TandemError, type ErrorCode } from '../../src/errors.js';
import { bytes, FakeAuthenticator } from '../helpers/fake-authenticator.js';

const PAIR = 'bkp_SECP256K1_1';
const RP_ID = 'wallet.example';
const dataKey = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const DOMAIN = 'tandem/backup-key/passkey\0';

let fake: FakeAuthenticator;
let method: PasskeyBackupMethod;
let credentialId: Uint8Array;

beforeEach(async () => {
  fake = new FakeAuthenticator();
  method = new PasskeyBackupMethod({ credentials: fake, rpId: RP_ID });
  ({ credentialId } = await method.createCredential({ rp: { name: 'Example Wallet' }, user: { id: utf8ToBytes('user-1'), name: 'ada' } }));
});

afterEach(() => {
  vi.unstubAllGlobals();
});

/**
 * The secrets an error could repeat: the data key, every credential secret, and the PRF outputs of the
 * latest ceremonies with the KEKs derived from them (an error can only hold its own ceremony's; checking
 * every earlier one would make the exhaustive tests quadratic).
 */
function secrets(): string[] {
  const recent = fake.prfHex.slice(-2);
  const keks = recent.flatMap((prf) => [PAIR, 'bkp_SECP256K1_2', 'bkp_vector'].map((pair) => bytesToHex(kekOf(hexToBytes(prf), pair))));
  return [bytesToHex(dataKey), ...fake.held.map((c) => bytesToHex(c.secret)), ...recent, ...keks];
}

/** Asserts the code, and that nothing about the error (message, details, JSON, cause chain) repeats a secret. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, reason?: string): Promise<TandemError> {
  const err = await promise.then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TandemError);
  const e = err as TandemError;
  expect(e.code).toBe(code);
  if (reason !== undefined) expect(e.details['reason']).toBe(reason);
  const texts: string[] = [];
  for (let c: unknown = e; c instanceof Error; c = c.cause) texts.push(c.message, c.stack ?? '', JSON.stringify(c));
  texts.push(JSON.stringify(e.details), JSON.stringify(e.toJSON()), e.shortMessage);
  const known = secrets();
  expect(known.length).toBeGreaterThan(1);
  for (const text of texts) for (const secret of known) expect(text.toLowerCase()).not.toContain(secret);
  return e;
}

function layout(blob: Uint8Array) {
  const idLength = (blob[1]! << 8) | blob[2]!;
  const id = 3 + idLength;
  return {
    version: blob[0],
    idLength,
    header: blob.subarray(0, id),
    credentialId: blob.subarray(3, id),
    salt: blob.subarray(id, id + 32),
    nonce: blob.subarray(id + 32, id + 44),
    sealed: blob.subarray(id + 44),
  };
}

/** The format written down independently of the implementation. */
const kekOf = (prf: Uint8Array, pairId: string) => hkdf(sha256, prf, undefined, concatBytes(utf8ToBytes(DOMAIN), Uint8Array.of(1), utf8ToBytes(pairId)), 32);
const aadOf = (header: Uint8Array, pairId: string) => concatBytes(utf8ToBytes(DOMAIN), header, utf8ToBytes(pairId));

function wrapByHand(args: { prf: Uint8Array; credentialId: Uint8Array; pairId: string; salt: Uint8Array; nonce: Uint8Array; key: Uint8Array }): Uint8Array {
  const header = concatBytes(Uint8Array.of(1, args.credentialId.length >> 8, args.credentialId.length & 0xff), args.credentialId);
  return concatBytes(header, args.salt, args.nonce, gcm(kekOf(args.prf, args.pairId), args.nonce, aadOf(header, args.pairId)).encrypt(args.key));
}

const VECTOR = {
  credentialId: Uint8Array.from({ length: 16 }, (_, i) => 0xc0 + i),
  secret: Uint8Array.from({ length: 32 }, (_, i) => i),
  pairId: 'bkp_vector',
  salt: Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i),
  nonce: Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i),
  key: Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i),
};

describe('PasskeyBackupMethod', () => {
  it('registers a passkey with the PRF extension, user verification and the relying-party id', async () => {
    expect(method.name).toBe('PASSKEY');
    expect(credentialId).toEqual(fake.held[0]!.id);
    const [options] = fake.creates;
    expect(options!.rp).toEqual({ name: 'Example Wallet', id: RP_ID });
    expect(options!.user).toMatchObject({ name: 'ada', displayName: 'ada' });
    expect(bytes(options!.user.id)).toEqual(utf8ToBytes('user-1'));
    expect(options!.extensions).toEqual({ prf: {} });
    expect(options!.authenticatorSelection?.userVerification).toBe('required');
    expect(bytes(options!.challenge)).toHaveLength(32);
  });

  it('wraps the data key into a versioned, self-describing blob and unwraps it with the same passkey', async () => {
    const blob = await method.storeKey(PAIR, dataKey, { credentialId });
    expect(blob).toHaveLength(1 + 2 + credentialId.length + 32 + 12 + 48);
    const parts = layout(blob);
    expect(parts.version).toBe(1);
    expect(parts.credentialId).toEqual(credentialId);
    // The store ceremony asked this credential for the PRF at the blob's salt, with user verification.
    const [store] = fake.gets;
    expect(store!.rpId).toBe(RP_ID);
    expect(store!.userVerification).toBe('required');
    expect(store!.allowCredentials!.map((c) => bytes(c.id))).toEqual([credentialId]);
    expect(bytes(store!.extensions!.prf!.eval!.first)).toEqual(parts.salt);
    // The wrap is the format written down by hand.
    const prf = fake.prf(fake.held[0]!.secret, parts.salt);
    expect(gcm(kekOf(prf, PAIR), parts.nonce, aadOf(parts.header, PAIR)).decrypt(parts.sealed)).toEqual(dataKey);

    // Another device with the same (synced) passkey: a fresh instance needs nothing but the blob.
    const elsewhere = new PasskeyBackupMethod({ credentials: fake, rpId: RP_ID });
    expect(await elsewhere.loadKey(PAIR, blob, {})).toEqual(dataKey);
    const load = fake.gets[1]!;
    expect(load.allowCredentials!.map((c) => bytes(c.id))).toEqual([credentialId]);
    expect(bytes(load.extensions!.prf!.eval!.first)).toEqual(parts.salt);
    expect(load.userVerification).toBe('required');
    expect(bytes(load.challenge)).toHaveLength(32);
    expect(bytes(load.challenge)).not.toEqual(bytes(store!.challenge));
  });

  it('takes the credential from the constructor, or lets the user pick a discoverable passkey and records it', async () => {
    const configured = new PasskeyBackupMethod({ credentials: fake, rpId: RP_ID, credentialId });
    const a = await configured.storeKey(PAIR, dataKey, {});
    expect(layout(a).credentialId).toEqual(credentialId);

    const second = await method.createCredential({ rp: { name: 'Example Wallet' }, user: { id: utf8ToBytes('user-1'), name: 'ada' } });
    const picked = await method.storeKey(PAIR, dataKey, {});
    expect(fake.gets.at(-1)!.allowCredentials).toBeUndefined();
    expect(layout(picked).credentialId).toEqual(second.credentialId);
    expect(await method.loadKey(PAIR, picked, {})).toEqual(dataKey);
    expect(await method.loadKey(PAIR, a, {})).toEqual(dataKey);
  });

  it('salts and nonces every wrap, and never lets the data key or a PRF output appear in the blob', async () => {
    const blobs = [];
    for (let i = 0; i < 4; i++) blobs.push(await method.storeKey(PAIR, dataKey, { credentialId }));
    expect(new Set(blobs.map((b) => bytesToHex(layout(b).salt))).size).toBe(4);
    expect(new Set(blobs.map((b) => bytesToHex(layout(b).nonce))).size).toBe(4);
    expect(new Set(fake.prfHex).size).toBe(4);
    for (const blob of blobs) {
      const hex = bytesToHex(blob);
      for (const secret of [...secrets(), ...fake.prfHex]) expect(hex).not.toContain(secret);
    }
  });

  it('zeroes every PRF output it was handed', async () => {
    const blob = await method.storeKey(PAIR, dataKey, { credentialId });
    await method.loadKey(PAIR, blob, {});
    fake.answer = 'impostor';
    await rejectsWith(method.loadKey(PAIR, blob, {}), 'DECRYPT_FAILED');
    expect(fake.prfBuffers).toHaveLength(3);
    for (const buffer of fake.prfBuffers) expect(new Uint8Array(buffer).every((b) => b === 0)).toBe(true);
  });

  it('matches the format written down by hand (a fixed vector)', async () => {
    const { credentialId: id, secret, pairId, salt, nonce, key } = VECTOR;
    fake.hold(id, secret);
    const wrapped = wrapByHand({ prf: fake.prf(secret, salt), credentialId: id, pairId, salt, nonce, key });
    expect(bytesToHex(wrapped)).toBe(
      '010010c0c1c2c3c4c5c6c7c8c9cacbcccdcecf404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f' +
        'a0a1a2a3a4a5a6a7a8a9aaab' +
        'e366d3d59d5f613180d5ff48540e82345c4a31c37442da67c9e5607e9f16644ca5e361c1196534f4aa61e8549cf6241f',
    );
    expect(await method.loadKey(pairId, wrapped, {})).toEqual(key);
  });

  it('fails with DECRYPT_FAILED under another passkey secret, another credential, or another pair id', async () => {
    const blob = await method.storeKey(PAIR, dataKey, { credentialId });
    fake.answer = 'impostor';
    const e = await rejectsWith(method.loadKey(PAIR, blob, {}), 'DECRYPT_FAILED', 'AUTHENTICATION');
    expect(e.details).toMatchObject({ method: 'PASSKEY', backupPairId: PAIR });
    fake.answer = 'other';
    await rejectsWith(method.loadKey(PAIR, blob, {}), 'DECRYPT_FAILED', 'CREDENTIAL_MISMATCH');
    fake.answer = 'allowed';
    await rejectsWith(method.loadKey('bkp_SECP256K1_2', blob, {}), 'DECRYPT_FAILED', 'AUTHENTICATION');
    expect(await method.loadKey(PAIR, blob, {})).toEqual(dataKey);
  });

  it('fails with DECRYPT_FAILED when the blob is pointed at another passkey the user holds', async () => {
    // The authenticator answers for that passkey; its PRF (and the AAD, which names the credential) differ.
    const other = await method.createCredential({ rp: { name: 'Example Wallet' }, user: { id: utf8ToBytes('user-1'), name: 'ada' } });
    const blob = await method.storeKey(PAIR, dataKey, { credentialId });
    const parts = layout(blob);
    const moved = concatBytes(Uint8Array.of(1, 0, other.credentialId.length), other.credentialId, blob.subarray(parts.header.length));
    await rejectsWith(method.loadKey(PAIR, moved, {}), 'DECRYPT_FAILED', 'AUTHENTICATION');
    expect(fake.gets.at(-1)!.allowCredentials!.map((c) => bytes(c.id))).toEqual([other.credentialId]);
  });

  it('fails for every single-byte change of the blob; only a changed credential id reaches the prompt, which finds no passkey', async () => {
    const blob = await method.storeKey(PAIR, dataKey, { credentialId });
    const { header } = layout(blob);
    for (let i = 0; i < blob.length; i++) {
      for (const mask of [1, 2, 4, 8, 16, 32, 64, 128, 0xff]) {
        const t = blob.slice();
        t[i]! ^= mask;
        const gets = fake.gets.length;
        if (i < 3) {
          // Version or length: malformed, refused before any ceremony.
          await rejectsWith(method.loadKey(PAIR, t, {}), 'DECRYPT_FAILED');
          expect(fake.gets.length).toBe(gets);
        } else if (i < header.length) {
          // An unknown credential id: the browser answers NotAllowedError, as it does for a dismissed prompt.
          await rejectsWith(method.loadKey(PAIR, t, {}), 'BACKUP_METHOD_FAILED', 'cancelled');
        } else {
          await rejectsWith(method.loadKey(PAIR, t, {}), 'DECRYPT_FAILED', 'AUTHENTICATION');
        }
      }
    }
  });

  it('rejects a truncated, extended, missing or unknown-version blob with DECRYPT_FAILED, without a ceremony', async () => {
    const blob = await method.storeKey(PAIR, dataKey, { credentialId });
    const before = fake.gets.length;
    for (let n = 0; n < blob.length; n++) await rejectsWith(method.loadKey(PAIR, blob.slice(0, n), {}), 'DECRYPT_FAILED');
    for (const extended of [concatBytes(blob, Uint8Array.of(0)), concatBytes(blob, blob)]) {
      await rejectsWith(method.loadKey(PAIR, extended, {}), 'DECRYPT_FAILED', 'MALFORMED');
    }
    await rejectsWith(method.loadKey(PAIR, null, {}), 'DECRYPT_FAILED', 'MALFORMED');
    await rejectsWith(method.loadKey(PAIR, [...blob] as never, {}), 'DECRYPT_FAILED', 'MALFORMED');
    for (const version of [0, 2, 0xff]) {
      const other = blob.slice();
      other[0] = version;
      await rejectsWith(method.loadKey(PAIR, other, {}), 'DECRYPT_FAILED', 'UNKNOWN_VERSION');
    }
    // A zero-length or over-long credential id, with the total length made consistent.
    const rest = blob.subarray(layout(blob).header.length);
    await rejectsWith(method.loadKey(PAIR, concatBytes(Uint8Array.of(1, 0, 0), rest), {}), 'DECRYPT_FAILED', 'MALFORMED');
    await rejectsWith(method.loadKey(PAIR, concatBytes(Uint8Array.of(1, 4, 0), new Uint8Array(1024), rest), {}), 'DECRYPT_FAILED', 'MALFORMED');
    expect(fake.gets.length).toBe(before);
  });

  it('answers any garbage with DECRYPT_FAILED and prompts only for a well-formed blob', async () => {
    const blob = await method.storeKey(PAIR, dataKey, { credentialId });
    const wellFormed = (b: Uint8Array) => {
      if (b.length < 96 || b[0] !== 1) return false;
      const idLength = (b[1]! << 8) | b[2]!;
      return idLength >= 1 && idLength <= 1023 && b.length === 95 + idLength;
    };
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ minLength: blob.length, maxLength: blob.length }),
      // Well-formed framing around random contents.
      fc.uint8Array({ minLength: 1, maxLength: 64 }).chain((id) =>
        fc.uint8Array({ minLength: 92, maxLength: 92 }).map((rest) => concatBytes(Uint8Array.of(1, 0, id.length), id, rest)),
      ),
      // The real blob with a few bytes changed, or cut, or extended.
      fc.tuple(fc.nat({ max: blob.length - 1 }), fc.uint8Array({ minLength: 1, maxLength: 8, min: 1 })).map(([i, xor]) => {
        const t = blob.slice();
        xor.subarray(0, t.length - i).forEach((x, j) => (t[i + j]! ^= x));
        return t;
      }),
      fc.nat({ max: blob.length - 1 }).map((n) => blob.slice(0, n)),
      fc.uint8Array({ minLength: 1, maxLength: 40 }).map((tail) => concatBytes(blob, tail)),
    );
    await fc.assert(
      fc.asyncProperty(garbage, async (bytes) => {
        const before = fake.gets.length;
        const err = await method.loadKey(PAIR, bytes, {}).then(
          () => expect.unreachable('garbage opened'),
          (e: unknown) => e as TandemError,
        );
        if (wellFormed(bytes)) {
          expect(fake.gets.length - before).toBe(1);
          // An unknown credential id is refused by the browser; a known one fails authentication.
          expect([`DECRYPT_FAILED`, 'BACKUP_METHOD_FAILED:cancelled']).toContain(
            err.code === 'DECRYPT_FAILED' ? err.code : `${err.code}:${String(err.details['reason'])}`,
          );
        } else {
          expect(fake.gets.length).toBe(before);
          expect(err.code).toBe('DECRYPT_FAILED');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reports a passkey without PRF as BACKUP_METHOD_UNAVAILABLE at registration and at each ceremony', async () => {
    fake.prfAtCreate = false;
    await rejectsWith(method.createCredential({ rp: { name: 'Example Wallet' }, user: { id: Uint8Array.of(1), name: 'ada' } }), 'BACKUP_METHOD_UNAVAILABLE', 'prf-unsupported');
    const blob = await method.storeKey(PAIR, dataKey, { credentialId });
    for (const mode of ['no-prf', 'no-results'] as const) {
      fake.prfAtGet = mode;
      await rejectsWith(method.storeKey(PAIR, dataKey, { credentialId }), 'BACKUP_METHOD_UNAVAILABLE', 'prf-unsupported');
      await rejectsWith(method.loadKey(PAIR, blob, {}), 'BACKUP_METHOD_UNAVAILABLE', 'prf-unsupported');
    }
  });

  it('reports a dismissed prompt as BACKUP_METHOD_FAILED "cancelled", and any other WebAuthn error with its cause', async () => {
    const blob = await method.storeKey(PAIR, dataKey, { credentialId });
    const registration = { rp: { name: 'Example Wallet' }, user: { id: Uint8Array.of(1), name: 'ada' } };
    fake.fail = new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError');
    await rejectsWith(method.createCredential(registration), 'BACKUP_METHOD_FAILED', 'cancelled');
    await rejectsWith(method.storeKey(PAIR, dataKey, { credentialId }), 'BACKUP_METHOD_FAILED', 'cancelled');
    const cancelled = await rejectsWith(method.loadKey(PAIR, blob, {}), 'BACKUP_METHOD_FAILED', 'cancelled');
    expect(cancelled.details).toMatchObject({ method: 'PASSKEY', backupPairId: PAIR, errorName: 'NotAllowedError' });

    fake.fail = new DOMException('This is an invalid domain.', 'SecurityError');
    const security = await rejectsWith(method.loadKey(PAIR, blob, {}), 'BACKUP_METHOD_FAILED', 'webauthn-error');
    expect(security.details['errorName']).toBe('SecurityError');
    expect((security.cause as Error).name).toBe('SecurityError');
    fake.fail = new TypeError('boom');
    await rejectsWith(method.createCredential(registration), 'BACKUP_METHOD_FAILED', 'webauthn-error');
    fake.fail = 'a string';
    await rejectsWith(method.storeKey(PAIR, dataKey, {}), 'BACKUP_METHOD_FAILED', 'webauthn-error');
  });

  it('refuses an answer that is not a credential, or for another passkey than the one asked for', async () => {
    fake.answer = 'null';
    await rejectsWith(method.storeKey(PAIR, dataKey, { credentialId }), 'BACKUP_METHOD_FAILED', 'no-credential');
    fake.answer = 'other';
    await rejectsWith(method.storeKey(PAIR, dataKey, { credentialId }), 'BACKUP_METHOD_FAILED', 'credential-mismatch');
    expect(fake.prfBuffers.every((b) => new Uint8Array(b).every((x) => x === 0))).toBe(true);
  });

  it('is BACKUP_METHOD_UNAVAILABLE without WebAuthn, and uses navigator.credentials by default', async () => {
    const bare = new PasskeyBackupMethod({ rpId: RP_ID });
    expect(() => bare.checkOptions({}, 'backup')).toThrow(expect.objectContaining({ code: 'BACKUP_METHOD_UNAVAILABLE', details: expect.objectContaining({ reason: 'webauthn-unavailable' }) }));
    await rejectsWith(bare.storeKey(PAIR, dataKey, { credentialId }), 'BACKUP_METHOD_UNAVAILABLE', 'webauthn-unavailable');
    await rejectsWith(bare.createCredential({ rp: { name: 'x' }, user: { id: Uint8Array.of(1), name: 'ada' } }), 'BACKUP_METHOD_UNAVAILABLE', 'webauthn-unavailable');
    const blob = await method.storeKey(PAIR, dataKey, { credentialId });
    await rejectsWith(bare.loadKey(PAIR, blob, {}), 'BACKUP_METHOD_UNAVAILABLE', 'webauthn-unavailable');

    vi.stubGlobal('navigator', { credentials: fake });
    bare.checkOptions({}, 'recover');
    expect(await bare.loadKey(PAIR, blob, {})).toEqual(dataKey);
  });

  it('validates the pair id, the data key, the credential id and the constructor options', async () => {
    const gets = fake.gets.length;
    await rejectsWith(method.storeKey('', dataKey, { credentialId }), 'INVALID_INPUT');
    await rejectsWith(method.storeKey(PAIR, dataKey.subarray(1), { credentialId }), 'INVALID_INPUT');
    await rejectsWith(method.storeKey(PAIR, [...dataKey] as never, { credentialId }), 'INVALID_INPUT');
    for (const bad of ['abc', new Uint8Array(0), new Uint8Array(1024), [1, 2]]) {
      await rejectsWith(method.storeKey(PAIR, dataKey, { credentialId: bad }), 'INVALID_INPUT');
      expect(() => method.checkOptions({ credentialId: bad }, 'backup')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    await rejectsWith(method.loadKey('', new Uint8Array(100), {}), 'INVALID_INPUT');
    expect(fake.gets.length).toBe(gets);
    for (const options of [{ rpId: '' }, { timeout: 0 }, { timeout: 1.5 }, { credentialId: new Uint8Array(0) }]) {
      expect(() => new PasskeyBackupMethod({ credentials: fake, ...options })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    for (const registration of [
      { rp: { name: 'x' }, user: { id: new Uint8Array(0), name: 'ada' } },
      { rp: { name: 'x' }, user: { id: new Uint8Array(65), name: 'ada' } },
      { rp: {}, user: { id: Uint8Array.of(1), name: 'ada' } },
      { rp: { name: 'x' }, user: { id: Uint8Array.of(1) } },
    ]) {
      await rejectsWith(method.createCredential(registration as never), 'INVALID_INPUT');
    }
    expect(fake.creates).toHaveLength(1);
  });

  it('passes the timeout and the credentials to exclude to WebAuthn', async () => {
    const timed = new PasskeyBackupMethod({ credentials: fake, rpId: RP_ID, timeout: 5000 });
    await timed.createCredential({ rp: { name: 'x' }, user: { id: Uint8Array.of(1), name: 'ada', displayName: 'Ada L.' }, excludeCredentialIds: [credentialId] });
    const create = fake.creates.at(-1)!;
    expect(create.timeout).toBe(5000);
    expect(create.user.displayName).toBe('Ada L.');
    expect(create.excludeCredentials!.map((c) => bytes(c.id))).toEqual([credentialId]);
    await timed.storeKey(PAIR, dataKey, { credentialId });
    expect(fake.gets.at(-1)!.timeout).toBe(5000);
    await method.storeKey(PAIR, dataKey, { credentialId });
    expect(fake.gets.at(-1)!.timeout).toBeUndefined();
    expect(fake.creates[0]!.timeout).toBeUndefined();
  });

  it('keeps nothing on the device: deleteKey is a no-op', async () => {
    const blob = await method.storeKey(PAIR, dataKey, { credentialId });
    await method.deleteKey(PAIR);
    expect(await method.loadKey(PAIR, blob, {})).toEqual(dataKey);
  });
});
