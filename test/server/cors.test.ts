/**
 * CORS for browser apps on the client endpoints only (a browser app on another origin must be able to send
 * its Authorization and Idempotency-Key headers), exactly for the configured origins; the operator API
 * never answers a browser's preflight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.js';
import { call, MASTER_KEY, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';

const APP = 'http://localhost:5173';
const dir = tempDir();
let server: ServerProcess;
let apiKey: string;
beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`, { TANDEM_CORS_ORIGINS: `${APP}, https://wallet.example.com` });
  apiKey = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body.apiKey;
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

const preflight = (path: string, origin: string) =>
  fetch(server.url + path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, idempotency-key' } });

describe('CORS', () => {
  it('answers a configured origin’s preflight on the client endpoints, naming the headers the client sends', async () => {
    const res = await preflight('/v1/wallet/backup-pairs/abc/confirm', APP);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-headers')).toContain('idempotency-key');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
    const get = await fetch(`${server.url}/v1/wallet`, { headers: { origin: APP, authorization: `Bearer ${apiKey}` } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('says nothing to other origins, and never exposes the operator API to a browser', async () => {
    const other = await preflight('/v1/wallet', 'https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const operator = await preflight('/v1/operator/clients', APP);
    expect(operator.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${server.url}/v1/wallet`, { headers: { origin: 'https://evil.example.com', authorization: `Bearer ${apiKey}` } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a wildcard or a malformed origin in the configuration', () => {
    const base = { TANDEM_MASTER_KEY: MASTER_KEY, TANDEM_OPERATOR_KEY: OPERATOR_KEY };
    for (const bad of ['*', 'localhost:5173', 'http://localhost:5173/path']) {
      expect(() => loadConfig({ ...base, TANDEM_CORS_ORIGINS: bad }), bad).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    expect(loadConfig({ ...base, TANDEM_CORS_ORIGINS: `${APP},https://a.example.com:8443` }).corsOrigins).toEqual([APP, 'https://a.example.com:8443']);
  });
});
