/**
 * Several custodian instances on one PostgreSQL database: they share wallets and keys, agree on one
 * identity, and the per-wallet lease holds across them — an instance that dies mid-operation blocks the
 * wallet only until its lease expires. Runs when PostgreSQL answers; with TANDEM_TEST_POSTGRES=required
 * (CI) an unreachable server fails the run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ed25519 } from '@noble/curves/ed25519.js';
import { signRequest } from '../../src/chains/sign-request.js';
import { createFrostKeygenP2 } from '../../src/mpc/frost-dkg.js';
import { createFrostBackupP2 } from '../../src/mpc/frost-reshare.js';
import { createFrostSignP2 } from '../../src/mpc/frost-sign.js';
import { session } from '../helpers/ws-session.js';
import { call, OPERATOR_KEY, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { cleanTestSchema, TEST_SCHEMA_PREFIX, testPostgresUrl } from '../helpers/stores.js';

const url = testPostgresUrl();
const schema = `${TEST_SCHEMA_PREFIX}instances_${process.pid}`;
let available = false;

beforeAll(async () => {
  available = await cleanTestSchema(schema, 'the several-instances test');
});

afterAll(async () => {
  if (available) await cleanTestSchema(schema, 'dropping its schema');
});

interface Opened {
  readonly ws: WebSocket;
  readonly ready: Promise<{ pid1: string } | { error: { code: string } }>;
}

/** Opens a session and answers nothing after the custodian's `ready`: the run stays open, holding the wallet. */
function openRun(server: ServerProcess, apiKey: string, start: Record<string, unknown>): Opened {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/wallet/sessions`, { headers: { authorization: `Bearer ${apiKey}` } });
  const ready = new Promise<{ pid1: string } | { error: { code: string } }>((resolve) => {
    ws.on('open', () => ws.send(JSON.stringify(start)));
    ws.on('message', (d: Buffer, binary: boolean) => {
      if (binary) return;
      const f = JSON.parse(d.toString());
      if (f.type === 'ready') resolve({ pid1: f.pid1 });
      if (f.type === 'error') resolve({ error: f.error });
    });
    ws.on('error', () => undefined);
  });
  return { ws, ready };
}

/** A whole ED25519 generate; resolves with the outcome or the error. */
function generate(server: ServerProcess, apiKey: string, idempotencyKey: string): Promise<{ outcome?: unknown; error?: { code: string }; pid1?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/wallet/sessions`, { headers: { authorization: `Bearer ${apiKey}` } });
    let party: ReturnType<typeof createFrostKeygenP2> | null = null;
    const out: { outcome?: unknown; error?: { code: string }; pid1?: string } = {};
    ws.on('open', () => ws.send(JSON.stringify({ type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey })));
    ws.on('message', (d: Buffer, binary: boolean) => {
      if (!binary) {
        const f = JSON.parse(d.toString());
        if (f.type === 'ready') {
          out.pid1 = f.pid1;
          party = createFrostKeygenP2({ pid1: Buffer.from(f.pid1, 'hex'), pid2: Buffer.from(f.pid2, 'hex') });
          for (const m of party.start()) ws.send(m);
        } else if (f.type === 'done') out.outcome = f.outcome;
        else if (f.type === 'error') out.error = f.error;
        return;
      }
      const r = party!.receive(new Uint8Array(d));
      if (r.result) lastShare = r.result.share;
      for (const m of r.messages) ws.send(m);
    });
    ws.on('close', () => resolve(out));
    ws.on('error', () => undefined);
  });
}

let lastShare: Uint8Array | null = null;

