/**
 * The client's transport to the custodian. Against a real `tandem serve` process: sessions run with the
 * real client parties of src/mpc over ws's WebSocket (and once over Node's own WHATWG WebSocket, the
 * browser API), REST walks the pairs through their statuses, and refusals arrive as typed errors. Against
 * a tiny local HTTP server and a scripted WebSocket server: what a healthy custodian never does — 5xx,
 * silence, dropped connections, malformed answers — counted attempt by attempt. No error may carry an
 * API key.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createCustodianClient, type CustodianClientOptions, type WebSocketConstructor } from '../../src/adapters/custodian-client.js';
import type { Party } from '../../src/adapters/ports.js';
import { signRequest } from '../../src/chains/sign-request.js';
import { TandemError, type ErrorCode } from '../../src/errors.js';
import { createFrostKeygenP2 } from '../../src/mpc/frost-dkg.js';
import { createFrostBackupP2 } from '../../src/mpc/frost-reshare.js';
import { decodeFrostShare } from '../../src/mpc/frost-share.js';
import { createFrostSignP2 } from '../../src/mpc/frost-sign.js';
import { createKeygenP2 } from '../../src/mpc/keygen.js';
import { decodeClientShare } from '../../src/mpc/share.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';

const BAD_KEY = `tdk_0000000000000000_${'A'.repeat(43)}`;
const MOCK_KEY = `tdk_1111111111111111_${'s3cr3t'.repeat(7)}x`;
/** Every key a test used: none may appear in any error. */
const secrets = new Set<string>([OPERATOR_KEY, BAD_KEY, MOCK_KEY, MOCK_KEY.slice(21)]);

