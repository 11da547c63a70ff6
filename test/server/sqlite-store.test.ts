import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CustodianRules } from '../../src/custodian/rules.js';
import { sqliteServerData } from '../../src/server/store/server-data.js';
import { SqliteStore } from '../../src/server/store/sqlite.js';

const dirs: string[] = [];
const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-sqlite-'));
  dirs.push(dir);
  return join(dir, 'custodian.db');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SqliteStore', () => {
  it('keeps every wallet, pair and secret across a restart on the same file', async () => {
    const file = tempFile();
    const first = new SqliteStore(file);
    const rules = new CustodianRules({ store: first });
    const { walletId } = await rules.createWallet();
    const lease = await rules.acquireLease({ walletId, operation: 'generate', holder: 'h' });
    const share = new Uint8Array([0, 1, 2, 255]);
    const pair = await rules.recordGeneratedPair({ walletId, curve: 'ED25519', leaseToken: lease.token, publicKey: 'ab'.repeat(32), custodianShare: share, idempotencyKey: 'key-00000001' });
    await rules.confirmSigningPair({ walletId, pairId: pair.pairId, idempotencyKey: 'key-00000002' });
    const before = await rules.getWallet(walletId);
    first.close();

    const second = new SqliteStore(file);
    const again = new CustodianRules({ store: second });
    expect(await again.getWallet(walletId)).toEqual(before);
    const { share: stored } = await again.authorizeSign({ walletId, curve: 'ED25519', pairId: pair.pairId, request: { kind: 'raw', digest: '00' } });
    expect(stored).toEqual(share);
    // The idempotency record survived too: a replay returns the first answer.
    await expect(again.confirmSigningPair({ walletId, pairId: pair.pairId, idempotencyKey: 'key-00000002' })).resolves.toMatchObject({ status: 'STORED_CLIENT' });
    second.close();
  });

  it('migrates once, and refuses a database from a newer release', () => {
    const file = tempFile();
    const a = new SqliteStore(file);
    expect(a.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }]);
    a.close();
    const b = new SqliteStore(file);
    expect(b.db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: 6 });
    b.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('from the future');
    b.close();
    expect(() => new SqliteStore(file)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  it('rolls a transaction back whole when its body throws', async () => {
    const store = new SqliteStore(':memory:');
    const rules = new CustodianRules({ store });
    const { walletId } = await rules.createWallet();
    await expect(
      store.transaction(async (tx) => {
        const w = (await tx.getWallet(walletId))!;
        await tx.putWallet({ ...w, archived: true });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await rules.getWallet(walletId)).archived).toBe(false);
    expect(store.db.inTransaction).toBe(false);
  });

  it('a file locked past the busy timeout refuses with a retryable STORE_BUSY and changes nothing', async () => {
    const file = tempFile();
    const store = new SqliteStore(file, { busyTimeoutMs: 50 });
    const rules = new CustodianRules({ store });
    const { walletId } = await rules.createWallet();
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(rules.acquireLease({ walletId, operation: 'generate', holder: 'h' })).rejects.toMatchObject({ code: 'STORE_BUSY' });
      await expect(rules.createWallet()).rejects.toMatchObject({ code: 'STORE_BUSY' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    // Free again: the refused lease was never granted, so the first real grant has token 1.
    await expect(rules.acquireLease({ walletId, operation: 'generate', holder: 'h' })).resolves.toMatchObject({ token: 1 });
    expect(store.db.prepare('SELECT count(*) AS n FROM wallets').get()).toEqual({ n: 1 });
    store.close();
  });

  it('refuses to change or delete an audit entry', async () => {
    const store = new SqliteStore(':memory:');
    const data = sqliteServerData(store.db);
    await data.appendAudit({ at: 1, actor: 'operator', action: 'wallet.archive', walletId: 'w', subject: null, details: {} });
    expect(() => store.db.prepare("UPDATE audit_log SET actor = 'someone else'").run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(await data.listAudit('w')).toEqual([{ at: 1, actor: 'operator', action: 'wallet.archive', walletId: 'w', subject: null, details: {} }]);
  });
});
