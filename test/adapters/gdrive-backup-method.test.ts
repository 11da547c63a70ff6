/**
 * GDRIVE against a local HTTP server that speaks exactly the Drive v3 subset the method uses — the
 * multipart upload into appDataFolder, the name query, alt=media and delete — checks every bearer token,
 * and can be told to fail the way Google does: 401 (an expired token), 403, 429, 5xx, a hang, a dropped
 * connection, or garbage (test/helpers/fake-drive.ts). Every error is checked for the data key and the tokens.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GDriveBackupMethod, type GDriveAccessTokenRequest, type GDriveBackupMethodOptions } from '../../src/adapters/gdrive-backup-method.js';
import { TandemError, type ErrorCode } from '../../src/errors.js';
import { FakeDrive, type DriveOp } from '../helpers/fake-drive.js';

const PAIR = 'bkp_0123456789abcdef01234567';
const OTHER_PAIR = 'bkp_fedcba9876543210fedcba98';
const dataKey = new Uint8Array(randomBytes(32));
const otherKey = new Uint8Array(randomBytes(32));
const TOKENS = ['ya29.first-token-0123456789', 'ya29.second-token-9876543210', 'ya29.third-token-5555555555'];

/** The file format written down independently of the implementation. */
function keyFileByHand(id: string, key: Uint8Array): Uint8Array {
  const body = Buffer.concat([Buffer.from('TBK'), Buffer.of(1, id.length), Buffer.from(id, 'ascii'), key]);
  const check = sha256(Buffer.concat([Buffer.from('tandem/data-key/GDRIVE\0'), body])).subarray(0, 16);
  return new Uint8Array(Buffer.concat([body, check]));
}

const nameOf = (id: string) => `tandem-backup-${id}`;

/** An app's token source: a cached token until asked to refresh, then the next one. */
function tokenSource(...tokens: string[]) {
  const calls: GDriveAccessTokenRequest[] = [];
  let current = 0;
  return {
    calls,
    getAccessToken: async (request: GDriveAccessTokenRequest) => {
      calls.push(request);
      if (request.refresh) current = Math.min(current + 1, tokens.length - 1);
      return tokens[current]!;
    },
  };
}

function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined; e = e instanceof Error ? e.cause : undefined) {
    parts.push(String(e), JSON.stringify(e) ?? '');
    if (e instanceof Error) parts.push(e.message, e.stack ?? '');
    if (e instanceof TandemError) parts.push(JSON.stringify(e.details), e.shortMessage);
  }
  return parts.join('\n');
}