/** Awaits a rejection, checks it is a TandemError of `code`, and that no key leaked into it or its causes. */
async function failure(promise: Promise<unknown>, code: ErrorCode): Promise<TandemError> {
  const err = await promise.then(
    () => expect.fail(`expected ${code}, but it resolved`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TandemError);
  const e = err as TandemError;
  expect(e.code, e.message).toBe(code);
  const texts: string[] = [e.message, String(e), JSON.stringify(e.toJSON()), JSON.stringify(e.details)];
  for (let c: unknown = e.cause; c instanceof Error; c = c.cause) texts.push(c.message, c.stack ?? '');
  for (const secret of secrets) for (const t of texts) expect(t.includes(secret), `a key leaked into ${code}`).toBe(false);
  return e;
}

const dir = tempDir();
let server: ServerProcess;
let client: { walletId: string; apiKey: string };

const newClient = async (): Promise<{ walletId: string; apiKey: string }> => {
  const c = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body as { walletId: string; apiKey: string };
  secrets.add(c.apiKey);
  secrets.add(c.apiKey.slice(21));
  return c;
};
const connect = (apiKey: string, extra: Partial<CustodianClientOptions> = {}) =>
  createCustodianClient({ baseUrl: server.url, apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor, retryDelayMs: 1, ...extra });

beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`);
  client = await newClient();
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

/**
 * A run started right after an aborted one may still find the wallet's lease held: the custodian frees it
 * once it has seen the close, a moment after the client gave up. A caller backs off and tries again.
 */
async function whenLeaseFree<T>(run: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await run();
    } catch (e) {
      if (!(e instanceof TandemError && e.code === 'OPERATION_IN_PROGRESS') || i >= 30) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const frostKeygen = ({ pid1, pid2 }: { pid1: Uint8Array; pid2: Uint8Array }) => createFrostKeygenP2({ pid1, pid2 });
const noParty = (): never => {
  throw new Error('no party should start');
};

describe('against a real custodian', () => {
  let ed: { share: Uint8Array; publicKey: string; pairId: string };

  it('generates both curves with the real client parties, confirms the pairs over REST, and reads the wallet', async () => {
    const custodian = connect(client.apiKey);
    const readies: unknown[] = [];
    const secp = await custodian.runSession({ op: 'generate', curve: 'SECP256K1', idempotencyKey: 'gen-k1-000001' }, (ready) => {
      readies.push({ op: ready.op, curve: ready.curve, pid1: ready.pid1.length, pid2: ready.pid2.length });
      return createKeygenP2({ pid1: ready.pid1, pid2: ready.pid2 });
    });
    const edEnd = await custodian.runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-ed-000001' }, frostKeygen);
    expect(readies).toEqual([{ op: 'generate', curve: 'SECP256K1', pid1: 16, pid2: 16 }]);

    const secpPairId = bytesToHex(decodeClientShare(secp.result.share).pairId);
    const edPairId = bytesToHex(decodeFrostShare(edEnd.result.share).pairId);
    expect(secp.outcome).toMatchObject({ op: 'generate', pair: { pairId: secpPairId, curve: 'SECP256K1', status: 'STORED_DATABASE', publicKey: secp.result.publicKey } });
    expect(edEnd.outcome).toMatchObject({ op: 'generate', pair: { pairId: edPairId, curve: 'ED25519', status: 'STORED_DATABASE', publicKey: edEnd.result.publicKey } });

    const confirmed = await custodian.confirmSigningPair(secpPairId, `confirm-${secpPairId.slice(0, 16)}`);
    expect(confirmed).toMatchObject({ pairId: secpPairId, status: 'STORED_CLIENT', epoch: 1 });
    // The same key again: the first answer, nothing applied twice.
    expect(await custodian.confirmSigningPair(secpPairId, `confirm-${secpPairId.slice(0, 16)}`)).toEqual(confirmed);
    // The same key for another request is refused with the custodian's own code.
    await failure(custodian.confirmSigningPair(edPairId, `confirm-${secpPairId.slice(0, 16)}`), 'IDEMPOTENCY_KEY_REUSED');
    await custodian.confirmSigningPair(edPairId, `confirm-${edPairId.slice(0, 16)}`);

    const wallet = await custodian.getWallet();
    expect(wallet).toMatchObject({ walletId: client.walletId, archived: false, publicKeys: { SECP256K1: secp.result.publicKey, ED25519: edEnd.result.publicKey } });
    expect(wallet.signingPairs.map((p) => [p.curve, p.status]).sort()).toEqual([
      ['ED25519', 'STORED_CLIENT'],
      ['SECP256K1', 'STORED_CLIENT'],
    ]);
    ed = { ...edEnd.result, pairId: edPairId };
  });

  it('signs on ED25519: the outcome carries the signature, which verifies under the wallet key', async () => {
    const message = utf8ToBytes('sign in to example.com');
    const request = signRequest('ED25519', 'solanaMessage', { message: Buffer.from(message).toString('base64') });
    const { outcome, result } = await connect(client.apiKey).runSession({ op: 'sign', curve: 'ED25519', idempotencyKey: 'sign-ed-00001', pairId: ed.pairId, request }, ({ pid1, pid2 }) =>
      createFrostSignP2({ pid1, pid2, share: ed.share, message }),
    );
    expect(outcome).toEqual({ op: 'sign', pairId: ed.pairId, signature: bytesToHex(result.signature) });
    expect(ed25519.verify(result.signature, message, hexToBytes(ed.publicKey), { zip215: false })).toBe(true);
  });

  it('backs up ED25519 and walks the backup pair through key, ciphertext and confirm; eject only inside the window', async () => {
    const custodian = connect(client.apiKey);
    const { outcome, result } = await custodian.runSession({ op: 'backup', curve: 'ED25519', idempotencyKey: 'bkp-ed-000001', method: 'PASSWORD' }, ({ pid1, pid2 }) =>
      createFrostBackupP2({ pid1, pid2, share: ed.share, method: 'PASSWORD' }),
    );
    const backupPairId = bytesToHex(decodeFrostShare(result.share).pairId);
    expect(outcome).toMatchObject({ op: 'backup', backupPair: { backupPairId, method: 'PASSWORD', status: 'STORED_CUSTODIAN_BACKUP_SHARE', publicKey: ed.publicKey } });

    expect(await custodian.confirmBackupKey(backupPairId, 'bkp-key-000001')).toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE_KEY' });
    const envelope = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    expect(await custodian.storeBackupCiphertext(backupPairId, envelope, 'bkp-ct-000001')).toMatchObject({ backupPairId });
    expect(await custodian.storeBackupCiphertext(backupPairId, envelope, 'bkp-ct-000001')).toMatchObject({ backupPairId });
    await failure(custodian.storeBackupCiphertext(backupPairId, envelope.map((b) => b ^ 1), 'bkp-ct-000002'), 'STATE_INVALID');
    expect(await custodian.fetchBackupCiphertext(backupPairId)).toEqual(envelope);
    expect(await custodian.confirmBackup(backupPairId, 'bkp-done-00001')).toMatchObject({ backupPairId, status: 'STORED_CLIENT_BACKUP_SHARE' });
    expect((await custodian.getWallet()).backupPairs).toEqual([expect.objectContaining({ backupPairId, status: 'STORED_CLIENT_BACKUP_SHARE' })]);

    await failure(custodian.eject(), 'EJECT_NOT_ALLOWED');
    expect((await call(server, 'POST', `/v1/operator/clients/${client.walletId}/eject`, { key: OPERATOR_KEY, body: { ttlSeconds: 60 } })).status).toBe(204);
    const shares = await custodian.eject();
    expect(shares).toHaveLength(1);
    expect(shares[0]).toMatchObject({ backupPairId, curve: 'ED25519', method: 'PASSWORD' });
    expect(bytesToHex(decodeFrostShare(shares[0]!.custodianBackupShare).pairId)).toBe(backupPairId);
  });

  it("turns the custodian's error frames into typed errors, and bad input into INVALID_INPUT before connecting", async () => {
    const custodian = connect(client.apiKey);
    const request = signRequest('ED25519', 'solanaMessage', { message: 'AAAA' });
    await failure(custodian.runSession({ op: 'sign', curve: 'ED25519', idempotencyKey: 'sign-nf-00001', pairId: 'no_such_pair', request }, noParty), 'PAIR_NOT_FOUND');
    await failure(custodian.runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-ed-000002' }, noParty), 'STATE_INVALID');
    await failure(custodian.runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'short' }, noParty), 'INVALID_INPUT');
    await failure(custodian.runSession({ op: 'recover', curve: 'ED25519', idempotencyKey: 'rec-ed-000001', backupPairId: '../wallet' }, noParty), 'INVALID_INPUT');
    await failure(custodian.confirmSigningPair('../../v1/operator/clients', 'confirm-000001'), 'INVALID_INPUT');
    await failure(custodian.confirmBackup(ed.pairId, 'has space inside'), 'INVALID_INPUT');
  });

  it('a second concurrent generate is OPERATION_IN_PROGRESS; a silent custodian is WS_CLOSED {reason: timeout}; then the wallet is free', async () => {
    const fresh = await newClient();
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    // A party that swallows everything: the custodian waits for it while holding the wallet's lease.
    const stalled = connect(fresh.apiKey, { sessionIdleTimeoutMs: 2000 }).runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-hold-0001' }, (): Party<never> => {
      held();
      return { start: () => [], receive: () => ({ messages: [] }) };
    });
    const stalledFailure = failure(stalled, 'WS_CLOSED');
    await holding;
    const busy = await failure(connect(fresh.apiKey).runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-hold-0002' }, noParty), 'OPERATION_IN_PROGRESS');
    expect(busy.details).not.toHaveProperty('closeCode');
    const timeout = await stalledFailure;
    expect(timeout.details).toMatchObject({ reason: 'timeout', op: 'generate', curve: 'ED25519', framesSent: 0, partyFinished: false });
    expect(timeout.details['framesReceived']).toBeGreaterThanOrEqual(1);
    // The client closed the socket, so the custodian released the lease (not waiting for its own idle timeout).
    const again = await whenLeaseFree(() => connect(fresh.apiKey).runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-hold-0003' }, frostKeygen));
    expect(again.outcome.pair.status).toBe('STORED_DATABASE');
  });

  it('a party that throws ends the session: its TandemError as is, a foreign error as MALFORMED_MESSAGE without its text', async () => {
    const fresh = await newClient();
    const throwing = (err: unknown) => (): Party<never> => ({
      start: () => [],
      receive: () => {
        throw err;
      },
    });
    const own = await failure(connect(fresh.apiKey).runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-throw-001' }, throwing(new TandemError('DKG_FAILED', { details: { round: 2 } }))), 'DKG_FAILED');
    expect(own.details).toEqual({ round: 2 });
    const foreign = await failure(whenLeaseFree(() => connect(fresh.apiKey).runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-throw-002' }, throwing(new RangeError('scalar 0xdeadbeef out of range')))), 'MALFORMED_MESSAGE');
    expect(JSON.stringify(foreign.toJSON()) + foreign.message).not.toContain('deadbeef');
    expect(foreign.details).toMatchObject({ causeKind: 'RangeError' });
    // Each abort released the lease as soon as the custodian saw the close, not after its idle timeout.
    const ok = await whenLeaseFree(() => connect(fresh.apiKey).runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-throw-003' }, frostKeygen));
    expect(ok.outcome.op).toBe('generate');
  });

  it('answers a bad API key with AUTH_FAILED over REST and in sessions, with the key in a header or in the start frame', async () => {
    await failure(connect(BAD_KEY).getWallet(), 'AUTH_FAILED');
    await failure(connect(BAD_KEY).confirmSigningPair(ed.pairId, 'confirm-bad-01'), 'AUTH_FAILED');
    await failure(connect(BAD_KEY).runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-bad-00001' }, noParty), 'AUTH_FAILED');
    await failure(connect(BAD_KEY, { webSocketAuth: 'startFrame' }).runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-bad-00002' }, noParty), 'AUTH_FAILED');
  });

  it('sends the key in the start frame when the WebSocket constructor cannot take headers, as in a browser', async () => {
    const constructed: number[] = [];
    class BrowserShaped extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        constructed.push(arguments.length);
        super(url, protocols);
      }
    }
    const message = utf8ToBytes('from a browser-shaped socket');
    const request = signRequest('ED25519', 'solanaMessage', { message: Buffer.from(message).toString('base64') });
    const custodian = connect(client.apiKey, { WebSocket: BrowserShaped as unknown as WebSocketConstructor });
    const { result } = await custodian.runSession({ op: 'sign', curve: 'ED25519', idempotencyKey: 'sign-ed-00002', pairId: ed.pairId, request }, ({ pid1, pid2 }) =>
      createFrostSignP2({ pid1, pid2, share: ed.share, message }),
    );
    expect(ed25519.verify(result.signature, message, hexToBytes(ed.publicKey), { zip215: false })).toBe(true);
    expect(constructed).toEqual([1]);
  });

  it("runs a session over Node's own WHATWG WebSocket (the browser API), found on globalThis", async () => {
    // Node 20 has the browser API only behind a flag, so this runs in a child process of its own.
    const script = `
      import { createCustodianClient } from ${JSON.stringify(new URL('../../src/adapters/custodian-client.ts', import.meta.url).pathname)};
      import { createFrostSignP2 } from ${JSON.stringify(new URL('../../src/mpc/frost-sign.ts', import.meta.url).pathname)};
      const { share, message, request, pairId } = JSON.parse(process.env.INPUT);
      const custodian = createCustodianClient({ baseUrl: process.env.URL, apiKey: process.env.KEY });
      const bytes = Buffer.from(message, 'hex');
      const { outcome, result } = await custodian.runSession({ op: 'sign', curve: 'ED25519', idempotencyKey: 'sign-ed-00003', pairId, request },
        ({ pid1, pid2 }) => createFrostSignP2({ pid1, pid2, share: new Uint8Array(Buffer.from(share, 'hex')), message: new Uint8Array(bytes) }));
      console.log(JSON.stringify({ outcome, signature: Buffer.from(result.signature).toString('hex'), hasGlobal: typeof WebSocket }));`;
    const message = utf8ToBytes('from the browser API');
    const request = signRequest('ED25519', 'solanaMessage', { message: Buffer.from(message).toString('base64') });
    const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { PATH: process.env['PATH'] ?? '', URL: server.url, KEY: client.apiKey, INPUT: JSON.stringify({ share: bytesToHex(ed.share), message: bytesToHex(message), request, pairId: ed.pairId }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    expect(await new Promise((resolve) => child.once('exit', resolve)), err).toBe(0);
    const answer = JSON.parse(out) as { outcome: { op: string; signature: string }; signature: string; hasGlobal: string };
    expect(answer).toMatchObject({ hasGlobal: 'function', outcome: { op: 'sign', signature: answer.signature } });
    expect(ed25519.verify(hexToBytes(answer.signature), message, hexToBytes(ed.publicKey), { zip215: false })).toBe(true);
  });

  it('answers a custodian that is not listening with NETWORK_ERROR, after the retries for REST', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const custodian = createCustodianClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: client.apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor, retryDelayMs: 1 });
    expect((await failure(custodian.getWallet(), 'NETWORK_ERROR')).details).toMatchObject({ reason: 'unreachable', attempts: 3, method: 'GET', path: '/v1/wallet' });
    expect((await failure(custodian.confirmBackup('bkp_1', 'bkp-done-00009'), 'NETWORK_ERROR')).details).toMatchObject({ reason: 'unreachable', attempts: 3 });
    expect((await failure(custodian.runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-down-0001' }, noParty), 'NETWORK_ERROR')).details).toMatchObject({ reason: 'unreachable', op: 'generate' });
  });

  // Last: it kills the shared custodian.
  it('a custodian killed mid-session is WS_CLOSED, with how far the run got', async () => {
    const fresh = await newClient();
    const custodian = connect(fresh.apiKey);
    const closed = await failure(
      custodian.runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-kill-0001' }, ({ pid1, pid2 }) => {
        const party = createFrostKeygenP2({ pid1, pid2 });
        return {
          start: () => party.start(),
          receive: (m: Uint8Array) => {
            server.child.kill('SIGKILL');
            return party.receive(m);
          },
        };
      }),
      'WS_CLOSED',
    );
    expect(closed.details).toMatchObject({ reason: 'closed', closeCode: 1006, op: 'generate', framesReceived: 1, partyFinished: false });
    await failure(custodian.getWallet(), 'NETWORK_ERROR');
  });
});

// ---- what a healthy custodian never does --------------------------------------------------------------

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

describe('against a misbehaving HTTP server', () => {
  let http: Server;
  let base: string;
  let seen: Seen[] = [];
  let respond: (n: number, req: IncomingMessage, res: ServerResponse) => void = () => undefined;

  beforeAll(async () => {
    http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
        respond(seen.length, req, res);
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  const mock = (answer: (n: number, req: IncomingMessage, res: ServerResponse) => void, extra: Partial<CustodianClientOptions> = {}) => {
    seen = [];
    respond = answer;
    return createCustodianClient({ baseUrl: base, apiKey: MOCK_KEY, retryDelayMs: 1, requestTimeoutMs: 2000, ...extra });
  };
  const reply = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type });
    res.end(typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body));
  };
  const error = (code: string, message = 'refused', details: Record<string, unknown> = {}) => ({ error: { code, message, details } });
  const wallet = { walletId: 'wal_1', archived: false, publicKeys: {}, signingPairs: [], backupPairs: [] };
  const pair = { pairId: 'sig_1', curve: 'SECP256K1', status: 'STORED_CLIENT', epoch: 1, publicKey: '02ab', createdAt: 1 };
  const backupPair = { backupPairId: 'bkp_1', curve: 'ED25519', method: 'PASSWORD', status: 'STORED_CLIENT_BACKUP_SHARE_KEY', publicKey: 'ab', createdAt: 1 };

  it('retries a GET and a keyed POST after 5xx answers, with the same headers, and returns the answer that came', async () => {
    const get = mock((n, _req, res) => (n < 3 ? reply(res, 503, error('INTERNAL')) : reply(res, 200, wallet)));
    expect(await get.getWallet()).toEqual(wallet);
    expect(seen).toHaveLength(3);
    expect(seen.map((s) => [s.method, s.url, s.headers.authorization])).toEqual(Array(3).fill(['GET', '/v1/wallet', `Bearer ${MOCK_KEY}`]));

    const post = mock((n, _req, res) => (n === 1 ? reply(res, 502, '<html>bad gateway</html>', 'text/html') : reply(res, 200, pair)));
    expect(await post.confirmSigningPair('sig_1', 'confirm-sig-01')).toEqual(pair);
    expect(seen.map((s) => [s.method, s.url, s.headers['idempotency-key'], s.body.length])).toEqual(Array(2).fill(['POST', '/v1/wallet/signing-pairs/sig_1/confirm', 'confirm-sig-01', 0]));
  });

  it("gives up after the retries with the last answer's error: a known code as is, anything else INTERNAL with the HTTP status", async () => {
    const known = mock((_n, _req, res) => reply(res, 500, error('INTERNAL', 'the database failed', { table: 'pairs' })));
    expect((await failure(known.getWallet(), 'INTERNAL')).toJSON()).toEqual({ code: 'INTERNAL', message: 'the database failed', details: { table: 'pairs' } });
    expect(seen).toHaveLength(3);

    const unknown = mock((_n, _req, res) => reply(res, 500, error('TEAPOT_ON_FIRE')), { retries: 0 });
    expect((await failure(unknown.confirmBackup('bkp_1', 'bkp-done-00001'), 'INTERNAL')).details).toEqual({ httpStatus: 500, method: 'POST', path: '/v1/wallet/backup-pairs/bkp_1/confirm', serverCode: 'TEAPOT_ON_FIRE' });
    expect(seen).toHaveLength(1);

    const html = mock((_n, _req, res) => reply(res, 504, '<html>gateway timeout</html>', 'text/html'), { retries: 1 });
    expect((await failure(html.getWallet(), 'INTERNAL')).details).toMatchObject({ httpStatus: 504 });
    expect(seen).toHaveLength(2);
  });

  it('never retries a 4xx, and keeps the custodian code and details', async () => {
    const conflict = mock((_n, _req, res) => reply(res, 409, error('STATE_INVALID', 'The pair is not pending.', { pairId: 'sig_1', status: 'STORED_CLIENT' })));
    const e = await failure(conflict.confirmSigningPair('sig_1', 'confirm-sig-02'), 'STATE_INVALID');
    expect(e.toJSON()).toEqual({ code: 'STATE_INVALID', message: 'The pair is not pending.', details: { pairId: 'sig_1', status: 'STORED_CLIENT' } });
    expect(seen).toHaveLength(1);
    await failure(mock((_n, _req, res) => reply(res, 404, error('PAIR_NOT_FOUND'))).fetchBackupCiphertext('bkp_1'), 'PAIR_NOT_FOUND');
    expect(seen).toHaveLength(1);
    await failure(mock((_n, _req, res) => reply(res, 429, error('PRESIGNATURE_LIMIT'))).getWallet(), 'PRESIGNATURE_LIMIT');
    expect(seen).toHaveLength(1);
  });

  it('sends a request that carries no idempotency key (eject) once, whatever the answer', async () => {
    await failure(mock((_n, _req, res) => reply(res, 503, error('INTERNAL'))).eject(), 'INTERNAL');
    expect(seen.map((s) => [s.method, s.url, s.headers['idempotency-key']])).toEqual([['POST', '/v1/wallet/eject', undefined]]);
    await failure(mock((_n, req) => req.socket.destroy()).eject(), 'NETWORK_ERROR');
    expect(seen).toHaveLength(1);
  });

  it('times out a silent custodian with NETWORK_ERROR {reason: timeout}, retrying idempotent requests', async () => {
    const silent = mock(() => undefined, { requestTimeoutMs: 150, retries: 1 });
    expect((await failure(silent.getWallet(), 'NETWORK_ERROR')).details).toEqual({ reason: 'timeout', method: 'GET', path: '/v1/wallet', attempts: 2 });
    expect(seen).toHaveLength(2);
    const slowThenFast = mock((n, _req, res) => (n === 1 ? setTimeout(() => reply(res, 200, backupPair), 1000) : reply(res, 200, backupPair)), { requestTimeoutMs: 150 });
    expect(await slowThenFast.confirmBackupKey('bkp_1', 'bkp-key-00001')).toEqual(backupPair);
    expect(seen.map((s) => s.headers['idempotency-key'])).toEqual(['bkp-key-00001', 'bkp-key-00001']);
  });

  it('retries a dropped connection, and reports NETWORK_ERROR when every attempt drops', async () => {
    const flaky = mock((n, req, res) => (n === 1 ? req.socket.destroy() : reply(res, 200, wallet)));
    expect(await flaky.getWallet()).toEqual(wallet);
    expect(seen).toHaveLength(2);
    expect((await failure(mock((_n, req) => req.socket.destroy()).getWallet(), 'NETWORK_ERROR')).details).toMatchObject({ reason: 'unreachable', attempts: 3 });
  });

  it('sends ciphertexts as application/octet-stream and reads them back as bytes', async () => {
    const envelope = new Uint8Array([0, 1, 2, 250, 255]);
    const store = mock((_n, _req, res) => reply(res, 200, backupPair));
    await store.storeBackupCiphertext('bkp_1', envelope, 'bkp-ct-000001');
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/v1/wallet/backup-pairs/bkp_1/ciphertext' });
    expect(seen[0]!.headers).toMatchObject({ 'content-type': 'application/octet-stream', 'idempotency-key': 'bkp-ct-000001', authorization: `Bearer ${MOCK_KEY}` });
    expect(new Uint8Array(seen[0]!.body)).toEqual(envelope);
    const fetched = await mock((_n, _req, res) => reply(res, 200, envelope, 'application/octet-stream')).fetchBackupCiphertext('bkp_1');
    expect(fetched).toEqual(envelope);
    expect(seen[0]!.headers.accept).toBe('application/octet-stream');
  });

  it('refuses an answer of the wrong shape with MALFORMED_MESSAGE', async () => {
    await failure(mock((_n, _req, res) => reply(res, 200, { walletId: 'wal_1' })).getWallet(), 'MALFORMED_MESSAGE');
    await failure(mock((_n, _req, res) => reply(res, 200, { ...pair, status: 'HALF_DONE' })).confirmSigningPair('sig_1', 'confirm-sig-03'), 'MALFORMED_MESSAGE');
    await failure(mock((_n, _req, res) => reply(res, 200, 'not json', 'text/plain')).confirmBackup('bkp_1', 'bkp-done-00002'), 'MALFORMED_MESSAGE');
    await failure(mock((_n, _req, res) => reply(res, 200, { shares: [{ backupPairId: 'bkp_1', curve: 'ED25519', method: 'PASSWORD', custodianBackupShare: '!!' }] })).eject(), 'MALFORMED_MESSAGE');
  });

  it('scrubs the key from whatever the custodian echoes back', async () => {
    const echo = mock((_n, req, res) => reply(res, 400, error('INVALID_INPUT', `bad header ${req.headers.authorization}`, { header: String(req.headers.authorization), secret: MOCK_KEY.slice(21), list: [MOCK_KEY] })));
    const e = await failure(echo.getWallet(), 'INVALID_INPUT');
    expect(e.shortMessage).toBe('bad header Bearer [redacted]');
    expect(e.details).toEqual({ header: 'Bearer [redacted]', secret: '[redacted]', list: ['[redacted]'] });
  });

  it('checks its own options and inputs without echoing the key, and sends nothing for a bad input', async () => {
    const fine = mock((_n, _req, res) => reply(res, 200, pair));
    await failure(fine.confirmSigningPair('sig/../../operator', 'confirm-sig-04'), 'INVALID_INPUT');
    await failure(fine.storeBackupCiphertext('bkp_1', 'text' as unknown as Uint8Array, 'bkp-ct-000009'), 'INVALID_INPUT');
    await failure(fine.confirmBackupKey('bkp_1', 'x'.repeat(201)), 'INVALID_INPUT');
    expect(seen).toHaveLength(0);
    const create = (o: Partial<CustodianClientOptions>) => Promise.resolve().then(() => createCustodianClient({ baseUrl: base, apiKey: MOCK_KEY, ...o }));
    await failure(create({ baseUrl: 'ftp://custodian.example.com' }), 'INVALID_INPUT');
    await failure(create({ baseUrl: `http://user:${MOCK_KEY}@custodian.example.com` }), 'INVALID_INPUT');
    await failure(create({ apiKey: `${MOCK_KEY}\r\nX-Injected: 1` }), 'INVALID_INPUT');
    await failure(create({ retries: -1 }), 'INVALID_INPUT');
    // No WebSocket anywhere (Node 20 without a flag): said plainly, before any connection.
    if (!('WebSocket' in globalThis)) await failure(createCustodianClient({ baseUrl: base, apiKey: MOCK_KEY }).runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-nows-0001' }, noParty), 'INVALID_INPUT');
  });
});

