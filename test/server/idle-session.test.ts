/**
 * A client that goes silent in the middle of a run does not hold the wallet: the custodian ends the session
 * after the lease's lifetime with a typed error, releases the lease, and a new run succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createFrostKeygenP2 } from '../../src/mpc/frost-dkg.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { session } from '../helpers/ws-session.js';

const dir = tempDir();
let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`, { TANDEM_LEASE_TTL_MS: '1000' });
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

describe('an idle session', () => {
  it('is ended with WS_CLOSED, and the wallet is free again', async () => {
    const client = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body as { apiKey: string };
    const ended = await new Promise<{ code: number; error?: { code: string } }>((resolve) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/wallet/sessions`, { headers: { authorization: `Bearer ${client.apiKey}` } });
      let error: { code: string } | undefined;
      ws.on('open', () => ws.send(JSON.stringify({ type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-idle-0001' })));
      ws.on('message', (d: Buffer, binary: boolean) => {
        if (!binary && JSON.parse(d.toString()).type === 'error') error = JSON.parse(d.toString()).error;
      });
      ws.on('close', (code) => resolve(error ? { code, error } : { code }));
    });
    expect(ended).toMatchObject({ code: 1008, error: { code: 'WS_CLOSED' } });
    const again = await session(server, client.apiKey, { type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-idle-0002' }, ({ pid1, pid2 }) => createFrostKeygenP2({ pid1, pid2 }));
    expect(again.outcome).toMatchObject({ op: 'generate', pair: { status: 'STORED_DATABASE' } });
  });
});