/** Asserts the code and details, and that nothing an app could print repeats a key or a token. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, details?: Record<string, unknown>): Promise<TandemError> {
  const err = await promise.then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TandemError);
  const e = err as TandemError;
  expect(e.code).toBe(code);
  if (details) expect(e.details).toMatchObject(details);
  const text = errorText(e);
  for (const key of [dataKey, otherKey]) {
    const b = Buffer.from(key);
    for (const form of [b.toString('hex'), b.toString('base64'), b.toString('base64url'), [...key].join(',')]) expect(text).not.toContain(form);
  }
  for (const token of TOKENS) expect(text).not.toContain(token.slice(5));
  expect(text).not.toContain('Bearer');
  return e;
}

let drive: FakeDrive;
let tokens: ReturnType<typeof tokenSource>;

beforeEach(async () => {
  drive = new FakeDrive([TOKENS[0]!]);
  await drive.start();
  tokens = tokenSource(...TOKENS);
});

afterEach(async () => {
  await drive.stop();
});

const method = (options: Partial<GDriveBackupMethodOptions> = {}) =>
  new GDriveBackupMethod({ getAccessToken: tokens.getAccessToken, baseUrl: drive.baseUrl, timeoutMs: 2_000, ...options });

describe('GDRIVE backup method', () => {
  it('stores the key as one file in appDataFolder, loads it back, and deletes it', async () => {
    const gdrive = method();
    expect(gdrive.name).toBe('GDRIVE');
    expect(await gdrive.storeKey(PAIR, dataKey, {})).toBeNull();
    const [file, ...more] = drive.filesNamed(nameOf(PAIR));
    expect(more).toEqual([]);
    expect(file!.parents).toEqual(['appDataFolder']);
    expect(new Uint8Array(file!.content)).toEqual(keyFileByHand(PAIR, dataKey));
    expect(drive.requests.map((r) => r.op)).toEqual(['list', 'upload']);
    expect(drive.requests.every((r) => r.authorization === `Bearer ${TOKENS[0]}`)).toBe(true);

    const loaded = await gdrive.loadKey(PAIR, null, {});
    expect(loaded).toEqual(dataKey);
    loaded.fill(0);
    expect(await gdrive.loadKey(PAIR, null, {})).toEqual(dataKey);

    await gdrive.deleteKey(PAIR);
    expect(drive.files.size).toBe(0);
    await rejectsWith(gdrive.loadKey(PAIR, null, {}), 'BACKUP_KEY_NOT_FOUND', { method: 'GDRIVE', backupPairId: PAIR });
    await gdrive.deleteKey(PAIR); // nothing to delete is fine
    expect(tokens.calls.every((c) => c.refresh === false)).toBe(true);
  });

  it('keeps pairs apart, and ignores files of other names', async () => {
    const gdrive = method();
    drive.seed('tandem-backup-bkp_0123456789abcdef0123456', keyFileByHand(PAIR, otherKey)); // a prefix of the name
    await gdrive.storeKey(PAIR, dataKey, {});
    await gdrive.storeKey(OTHER_PAIR, otherKey, {});
    expect(await gdrive.loadKey(PAIR, null, {})).toEqual(dataKey);
    expect(await gdrive.loadKey(OTHER_PAIR, null, {})).toEqual(otherKey);
    await gdrive.deleteKey(PAIR);
    expect([...drive.files.values()].map((f) => f.name).sort()).toEqual(['tandem-backup-bkp_0123456789abcdef0123456', nameOf(OTHER_PAIR)]);
  });

  it('re-stores the same key without a second upload, and refuses a different one', async () => {
    const gdrive = method();
    await gdrive.storeKey(PAIR, dataKey, {});
    await gdrive.storeKey(PAIR, dataKey.slice(), {});
    await rejectsWith(gdrive.storeKey(PAIR, otherKey, {}), 'BACKUP_METHOD_FAILED', { method: 'GDRIVE', backupPairId: PAIR, reason: 'exists' });
    expect(drive.countOf('upload')).toBe(1);
    expect(drive.filesNamed(nameOf(PAIR))).toHaveLength(1);
    expect(await gdrive.loadKey(PAIR, null, {})).toEqual(dataKey);
  });

  it('refuses to store over, or load from, a garbled file, and never overwrites it', async () => {
    const gdrive = method();
    drive.seed(nameOf(PAIR), new TextEncoder().encode('not a key file'));
    await rejectsWith(gdrive.storeKey(PAIR, dataKey, {}), 'BACKUP_METHOD_FAILED', { reason: 'exists' });
    await rejectsWith(gdrive.loadKey(PAIR, null, {}), 'DECRYPT_FAILED', { method: 'GDRIVE', reason: 'malformed' });
    expect(drive.countOf('upload')).toBe(0);
  });

  it('reads garbled, foreign or misplaced content as DECRYPT_FAILED with a public reason', async () => {
    const good = keyFileByHand(PAIR, dataKey);
    const flip = (i: number) => {
      const b = good.slice();
      b[i]! ^= 0x01;
      return b;
    };
    const cases: Array<[string, Uint8Array]> = [
      ['malformed', new Uint8Array(0)],
      ['malformed', good.subarray(0, good.length - 1)],
      ['malformed', new Uint8Array([...good, 0])],
      ['malformed', new Uint8Array(4096)],
      ['malformed', flip(1)],
      ['version', flip(3)],
      ['checksum', flip(5 + PAIR.length)],
      ['checksum', flip(good.length - 1)],
      ['other_pair', keyFileByHand(OTHER_PAIR, dataKey)],
    ];
    for (const [reason, content] of cases) {
      drive.files.clear();
      drive.seed(nameOf(PAIR), content);
      await rejectsWith(method().loadKey(PAIR, null, {}), 'DECRYPT_FAILED', { method: 'GDRIVE', backupPairId: PAIR, reason });
    }
    // LOCAL_FILE's layout under LOCAL_FILE's domain is not a Drive key file.
    drive.files.clear();
    const local = Buffer.from(good);
    local.set(sha256(Buffer.concat([Buffer.from('tandem/data-key/LOCAL_FILE\0'), local.subarray(0, local.length - 16)])).subarray(0, 16), local.length - 16);
    drive.seed(nameOf(PAIR), local);
    await rejectsWith(method().loadKey(PAIR, null, {}), 'DECRYPT_FAILED', { reason: 'checksum' });
  });

  it('accepts duplicate files that agree, refuses to pick between ones that differ, and deletes them all', async () => {
    const gdrive = method();
    drive.seed(nameOf(PAIR), keyFileByHand(PAIR, dataKey));
    drive.seed(nameOf(PAIR), keyFileByHand(PAIR, dataKey));
    expect(await gdrive.loadKey(PAIR, null, {})).toEqual(dataKey);
    await gdrive.storeKey(PAIR, dataKey, {});
    expect(drive.countOf('upload')).toBe(0);
    drive.seed(nameOf(PAIR), keyFileByHand(PAIR, otherKey));
    await rejectsWith(gdrive.loadKey(PAIR, null, {}), 'BACKUP_METHOD_FAILED', { reason: 'duplicate', files: 3 });
    await rejectsWith(gdrive.storeKey(PAIR, dataKey, {}), 'BACKUP_METHOD_FAILED', { reason: 'exists' });
    await gdrive.deleteKey(PAIR);
    expect(drive.files.size).toBe(0);
  });

  it('skips a file deleted between the listing and the read', async () => {
    const gdrive = method();
    drive.seed(nameOf(PAIR), keyFileByHand(PAIR, dataKey));
    drive.fail({ status: 404, reason: 'notFound' }, { on: 'media', times: 1 });
    await rejectsWith(gdrive.loadKey(PAIR, null, {}), 'BACKUP_KEY_NOT_FOUND');
    drive.fail({ status: 404, reason: 'notFound' }, { on: 'delete', times: 1 });
    await gdrive.deleteKey(PAIR);
  });

  describe('tokens', () => {
    it('after a 401 asks the app for a fresh token (refresh: true) and tries once more', async () => {
      drive.valid = new Set([TOKENS[1]!]); // the app's cached token expired
      const gdrive = method();
      await gdrive.storeKey(PAIR, dataKey, {});
      expect(tokens.calls).toEqual([{ refresh: false }, { refresh: true }]);
      expect(drive.requests.map((r) => [r.op, r.authorization])).toEqual([
        ['list', `Bearer ${TOKENS[0]}`],
        ['list', `Bearer ${TOKENS[1]}`],
        ['upload', `Bearer ${TOKENS[1]}`],
      ]);
      // A 401 on a later request of an operation is handled the same way.
      drive.valid = new Set([TOKENS[1]!, TOKENS[2]!]);
      drive.fail({ status: 401, reason: 'authError' }, { on: 'media', times: 1 });
      const before = drive.requests.length;
      expect(await gdrive.loadKey(PAIR, null, {})).toEqual(dataKey);
      expect(tokens.calls.slice(2)).toEqual([{ refresh: false }, { refresh: true }]);
      expect(drive.requests.slice(before).map((r) => [r.op, r.authorization])).toEqual([
        ['list', `Bearer ${TOKENS[1]}`],
        ['media', `Bearer ${TOKENS[1]}`],
        ['media', `Bearer ${TOKENS[2]}`],
      ]);
    });

    it('answers a 401 to the refreshed token too with BACKUP_METHOD_AUTH_EXPIRED, after exactly two tries', async () => {
      drive.valid = new Set();
      for (const [op, call] of [
        ['find', () => method().storeKey(PAIR, dataKey, {})],
        ['find', () => method().loadKey(PAIR, null, {})],
        ['find', () => method().deleteKey(PAIR)],
      ] as const) {
        const before = drive.requests.length;
        const callsBefore = tokens.calls.length;
        await rejectsWith(call(), 'BACKUP_METHOD_AUTH_EXPIRED', { method: 'GDRIVE', backupPairId: PAIR, op, httpStatus: 401 });
        expect(drive.requests.length - before).toBe(2);
        expect(tokens.calls.slice(callsBefore)).toEqual([{ refresh: false }, { refresh: true }]);
      }
      // A 401 on the upload itself, twice: the same.
      drive.valid = new Set(TOKENS);
      drive.fail({ status: 401, reason: 'authError' }, { on: 'upload', times: 2 });
      await rejectsWith(method().storeKey(PAIR, dataKey, {}), 'BACKUP_METHOD_AUTH_EXPIRED', { op: 'create' });
      expect(drive.files.size).toBe(0);
    });

    it("turns the app's failure to supply a token into typed errors that keep the app's error as cause", async () => {
      const appError = new Error(`popup closed; last token ${TOKENS[0]}`);
      const failing = method({ getAccessToken: () => Promise.reject(appError) });
      const first = await rejectsWith(failing.loadKey(PAIR, null, {}), 'BACKUP_METHOD_FAILED', { reason: 'access_token', op: 'find' });
      expect(first.cause).toBeInstanceOf(Error);
      expect(drive.requests).toEqual([]);

      // Refused once, and then no new token: the sign-in has expired.
      drive.valid = new Set();
      let n = 0;
      const refreshFails = method({ getAccessToken: async () => (n++ === 0 ? TOKENS[0]! : Promise.reject(appError)) });
      const second = await rejectsWith(refreshFails.loadKey(PAIR, null, {}), 'BACKUP_METHOD_AUTH_EXPIRED');
      expect(second.cause).toBeInstanceOf(Error);

      // The app's own TandemError stays reachable through the cause chain.
      const own = new TandemError('BACKUP_METHOD_UNAVAILABLE', { details: { method: 'GDRIVE' } });
      const typed = await rejectsWith(method({ getAccessToken: () => Promise.reject(own) }).loadKey(PAIR, null, {}), 'BACKUP_METHOD_FAILED');
      expect(typed.cause).toBe(own);

      for (const bad of ['', 'has space', 'line\nbreak', 42, undefined]) {
        await rejectsWith(method({ getAccessToken: async () => bad as string }).loadKey(PAIR, null, {}), 'BACKUP_METHOD_FAILED', { reason: 'access_token', tokenKind: typeof bad });
      }
      expect(drive.requests).toHaveLength(1); // the one the refresh-failing source's first token was refused on
    });

    it('takes a token source that ignores the refresh hint', async () => {
      const simple: () => Promise<string> = async () => TOKENS[0]!;
      const gdrive = new GDriveBackupMethod({ getAccessToken: simple, baseUrl: drive.baseUrl });
      await gdrive.storeKey(PAIR, dataKey, {});
      expect(await gdrive.loadKey(PAIR, null, {})).toEqual(dataKey);
    });
  });

  describe('HTTP failures', () => {
    const statuses: Array<[number, string | undefined, string]> = [
      [403, 'insufficientPermissions', 'forbidden'],
      [403, 'storageQuotaExceeded', 'forbidden'],
      [403, 'userRateLimitExceeded', 'rate_limited'],
      [403, 'rateLimitExceeded', 'rate_limited'],
      [429, 'rateLimitExceeded', 'rate_limited'],
      [500, 'backendError', 'server'],
      [502, undefined, 'server'],
      [503, 'backendError', 'server'],
      [400, 'badRequest', 'http'],
    ];

    it.each(statuses)('%i %s → BACKUP_METHOD_FAILED reason %s, on every request kind', async (status, googleReason, reason) => {
      const gdrive = method();
      await gdrive.storeKey(OTHER_PAIR, otherKey, {}); // something to read and delete
      drive.seed(nameOf(PAIR), keyFileByHand(PAIR, dataKey));
      const kind = googleReason ? { status, reason: googleReason } : { status, reason: '<b>not a reason</b>' };
      const calls: Array<[DriveOp, string, () => Promise<unknown>]> = [
        ['list', 'find', () => gdrive.loadKey(PAIR, null, {})],
        ['media', 'read', () => gdrive.loadKey(PAIR, null, {})],
        ['upload', 'create', () => gdrive.storeKey('bkp_new', dataKey, {})],
        ['delete', 'delete', () => gdrive.deleteKey(PAIR)],
      ];
      for (const [on, op, call] of calls) {
        drive.fail(kind, { on, times: 1 });
        const err = await rejectsWith(call(), 'BACKUP_METHOD_FAILED', { method: 'GDRIVE', op, httpStatus: status, reason });
        expect(err.details['googleReason']).toBe(googleReason);
      }
      // Nothing retried, nothing half-done: the fault was used once per call and the next calls succeed.
      expect(drive.faults.every((f) => f.times === 0)).toBe(true);
      expect(drive.filesNamed(nameOf('bkp_new'))).toEqual([]);
      expect(await gdrive.loadKey(PAIR, null, {})).toEqual(dataKey);
      expect(tokens.calls.every((c) => !c.refresh)).toBe(true);
    });

    it('times out a server that never answers, or stops mid-answer, with reason timeout', async () => {
      const gdrive = method({ timeoutMs: 150 });
      drive.fail('hang', { on: 'list', times: 1 });
      await rejectsWith(gdrive.loadKey(PAIR, null, {}), 'BACKUP_METHOD_FAILED', { reason: 'timeout', op: 'find' });
      drive.fail('hang-body', { on: 'list', times: 1 });
      await rejectsWith(gdrive.storeKey(PAIR, dataKey, {}), 'BACKUP_METHOD_FAILED', { reason: 'timeout', op: 'find' });
      drive.fail('hang', { on: 'upload', times: 1 });
      await rejectsWith(gdrive.storeKey(PAIR, dataKey, {}), 'BACKUP_METHOD_FAILED', { reason: 'timeout', op: 'create' });
    });

    it('reports a refused or dropped connection as reason network', async () => {
      drive.fail('drop', { on: 'media', times: 1 });
      drive.seed(nameOf(PAIR), keyFileByHand(PAIR, dataKey));
      const dropped = await rejectsWith(method().loadKey(PAIR, null, {}), 'BACKUP_METHOD_FAILED', { reason: 'network', op: 'read' });
      expect(dropped.cause).toBeInstanceOf(Error);
      const baseUrl = drive.baseUrl;
      await drive.stop();
      await rejectsWith(method({ baseUrl }).loadKey(PAIR, null, {}), 'BACKUP_METHOD_FAILED', { reason: 'network', op: 'find' });
      await drive.start(); // for afterEach
    });

    it('reports a listing it cannot read as reason malformed_response', async () => {
      const gdrive = method();
      for (const garbage of ['<html>captive portal</html>', '{"files": "nope"}', '{"files": [{"id": "../../etc", "name": "x"}]}', '{"files": [{"id": 7}]}', '[]', '\xff\xfe']) {
        drive.garbage = Buffer.from(garbage, 'latin1');
        drive.fail('garbage', { on: 'list', times: 1 });
        await rejectsWith(gdrive.loadKey(PAIR, null, {}), 'BACKUP_METHOD_FAILED', { reason: 'malformed_response', op: 'find' });
      }
      drive.seed(nameOf(PAIR), keyFileByHand(PAIR, dataKey));
      drive.garbage = Buffer.from('<html>captive portal</html>');
      drive.fail('garbage', { on: 'media', times: 1 });
      await rejectsWith(gdrive.loadKey(PAIR, null, {}), 'DECRYPT_FAILED', { reason: 'malformed' });
    });
  });

  describe('configuration', () => {
    it('uses the fetch it is given', async () => {
      const seen: string[] = [];
      const gdrive = method({ fetch: (input, init) => (seen.push(`${init?.method} ${String(input)}`), fetch(input, init)) });
      await gdrive.storeKey(PAIR, dataKey, {});
      expect(seen).toEqual([
        `GET ${drive.baseUrl}/drive/v3/files?spaces=appDataFolder&q=name%3D%27tandem-backup-${PAIR}%27&fields=files%28id%2Cname%29`,
        `POST ${drive.baseUrl}/upload/drive/v3/files?uploadType=multipart`,
      ]);
    });

    it('defaults to Google, and refuses options that would leak the token or cannot work', () => {
      expect(new GDriveBackupMethod({ getAccessToken: tokens.getAccessToken }).baseUrl).toBe('https://www.googleapis.com');
      expect(method({ baseUrl: 'http://localhost:8080/' }).baseUrl).toBe('http://localhost:8080');
      expect(method({ baseUrl: 'https://drive-proxy.example.com/google' }).baseUrl).toBe('https://drive-proxy.example.com/google');
      const refused: Partial<GDriveBackupMethodOptions>[] = [
        { baseUrl: 'http://www.googleapis.com' },
        { baseUrl: 'ftp://localhost' },
        { baseUrl: 'https://user:pass@www.googleapis.com' },
        { baseUrl: 'https://www.googleapis.com/?x=1' },
        { baseUrl: 'not a url' },
        { timeoutMs: 0 },
        { timeoutMs: 1.5 },
        { fetch: 'fetch' as unknown as typeof fetch },
        { getAccessToken: 'ya29.token' as unknown as GDriveBackupMethodOptions['getAccessToken'] },
      ];
      for (const options of refused) expect(() => method(options)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
      expect(() => new GDriveBackupMethod(undefined as unknown as GDriveBackupMethodOptions)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    });

    it('refuses ids that could escape the query, and keys of the wrong size, before any request', async () => {
      const gdrive = method();
      for (const id of ['', "x' or name contains '", 'a b', 'x'.repeat(129), 'bkp/1', 7 as unknown as string]) {
        await rejectsWith(gdrive.storeKey(id, dataKey, {}), 'INVALID_INPUT');
        await rejectsWith(gdrive.loadKey(id, null, {}), 'INVALID_INPUT');
        await rejectsWith(gdrive.deleteKey(id), 'INVALID_INPUT');
      }
      for (const key of [dataKey.subarray(0, 31), new Uint8Array(33), [...dataKey] as unknown as Uint8Array]) {
        await rejectsWith(gdrive.storeKey(PAIR, key, {}), 'INVALID_INPUT');
      }
      expect(drive.requests).toEqual([]);
      expect(tokens.calls).toEqual([]);
    });

    it('is browser-safe: the GDRIVE and CUSTOM sources use no Node built-in or global', () => {
      const builtins = new Set(builtinModules);
      for (const file of ['gdrive-backup-method.ts', 'custom-backup-method.ts']) {
        const src = readFileSync(new URL(`../../src/adapters/${file}`, import.meta.url), 'utf8');
        const specs = [...src.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? '');
        expect(specs.length).toBeGreaterThan(0);
        for (const s of specs) expect(s.startsWith('node:') || builtins.has(s), `${file} imports ${s}`).toBe(false);
        expect(/\brequire\(|\bprocess\.|\bBuffer\b/.test(src), `${file} uses a Node global`).toBe(false);
      }
    });
  });
});
