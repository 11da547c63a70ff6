/**
 * Self-managed backups against a real custodian process and a real webhook receiver started here
 * (DESIGN §4): the operator configures the webhook; each backup's custodian share is delivered signed and
 * keyed by its pair id; the backup completes only once the fetch returns the matching share, after which
 * the custodian keeps none; a receiver that fails, hangs or returns the wrong share keeps the backup from
 * completing (and a recovery from starting) with WEBHOOK_FAILED; superseded pairs are announced.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/chains/sign-request.js';
import { createBackupP2 } from '../../src/mpc/backup.js';
import { decodeBackupShare } from '../../src/mpc/backup-share.js';
import { createFrostKeygenP2 } from '../../src/mpc/frost-dkg.js';
import { createFrostBackupP2, createFrostRecoverP2 } from '../../src/mpc/frost-reshare.js';
import { decodeFrostShare } from '../../src/mpc/frost-share.js';
import { createFrostSignP2 } from '../../src/mpc/frost-sign.js';
import { createKeygenP2 } from '../../src/mpc/keygen.js';
import { decodeClientShare } from '../../src/mpc/share.js';
import { signPayload } from '../../src/server/operator-hooks.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { session } from '../helpers/ws-session.js';

const SECRET = 'webhook-secret-for-tests-0123456789abcdef';

/** The operator's backend: keeps what it is given, by backup pair id, unless told to misbehave. */
type Mode = 'ok' | 'fail' | 'hang' | 'wrongShare' | 'lost';
let mode: Mode = 'ok';
const stored = new Map<string, string>();
const curveOf = new Map<string, string>();
const requests: { path: string; body: any; idempotencyKey: string; validSignature: boolean }[] = [];
let receiver: Server;
let webhookUrl: string;

const read = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let b = '';
    req.on('data', (d: Buffer) => (b += d.toString()));
    req.on('end', () => resolve(b));
  });

