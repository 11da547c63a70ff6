import { gcm } from '@noble/ciphers/aes.js';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ARGON2_CEILING, ARGON2_FLOOR, PasswordBackupMethod, type Argon2Params } from '../../src/adapters/password-backup-method.js';
import { TandemError, type ErrorCode } from '../../src/errors.js';

/**
 * Argon2id at the floor costs a few hundred milliseconds here, so the KDF is wrapped: every call is
 * counted (a malformed blob must not reach it), and the exhaustive tamper tests swap in a cheap stand-in
 * that still depends on every input Argon2id sees. The round trip, wrong password, wrong pair, NFKC, the
 * fixed vector and a sample of tampered bytes run the real Argon2id.
 */
const kdf = vi.hoisted(() => ({ calls: 0, mode: 'real' as 'real' | 'fake' | 'throw' }));
vi.mock('@noble/hashes/argon2.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('@noble/hashes/argon2.js')>();
  const { sha256 } = await import('@noble/hashes/sha2.js');
  const { concatBytes } = await import('@noble/hashes/utils.js');
  const argon2idAsync: typeof real.argon2idAsync = async (password, salt, opts = {}) => {
    kdf.calls++;
    if (kdf.mode === 'throw') throw new RangeError('Array buffer allocation failed');
    if (kdf.mode === 'real') return real.argon2idAsync(password, salt, opts);
    const u32 = (n = 0) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    const bytes = (x: typeof password) => (typeof x === 'string' ? new TextEncoder().encode(x) : x);
    return sha256(concatBytes(u32(opts.m), u32(opts.t), u32(opts.p), u32(opts.dkLen), u32(bytes(salt).length), bytes(salt), bytes(password)));
  };
  return { ...real, argon2idAsync };
});

async function withFakeKdf<T>(fn: () => Promise<T>): Promise<T> {
  kdf.mode = 'fake';
  try {
    return await fn();
  } finally {
    kdf.mode = 'real';
  }
}

const PASSWORD = 'Correct horse, battery staple 42!';
const PAIR = 'bkp_SECP256K1_1';
const dataKey = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const method = new PasswordBackupMethod();

const SECRETS = [PASSWORD, bytesToHex(dataKey), 'vector passphrase, not secret', 'Crème brûlée à la carte!'];

/** Asserts the code, and that nothing about the error (message, details, cause chain) repeats a secret. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<TandemError> {
  const err = await promise.then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TandemError);
  const e = err as TandemError;
  expect(e.code).toBe(code);
  const texts: string[] = [];
  for (let c: unknown = e; c instanceof Error; c = c.cause) texts.push(c.message, c.stack ?? '', JSON.stringify(c));
  texts.push(JSON.stringify(e.details), e.shortMessage);
  for (const text of texts) for (const secret of SECRETS) expect(text).not.toContain(secret);
  return e;
}

const header = (blob: Uint8Array) => {
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  return { version: v.getUint8(0), m: v.getUint32(1), t: v.getUint32(5), p: v.getUint32(9) };
};

/** The format written down independently of the implementation: if they drift apart, the vector test fails. */
async function wrapByHand(args: { params: Argon2Params; password: string; pairId: string; salt: Uint8Array; nonce: Uint8Array; key: Uint8Array }) {
  const head = headerOf(args.params);
  const kek = await argon2idAsync(utf8ToBytes(args.password), args.salt, { ...args.params, dkLen: 32 });
  const aad = concatBytes(utf8ToBytes('tandem/backup-key/password\0'), head, utf8ToBytes(args.pairId));
  return concatBytes(head, args.salt, args.nonce, gcm(kek, args.nonce, aad).encrypt(args.key));
}

const VECTOR = {
  password: 'vector passphrase, not secret',
  pairId: 'bkp_vector',
  salt: Uint8Array.from({ length: 16 }, (_, i) => i),
  nonce: Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i),
  key: Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i),
  wrapped:
    '0100004c000000000200000001000102030405060708090a0b0c0d0e0fa0a1a2a3a4a5a6a7a8a9aaab' +
    '455b89f81b3a6af7baed3450dbcbc509b038d873194b8cc7e86a3fab944f83ef272adf1b80c70fbbf25884e50c76feb1',
};

