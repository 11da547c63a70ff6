/**
 * Abuse limits (issue #13): per client API key, per client address, and a lockout of an address that
 * presents too many wrong keys — on the real HTTP app and WebSocket sessions, built in-process with small
 * limits and an injected clock (time is moved, never waited for), and through the client adapter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCustodianClient, type WebSocketConstructor } from '../../src/adapters/custodian-client.js';
import { signRequest } from '../../src/chains/sign-request.js';
import { CustodianRules } from '../../src/custodian/index.js';
import { eip1193Code, TandemError } from '../../src/errors.js';
import { buildApp } from '../../src/server/app.js';
import { ApiKeys } from '../../src/server/auth.js';
import { loadConfig } from '../../src/server/config.js';
import { nodePrimeSource, type IcBundle } from '../../src/server/identity.js';
import { AbuseLimits, clientAddress, type AbuseLimitsOptions } from '../../src/server/rate-limit.js';
import { sqliteServerData } from '../../src/server/store/server-data.js';
import { SqliteStore } from '../../src/server/store/sqlite.js';
import type { FastifyInstance } from 'fastify';

const OPERATOR_KEY = 'operator-key-for-tests-0123456789abcdef';
const UNKNOWN_KEY = `tdk_0000000000000000_${'A'.repeat(43)}`;
const T0 = 1_700_000_000_000;

interface Custodian {
  readonly app: FastifyInstance;
  readonly limits: AbuseLimits;
  readonly clock: { now: number };
  newClient(): Promise<{ walletId: string; apiKey: string }>;
  get(path: string, options?: { key?: string; ip?: string; headers?: Record<string, string> }): Promise<{ status: number; retryAfter: string | undefined; body: any }>;
  close(): Promise<void>;
}

/** The real app over a throwaway SQLite database, with `limits` and a clock the test moves. */
async function custodian(limits: Partial<AbuseLimitsOptions>, trustProxy?: boolean | readonly string[]): Promise<Custodian> {
  const clock = { now: T0 };
  const abuse = new AbuseLimits({ keyPerMin: 0, addressPerMin: 0, authFailureLimit: 0, lockoutMs: 60_000, clock: () => clock.now, ...limits });
  const sqlite = new SqliteStore(':memory:');
  const { app } = await buildApp({
    rules: new CustodianRules({ store: sqlite }),
    apiKeys: new ApiKeys(sqliteServerData(sqlite.db)),
    operatorKey: OPERATOR_KEY,
    bodyLimitBytes: 64 * 1024,
    logLevel: 'silent',
    isReady: () => true,
    audit: async () => undefined,
    listAudit: async () => [],
    ejectWindows: { open: async () => undefined, until: async () => null },
    limits: abuse,
    ...(trustProxy !== undefined ? { trustProxy } : {}),
    // A session refused by a limit never reaches the protocol, and one let through is refused by the rules
    // (an unknown pair) before it would: the integer-commitment parameters are never read.
    mpc: { identity: { publicKey: new Uint8Array(32), pid: new Uint8Array(16) }, ic: {} as IcBundle, primeSource: nodePrimeSource, frameLimitBytes: 64 * 1024 },
  });
  const get: Custodian['get'] = async (path, o = {}) => {
    const res = await app.inject({ method: 'GET', url: path, remoteAddress: o.ip ?? '127.0.0.1', headers: { ...o.headers, ...(o.key ? { authorization: `Bearer ${o.key}` } : {}) } });
    return { status: res.statusCode, retryAfter: res.headers['retry-after'] as string | undefined, body: res.json() };
  };
  return {
    app,
    limits: abuse,
    clock,
    get,
    async newClient() {
      // From an address of its own: the operator's calls are not counted per address anyway.
      const res = await app.inject({ method: 'POST', url: '/v1/operator/clients', remoteAddress: '192.0.2.250', headers: { authorization: `Bearer ${OPERATOR_KEY}` }, payload: {} });
      expect(res.statusCode).toBe(201);
      return res.json();
    },
    async close() {
      await app.close();
      sqlite.close();
    },
  };
}

const refused = (scope: 'key' | 'address' | 'lockout', retryAfterMs: number) => ({
  status: 429,
  retryAfter: String(Math.ceil(retryAfterMs / 1000)),
  body: { error: { code: 'RATE_LIMITED', details: { scope, retryAfterMs } } },
});