beforeAll(async () => {
  receiver = createServer(async (req, res) => {
    const raw = await read(req);
    const ts = String(req.headers['x-tandem-timestamp']);
    const body = JSON.parse(raw);
    requests.push({ path: req.url ?? '', body, idempotencyKey: String(req.headers['idempotency-key']), validSignature: req.headers['x-tandem-signature'] === signPayload(SECRET, ts, raw) });
    if (mode === 'hang') return;
    if (mode === 'fail') return void res.writeHead(500).end('{}');
    const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (req.url === '/app/tandem/backup') {
      stored.set(body.backupPairId, body.share);
      curveOf.set(body.backupPairId, body.curve);
      return json(200, { ok: true });
    }
    if (req.url === '/app/tandem/backup/fetch') {
      if (mode === 'lost' || !stored.has(body.backupPairId)) return json(404, { error: 'unknown' });
      if (mode === 'wrongShare') {
        // Another pair's share of the same curve: a real, well-formed custodian backup share, just not this one.
        const other = [...stored.entries()].find(([id]) => id !== body.backupPairId && curveOf.get(id) === curveOf.get(body.backupPairId));
        return json(200, { share: other ? other[1] : Buffer.from(new Uint8Array(80)).toString('base64') });
      }
      return json(200, { share: stored.get(body.backupPairId) });
    }
    if (req.url === '/app/tandem/backup/superseded') {
      stored.delete(body.backupPairId);
      return json(200, { ok: true });
    }
    return json(404, {});
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/app/tandem`;
});
afterAll(() => {
  receiver.closeAllConnections();
  receiver.close();
});

const dir = tempDir();
let server: ServerProcess;
let client: { walletId: string; apiKey: string };

beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`, {
    TANDEM_WEBHOOK_TIMEOUT_MS: '400',
    TANDEM_WEBHOOK_RETRY_BASE_MS: '50',
    TANDEM_WEBHOOK_MAX_ATTEMPTS: '3',
    TANDEM_WEBHOOK_POLL_MS: '50',
  });
  client = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body;
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

const idem = (() => {
  let n = 0;
  return (label: string) => ({ 'idempotency-key': `${label}-${String(++n).padStart(6, '0')}` });
})();

async function generate(curve: 'SECP256K1' | 'ED25519') {
  const end = await session(server, client.apiKey, { type: 'start', op: 'generate', curve, idempotencyKey: idem('gen')['idempotency-key'] }, ({ pid1, pid2 }) =>
    curve === 'SECP256K1' ? createKeygenP2({ pid1, pid2 }) : createFrostKeygenP2({ pid1, pid2 }),
  );
  const result = end.result as { share: Uint8Array; publicKey: string };
  const pairId = bytesToHex(curve === 'SECP256K1' ? decodeClientShare(result.share).pairId : decodeFrostShare(result.share).pairId);
  await call(server, 'POST', `/v1/wallet/signing-pairs/${pairId}/confirm`, { key: client.apiKey, headers: idem('confirm') });
  return { ...result, pairId };
}

/** One backup session; returns the client backup share and the pair id. */
async function backup(curve: 'SECP256K1' | 'ED25519', signingShare: Uint8Array) {
  const end = await session(server, client.apiKey, { type: 'start', op: 'backup', curve, idempotencyKey: idem('bkp')['idempotency-key'], method: 'PASSWORD' }, ({ pid1, pid2 }) =>
    curve === 'SECP256K1' ? createBackupP2({ pid1, pid2, share: signingShare, method: 'PASSWORD' }) : createFrostBackupP2({ pid1, pid2, share: signingShare, method: 'PASSWORD' }),
  );
  expect(end.error, JSON.stringify(end.error)).toBeUndefined();
  const share = (end.result as { share: Uint8Array }).share;
  const backupPairId = bytesToHex(curve === 'SECP256K1' ? decodeBackupShare(share, 'client-backup').pairId : decodeFrostShare(share).pairId);
  expect(end.outcome).toMatchObject({ backupPair: { backupPairId, status: 'STORED_CUSTODIAN_BACKUP_SHARE', selfManaged: { verified: false } } });
  await call(server, 'POST', `/v1/wallet/backup-pairs/${backupPairId}/key-confirm`, { key: client.apiKey, headers: idem('key') });
  await call(server, 'PUT', `/v1/wallet/backup-pairs/${backupPairId}/ciphertext`, { key: client.apiKey, headers: idem('ct'), raw: new Uint8Array([1, 2, 3, 4]) });
  return { share, backupPairId };
}

const confirmBackup = (backupPairId: string) => call(server, 'POST', `/v1/wallet/backup-pairs/${backupPairId}/confirm`, { key: client.apiKey, headers: idem('done') });
const deliveries = async () => (await call(server, 'GET', `/v1/operator/clients/${client.walletId}/deliveries`, { key: OPERATOR_KEY })).body.deliveries as any[];
const custodianShareInDb = (backupPairId: string) => {
  const db = new Database(`${dir.path}/custodian.db`, { readonly: true });
  try {
    return (db.prepare('SELECT custodian_backup_share FROM backup_pairs WHERE backup_pair_id = ?').get(backupPairId) as { custodian_backup_share: Buffer | null }).custodian_backup_share;
  } finally {
    db.close();
  }
};
const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 25));
};