describe('PasswordBackupMethod', () => {
  let blob: Uint8Array;

  beforeAll(async () => {
    blob = await method.storeKey(PAIR, dataKey, { password: PASSWORD });
  });

  beforeEach(() => {
    kdf.calls = 0;
    kdf.mode = 'real';
  });

  it('wraps the data key into a versioned, self-describing blob and unwraps it with the same password', async () => {
    expect(method.name).toBe('PASSWORD');
    expect(blob.length).toBe(1 + 12 + 16 + 12 + 32 + 16);
    expect(header(blob)).toEqual({ version: 1, ...ARGON2_FLOOR });
    expect(await method.loadKey(PAIR, blob, { password: PASSWORD })).toEqual(dataKey);
    expect(kdf.calls).toBe(1);
  });

  it('never lets the password or the data key appear in the blob, and salts and nonces every wrap', async () => {
    const hex = bytesToHex(blob);
    expect(hex).not.toContain(bytesToHex(dataKey));
    expect(hex).not.toContain(bytesToHex(utf8ToBytes(PASSWORD)));
    expect(hex).not.toContain(bytesToHex(sha256(utf8ToBytes(PASSWORD))));
    const again = await withFakeKdf(() => method.storeKey(PAIR, dataKey, { password: PASSWORD }));
    expect(again.subarray(0, 13)).toEqual(blob.subarray(0, 13));
    expect(again.subarray(13, 41)).not.toEqual(blob.subarray(13, 41));
  });

  it('matches the format written down by hand (a fixed vector)', async () => {
    const { password, pairId, wrapped, key } = VECTOR;
    expect(bytesToHex(await wrapByHand({ ...VECTOR, params: ARGON2_FLOOR }))).toBe(wrapped);
    expect(await method.loadKey(pairId, hexToBytes(wrapped), { password })).toEqual(key);
  });

  it('fails with DECRYPT_FAILED under a wrong password or another pair id', async () => {
    const wrong = await rejectsWith(method.loadKey(PAIR, blob, { password: `${PASSWORD}.` }), 'DECRYPT_FAILED');
    expect(wrong.details).toMatchObject({ method: 'PASSWORD', backupPairId: PAIR, reason: 'AUTHENTICATION' });
    await rejectsWith(method.loadKey('bkp_SECP256K1_2', blob, { password: PASSWORD }), 'DECRYPT_FAILED');
    expect(kdf.calls).toBe(2);
  });

  it('unwraps after NFKC normalisation: a composed é and a decomposed e + ◌́ are the same password', async () => {
    const composed = 'Crème brûlée à la carte!';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    const wrapped = await method.storeKey(PAIR, dataKey, { password: composed });
    expect(await method.loadKey(PAIR, wrapped, { password: decomposed })).toEqual(dataKey);
  });

  it('refuses a missing or empty password with PASSWORD_REQUIRED, before any work', async () => {
    for (const options of [{}, { password: '' }, { password: undefined }, { password: 42 }] as never[]) {
      await rejectsWith(method.storeKey(PAIR, dataKey, options), 'PASSWORD_REQUIRED');
      await rejectsWith(method.loadKey(PAIR, blob, options), 'PASSWORD_REQUIRED');
    }
    expect(kdf.calls).toBe(0);
  });

  it('refuses a weak password with PASSWORD_TOO_WEAK, a reason and the minimum, never the password', async () => {
    const cases = [
      ['short pw', 'TOO_SHORT'],
      ['Password2024!', 'TOO_COMMON'],
      ['p@ssw0rdp@ssw0rd', 'TOO_COMMON'],
      ['zzzzzzzzzzzzzzzz', 'TOO_SIMPLE'],
      ['abcdefghijklmnop', 'TOO_SIMPLE'],
    ] as const;
    for (const [password, reason] of cases) {
      const e = await withSecret(password, () => rejectsWith(method.storeKey(PAIR, dataKey, { password }), 'PASSWORD_TOO_WEAK'));
      expect(e.details).toEqual({ method: 'PASSWORD', reason, minLength: 12, minBits: 50 });
    }
    expect(kdf.calls).toBe(0);
  });

  it('rejects a truncated, extended, missing or unknown-version blob with DECRYPT_FAILED, without running Argon2id', async () => {
    for (let n = 0; n < blob.length; n++) await rejectsWith(method.loadKey(PAIR, blob.slice(0, n), { password: PASSWORD }), 'DECRYPT_FAILED');
    for (const extended of [concatBytes(blob, Uint8Array.of(0)), concatBytes(blob, blob)]) {
      await rejectsWith(method.loadKey(PAIR, extended, { password: PASSWORD }), 'DECRYPT_FAILED');
    }
    await rejectsWith(method.loadKey(PAIR, null, { password: PASSWORD }), 'DECRYPT_FAILED');
    await rejectsWith(method.loadKey(PAIR, [...blob] as never, { password: PASSWORD }), 'DECRYPT_FAILED');
    for (const version of [0, 2, 0xff]) {
      const other = blob.slice();
      other[0] = version;
      await rejectsWith(method.loadKey(PAIR, other, { password: PASSWORD }), 'DECRYPT_FAILED');
    }
    expect(kdf.calls).toBe(0);
  });

  it('refuses parameters below the floor, even in a blob honestly wrapped with them', async () => {
    // wrapByHand is faithful (the vector test), so the refusal is about the parameters alone.
    const args = { password: PASSWORD, pairId: PAIR, salt: new Uint8Array(16).fill(7), nonce: new Uint8Array(12).fill(9), key: dataKey };
    const honest = await wrapByHand({ ...args, params: { ...ARGON2_FLOOR, m: 1024 } });
    const downgraded = [
      honest,
      concatBytes(headerOf({ ...ARGON2_FLOOR, m: ARGON2_FLOOR.m - 1 }), blob.subarray(13)),
      concatBytes(headerOf({ ...ARGON2_FLOOR, t: 1 }), blob.subarray(13)),
      concatBytes(headerOf({ ...ARGON2_FLOOR, p: 0 }), blob.subarray(13)),
    ];
    kdf.calls = 0;
    for (const bytes of downgraded) {
      const e = await rejectsWith(method.loadKey(PAIR, bytes, { password: PASSWORD }), 'DECRYPT_FAILED');
      expect(e.details['reason']).toBe('PARAMETERS_OUT_OF_RANGE');
    }
    expect(kdf.calls).toBe(0);
  });

  it('refuses parameters above the ceiling without allocating anything', async () => {
    for (const params of [
      { ...ARGON2_FLOOR, m: 0xffffffff },
      { ...ARGON2_FLOOR, m: ARGON2_CEILING.m + 1 },
      { ...ARGON2_FLOOR, t: ARGON2_CEILING.t + 1 },
      { ...ARGON2_FLOOR, t: 0xffffffff },
      { ...ARGON2_FLOOR, p: ARGON2_CEILING.p + 1 },
      { m: 0xffffffff, t: 0xffffffff, p: 0xffffffff },
    ]) {
      const hostile = concatBytes(headerOf(params), blob.subarray(13));
      const e = await rejectsWith(method.loadKey(PAIR, hostile, { password: PASSWORD }), 'DECRYPT_FAILED');
      expect(e.details['reason']).toBe('PARAMETERS_OUT_OF_RANGE');
    }
    expect(kdf.calls).toBe(0);
  });

  it('fails with DECRYPT_FAILED for every single-byte change of the blob', async () => {
    // Exhaustive with the stand-in KDF (every bit of every byte, and the whole byte inverted)…
    const fake = await withFakeKdf(() => method.storeKey(PAIR, dataKey, { password: PASSWORD }));
    await withFakeKdf(async () => {
      expect(await method.loadKey(PAIR, fake, { password: PASSWORD })).toEqual(dataKey);
      for (let i = 0; i < fake.length; i++) {
        for (const mask of [1, 2, 4, 8, 16, 32, 64, 128, 0xff]) {
          const t = fake.slice();
          t[i]! ^= mask;
          await rejectsWith(method.loadKey(PAIR, t, { password: PASSWORD }), 'DECRYPT_FAILED');
        }
      }
    });
    // …and a sample with the real one: the cost header (still in range), the salt, the nonce, the tag.
    for (const i of [4, 13 + 5, 13 + 16 + 3, blob.length - 1]) {
      const t = blob.slice();
      t[i]! ^= 1;
      await rejectsWith(method.loadKey(PAIR, t, { password: PASSWORD }), 'DECRYPT_FAILED');
    }
  });

  it('reports a derivation the device cannot run as BACKUP_METHOD_FAILED, not as a wrong password', async () => {
    kdf.mode = 'throw';
    await rejectsWith(method.loadKey(PAIR, blob, { password: PASSWORD }), 'BACKUP_METHOD_FAILED');
    await rejectsWith(method.storeKey(PAIR, dataKey, { password: PASSWORD }), 'BACKUP_METHOD_FAILED');
  });

  it('validates the pair id and the data key', async () => {
    await rejectsWith(method.storeKey('', dataKey, { password: PASSWORD }), 'INVALID_INPUT');
    await rejectsWith(method.storeKey(PAIR, dataKey.subarray(1), { password: PASSWORD }), 'INVALID_INPUT');
    await rejectsWith(method.loadKey('', blob, { password: PASSWORD }), 'INVALID_INPUT');
    expect(kdf.calls).toBe(0);
  });

  it('keeps nothing on the device: deleteKey is a no-op', async () => {
    await method.deleteKey(PAIR);
    expect(await withFakeKdf(async () => method.loadKey(PAIR, await method.storeKey(PAIR, dataKey, { password: PASSWORD }), { password: PASSWORD }))).toEqual(dataKey);
  });

  it('accepts raised parameters and writes them in the blob; refuses anything below the floor or above the ceiling', async () => {
    const strong = new PasswordBackupMethod({ argon2: { m: 65_536, t: 3 } });
    expect(strong.argon2).toEqual({ m: 65_536, t: 3, p: 1 });
    const wrapped = await withFakeKdf(() => strong.storeKey(PAIR, dataKey, { password: PASSWORD }));
    expect(header(wrapped)).toEqual({ version: 1, m: 65_536, t: 3, p: 1 });
    // A blob written with raised parameters opens with a default instance (another device).
    expect(await withFakeKdf(() => method.loadKey(PAIR, wrapped, { password: PASSWORD }))).toEqual(dataKey);
    for (const argon2 of [{ m: 19_455 }, { t: 1 }, { p: 0 }, { m: 19_456.5 }, { m: ARGON2_CEILING.m + 1 }, { t: ARGON2_CEILING.t + 1 }, { p: ARGON2_CEILING.p + 1 }, { m: Number.NaN }]) {
      expect(() => new PasswordBackupMethod({ argon2 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
  });

  it('answers any garbage with DECRYPT_FAILED and runs Argon2id only for a well-formed blob', async () => {
    const wellFormed = (b: Uint8Array) => {
      if (b.length !== blob.length) return false;
      const { version, ...params } = header(b);
      return version === 1 && (['m', 't', 'p'] as const).every((k) => params[k] >= ARGON2_FLOOR[k] && params[k] <= ARGON2_CEILING[k]);
    };
    const valid = await withFakeKdf(() => method.storeKey(PAIR, dataKey, { password: PASSWORD }));
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.uint8Array({ minLength: blob.length, maxLength: blob.length }),
      // A valid blob (for the stand-in KDF) with a few bytes changed.
      fc.tuple(fc.nat({ max: blob.length - 1 }), fc.uint8Array({ minLength: 1, maxLength: 8, min: 1 })).map(([i, xor]) => {
        const t = valid.slice();
        xor.subarray(0, t.length - i).forEach((x, j) => (t[i + j]! ^= x));
        return t;
      }),
    );
    await fc.assert(
      fc.asyncProperty(garbage, async (bytes) => {
        const before = kdf.calls;
        await withFakeKdf(() => rejectsWith(method.loadKey(PAIR, bytes, { password: PASSWORD }), 'DECRYPT_FAILED'));
        expect(kdf.calls - before).toBe(wellFormed(bytes) ? 1 : 0);
      }),
      { numRuns: 300 },
    );
    // Well-formed garbage at the floor with the real Argon2id: slow, so only a few runs.
    const floorGarbage = fc.uint8Array({ minLength: 76, maxLength: 76 }).map((rest) => concatBytes(headerOf(ARGON2_FLOOR), rest));
    await fc.assert(
      fc.asyncProperty(floorGarbage, async (bytes) => {
        await rejectsWith(method.loadKey(PAIR, bytes, { password: PASSWORD }), 'DECRYPT_FAILED');
      }),
      { numRuns: 3 },
    );
  });
});

/** The 13-byte header for any parameters, in range or not. */
function headerOf({ m, t, p }: Argon2Params): Uint8Array {
  const head = new Uint8Array(13);
  const v = new DataView(head.buffer);
  v.setUint8(0, 1);
  v.setUint32(1, m);
  v.setUint32(5, t);
  v.setUint32(9, p);
  return head;
}

async function withSecret<T>(secret: string, fn: () => Promise<T>): Promise<T> {
  SECRETS.push(secret);
  try {
    return await fn();
  } finally {
    SECRETS.pop();
  }
}