describe('the per-key limit', () => {
  it('refuses a key over its budget with 429, Retry-After and RATE_LIMITED; another key is unaffected; the budget refills', async () => {
    const c = await custodian({ keyPerMin: 3 });
    try {
      const a = await c.newClient();
      const b = await c.newClient();
      for (let i = 0; i < 3; i++) expect((await c.get('/v1/wallet', { key: a.apiKey })).status).toBe(200);
      // 3 a minute: the next token comes 20 s after the bucket ran dry.
      expect(await c.get('/v1/wallet', { key: a.apiKey })).toMatchObject(refused('key', 20_000));
      expect((await c.get('/v1/wallet', { key: b.apiKey })).status).toBe(200);
      c.clock.now += 19_000;
      expect(await c.get('/v1/wallet', { key: a.apiKey })).toMatchObject(refused('key', 1000));
      c.clock.now += 1000;
      expect((await c.get('/v1/wallet', { key: a.apiKey })).status).toBe(200);
      expect(await c.get('/v1/wallet', { key: a.apiKey })).toMatchObject({ status: 429 });
    } finally {
      await c.close();
    }
  });

  it('counts keys, not wallets: a second key of the same wallet has a budget of its own', async () => {
    const c = await custodian({ keyPerMin: 1 });
    try {
      const a = await c.newClient();
      const second = (await c.app.inject({ method: 'POST', url: `/v1/operator/clients/${a.walletId}/keys`, headers: { authorization: `Bearer ${OPERATOR_KEY}` } })).json();
      expect((await c.get('/v1/wallet', { key: a.apiKey })).status).toBe(200);
      expect((await c.get('/v1/wallet', { key: a.apiKey })).status).toBe(429);
      expect((await c.get('/v1/wallet', { key: second.apiKey })).status).toBe(200);
    } finally {
      await c.close();
    }
  });
});

describe('the per-address limit', () => {
  it('refuses an address over its budget, whatever the key; other addresses are unaffected', async () => {
    const c = await custodian({ addressPerMin: 4 });
    try {
      const a = await c.newClient();
      const b = await c.newClient();
      expect((await c.get('/v1/wallet', { key: a.apiKey, ip: '198.51.100.7' })).status).toBe(200);
      expect((await c.get('/v1/wallet', { key: b.apiKey, ip: '198.51.100.7' })).status).toBe(200);
      expect((await c.get('/v1/wallet', { ip: '198.51.100.7' })).status).toBe(401);
      expect((await c.get('/v1/nowhere', { ip: '198.51.100.7' })).status).toBe(404);
      expect(await c.get('/v1/wallet', { key: b.apiKey, ip: '198.51.100.7' })).toMatchObject(refused('address', 15_000));
      expect((await c.get('/v1/wallet', { key: b.apiKey, ip: '198.51.100.8' })).status).toBe(200);
      c.clock.now += 15_000;
      expect((await c.get('/v1/wallet', { key: b.apiKey, ip: '198.51.100.7' })).status).toBe(200);
    } finally {
      await c.close();
    }
  });

  it("does not count the operator's calls or the health checks, but does count a wrong operator key", async () => {
    const c = await custodian({ addressPerMin: 2 });
    try {
      const a = await c.newClient();
      const ip = '203.0.113.9';
      for (let i = 0; i < 10; i++) {
        expect((await c.get(`/v1/operator/clients/${a.walletId}`, { key: OPERATOR_KEY, ip })).status).toBe(200);
        expect((await c.get('/health', { ip })).status).toBe(200);
        expect((await c.get('/ready', { ip })).status).toBe(200);
      }
      expect((await c.get('/v1/wallet', { key: a.apiKey, ip })).status).toBe(200);
      expect((await c.get(`/v1/operator/clients/${a.walletId}`, { key: `${OPERATOR_KEY}x`, ip })).status).toBe(401);
      expect(await c.get('/v1/wallet', { key: a.apiKey, ip })).toMatchObject(refused('address', 30_000));
      expect((await c.get(`/v1/operator/clients/${a.walletId}`, { key: OPERATOR_KEY, ip })).status).toBe(200);
    } finally {
      await c.close();
    }
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped address as its IPv4 address', async () => {
    const c = await custodian({ addressPerMin: 1 });
    try {
      expect((await c.get('/v1/nowhere', { ip: '2001:db8:1:2::1' })).status).toBe(404);
      expect((await c.get('/v1/nowhere', { ip: '2001:db8:1:2:ffff::9' })).status).toBe(429);
      expect((await c.get('/v1/nowhere', { ip: '2001:db8:1:3::1' })).status).toBe(404);
      expect((await c.get('/v1/nowhere', { ip: '192.0.2.1' })).status).toBe(404);
      expect((await c.get('/v1/nowhere', { ip: '::ffff:192.0.2.1' })).status).toBe(429);
    } finally {
      await c.close();
    }
  });

  it("keys on X-Forwarded-For only from a trusted proxy, so a client cannot pick its own address", async () => {
    const direct = await custodian({ addressPerMin: 1 });
    const proxied = await custodian({ addressPerMin: 1 }, ['127.0.0.1']);
    try {
      const spoof = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
      expect((await direct.get('/v1/nowhere', spoof('192.0.2.1'))).status).toBe(404);
      expect((await direct.get('/v1/nowhere', spoof('192.0.2.2'))).status).toBe(429);
      expect((await proxied.get('/v1/nowhere', spoof('192.0.2.1'))).status).toBe(404);
      expect((await proxied.get('/v1/nowhere', spoof('192.0.2.2'))).status).toBe(404);
      expect((await proxied.get('/v1/nowhere', spoof('192.0.2.1'))).status).toBe(429);
      // Not from the trusted proxy: its header is ignored.
      expect((await proxied.get('/v1/nowhere', { ip: '198.51.100.1', ...spoof('192.0.2.3') })).status).toBe(404);
      expect((await proxied.get('/v1/nowhere', { ip: '198.51.100.1', ...spoof('192.0.2.4') })).status).toBe(429);
    } finally {
      await direct.close();
      await proxied.close();
    }
  });
});

