/**
 * The operator's hooks over HTTP against a real receiver the test starts: every call is signed
 * (HMAC-SHA256 over timestamp and body) and carries public data only; allow and refuse are honoured; a
 * receiver that fails, hangs, answers nonsense or is gone refuses (fail-closed) — directly, and through a
 * real custodian process refusing a signature with POLICY_REFUSED.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/chains/sign-request.js';
import { createFrostKeygenP2 } from '../../src/mpc/frost-dkg.js';
import { decodeFrostShare } from '../../src/mpc/frost-share.js';
import { createFrostSignP2 } from '../../src/mpc/frost-sign.js';
import { httpHooks, signPayload } from '../../src/server/operator-hooks.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { session } from '../helpers/ws-session.js';

const SECRET = 'hook-secret-for-tests-0123456789abcdef';
type Mode = 'allow' | 'deny' | 'fail' | 'hang' | 'nonsense';
let mode: Mode = 'allow';
const seen: { path: string; body: string; validSignature: boolean }[] = [];
let receiver: Server;
let hookUrl: string;

const read = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let b = '';
  req.on('data', (d: Buffer) => (b += d.toString()));
  req.on('end', () => resolve(b));
});

beforeAll(async () => {
  receiver = createServer(async (req, res) => {
    const body = await read(req);
    const ts = String(req.headers['x-tandem-timestamp']);
    seen.push({ path: req.url ?? '', body, validSignature: req.headers['x-tandem-signature'] === signPayload(SECRET, ts, body) });
    if (mode === 'hang') return; // never answers
    if (mode === 'fail') return void res.writeHead(500).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(mode === 'nonsense' ? 'not json' : JSON.stringify(mode === 'allow' ? { allow: true } : { allow: false, reason: 'limit exceeded' }));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/tandem`;
});
afterAll(() => {
  receiver.closeAllConnections();
  receiver.close();
});

const ctx = { walletId: 'w', curve: 'ED25519' as const, method: 'PASSWORD' as const, backupPairId: 'b1' };

describe('operator hooks over HTTP', () => {
  it('sign every call, honour the answer, and fail closed', async () => {
    const hooks = httpHooks({ url: hookUrl, secret: SECRET, timeoutMs: 300 });
    const expected: [Mode, boolean][] = [
      ['allow', true],
      ['deny', false],
      ['fail', false],
      ['hang', false],
      ['nonsense', false],
    ];
    for (const [m, allow] of expected) {
      mode = m;
      const decision = await hooks.recoveryAuthorization(ctx);
      expect(decision.allow, m).toBe(allow);
    }
    mode = 'deny';
    expect(await hooks.signingPolicy({ walletId: 'w', curve: 'ED25519', pairId: 'p', request: { kind: 'raw', digest: 'ab' } })).toEqual({ allow: false, reason: 'limit exceeded' });
    expect(seen.every((s) => s.validSignature)).toBe(true);
    expect(seen.map((s) => s.path)).toContain('/tandem/recovery-authorization');
    expect(seen.map((s) => s.path)).toContain('/tandem/signing-policy');
    expect(JSON.parse(seen[0]!.body)).toEqual(ctx);
    // Nobody listening: refused too.
    const gone = httpHooks({ url: 'http://127.0.0.1:1/', secret: SECRET, timeoutMs: 300 });
    expect((await gone.signingPolicy({ walletId: 'w', curve: 'ED25519', pairId: 'p', request: { kind: 'raw', digest: 'ab' } })).allow).toBe(false);
  });

  describe('through a custodian process', () => {
    const dir = tempDir();
    let server: ServerProcess;
    beforeAll(async () => {
      server = await startServerProcess(`${dir.path}/custodian.db`, { TANDEM_HOOK_URL: hookUrl, TANDEM_HOOK_SECRET: SECRET, TANDEM_HOOK_TIMEOUT_MS: '300' });
    });
    afterAll(async () => {
      await server?.stop();
      dir.remove();
    });

    it('the signing policy decides every signature; a failing hook refuses with POLICY_REFUSED', async () => {
      const client = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body as { apiKey: string };
      const gen = await session(server, client.apiKey, { type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-hook-0001' }, ({ pid1, pid2 }) => createFrostKeygenP2({ pid1, pid2 }));
      const share = (gen.result as { share: Uint8Array; publicKey: string }).share;
      const publicKey = (gen.result as { publicKey: string }).publicKey;
      const pairId = bytesToHex(decodeFrostShare(share).pairId);
      await call(server, 'POST', `/v1/wallet/signing-pairs/${pairId}/confirm`, { key: client.apiKey, headers: { 'idempotency-key': `confirm-${pairId}` } });
      const message = new TextEncoder().encode('pay the coffee');
      const request = signRequest('ED25519', 'solanaMessage', { message: Buffer.from(message).toString('base64') });
      const sign = (key: string) =>
        session(server, client.apiKey, { type: 'start', op: 'sign', curve: 'ED25519', idempotencyKey: key, pairId, request }, ({ pid1, pid2 }) => createFrostSignP2({ pid1, pid2, share, message }));

      mode = 'allow';
      const ok = await sign('sign-hook-0001');
      expect(ed25519.verify((ok.result as { signature: Uint8Array }).signature, message, hexToBytes(publicKey), { zip215: false })).toBe(true);
      for (const m of ['deny', 'fail', 'hang'] as Mode[]) {
        mode = m;
        expect((await sign(`sign-hook-${m}`)).error, m).toMatchObject({ code: 'POLICY_REFUSED' });
      }
      // The policy saw the recomputed bytes as hex, never a share.
      const last = seen.filter((s) => s.path.endsWith('signing-policy')).at(-1)!;
      expect(JSON.parse(last.body)).toMatchObject({ pairId, curve: 'ED25519', request: { kind: 'solanaMessage', digest: bytesToHex(message) } });
      expect(last.body).not.toContain(bytesToHex(share));
    });
  });
});