describe('self-managed backups', () => {
  let ed: Awaited<ReturnType<typeof generate>>;
  let secp: Awaited<ReturnType<typeof generate>>;
  let edBackup: Awaited<ReturnType<typeof backup>>;

  it('the webhook is the operator’s to configure; its secret is never shown again', async () => {
    expect((await call(server, 'PUT', '/v1/operator/webhook', { key: client.apiKey, body: { url: webhookUrl, secret: SECRET } })).status).toBe(401);
    expect((await call(server, 'PUT', '/v1/operator/webhook', { key: OPERATOR_KEY, body: { url: webhookUrl, secret: 'short' } })).body.error.code).toBe('INVALID_INPUT');
    expect((await call(server, 'PUT', '/v1/operator/webhook', { key: OPERATOR_KEY, body: { url: 'ftp://example.com', secret: SECRET } })).body.error.code).toBe('INVALID_INPUT');
    expect((await call(server, 'GET', '/v1/operator/webhook', { key: OPERATOR_KEY })).body).toEqual({ configured: false });
    expect((await call(server, 'PUT', '/v1/operator/webhook', { key: OPERATOR_KEY, body: { url: webhookUrl, secret: SECRET } })).status).toBe(204);
    const shown = await call(server, 'GET', '/v1/operator/webhook', { key: OPERATOR_KEY });
    expect(shown.body).toEqual({ configured: true, url: webhookUrl });
    expect(JSON.stringify(shown.body)).not.toContain(SECRET);
    expect((await call(server, 'GET', '/v1/operator/webhook', { key: client.apiKey })).status).toBe(401);
    expect((await call(server, 'GET', `/v1/operator/clients/${client.walletId}/deliveries`, { key: client.apiKey })).status).toBe(401);
    ed = await generate('ED25519');
    secp = await generate('SECP256K1');
  });

  it('delivers the custodian backup share signed, completes only after a matching fetch, then keeps no copy', async () => {
    edBackup = await backup('ED25519', ed.share);
    const done = await confirmBackup(edBackup.backupPairId);
    expect(done.body).toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE', selfManaged: { verified: true } });

    const delivered = requests.find((r) => r.path === '/app/tandem/backup' && r.body.backupPairId === edBackup.backupPairId)!;
    expect(delivered).toMatchObject({ validSignature: true, idempotencyKey: `backup:${edBackup.backupPairId}` });
    expect(delivered.body).toMatchObject({ event: 'backup.created', walletId: client.walletId, curve: 'ED25519', method: 'PASSWORD', publicKey: ed.publicKey });
    const share = decodeFrostShare(new Uint8Array(Buffer.from(delivered.body.share, 'base64')));
    expect(share.kind).toBe('custodian-backup');
    expect(delivered.body.publicShare).toBe(share.Y1.toHex());
    expect(requests.some((r) => r.path === '/app/tandem/backup/fetch' && r.body.backupPairId === edBackup.backupPairId && r.validSignature)).toBe(true);
    expect(custodianShareInDb(edBackup.backupPairId)).toBeNull();
    expect(await deliveries()).toMatchObject([{ kind: 'backup', backupPairId: edBackup.backupPairId, status: 'DONE', attempts: 1 }]);
  });

  it('a recovery fetches the share, checks it, and refuses a wrong or missing one before any protocol message', async () => {
    const device = (await call(server, 'POST', `/v1/operator/clients/${client.walletId}/keys`, { key: OPERATOR_KEY })).body as { apiKey: string };
    const recover = () =>
      session(server, device.apiKey, { type: 'start', op: 'recover', curve: 'ED25519', idempotencyKey: idem('rec')['idempotency-key'], backupPairId: edBackup.backupPairId }, ({ pid1, pid2 }) =>
        createFrostRecoverP2({ pid1, pid2, share: edBackup.share }),
      );
    const before = (await call(server, 'GET', '/v1/wallet', { key: client.apiKey })).body;
    for (const m of ['wrongShare', 'lost', 'fail', 'hang'] as Mode[]) {
      mode = m;
      const end = await recover();
      expect(end.error, m).toMatchObject({ code: 'WEBHOOK_FAILED' });
      expect(end.result, m).toBeUndefined();
    }
    expect((await call(server, 'GET', '/v1/wallet', { key: client.apiKey })).body).toEqual(before);

    mode = 'ok';
    const end = await recover();
    expect(end.error).toBeUndefined();
    const recovered = end.result as { share: Uint8Array; publicKey: string };
    expect(recovered.publicKey).toBe(ed.publicKey);
    const pairId = bytesToHex(decodeFrostShare(recovered.share).pairId);
    await call(server, 'POST', `/v1/wallet/signing-pairs/${pairId}/confirm`, { key: device.apiKey, headers: idem('confirm') });
    const message = utf8ToBytes('after a self-managed recovery');
    const request = signRequest('ED25519', 'solanaMessage', { message: Buffer.from(message).toString('base64') });
    const signed = await session(server, device.apiKey, { type: 'start', op: 'sign', curve: 'ED25519', idempotencyKey: idem('sign')['idempotency-key'], pairId, request }, ({ pid1, pid2 }) =>
      createFrostSignP2({ pid1, pid2, share: recovered.share, message }),
    );
    expect(ed25519.verify((signed.result as { signature: Uint8Array }).signature, message, hexToBytes(ed.publicKey), { zip215: false })).toBe(true);
  });

  it('a failing, hanging or wrong receiver keeps the backup from completing; it completes once the receiver is right', async () => {
    for (const m of ['fail', 'hang', 'wrongShare'] as Mode[]) {
      mode = m;
      // Replacing the completed backup of the previous round: the operator's step-up stands in for the current one.
      await call(server, 'POST', `/v1/operator/clients/${client.walletId}/step-up`, { key: OPERATOR_KEY, body: { method: 'PASSWORD', ttlSeconds: 60 } });
      const b = await backup('SECP256K1', secp.share);
      const refused = await confirmBackup(b.backupPairId);
      expect(refused.status, m).toBe(502);
      expect(refused.body.error, m).toMatchObject({ code: 'WEBHOOK_FAILED', details: { backupPairId: b.backupPairId } });
      const view = (await call(server, 'GET', '/v1/wallet', { key: client.apiKey })).body;
      expect(view.backupPairs.find((p: any) => p.backupPairId === b.backupPairId), m).toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE_KEY', selfManaged: { verified: false } });
      expect(custodianShareInDb(b.backupPairId), m).not.toBeNull(); // nothing is lost while the backend fails
      // The worker retries with a growing delay, then gives up and waits for the operator.
      await until(async () => (await deliveries()).find((d) => d.backupPairId === b.backupPairId && d.kind === 'backup')?.status === 'FAILED');
      const entry = (await deliveries()).find((d) => d.backupPairId === b.backupPairId && d.kind === 'backup');
      expect(entry, m).toMatchObject({ status: 'FAILED', attempts: 3 });
      expect(entry.lastError, m).toMatch(m === 'fail' ? /answered 500/ : m === 'hang' ? /no answer within 400 ms/ : /does not match/);

      mode = 'ok';
      expect((await call(server, 'POST', `/v1/operator/clients/${client.walletId}/deliveries/retry`, { key: client.apiKey })).status).toBe(401);
      expect((await call(server, 'POST', `/v1/operator/clients/${client.walletId}/deliveries/retry`, { key: OPERATOR_KEY })).body.retried).toBeGreaterThanOrEqual(1);
      await until(async () => (await deliveries()).find((d) => d.backupPairId === b.backupPairId && d.kind === 'backup')?.status === 'DONE');
      expect((await confirmBackup(b.backupPairId)).body, m).toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE', selfManaged: { verified: true } });
    }
  });

  it('announces the superseded pairs so the backend can delete them', async () => {
    await until(async () => (await deliveries()).filter((d) => d.kind === 'superseded').every((d) => d.status === 'DONE'));
    const announced = requests.filter((r) => r.path === '/app/tandem/backup/superseded');
    // Three SECP256K1 backups completed in turn: the first two were superseded by their successors.
    const view = (await call(server, 'GET', '/v1/wallet', { key: client.apiKey })).body;
    const superseded = view.backupPairs.filter((p: any) => p.curve === 'SECP256K1' && p.status === 'SUPERSEDED').map((p: any) => p.backupPairId);
    expect(superseded).toHaveLength(2);
    expect(announced.map((r) => r.body.backupPairId).sort()).toEqual([...superseded].sort());
    expect(announced.every((r) => r.validSignature && r.body.event === 'backup.superseded' && r.idempotencyKey === `superseded:${r.body.backupPairId}`)).toBe(true);
    for (const id of superseded) expect(stored.has(id)).toBe(false);
  });

  it('eject, inside its window only, fetches the self-managed shares and checks them', async () => {
    const view = (await call(server, 'GET', '/v1/wallet', { key: client.apiKey })).body;
    const current = view.backupPairs.find((p: any) => p.curve === 'SECP256K1' && p.status === 'STORED_CLIENT_BACKUP_SHARE');
    expect((await call(server, 'POST', '/v1/wallet/eject', { key: client.apiKey })).body.error.code).toBe('EJECT_NOT_ALLOWED');
    await call(server, 'POST', `/v1/operator/clients/${client.walletId}/eject`, { key: OPERATOR_KEY, body: { ttlSeconds: 60 } });
    const ejected = (await call(server, 'POST', '/v1/wallet/eject', { key: client.apiKey })).body.shares as any[];
    expect(ejected.map((s) => s.backupPairId).sort()).toEqual([edBackup.backupPairId, current.backupPairId].sort());
    for (const s of ejected) expect(s.custodianBackupShare).toBe(stored.get(s.backupPairId));
    mode = 'wrongShare';
    expect((await call(server, 'POST', '/v1/wallet/eject', { key: client.apiKey })).body.error.code).toBe('WEBHOOK_FAILED');
    mode = 'ok';
    // And the custodian never wrote a fetched share to its database.
    expect(custodianShareInDb(current.backupPairId)).toBeNull();
  });
});