describe('the lockout after wrong keys', () => {
  it('locks an address out after the limit of wrong keys, refuses even the right key unchecked, and lets it in after the window', async () => {
    const c = await custodian({ authFailureLimit: 3, lockoutMs: 60_000 });
    try {
      const a = await c.newClient();
      const ip = '198.51.100.66';
      expect((await c.get('/v1/wallet', { key: 'nonsense', ip })).status).toBe(401);
      expect((await c.get('/v1/wallet', { key: UNKNOWN_KEY, ip })).status).toBe(401);
      c.clock.now += 10_000;
      expect((await c.get(`/v1/operator/clients/${a.walletId}`, { key: a.apiKey, ip })).status).toBe(401);
      // Locked out: the right key, the operator's key and a wrong key all get the same answer (no oracle).
      const answers = [
        await c.get('/v1/wallet', { key: a.apiKey, ip }),
        await c.get('/v1/wallet', { key: UNKNOWN_KEY, ip }),
        await c.get(`/v1/operator/clients/${a.walletId}`, { key: OPERATOR_KEY, ip }),
      ];
      for (const r of answers) expect(r).toEqual({ ...refused('lockout', 60_000), body: { error: { code: 'RATE_LIMITED', message: expect.any(String), details: { scope: 'lockout', retryAfterMs: 60_000 } } } });
      // A request without a key is not refused by the lockout; another address is not locked.
      expect((await c.get('/health', { ip })).status).toBe(200);
      expect((await c.get('/v1/wallet', { key: a.apiKey, ip: '198.51.100.67' })).status).toBe(200);
      c.clock.now += 59_999;
      expect(await c.get('/v1/wallet', { key: a.apiKey, ip })).toMatchObject(refused('lockout', 1));
      c.clock.now += 1;
      expect((await c.get('/v1/wallet', { key: a.apiKey, ip })).status).toBe(200);
      // A fresh allowance: two more wrong keys do not lock it again.
      expect((await c.get('/v1/wallet', { key: UNKNOWN_KEY, ip })).status).toBe(401);
      expect((await c.get('/v1/wallet', { key: UNKNOWN_KEY, ip })).status).toBe(401);
      expect((await c.get('/v1/wallet', { key: a.apiKey, ip })).status).toBe(200);
    } finally {
      await c.close();
    }
  });

  it('counts wrong keys within the window only, and never a missing key', async () => {
    const c = await custodian({ authFailureLimit: 3, lockoutMs: 60_000 });
    try {
      const a = await c.newClient();
      const ip = '198.51.100.70';
      for (let i = 0; i < 10; i++) expect((await c.get('/v1/wallet', { ip })).status).toBe(401);
      expect((await c.get('/v1/wallet', { key: UNKNOWN_KEY, ip })).status).toBe(401);
      expect((await c.get('/v1/wallet', { key: UNKNOWN_KEY, ip })).status).toBe(401);
      c.clock.now += 60_000;
      expect((await c.get('/v1/wallet', { key: UNKNOWN_KEY, ip })).status).toBe(401);
      expect((await c.get('/v1/wallet', { key: UNKNOWN_KEY, ip })).status).toBe(401);
      expect((await c.get('/v1/wallet', { key: a.apiKey, ip })).status).toBe(200);
      expect((await c.get('/v1/wallet', { key: UNKNOWN_KEY, ip })).status).toBe(401);
      expect((await c.get('/v1/wallet', { key: a.apiKey, ip })).status).toBe(429);
    } finally {
      await c.close();
    }
  });
});