// ---- a scripted WebSocket custodian -------------------------------------------------------------------

describe('against a scripted WebSocket server', () => {
  let wss: WebSocketServer;
  let base: string;
  let script: (socket: WebSocket, start: Record<string, unknown>) => void = () => undefined;
  const starts: Record<string, unknown>[] = [];

  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    base = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (socket) => socket.once('message', (data: Buffer) => {
      const start = JSON.parse(data.toString()) as Record<string, unknown>;
      starts.push(start);
      script(socket, start);
    }));
  });
  afterAll(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  const ready = { type: 'ready', op: 'generate', curve: 'ED25519', pid1: '11'.repeat(32), pid2: '22'.repeat(32) };
  const echoParty = (): Party<string> => {
    let n = 0;
    return { start: () => [new Uint8Array([0])], receive: (m) => ({ messages: [m], ...(++n === 2 ? { result: 'finished' } : {}) }) };
  };
  const run = (s: typeof script, makeParty: () => Party<string> = echoParty, extra: Partial<CustodianClientOptions> = {}) => {
    script = s;
    return createCustodianClient({ baseUrl: base, apiKey: MOCK_KEY, WebSocket: WebSocket as unknown as WebSocketConstructor, ...extra }).runSession({ op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-script-01' }, makeParty);
  };

  it('sends the start frame as text with the key in a header for ws, and relays binary frames both ways until done', async () => {
    const pairView = { pairId: 'sig_1', curve: 'ED25519', status: 'STORED_DATABASE', epoch: 1, publicKey: 'ab', createdAt: 1 };
    const received: number[][] = [];
    const end = await run((socket) => {
      socket.send(JSON.stringify(ready));
      socket.on('message', (d: Buffer, binary: boolean) => {
        expect(binary).toBe(true);
        received.push([...d]);
        if (received.length === 1) socket.send(new Uint8Array([1, 2]));
        if (received.length === 2) socket.send(new Uint8Array([3]));
        if (received.length === 3) socket.send(JSON.stringify({ type: 'done', outcome: { op: 'generate', pair: pairView } }));
      });
    });
    expect(end).toEqual({ outcome: { op: 'generate', pair: pairView }, result: 'finished' });
    expect(received).toEqual([[0], [1, 2], [3]]);
    expect(starts.at(-1)).toEqual({ type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-script-01' });
  });

  it('puts the key in the start frame when told to', async () => {
    await failure(run((socket) => socket.send(JSON.stringify({ type: 'error', error: { code: 'AUTH_FAILED', message: 'no', details: {} } })), echoParty, { webSocketAuth: 'startFrame' }), 'AUTH_FAILED');
    expect(starts.at(-1)).toEqual({ type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-script-01', apiKey: MOCK_KEY });
  });

  it('refuses a done before the party finished, a malformed outcome or ready, and a binary frame before ready', async () => {
    await failure(run((socket) => {
      socket.send(JSON.stringify(ready));
      socket.send(JSON.stringify({ type: 'done', outcome: { op: 'generate', pair: {} } }));
    }), 'MALFORMED_MESSAGE');
    await failure(run((socket) => {
      socket.send(JSON.stringify(ready));
      socket.send(new Uint8Array([1]));
      socket.send(new Uint8Array([2]));
      socket.send(JSON.stringify({ type: 'done', outcome: { op: 'sign', pairId: 'x', signature: 'ab' } }));
    }), 'MALFORMED_MESSAGE');
    await failure(run((socket) => socket.send(JSON.stringify({ ...ready, curve: 'SECP256K1' }))), 'MALFORMED_MESSAGE');
    await failure(run((socket) => socket.send(new Uint8Array([1]))), 'MALFORMED_MESSAGE');
    await failure(run((socket) => socket.send(JSON.stringify({ type: 'surprise' }))), 'MALFORMED_MESSAGE');
  });

  it('maps an error frame with an unknown code to INTERNAL, and a close after the party finished to WS_CLOSED saying so', async () => {
    expect((await failure(run((socket) => socket.send(JSON.stringify({ type: 'error', error: { code: 'NEW_THING', message: 'later', details: {} } }))), 'INTERNAL')).details).toMatchObject({ serverCode: 'NEW_THING' });
    const closed = await failure(
      run((socket) => {
        socket.send(JSON.stringify(ready));
        socket.on('message', () => undefined);
        socket.send(new Uint8Array([1]));
        socket.send(new Uint8Array([2]));
        setTimeout(() => socket.close(1011, 'crash'), 50);
      }),
      'WS_CLOSED',
    );
    expect(closed.details).toEqual({ reason: 'closed', closeCode: 1011, op: 'generate', curve: 'ED25519', framesSent: 3, framesReceived: 2, partyFinished: true });
  });
});
