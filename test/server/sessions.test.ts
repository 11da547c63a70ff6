/**
 * MPC sessions over WebSocket against a real `tandem serve` process: both curves generate and sign with
 * the real client parties of src/mpc, the results verify, and bad frames end a session with a typed error
 * while the server keeps serving.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signRequest, type SignRequest } from '../../src/chains/sign-request.js';
import { createFrostKeygenP2 } from '../../src/mpc/frost-dkg.js';
import { decodeFrostShare } from '../../src/mpc/frost-share.js';
import { createBackupP2 } from '../../src/mpc/backup.js';
import { createFrostBackupP2, createFrostRecoverP2 } from '../../src/mpc/frost-reshare.js';
import { createRecoverP2 } from '../../src/mpc/recover.js';
import { createFrostSignP2 } from '../../src/mpc/frost-sign.js';
import { createKeygenP2 } from '../../src/mpc/keygen.js';
import { createPresignP2, type ClientPresignature } from '../../src/mpc/presign.js';
import { decodeClientShare } from '../../src/mpc/share.js';
import { checkSignatureAnswer } from '../../src/mpc/sign.js';
import { s4Request } from '../../src/mpc/client.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { session, type ClientParty, type Ready } from '../helpers/ws-session.js';

/** The client's ECDSA sign: presign, then S4 for `request`, then the custodian's answer checked under Q. */
function ecdsaSignParty(shareBytes: Uint8Array, request: SignRequest, digest: Uint8Array): (ready: Ready) => ClientParty {
  return ({ pid1, pid2 }) => {
    const share = decodeClientShare(shareBytes);
    const presign = createPresignP2({ share, pid1, pid2 });
    let presignature: ClientPresignature | null = null;
    return {
      start: () => presign.start(),
      receive(m) {
        if (presignature === null) {
          const r = presign.receive(m);
          if (r.result === undefined) return { messages: r.messages };
          presignature = r.result;
          return { messages: [...r.messages, presignature.sign(s4Request(request, digest))] };
        }
        return { messages: [], result: checkSignatureAnswer(share.Q, digest, m) };
      },
    };
  };
}

const dir = tempDir();
let server: ServerProcess;
let client: { walletId: string; apiKey: string };

beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`);
  client = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body;
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

async function generate(curve: 'SECP256K1' | 'ED25519'): Promise<{ share: Uint8Array; publicKey: string; pairId: string }> {
  const end = await session(server, client.apiKey, { type: 'start', op: 'generate', curve, idempotencyKey: `gen-${curve}-0001` }, ({ pid1, pid2 }) =>
    curve === 'SECP256K1' ? createKeygenP2({ pid1, pid2 }) : createFrostKeygenP2({ pid1, pid2 }),
  );
  expect(end.error).toBeUndefined();
  const result = end.result as { share: Uint8Array; publicKey: string };
  const pairId = bytesToHex(curve === 'SECP256K1' ? decodeClientShare(result.share).pairId : decodeFrostShare(result.share).pairId);
  expect(end.outcome).toMatchObject({ op: 'generate', pair: { pairId, curve, status: 'STORED_DATABASE', publicKey: result.publicKey } });
  const confirmed = await call(server, 'POST', `/v1/wallet/signing-pairs/${pairId}/confirm`, { key: client.apiKey, headers: { 'idempotency-key': `confirm-${pairId}` } });
  expect(confirmed.body).toMatchObject({ status: 'STORED_CLIENT' });
  return { ...result, pairId };
}

describe('MPC sessions over WebSocket', () => {
  let secp: Awaited<ReturnType<typeof generate>>;
  let ed: Awaited<ReturnType<typeof generate>>;

  it('generates both curves with the real parties, and the custodian records the pairs by their protocol ids', async () => {
    secp = await generate('SECP256K1');
    ed = await generate('ED25519');
    const view = (await call(server, 'GET', '/v1/wallet', { key: client.apiKey })).body;
    expect(view.publicKeys).toEqual({ SECP256K1: secp.publicKey, ED25519: ed.publicKey });
  });

  it('signs on SECP256K1 (presign + S4 with Π_sign) and the signature verifies under the wallet key', async () => {
    const request = signRequest('SECP256K1', 'eip191', { message: 'hello from tandem' });
    const digest = hexToBytes(request.digest.slice(2));
    const end = await session(server, client.apiKey, { type: 'start', op: 'sign', curve: 'SECP256K1', idempotencyKey: 'sign-0000001', pairId: secp.pairId, request }, ecdsaSignParty(secp.share, request, digest));
    expect(end.error).toBeUndefined();
    const sig = end.result as { r: bigint; s: bigint };
    const compact = new secp256k1.Signature(sig.r, sig.s).toBytes('compact');
    expect(secp256k1.verify(compact, digest, hexToBytes(secp.publicKey), { prehash: false })).toBe(true);
    expect(end.outcome).toMatchObject({ op: 'sign' });
  });

  it('signs on ED25519 the exact Solana message bytes, verified strictly', async () => {
    const message = utf8ToBytes('sign in to example.com');
    const request = signRequest('ED25519', 'solanaMessage', { message: Buffer.from(message).toString('base64') });
    const end = await session(server, client.apiKey, { type: 'start', op: 'sign', curve: 'ED25519', idempotencyKey: 'sign-0000002', pairId: ed.pairId, request }, ({ pid1, pid2 }) =>
      createFrostSignP2({ pid1, pid2, share: ed.share, message }),
    );
    expect(end.error).toBeUndefined();
    const signature = (end.result as { signature: Uint8Array }).signature;
    expect(ed25519.verify(signature, message, hexToBytes(ed.publicKey), { zip215: false })).toBe(true);
  });

  it('backs up ED25519, recovers it on a new device with its own key, and the new device signs under the same key', async () => {
    const backup = await session(server, client.apiKey, { type: 'start', op: 'backup', curve: 'ED25519', idempotencyKey: 'bkp-ed-000001', method: 'PASSWORD' }, ({ pid1, pid2 }) =>
      createFrostBackupP2({ pid1, pid2, share: ed.share, method: 'PASSWORD' }),
    );
    expect(backup.error).toBeUndefined();
    const backupShare = (backup.result as { share: Uint8Array }).share;
    const backupPairId = bytesToHex(decodeFrostShare(backupShare).pairId);
    expect(backup.outcome).toMatchObject({ op: 'backup', backupPair: { backupPairId, method: 'PASSWORD', status: 'STORED_CUSTODIAN_BACKUP_SHARE', publicKey: ed.publicKey } });
    const key = (step: string) => ({ key: client.apiKey, headers: { 'idempotency-key': `${step}-${backupPairId.slice(0, 16)}` } });
    await call(server, 'POST', `/v1/wallet/backup-pairs/${backupPairId}/key-confirm`, key('key'));
    await call(server, 'PUT', `/v1/wallet/backup-pairs/${backupPairId}/ciphertext`, { ...key('ct'), raw: new Uint8Array([1, 2, 3, 4]) });
    expect((await call(server, 'POST', `/v1/wallet/backup-pairs/${backupPairId}/confirm`, key('done'))).body).toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE' });

    // The phone is lost: the operator issues a key for a new device, which recovers from the backup.
    const device = (await call(server, 'POST', `/v1/operator/clients/${client.walletId}/keys`, { key: OPERATOR_KEY })).body as { apiKey: string };
    const recover = await session(server, device.apiKey, { type: 'start', op: 'recover', curve: 'ED25519', idempotencyKey: 'rec-ed-000001', backupPairId }, ({ pid1, pid2 }) =>
      createFrostRecoverP2({ pid1, pid2, share: backupShare }),
    );
    expect(recover.error).toBeUndefined();
    const recovered = recover.result as { share: Uint8Array; publicKey: string };
    expect(recovered.publicKey).toBe(ed.publicKey);
    const pairId = bytesToHex(decodeFrostShare(recovered.share).pairId);
    expect(recover.outcome).toMatchObject({ op: 'recover', pair: { pairId, status: 'STORED_DATABASE' } });
    await call(server, 'POST', `/v1/wallet/signing-pairs/${pairId}/confirm`, { key: device.apiKey, headers: { 'idempotency-key': `confirm-${pairId}` } });

    const message = utf8ToBytes('from the new phone');
    const request = signRequest('ED25519', 'solanaMessage', { message: Buffer.from(message).toString('base64') });
    const signed = await session(server, device.apiKey, { type: 'start', op: 'sign', curve: 'ED25519', idempotencyKey: 'sign-0000010', pairId, request }, ({ pid1, pid2 }) =>
      createFrostSignP2({ pid1, pid2, share: recovered.share, message }),
    );
    expect(ed25519.verify((signed.result as { signature: Uint8Array }).signature, message, hexToBytes(ed.publicKey), { zip215: false })).toBe(true);
    // The old phone's pair was superseded: it can no longer sign.
    const old = await session(server, client.apiKey, { type: 'start', op: 'sign', curve: 'ED25519', idempotencyKey: 'sign-0000011', pairId: ed.pairId, request }, () => {
      throw new Error('no party should start');
    });
    expect(old.error).toMatchObject({ code: 'SHARE_REVOKED' });
  });

  it('backs up SECP256K1, recovers it on a new device, and the new device signs under the same key', async () => {
    const backup = await session(server, client.apiKey, { type: 'start', op: 'backup', curve: 'SECP256K1', idempotencyKey: 'bkp-k1-000001', method: 'GDRIVE' }, ({ pid1, pid2 }) =>
      createBackupP2({ pid1, pid2, share: secp.share, method: 'GDRIVE' }),
    );
    expect(backup.error).toBeUndefined();
    const backupResult = backup.result as { share: Uint8Array; backupPairId: Uint8Array };
    const backupPairId = bytesToHex(backupResult.backupPairId);
    expect(backup.outcome).toMatchObject({ op: 'backup', backupPair: { backupPairId, method: 'GDRIVE', status: 'STORED_CUSTODIAN_BACKUP_SHARE', publicKey: secp.publicKey } });
    const key = (step: string) => ({ key: client.apiKey, headers: { 'idempotency-key': `${step}-${backupPairId.slice(0, 16)}` } });
    await call(server, 'POST', `/v1/wallet/backup-pairs/${backupPairId}/key-confirm`, key('key'));
    await call(server, 'PUT', `/v1/wallet/backup-pairs/${backupPairId}/ciphertext`, { ...key('ct'), raw: new Uint8Array([9, 9, 9]) });
    expect((await call(server, 'POST', `/v1/wallet/backup-pairs/${backupPairId}/confirm`, key('done'))).body).toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE' });

    const device = (await call(server, 'POST', `/v1/operator/clients/${client.walletId}/keys`, { key: OPERATOR_KEY })).body as { apiKey: string };
    const recover = await session(server, device.apiKey, { type: 'start', op: 'recover', curve: 'SECP256K1', idempotencyKey: 'rec-k1-000001', backupPairId }, ({ pid1, pid2 }) =>
      createRecoverP2({ pid1, pid2, share: backupResult.share }),
    );
    expect(recover.error).toBeUndefined();
    const recovered = recover.result as { share: Uint8Array; publicKey: string; pairId: Uint8Array };
    expect(recovered.publicKey).toBe(secp.publicKey);
    const pairId = bytesToHex(recovered.pairId);
    expect(recover.outcome).toMatchObject({ op: 'recover', pair: { pairId, status: 'STORED_DATABASE' } });
    await call(server, 'POST', `/v1/wallet/signing-pairs/${pairId}/confirm`, { key: device.apiKey, headers: { 'idempotency-key': `confirm-${pairId}` } });

    const request = signRequest('SECP256K1', 'eip191', { message: 'from the new phone' });
    const digest = hexToBytes(request.digest.slice(2));
    const signed = await session(server, device.apiKey, { type: 'start', op: 'sign', curve: 'SECP256K1', idempotencyKey: 'sign-0000020', pairId, request }, ecdsaSignParty(recovered.share, request, digest));
    expect(signed.error).toBeUndefined();
    const sig = signed.result as { r: bigint; s: bigint };
    expect(secp256k1.verify(new secp256k1.Signature(sig.r, sig.s).toBytes('compact'), digest, hexToBytes(secp.publicKey), { prehash: false })).toBe(true);
    secp = { ...secp, share: recovered.share, pairId };
  });

  it("client B can neither read, confirm, back up nor sign with client A's pairs", async () => {
    const b = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body as { apiKey: string };
    expect((await call(server, 'GET', '/v1/wallet', { key: b.apiKey })).body.signingPairs).toEqual([]);
    expect(await call(server, 'POST', `/v1/wallet/signing-pairs/${ed.pairId}/confirm`, { key: b.apiKey, headers: { 'idempotency-key': 'steal-000001' } })).toMatchObject({
      status: 404,
      body: { error: { code: 'PAIR_NOT_FOUND' } },
    });
    const request = signRequest('ED25519', 'solanaMessage', { message: 'AAAA' });
    const stolen = await session(server, b.apiKey, { type: 'start', op: 'sign', curve: 'ED25519', idempotencyKey: 'steal-000002', pairId: ed.pairId, request }, () => {
      throw new Error('no party should start');
    });
    expect(stolen.error).toMatchObject({ code: 'PAIR_NOT_FOUND' });
    const backup = await session(server, b.apiKey, { type: 'start', op: 'backup', curve: 'ED25519', idempotencyKey: 'steal-000003', method: 'PASSWORD' }, () => {
      throw new Error('no party should start');
    });
    expect(backup.error).toMatchObject({ code: 'STATE_INVALID' });
  });

  it('refuses a sign request whose digest does not match its payload, before any protocol message', async () => {
    const request = { ...signRequest('SECP256K1', 'eip191', { message: 'pay 1' }), payload: { message: 'pay 1000' } } as SignRequest;
    const end = await session(server, client.apiKey, { type: 'start', op: 'sign', curve: 'SECP256K1', idempotencyKey: 'sign-0000003', pairId: secp.pairId, request }, () => {
      throw new Error('no party should start');
    });
    expect(end.error).toMatchObject({ code: 'SIGN_FAILED' });
  });

  it('a rejected Π_sign over the wire burns its presignature and counts; three in a row lock the pair', async () => {
    const request = signRequest('SECP256K1', 'eip191', { message: 'tampered' });
    const digest = hexToBytes(request.digest.slice(2));
    // Flip a byte deep inside S4 (the third message the client sends: S0, S2, S4), inside Π_sign.
    const tamperS4 = (n: number, m: Uint8Array) => {
      if (n !== 2) return m;
      const t = m.slice();
      t[t.length - 40]! ^= 1;
      return t;
    };
    for (let i = 1; i <= 3; i++) {
      const end = await session(server, client.apiKey, { type: 'start', op: 'sign', curve: 'SECP256K1', idempotencyKey: `sign-bad-00${i}`, pairId: secp.pairId, request }, ecdsaSignParty(secp.share, request, digest), tamperS4);
      expect(end.error?.code).toMatch(/SIGN_FAILED|MALFORMED_MESSAGE/);
    }
    const view = (await call(server, 'GET', '/v1/wallet', { key: client.apiKey })).body;
    expect(view.signingPairs.find((p: { pairId: string }) => p.pairId === secp.pairId).status).toBe('LOCKED');
    const locked = await session(server, client.apiKey, { type: 'start', op: 'sign', curve: 'SECP256K1', idempotencyKey: 'sign-bad-004', pairId: secp.pairId, request }, () => {
      throw new Error('no party should start');
    });
    expect(locked.error).toMatchObject({ code: 'PAIR_LOCKED' });
    // Only the operator unlocks it; then it signs again.
    await call(server, 'POST', `/v1/operator/clients/${client.walletId}/pairs/${secp.pairId}/unlock`, { key: OPERATOR_KEY });
    const again = await session(server, client.apiKey, { type: 'start', op: 'sign', curve: 'SECP256K1', idempotencyKey: 'sign-ok-0005', pairId: secp.pairId, request }, ecdsaSignParty(secp.share, request, digest));
    expect(again.error).toBeUndefined();
  });

  it('closes a session whose frame is larger than the limit, and keeps serving', async () => {
    const end = await new Promise<{ code: number }>((resolve) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/wallet/sessions`, { headers: { authorization: `Bearer ${client.apiKey}` } });
      ws.on('open', () => ws.send(new Uint8Array(600 * 1024)));
      ws.on('close', (code) => resolve({ code }));
      ws.on('error', () => undefined);
    });
    expect(end.code).toBe(1009);
    expect((await call(server, 'GET', '/health')).status).toBe(200);
  });

  it('ends a session with a typed error for bad frames and bad keys, and keeps serving', async () => {
    const noParty = () => {
      throw new Error('no party should start');
    };
    expect((await session(server, 'tdk_0000000000000000_' + 'A'.repeat(43), { type: 'start', op: 'generate', curve: 'SECP256K1', idempotencyKey: 'gen-x-000001' }, noParty)).error).toMatchObject({ code: 'AUTH_FAILED' });
    expect((await session(server, client.apiKey, { type: 'start', op: 'generate', curve: 'SECP256K1', idempotencyKey: 'gen-x-000002', extra: 1 }, noParty)).error).toMatchObject({ code: 'INVALID_INPUT' });
    expect((await session(server, client.apiKey, { type: 'start', op: 'generate', curve: 'SECP256K1', idempotencyKey: 'gen-x-000003' }, noParty)).error).toMatchObject({ code: 'STATE_INVALID' });
    // A tampered protocol message mid-run aborts the run (and releases the wallet's lease).
    const fresh = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body;
    const tampered = await session(server, fresh.apiKey, { type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-t-000001' }, ({ pid1, pid2 }) => createFrostKeygenP2({ pid1, pid2 }), (n, m) => {
      if (n !== 0) return m;
      const t = m.slice();
      t[t.length - 1]! ^= 1;
      return t;
    });
    expect(tampered.error?.code).toMatch(/DKG_FAILED|MALFORMED_MESSAGE/);
    // A message sent twice (out of order for the custodian, which then expects the last round).
    const twice = await session(server, fresh.apiKey, { type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-t-000004' }, ({ pid1, pid2 }) => {
      const party = createFrostKeygenP2({ pid1, pid2 });
      return { start: () => party.start(), receive: (m: Uint8Array) => {
        const r = party.receive(m);
        return { ...r, messages: [...r.messages, ...r.messages] };
      } };
    });
    expect(twice.error?.code).toMatch(/MALFORMED_MESSAGE|DKG_FAILED/);
    // Garbage instead of a start frame.
    const garbage = await new Promise<{ error?: { code: string } }>((resolve) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/wallet/sessions`, { headers: { authorization: `Bearer ${fresh.apiKey}` } });
      let error: { code: string } | undefined;
      ws.on('open', () => ws.send(new Uint8Array([0xff, 0x00, 0x13, 0x37])));
      ws.on('message', (d: Buffer) => (error = JSON.parse(d.toString()).error));
      ws.on('close', () => resolve(error ? { error } : {}));
    });
    expect(garbage.error).toMatchObject({ code: 'MALFORMED_MESSAGE' });
    // Text where a protocol message is due.
    const text = await session(server, fresh.apiKey, { type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-t-000002' }, ({ pid1, pid2 }) => createFrostKeygenP2({ pid1, pid2 }), () => 'not binary');
    expect(text.error).toMatchObject({ code: 'MALFORMED_MESSAGE' });
    // Nothing was recorded, the lease is free: a clean run now succeeds.
    expect((await call(server, 'GET', '/v1/wallet', { key: fresh.apiKey })).body.signingPairs).toEqual([]);
    const ok = await session(server, fresh.apiKey, { type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-t-000003' }, ({ pid1, pid2 }) => createFrostKeygenP2({ pid1, pid2 }));
    expect(ok.outcome).toMatchObject({ op: 'generate', pair: { status: 'STORED_DATABASE' } });
    expect((await call(server, 'GET', '/health')).status).toBe(200);
  });

  /**
   * A new client's SECP256K1 keygen with the custodian interrupted by `interrupt` once the client is
   * mid-run (after K1, before K2 arrives); resolves with the client and what the session and the
   * interruption ended with.
   */
  async function interruptedKeygen(idempotencyKey: string, interrupt: () => Promise<number | null>) {
    const fresh = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body as { walletId: string; apiKey: string };
    let interrupted: Promise<number | null> | null = null;
    const end = await session(server, fresh.apiKey, { type: 'start', op: 'generate', curve: 'SECP256K1', idempotencyKey }, ({ pid1, pid2 }) => {
      const party = createKeygenP2({ pid1, pid2 });
      return {
        start: () => party.start(),
        receive: (m: Uint8Array) => {
          interrupted ??= interrupt();
          return party.receive(m);
        },
      };
    });
    return { fresh, end, exit: await interrupted };
  }

  it('a shutdown in the middle of a session aborts it cleanly: nothing half-recorded, the lease free after restart', async () => {
    // The operator stops the custodian while the client is mid-run.
    const { fresh, end, exit } = await interruptedKeygen('gen-stop-0001', () => server.stop());
    expect(exit).toBe(0);
    expect(end.outcome).toBeUndefined();
    server = await startServerProcess(`${dir.path}/custodian.db`);
    expect((await call(server, 'GET', '/v1/wallet', { key: fresh.apiKey })).body.signingPairs).toEqual([]);
    const again = await session(server, fresh.apiKey, { type: 'start', op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-stop-0002' }, ({ pid1, pid2 }) => createFrostKeygenP2({ pid1, pid2 }));
    expect(again.outcome).toMatchObject({ op: 'generate', pair: { status: 'STORED_DATABASE' } });
  });

  it('a custodian killed in the middle of a session holds no lease after its restart (SQLite: the only instance)', async () => {
    // SIGKILL mid-run: no shutdown, so the lease (TTL 60 s) stays in the database.
    const { fresh, end } = await interruptedKeygen('gen-kill-0001', () => {
      const dying = server.child;
      const closed = new Promise<number | null>((resolve) => dying.once('close', resolve));
      dying.kill('SIGKILL');
      return closed;
    });
    expect(end.outcome).toBeUndefined();
    server = await startServerProcess(`${dir.path}/custodian.db`);
    // The restarted process knows no session of the dead one can come back: the wallet is free at once.
    const again = await session(server, fresh.apiKey, { type: 'start', op: 'generate', curve: 'SECP256K1', idempotencyKey: 'gen-kill-0002' }, ({ pid1, pid2 }) => createKeygenP2({ pid1, pid2 }));
    expect(again.error).toBeUndefined();
    expect(again.outcome).toMatchObject({ op: 'generate', pair: { status: 'STORED_DATABASE' } });
  });

  it('releases the custodian backup shares for eject only inside the operator window', async () => {
    expect(await call(server, 'POST', '/v1/wallet/eject', { key: client.apiKey })).toMatchObject({ status: 403, body: { error: { code: 'EJECT_NOT_ALLOWED' } } });
    expect((await call(server, 'POST', `/v1/operator/clients/${client.walletId}/eject`, { key: client.apiKey, body: { ttlSeconds: 1 } })).status).toBe(401);
    expect((await call(server, 'POST', '/v1/wallet/eject', { key: OPERATOR_KEY })).status).toBe(401);
    expect((await call(server, 'POST', `/v1/operator/clients/${client.walletId}/eject`, { key: OPERATOR_KEY, body: { ttlSeconds: 1 } })).status).toBe(204);
    const released = await call(server, 'POST', '/v1/wallet/eject', { key: client.apiKey });
    expect(released.status).toBe(200);
    const shares = released.body.shares as { backupPairId: string; curve: string; method: string; custodianBackupShare: string }[];
    expect(shares.map((x) => [x.curve, x.method]).sort()).toEqual([
      ['ED25519', 'PASSWORD'],
      ['SECP256K1', 'GDRIVE'],
    ]);
    const ed25519Share = decodeFrostShare(new Uint8Array(Buffer.from(shares.find((x) => x.curve === 'ED25519')!.custodianBackupShare, 'base64')));
    expect(bytesToHex(ed25519Share.pairId)).toBe(shares.find((x) => x.curve === 'ED25519')!.backupPairId);
    // The window closes by itself.
    let closed = false;
    for (let i = 0; i < 40 && !closed; i++) {
      await new Promise((r) => setTimeout(r, 100));
      closed = (await call(server, 'POST', '/v1/wallet/eject', { key: client.apiKey })).status === 403;
    }
    expect(closed).toBe(true);
  });

  it('keeps an append-only audit log of every state change, readable by the operator only, with no secrets', async () => {
    const log = await call(server, 'GET', `/v1/operator/clients/${client.walletId}/audit`, { key: OPERATOR_KEY });
    expect(log.status).toBe(200);
    const entries = log.body.entries as { actor: string; action: string; subject: string | null; details: Record<string, unknown>; at: number }[];
    const actions = entries.map((e) => e.action);
    for (const a of ['eject.enable', 'eject.release', 'client.create', 'session.generate', 'signing-pair.confirm', 'session.sign', 'session.backup', 'backup-pair.key-confirm', 'backup-pair.ciphertext', 'backup-pair.confirm', 'key.issue', 'session.recover', 'pair.unlock']) {
      expect(actions, a).toContain(a);
    }
    expect(entries.find((e) => e.action === 'session.generate')).toMatchObject({ actor: expect.stringMatching(/^client:[0-9a-f]{16}$/), subject: expect.any(String) });
    expect(entries.find((e) => e.action === 'pair.unlock')).toMatchObject({ actor: 'operator' });
    const text = JSON.stringify(entries);
    expect(text).not.toContain(client.apiKey);
    expect(text).not.toContain(bytesToHex(ed.share));
    expect((await call(server, 'GET', `/v1/operator/clients/${client.walletId}/audit`, { key: client.apiKey })).status).toBe(401);
  });
});
