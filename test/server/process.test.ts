/**
 * The custodian as an operator runs it: a real `tandem serve` process on an ephemeral port and a SQLite
 * file, driven over HTTP. Authorization, bad input, limits, restarts and shutdown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, OPERATOR_KEY, runCli, serverEnv, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';

const dir = tempDir();
let server: ServerProcess;
const db = () => `${dir.path}/custodian.db`;

beforeAll(async () => {
  server = await startServerProcess(db(), { TANDEM_BODY_LIMIT: '4096' });
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

const newClient = async () => {
  const r = await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} });
  expect(r.status).toBe(201);
  return r.body as { walletId: string; keyId: string; apiKey: string };
};

describe('the custodian process', () => {
  it('is healthy and ready', async () => {
    expect(await call(server, 'GET', '/health')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await call(server, 'GET', '/ready')).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('lets an operator create clients, issue and revoke keys; a client sees only its own wallet', async () => {
    const a = await newClient();
    const b = await newClient();
    expect(a.apiKey).toMatch(/^tdk_[0-9a-f]{16}_/);
    expect((await call(server, 'GET', '/v1/wallet', { key: a.apiKey })).body).toMatchObject({ walletId: a.walletId, signingPairs: [] });
    expect((await call(server, 'GET', '/v1/wallet', { key: b.apiKey })).body).toMatchObject({ walletId: b.walletId });

    const second = await call(server, 'POST', `/v1/operator/clients/${a.walletId}/keys`, { key: OPERATOR_KEY });
    expect(second.status).toBe(201);
    expect((await call(server, 'GET', '/v1/wallet', { key: second.body.apiKey })).body).toMatchObject({ walletId: a.walletId });
    expect((await call(server, 'DELETE', `/v1/operator/clients/${a.walletId}/keys/${a.keyId}`, { key: OPERATOR_KEY })).status).toBe(204);
    expect(await call(server, 'GET', '/v1/wallet', { key: a.apiKey })).toMatchObject({ status: 401, body: { error: { code: 'AUTH_FAILED' } } });
    expect((await call(server, 'GET', '/v1/wallet', { key: second.body.apiKey })).status).toBe(200);

    const view = await call(server, 'GET', `/v1/operator/clients/${a.walletId}`, { key: OPERATOR_KEY });
    expect(view.body.keys.map((k: { keyId: string; revokedAt: number | null }) => [k.keyId, k.revokedAt === null])).toEqual(
      expect.arrayContaining([
        [a.keyId, false],
        [second.body.keyId, true],
      ]),
    );
    // B's key opens nothing of A's: a pair id of A's wallet is simply not found from B.
    expect((await call(server, 'POST', `/v1/operator/clients/${a.walletId}/keys`, { key: b.apiKey })).body.error.code).toBe('AUTH_FAILED');
  });

  it('answers a missing, malformed, wrong or misplaced key with AUTH_FAILED', async () => {
    const a = await newClient();
    for (const key of [undefined, 'nonsense', `tdk_0000000000000000_${'A'.repeat(43)}`, a.apiKey.slice(0, -1) + (a.apiKey.endsWith('A') ? 'B' : 'A')]) {
      expect(await call(server, 'GET', '/v1/wallet', key ? { key } : {})).toMatchObject({ status: 401, body: { error: { code: 'AUTH_FAILED' } } });
    }
    expect((await call(server, 'GET', '/v1/wallet', { key: OPERATOR_KEY })).status).toBe(401);
    expect((await call(server, 'POST', '/v1/operator/clients', { key: a.apiKey, body: {} })).status).toBe(401);
    expect((await call(server, 'POST', '/v1/operator/clients', { body: {} })).status).toBe(401);
  });

  it('refuses bad input with a typed 4xx and keeps serving', async () => {
    const a = await newClient();
    const bad = [
      await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, raw: '{not json' }),
      await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: { unexpected: true } }),
      await call(server, 'POST', `/v1/operator/clients/${a.walletId}/step-up`, { key: OPERATOR_KEY, body: { method: 'PASSWORD' } }),
      await call(server, 'POST', `/v1/operator/clients/${a.walletId}/step-up`, { key: OPERATOR_KEY, body: { method: 'PASSWORD', ttlSeconds: '60' } }),
      await call(server, 'POST', `/v1/operator/clients/${a.walletId}/step-up`, { key: OPERATOR_KEY, body: { method: 'CARRIER_PIGEON', ttlSeconds: 60 } }),
      await call(server, 'POST', '/v1/wallet/signing-pairs/sig_1/confirm', { key: a.apiKey }),
      await call(server, 'POST', '/v1/wallet/signing-pairs/sig_1/confirm', { key: a.apiKey, headers: { 'idempotency-key': 'short' } }),
      await call(server, 'POST', '/v1/wallet/signing-pairs/not%20an%20id/confirm', { key: a.apiKey, headers: { 'idempotency-key': 'key-00000001' } }),
    ];
    for (const r of bad) expect(r).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT' } } });
    const big = await call(server, 'PUT', '/v1/wallet/backup-pairs/bkp_1/ciphertext', { key: a.apiKey, raw: new Uint8Array(5000), headers: { 'idempotency-key': 'key-00000002' } });
    expect(big).toMatchObject({ status: 413, body: { error: { code: 'INVALID_INPUT' } } });
    expect(await call(server, 'GET', '/v1/nowhere')).toMatchObject({ status: 404, body: { error: { code: 'INVALID_INPUT' } } });
    expect(await call(server, 'POST', '/v1/wallet/signing-pairs/sig_1/confirm', { key: a.apiKey, headers: { 'idempotency-key': 'key-00000003' } })).toMatchObject({
      status: 404,
      body: { error: { code: 'PAIR_NOT_FOUND' } },
    });
    expect((await call(server, 'GET', '/v1/wallet', { key: a.apiKey })).body).toMatchObject({ walletId: a.walletId, signingPairs: [], backupPairs: [] });
  });

  it('keeps every wallet and key across a restart on the same database, and shuts down cleanly', async () => {
    const a = await newClient();
    await call(server, 'POST', `/v1/operator/clients/${a.walletId}/archive`, { key: OPERATOR_KEY });
    expect(await server.stop()).toBe(0);
    expect(server.output()).toContain('SIGTERM: shutting down');
    server = await startServerProcess(db(), { TANDEM_BODY_LIMIT: '4096' });
    expect((await call(server, 'GET', '/v1/wallet', { key: a.apiKey })).body).toMatchObject({ walletId: a.walletId, archived: true });
  });

  it('logs requests at debug level without API keys or bodies', async () => {
    const verbose = await startServerProcess(`${dir.path}/verbose.db`, { TANDEM_LOG_LEVEL: 'debug' });
    try {
      const c = (await call(verbose, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body;
      await call(verbose, 'GET', '/v1/wallet', { key: c.apiKey });
      await call(verbose, 'PUT', '/v1/wallet/backup-pairs/bkp_1/ciphertext', { key: c.apiKey, raw: new Uint8Array([0xde, 0xad, 0xbe, 0xef]), headers: { 'idempotency-key': 'key-00000009' } });
      // The process writes its logs asynchronously: read them once it has exited and its output is drained.
      expect(await verbose.stop()).toBe(0);
      const logs = verbose.output();
      expect(logs).toContain('"url":"/v1/wallet"');
      for (const secret of [OPERATOR_KEY, c.apiKey, c.apiKey.split('_')[2]!, 'deadbeef', '3q2+7w==']) expect(logs).not.toContain(secret);
    } finally {
      if (verbose.child.exitCode === null && verbose.child.signalCode === null) await verbose.stop();
    }
  });

  it('refuses to start with an invalid configuration, naming every problem and no secret', async () => {
    const child = runCli(['serve'], { ...serverEnv(db()), TANDEM_MASTER_KEY: 'too short', TANDEM_PORT: 'eighty', TANDEM_OPERATOR_KEY: 'short-operator-secret' });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(err).toContain('TANDEM_MASTER_KEY must be 64 hex characters');
    expect(err).toContain('TANDEM_PORT must be an integer');
    expect(err).toContain('TANDEM_OPERATOR_KEY');
    expect(err).not.toContain('short-operator-secret');
  });
});