/** An ED25519 solanaMessage signature through `server`, with the client's FROST party. */
function signEd25519(server: ServerProcess, apiKey: string, pairId: string, message: Uint8Array, share: Uint8Array): Promise<Uint8Array> {
  const request = signRequest('ED25519', 'solanaMessage', { message: Buffer.from(message).toString('base64') });
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/wallet/sessions`, { headers: { authorization: `Bearer ${apiKey}` } });
    let party: ReturnType<typeof createFrostSignP2> | null = null;
    let signature: Uint8Array | null = null;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'start', op: 'sign', curve: 'ED25519', idempotencyKey: 'sign-inst-0001', pairId, request })));
    ws.on('message', (d: Buffer, binary: boolean) => {
      if (!binary) {
        const f = JSON.parse(d.toString());
        if (f.type === 'ready') {
          party = createFrostSignP2({ pid1: Buffer.from(f.pid1, 'hex'), pid2: Buffer.from(f.pid2, 'hex'), share, message });
          for (const m of party.start()) ws.send(m);
        } else if (f.type === 'error') reject(new Error(f.error.code));
        return;
      }
      const r = party!.receive(new Uint8Array(d));
      if (r.result) signature = r.result.signature;
      for (const m of r.messages) ws.send(m);
    });
    ws.on('close', () => (signature ? resolve(signature) : reject(new Error('no signature'))));
    ws.on('error', () => undefined);
  });
}

describe('several custodian instances on one PostgreSQL', () => {
  it('share wallets and one identity; the lease holds across them for generate and backup, and a dead instance blocks only until it expires', async (ctx) => {
    if (!available) ctx.skip();
    const env = { TANDEM_DATABASE: url, TANDEM_DATABASE_SCHEMA: schema, TANDEM_LEASE_TTL_MS: '3000' };
    const [a, b] = await Promise.all([startServerProcess('unused', env), startServerProcess('unused', env)]);
    try {
      const client = (await call(a, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body as { walletId: string; apiKey: string };
      expect((await call(b, 'GET', '/v1/wallet', { key: client.apiKey })).body).toMatchObject({ walletId: client.walletId });

      // A run on A holds the wallet: B refuses a second state-changing run.
      const held = openRun(a, client.apiKey, { type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-held-0001' });
      const first = await held.ready;
      expect(first).toHaveProperty('pid1');
      const refused = await generate(b, client.apiKey, 'gen-b-000001');
      expect(refused.error).toMatchObject({ code: 'OPERATION_IN_PROGRESS' });

      // A dies mid-operation (no shutdown, no release). B may take the wallet once the lease expires.
      a.child.kill('SIGKILL');
      held.ws.terminate();
      let attempts = 0;
      let result: { outcome?: unknown; error?: { code: string }; pid1?: string } = {};
      for (; attempts < 40; attempts++) {
        result = await generate(b, client.apiKey, `gen-after-${String(attempts).padStart(4, '0')}`);
        if (result.outcome) break;
        expect(result.error).toMatchObject({ code: 'OPERATION_IN_PROGRESS' });
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(result.outcome).toMatchObject({ op: 'generate', pair: { curve: 'ED25519', status: 'STORED_DATABASE' } });
      expect(attempts).toBeGreaterThan(0);
      // Both instances are one custodian to a client: the same identity (they raced to make it at start).
      expect(result.pid1).toBe((first as { pid1: string }).pid1);

      // Generated through B, confirmed and signed through a fresh instance C on the same database.
      const c = await startServerProcess('unused', env);
      try {
        const { pair } = result.outcome as { pair: { pairId: string; publicKey: string } };
        const confirmed = await call(c, 'POST', `/v1/wallet/signing-pairs/${pair.pairId}/confirm`, { key: client.apiKey, headers: { 'idempotency-key': `confirm-${pair.pairId.slice(0, 20)}` } });
        expect(confirmed.body).toMatchObject({ status: 'STORED_CLIENT' });
        const message = new TextEncoder().encode('signed through another instance');
        const signature = await signEd25519(c, client.apiKey, pair.pairId, message, lastShare!);
        expect(ed25519.verify(signature, message, Buffer.from(pair.publicKey, 'hex'), { zip215: false })).toBe(true);

        // Two backups of one wallet through different instances: while one runs, the other is refused,
        // and once the first client gives up its run (closing its socket), the lease is free again.
        const share = lastShare!;
        const backup = (server: ServerProcess, key: string) =>
          session(server, client.apiKey, { type: 'start', op: 'backup', curve: 'ED25519', idempotencyKey: key, method: 'PASSWORD' }, ({ pid1, pid2 }) =>
            createFrostBackupP2({ pid1, pid2, share, method: 'PASSWORD' }),
          );
        const running = openRun(b, client.apiKey, { type: 'start', op: 'backup', curve: 'ED25519', idempotencyKey: 'bkp-held-0001', method: 'PASSWORD' });
        expect(await running.ready).toHaveProperty('pid1');
        expect((await backup(c, 'bkp-c-000001')).error).toMatchObject({ code: 'OPERATION_IN_PROGRESS' });
        running.ws.close();
        let done: Awaited<ReturnType<typeof backup>> = {};
        for (let i = 0; i < 20 && !done.outcome; i++) {
          done = await backup(c, `bkp-c-retry-${i}`);
          if (!done.outcome) await new Promise((r) => setTimeout(r, 100));
        }
        expect(done.outcome).toMatchObject({ op: 'backup', backupPair: { status: 'STORED_CUSTODIAN_BACKUP_SHARE' } });

        // An instance killed in the middle of a backup: the lease expires and a retry elsewhere succeeds.
        const doomed = openRun(c, client.apiKey, { type: 'start', op: 'backup', curve: 'ED25519', idempotencyKey: 'bkp-doomed-01', method: 'GDRIVE' });
        expect(await doomed.ready).toHaveProperty('pid1');
        c.child.kill('SIGKILL');
        doomed.ws.terminate();
        let retried: Awaited<ReturnType<typeof backup>> = {};
        let refusedFirst = false;
        for (let i = 0; i < 40 && !retried.outcome; i++) {
          retried = await backup(b, `bkp-b-retry-${i}`);
          if (retried.error?.code === 'OPERATION_IN_PROGRESS') refusedFirst = true;
          if (!retried.outcome) await new Promise((r) => setTimeout(r, 250));
        }
        expect(refusedFirst).toBe(true);
        expect(retried.outcome).toMatchObject({ op: 'backup' });
        // Nothing was lost: the signing pair is still the confirmed one.
        const view = (await call(b, 'GET', '/v1/wallet', { key: client.apiKey })).body;
        expect(view.signingPairs.find((p: { pairId: string }) => p.pairId === pair.pairId).status).toBe('STORED_CLIENT');
      } finally {
        await c.stop();
      }
    } finally {
      await Promise.allSettled([a.stop(), b.stop()]);
    }
  });
});
