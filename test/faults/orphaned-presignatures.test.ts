/**
 * KNOWN BUG, found with the fault harness (issue #13, item 2), asserted the correct way and opt-in until it
 * is fixed: `TANDEM_FAULT_KNOWN_BUGS=1 npx vitest run test/faults/orphaned-presignatures.test.ts --project all`.
 *
 * An ECDSA signature persists the custodian's presignature at S2 and uses it at S4 (ECDSA-2PC §3.2, §4).
 * Only its own session can use it: the client's half lived in that session's memory. A session that ends
 * before S4 burns it in its `close()` (src/server/sessions.ts, ecdsaSignDriver), but
 * - a custodian that dies between S2 and S4 never runs that `close()`, and the next process does not burn
 *   what no session can use any more; and
 * - a store busy past its timeout at the session's end makes that burn fail, and the failure is swallowed
 *   (`.catch(() => undefined)`).
 * The orphan stays unused and unexpired for the presignature TTL (10 minutes by default) and counts against
 * the cap of outstanding presignatures (4, ECDSA-2PC §4 rule 7; src/custodian/rules.ts `checkPresign`). Four
 * such crashes and the wallet cannot sign (PRESIGNATURE_LIMIT) for ten minutes after the custodian is back.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server-process.js';
import { Custodian, CUSTODIAN_ENV, DbLock, FlakyKeychain, openDevice, operator, runOp, SERVER_BUSY_TIMEOUT_MS, walletOf, WireProxy, type Device, type WireFault } from './fault-harness.js';

const KNOWN_BUGS = process.env['TANDEM_FAULT_KNOWN_BUGS'] === '1';

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

const unusedPresignatures = (): number => {
  const db = new Database(databasePath, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM presignatures WHERE used = 0').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

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

describe.skipIf(!KNOWN_BUGS)('presignatures of sessions that can no longer finish (known bug)', () => {
  it('a custodian killed between S2 and S4 leaves no presignature counting against the cap', { timeout: 180_000 }, async () => {
    // Today four kills leave four orphans, the cap; correct behaviour leaves none however often it is killed.
    for (let n = 0; n < 12 && unusedPresignatures() < 4; n++) expect(await signUnder({ kind: 'restart', at: S4[n % 2]!, after: false }, n)).toBe('WS_CLOSED');
    // No session is running, so no presignature can be used any more: the wallet signs (today: PRESIGNATURE_LIMIT
    // for the presignature TTL, 10 minutes), and none is outstanding.
    await walletOf(device).refresh();
    await expect(walletOf(device).signRaw('SECP256K1', sha256(new Uint8Array([99])))).resolves.toBeInstanceOf(Uint8Array);
    expect(unusedPresignatures()).toBe(0);
  });

  it('a session that ends while the store is busy still burns its presignature', { timeout: 120_000 }, async () => {
    // Locked from S4 until well after the session failed and closed: both the use and the burn time out.
    expect(await signUnder({ kind: 'dbLock', at: S4[0], holdMs: 2 * SERVER_BUSY_TIMEOUT_MS + 2000 }, 0)).toBe('INTERNAL');
    expect(unusedPresignatures()).toBe(0);
  });
});