describe('WebSocket session starts', () => {
  let c: Custodian;
  let url: string;
  beforeAll(async () => {
    c = await custodian({ keyPerMin: 2, authFailureLimit: 2, lockoutMs: 60_000 });
    url = (await c.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
  });
  afterAll(() => c.close());

  const message = Buffer.from('sign in').toString('base64');
  const start = (extra: Record<string, unknown> = {}) => ({ type: 'start', op: 'sign', curve: 'ED25519', idempotencyKey: 'sign-00000001', pairId: 'sig_none', request: signRequest('ED25519', 'solanaMessage', { message }), ...extra });
  /** The frames the custodian sends for one start frame, until it closes. */
  const frames = (headers: Record<string, string>, frame: Record<string, unknown>) =>
    new Promise<any[]>((resolve, reject) => {
      const ws = new WebSocket(`${url}/v1/wallet/sessions`, { headers });
      const got: any[] = [];
      ws.on('open', () => ws.send(JSON.stringify(frame)));
      ws.on('message', (d: Buffer) => got.push(JSON.parse(d.toString())));
      ws.on('close', () => resolve(got));
      ws.on('error', reject);
    });

  it('count against the key: over its budget the start is refused with an error frame, before any protocol work', async () => {
    const a = await c.newClient();
    const auth = { authorization: `Bearer ${a.apiKey}` };
    // Within the budget the session reaches the rules, which know no such pair.
    expect(await frames(auth, start())).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'PAIR_NOT_FOUND' }) }]);
    expect((await c.get('/v1/wallet', { key: a.apiKey })).status).toBe(200);
    expect(await frames(auth, start())).toEqual([{ type: 'error', error: { code: 'RATE_LIMITED', message: expect.any(String), details: { scope: 'key', retryAfterMs: 30_000 } } }]);
    // The key's REST calls share the budget.
    expect((await c.get('/v1/wallet', { key: a.apiKey })).status).toBe(429);
  });

  it('count wrong keys toward the lockout, with the key in the header or the start frame, and are refused while locked out', async () => {
    const a = await c.newClient();
    const b = await c.newClient();
    expect(await frames({ authorization: `Bearer ${UNKNOWN_KEY}` }, start())).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'AUTH_FAILED' }) }]);
    expect(await frames({}, start({ apiKey: UNKNOWN_KEY }))).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'AUTH_FAILED' }) }]);
    expect(await frames({}, start({ apiKey: b.apiKey }))).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'RATE_LIMITED', details: { scope: 'lockout', retryAfterMs: 60_000 } }) }]);
    // The client adapter surfaces the refusal as RATE_LIMITED with the wait; sessions are never retried.
    const client = createCustodianClient({ baseUrl: url.replace('ws', 'http'), apiKey: a.apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const err = await client.runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-00000001' }, () => expect.fail('no party is made')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TandemError);
    expect((err as TandemError).code).toBe('RATE_LIMITED');
    expect((err as TandemError).details['retryAfterMs']).toBe(60_000);
  });
});

