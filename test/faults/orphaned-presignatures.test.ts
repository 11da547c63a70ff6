/**
 * Presignatures of sessions that can no longer finish (found by the fault harness, issue #13 item 2).
 *
 * An ECDSA signature persists the custodian's presignature at S2 and uses it at S4 (ECDSA-2PC §3.2, §4).
 * Only its own session can use it: the client's half lived in that session's memory. A session that ends
 * before S4 burns it in its `close()` (src/server/sessions.ts, ecdsaSignDriver), but a custodian that dies
 * between S2 and S4 never runs that `close()`, and a store busy at the session's end makes the burn fail.
 * Such orphans used to stay unused for ten minutes and count against the cap of outstanding presignatures
 * (4, ECDSA-2PC §4 rule 7): four crashes and the wallet could not sign. Now the presignature lives only as
 * long as its session could (the idle timeout), a sweep burns what has expired, and a SQLite custodian —
 * the only instance on its file — burns every unused one when it starts.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server-process.js';
import { Custodian, CUSTODIAN_ENV, DbLock, FlakyKeychain, openDevice, operator, runOp, SERVER_BUSY_TIMEOUT_MS, walletOf, WireProxy, type Device, type WireFault } from './fault-harness.js';

/**
 * The client's S4 is the 8th or 9th wire event of an ECDSA signature (upgrade, start, ready, then S0–S4 with
 * the custodian's first message racing the client's S0): a fault there finds the presignature persisted.
 */
const S4 = [8, 9] as const;

let dir: ReturnType<typeof tempDir>;
let custodian: Custodian;
let proxy: WireProxy;
let lock: DbLock;
let device: Device;
let databasePath: string;

beforeEach(async () => {
  dir = tempDir();
  databasePath = `${dir.path}/custodian.db`;
  lock = new DbLock(databasePath);
  proxy = new WireProxy({ crashCustodian: () => custodian.crash(), lockDatabase: (ms) => lock.hold(ms) });
  custodian = new Custodian(databasePath, CUSTODIAN_ENV, (url) => proxy.setUpstream(url));
  await proxy.listen();
  await custodian.start();
  const { apiKey } = await operator(await custodian.up(), 'POST', '/v1/operator/clients', {});
  device = { name: 'device-1', apiKey, keychain: new FlakyKeychain(), proc: null, processId: '' };
  await openDevice(proxy.url, device);
  await walletOf(device).createWallet();
});
afterEach(async () => {
  device?.proc?.kill();
  lock?.release();
  await custodian?.stop();
  await proxy?.close();
  dir?.remove();
});

const countPresignatures = (where: string): number => {
  const db = new Database(databasePath, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM presignatures WHERE ${where}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};
const unusedPresignatures = (): number => countPresignatures('used = 0');

/** Waits (bounded) until `check` holds; a condition that never holds fails the test with its last value. */
async function eventually(check: () => number, want: number, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while (check() !== want && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
  expect(check()).toBe(want);
}

/** One SECP256K1 signature with `fault` armed; then the faults stop and the wire goes quiet. */
async function signUnder(fault: WireFault, n: number): Promise<string> {
  proxy.arm([fault]);
  const r = await runOp(device, (w) => w.signRaw('SECP256K1', sha256(new Uint8Array([n]))), null, () => undefined, 60_000);
  proxy.disarm();
  lock.release();
  await custodian.up();
  await proxy.quiescent();
  return r.crashed ? 'crashed' : r.outcome.ok ? 'ok' : String((r.outcome.error as { code?: string }).code);
}

describe('presignatures of sessions that can no longer finish', () => {
  it('a custodian killed between S2 and S4 leaves no presignature counting against the cap', { timeout: 180_000 }, async () => {
    // More kills than the cap, each between S2 and S4: each leaves an orphan that the next process burns.
    for (let n = 0; n < 5; n++) expect(await signUnder({ kind: 'restart', at: S4[n % 2]!, after: false }, n)).toBe('WS_CLOSED');
    expect(countPresignatures('used = 1 AND s4_hash IS NULL AND secret IS NULL')).toBe(5);
    expect(unusedPresignatures()).toBe(0);
    await walletOf(device).refresh();
    await expect(walletOf(device).signRaw('SECP256K1', sha256(new Uint8Array([99])))).resolves.toBeInstanceOf(Uint8Array);
    expect(unusedPresignatures()).toBe(0);
  });

  it('a session that ends while the store is busy still has its presignature burned, by the sweep', { timeout: 120_000 }, async () => {
    // Locked from S4 until well after the session failed and closed: both the use and the burn time out.
    expect(await signUnder({ kind: 'dbLock', at: S4[0], holdMs: 2 * SERVER_BUSY_TIMEOUT_MS + 2000 }, 0)).toBe('STORE_BUSY');
    // The presignature expires with the session idle timeout (TANDEM_LEASE_TTL_MS, 5 s here) and the
    // sweep, every half of it, burns it: no restart is needed.
    await eventually(unusedPresignatures, 0, 30_000);
    expect(countPresignatures('used = 1 AND secret IS NULL')).toBe(1);
    await walletOf(device).refresh();
    await expect(walletOf(device).signRaw('SECP256K1', sha256(new Uint8Array([98])))).resolves.toBeInstanceOf(Uint8Array);
  });
});
