/**
 * A dropped WebSocket at every protocol message (issue #9): for Generate, Backup, Recover and Sign, the
 * connection is cut at the n-th binary frame of the operation (sent or received) for every n. The
 * operation fails with WS_CLOSED, nothing is half-applied (the DESIGN §3 invariants hold against the
 * custodian, including what the custodian committed just before the cut), and running it again succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MemoryBackupMethod, MemoryKeychain } from '../../src/adapters/index.js';
import { isTandemError } from '../../src/errors.js';
import type { TandemWallet } from '../../src/machines/wallet.js';
import { CURVES } from '../../src/types.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { checkInvariants, eventually, METHOD, newDeviceKey, newWallet, openClient, signBoth, snapshotOfTruth, type Device } from './sweep-helpers.js';

const dir = tempDir();
let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`);
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
});

/** Counts the binary frames of every session this class opens; cuts the connection at frame `dropAt`. */
interface Plan {
  dropAt: number;
  seen: number;
}

function droppingWebSocket(plan: Plan): unknown {
  const isBinary = (d: unknown) => typeof d !== 'string';
  return class DroppingWebSocket extends WebSocket {
    override send(data: Parameters<WebSocket['send']>[0], ...rest: unknown[]): void {
      if (isBinary(data) && ++plan.seen === plan.dropAt) {
        this.terminate();
        return;
      }
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      // ws defines onmessage as an accessor on its prototype; wrap it for this socket.
      const inherited = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage')!;
      Object.defineProperty(this, 'onmessage', {
        get: () => inherited.get!.call(this),
        set: (handler: ((event: WebSocket.MessageEvent) => void) | null) =>
          inherited.set!.call(
            this,
            handler === null
              ? null
              : (event: WebSocket.MessageEvent) => {
                  if (isBinary(event.data) && ++plan.seen === plan.dropAt) {
                    this.terminate();
                    return;
                  }
                  handler.call(this, event);
                },
          ),
      });
    }
  };
}

type Op = (wallet: TandemWallet) => Promise<unknown>;

/**
 * Runs `op` once cleanly to count its frames, then once per frame with the connection cut there. `prepare`
 * gives each run its device (and any state it needs); `finish` completes what the cut interrupted.
 */
async function sweep(name: string, prepare: () => Promise<{ walletId: string; device: Device }>, op: Op, finish: Op): Promise<number> {
  const method = sharedMethod;
  const plan: Plan = { dropAt: Number.POSITIVE_INFINITY, seen: 0 };
  const clean = await prepare();
  const counting = await openClient(server, clean.device, method, undefined, droppingWebSocket(plan));
  await op(counting.wallet);
  counting.kill();
  const frames = plan.seen;
  expect(frames, name).toBeGreaterThanOrEqual(3);

  for (let n = 1; n <= frames; n++) {
    const label = `${name}, connection cut at frame ${n}/${frames}`;
    const { walletId, device } = await prepare();
    const before = await snapshotOfTruth(server, walletId);
    plan.dropAt = n;
    plan.seen = 0;
    const client = await openClient(server, device, method, undefined, droppingWebSocket(plan));
    const outcome = await op(client.wallet).then(
      () => 'completed',
      (err: unknown) => (isTandemError(err) ? err.code : 'foreign error'),
    );
    // A session cut anywhere cannot finish: the operation fails with a typed, retryable error.
    expect(outcome, label).toBe('WS_CLOSED');
    plan.dropAt = Number.POSITIVE_INFINITY;
    await eventually(() => client.wallet.refresh());
    await checkInvariants(server, walletId, client.wallet, device.keychain, before, label);
    await eventually(() => finish(client.wallet));
    await checkInvariants(server, walletId, client.wallet, device.keychain, before, `${label}, finished`);
    await signBoth(server, walletId, client.wallet, label);
    client.kill();
  }
  return frames;
}

const sharedMethod = new MemoryBackupMethod(METHOD);

/** A wallet with both keys on `device`, and (optionally) a completed backup. */
async function walletOnDevice(backedUp: boolean): Promise<{ walletId: string; device: Device }> {
  const { walletId, apiKey } = await newWallet(server);
  const device = { apiKey, keychain: new MemoryKeychain() };
  const c = await openClient(server, device, sharedMethod);
  await c.wallet.createWallet();
  if (backedUp) await c.wallet.backupWallet(METHOD);
  c.kill();
  return { walletId, device };
}

const complete = (w: TandemWallet) => CURVES.every((c) => w.actor.getSnapshot().context.detail?.curves[c].state === 'STORED_CLIENT');

describe('a WebSocket dropped at every protocol message', () => {
  it('Generate', { timeout: 300_000 }, async () => {
    const prepare = async () => {
      const { walletId, apiKey } = await newWallet(server);
      return { walletId, device: { apiKey, keychain: new MemoryKeychain() } };
    };
    await sweep('generate', prepare, (w) => w.createWallet(), async (w) => (complete(w) ? undefined : w.createWallet()));
  });

  it('Backup', { timeout: 300_000 }, async () => {
    // One wallet; every run replaces its backup under an operator step-up.
    const base = await walletOnDevice(true);
    const prepare = async () => {
      await call(server, 'POST', `/v1/operator/clients/${base.walletId}/step-up`, { key: OPERATOR_KEY, body: { method: METHOD, ttlSeconds: 600 } });
      return base;
    };
    const backup: Op = (w) => w.backupWallet(METHOD, { replace: true });
    await sweep('backup', prepare, backup, backup);
  });

  it('Recover', { timeout: 300_000 }, async () => {
    const base = await walletOnDevice(true);
    const prepare = async () => ({ walletId: base.walletId, device: { apiKey: await newDeviceKey(server, base.walletId), keychain: new MemoryKeychain() } });
    await sweep('recover', prepare, (w) => w.recoverWallet(METHOD), async (w) => (complete(w) ? undefined : w.recoverWallet(METHOD)));
  });

  it('Sign', { timeout: 300_000 }, async () => {
    const base = await walletOnDevice(false);
    const both: Op = async (w) => {
      for (const curve of CURVES) await w.signRaw(curve, new Uint8Array(32).fill(7));
    };
    await sweep('sign', async () => base, both, both);
  });
});