describe('the client adapter', () => {
  it('surfaces a 429 as RATE_LIMITED with retryAfterMs, and does not wait out a long Retry-After', async () => {
    const c = await custodian({ keyPerMin: 3 });
    const url = await c.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const a = await c.newClient();
      let calls = 0;
      const client = createCustodianClient({ baseUrl: url, apiKey: a.apiKey, retryDelayMs: 1, fetch: (input, init) => (calls++, globalThis.fetch(input, init)) });
      for (let i = 0; i < 3; i++) await client.getWallet();
      const err = await client.getWallet().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TandemError);
      expect((err as TandemError).toJSON()).toEqual({ code: 'RATE_LIMITED', message: expect.any(String), details: { scope: 'key', retryAfterMs: 20_000 } });
      expect(calls).toBe(4);
    } finally {
      await c.close();
    }
  });

  /** A fetch that answers from a script, counting calls. */
  const scripted = (answers: Array<() => Response>) => {
    const seen: string[] = [];
    const fetch = async (input: RequestInfo | URL) => {
      seen.push(String(input));
      return answers[Math.min(seen.length, answers.length) - 1]!();
    };
    return { seen, fetch: fetch as typeof globalThis.fetch };
  };
  const limited = (retryAfterMs: number) => () =>
    new Response(JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'slow down', details: { scope: 'key', retryAfterMs } } }), { status: 429, headers: { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) } });
  const wallet = () => new Response(JSON.stringify({ walletId: 'wal_1', archived: false, publicKeys: {}, signingPairs: [], backupPairs: [] }), { status: 200 });
  const base = { baseUrl: 'http://custodian.test', apiKey: UNKNOWN_KEY, retryDelayMs: 1 };

  it('waits out a short Retry-After once for an idempotent call, never twice, and never for a call without a key', async () => {
    const once = scripted([limited(2), wallet]);
    expect((await createCustodianClient({ ...base, fetch: once.fetch }).getWallet()).walletId).toBe('wal_1');
    expect(once.seen).toHaveLength(2);

    const twice = scripted([limited(2), limited(2), wallet]);
    const err = await createCustodianClient({ ...base, fetch: twice.fetch }).getWallet().catch((e: unknown) => e);
    expect((err as TandemError).toJSON()).toEqual({ code: 'RATE_LIMITED', message: 'slow down', details: { scope: 'key', retryAfterMs: 2 } });
    expect(twice.seen).toHaveLength(2);

    const noRetries = scripted([limited(2), wallet]);
    await expect(createCustodianClient({ ...base, fetch: noRetries.fetch, retries: 0 }).getWallet()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(noRetries.seen).toHaveLength(1);

    const eject = scripted([limited(2), wallet]);
    await expect(createCustodianClient({ ...base, fetch: eject.fetch }).eject()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(eject.seen).toHaveLength(1);
  });

  it("reads a proxy's own 429 as RATE_LIMITED, with the wait from Retry-After", async () => {
    const proxy = scripted([() => new Response('<html>Too Many Requests</html>', { status: 429, headers: { 'content-type': 'text/html', 'retry-after': '120' } })]);
    const err = await createCustodianClient({ ...base, fetch: proxy.fetch }).confirmBackup('bkp_1', 'confirm-bkp-01').catch((e: unknown) => e);
    expect((err as TandemError).toJSON()).toEqual({
      code: 'RATE_LIMITED',
      message: expect.any(String),
      details: { retryAfterMs: 120_000, httpStatus: 429, method: 'POST', path: '/v1/wallet/backup-pairs/bkp_1/confirm' },
    });
    expect(proxy.seen).toHaveLength(1);
    expect(eip1193Code(err as TandemError)).toBe(-32005);
  });
});

describe('limits switched off and memory', () => {
  it('limits nothing with 0, and holds no entries', async () => {
    const c = await custodian({ keyPerMin: 0, addressPerMin: 0, authFailureLimit: 0 });
    try {
      const a = await c.newClient();
      for (let i = 0; i < 30; i++) expect((await c.get('/v1/wallet', { key: UNKNOWN_KEY })).status).toBe(401);
      for (let i = 0; i < 30; i++) expect((await c.get('/v1/wallet', { key: a.apiKey })).status).toBe(200);
      expect(c.limits.entries).toEqual({ keys: 0, addresses: 0, authFailures: 0 });
    } finally {
      await c.close();
    }
  });

  it('stays bounded under a flood of addresses and keys, and forgets idle entries', () => {
    const clock = { now: T0 };
    const limits = new AbuseLimits({ keyPerMin: 5, addressPerMin: 5, authFailureLimit: 5, lockoutMs: 30_000, maxEntries: 1000, clock: () => clock.now });
    for (let i = 0; i < 20_000; i++) {
      const v4 = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      limits.countAddress(v4);
      limits.countAddress(`2001:db8:${i.toString(16)}::1`);
      limits.recordAuthFailure(v4);
      limits.countKey(i.toString(16).padStart(16, '0'));
      clock.now += 1;
    }
    expect(limits.entries).toEqual({ keys: 1000, addresses: 1000, authFailures: 1000 });
    // Idle a minute, every bucket is full again and every failure window over: the next call sweeps them.
    clock.now += 60_000;
    limits.countAddress('192.0.2.1');
    limits.countKey('ffffffffffffffff');
    limits.recordAuthFailure('192.0.2.1');
    expect(limits.entries).toEqual({ keys: 1, addresses: 1, authFailures: 1 });
  });

  it('keeps no entry for a wrong key, however many come: keys are counted only once authenticated', async () => {
    const c = await custodian({ keyPerMin: 5, addressPerMin: 0, authFailureLimit: 0, maxEntries: 50 });
    try {
      for (let i = 0; i < 100; i++) await c.get('/v1/wallet', { key: `tdk_${i.toString(16).padStart(16, '0')}_${'B'.repeat(43)}`, ip: `10.1.0.${i}` });
      expect(c.limits.entries.keys).toBe(0);
    } finally {
      await c.close();
    }
  });
});

describe('configuration', () => {
  const base = { TANDEM_MASTER_KEY: '42'.repeat(32), TANDEM_OPERATOR_KEY: OPERATOR_KEY };

  it('has defaults, accepts 0 to switch a limit off, and reads the trusted proxies', () => {
    expect(loadConfig(base)).toMatchObject({ limits: { keyPerMin: 600, addressPerMin: 1200, authFailureLimit: 10, authLockoutMs: 60_000 }, trustProxy: false });
    const c = loadConfig({
      ...base,
      TANDEM_RATE_LIMIT_KEY_PER_MIN: '0',
      TANDEM_RATE_LIMIT_IP_PER_MIN: '0',
      TANDEM_AUTH_FAILURE_LIMIT: '0',
      TANDEM_AUTH_LOCKOUT_MS: '300000',
      TANDEM_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1, loopback',
    });
    expect(c).toMatchObject({ limits: { keyPerMin: 0, addressPerMin: 0, authFailureLimit: 0, authLockoutMs: 300_000 }, trustProxy: ['10.0.0.0/8', '127.0.0.1', '::1', 'loopback'] });
    expect(loadConfig({ ...base, TANDEM_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  });

  it('refuses malformed limits and proxies, naming each', () => {
    for (const [name, bad] of [
      ['TANDEM_RATE_LIMIT_KEY_PER_MIN', '-1'],
      ['TANDEM_RATE_LIMIT_IP_PER_MIN', 'lots'],
      ['TANDEM_AUTH_FAILURE_LIMIT', '2.5'],
      ['TANDEM_AUTH_LOCKOUT_MS', '10'],
      ['TANDEM_TRUST_PROXY', '2'],
      ['TANDEM_TRUST_PROXY', '10.0.0.0/33'],
      ['TANDEM_TRUST_PROXY', 'proxy.example.com'],
    ] as const) {
      expect(() => loadConfig({ ...base, [name]: bad }), `${name}=${bad}`).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining(name) }));
    }
  });

  it('counts clients by address: IPv4 as is, IPv6 by its /64', () => {
    expect(clientAddress('192.0.2.1')).toBe('192.0.2.1');
    expect(clientAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientAddress('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(clientAddress('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(clientAddress('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientAddress('::1')).toBe('0:0:0:0::/64');
    expect(clientAddress('not an address')).toBe('not an address');
  });
});
