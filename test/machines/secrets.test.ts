/**
 * DESIGN §3 rule 5: no share, key, password or data key ever reaches a persisted snapshot or an
 * inspection event. A full lifecycle runs with every secret captured where it is born (the MPC parties'
 * results, the data keys given to the backup method, the password), while every inspection event is
 * recorded and a snapshot is persisted at every change; then all of it is searched for those bytes in
 * every encoding a leak could take (hex, base64, a JSON array of numbers, the raw string).
 */
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import type { ClientMpc, Party } from '../../src/adapters/ports.js';
import { MemoryBackupMethod, MemoryKeychain } from '../../src/adapters/index.js';
import { createTandemWallet } from '../../src/machines/wallet.js';
import { MemoryCustodian, simulatedClientMpc, simulatedCustodianMpc, type CustodianMpc } from '../../src/testing/index.js';
import { newWorld } from '../helpers/world.js';

const PASSWORD = 'a secret only the user knows 7f3a';

function capturingParty<R extends object>(party: Party<R>, secrets: Uint8Array[]): Party<R> {
  const keep = (r: R | undefined) => {
    if (r && 'share' in r && r.share instanceof Uint8Array) secrets.push(r.share.slice());
    return r;
  };
  return {
    start: () => party.start(),
    receive: (m) => {
      const out = party.receive(m);
      keep(out.result);
      return out;
    },
  };
}

/** Serialises anything an inspector would show, following actor refs to their snapshots, without cycles. */
function serialise(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return { hex: bytesToHex(v), array: Array.from(v) };
    if (typeof v === 'function') return undefined;
    if (v && typeof v === 'object') {
      if (seen.has(v)) return '[seen]';
      seen.add(v);
      const ref = v as { sessionId?: string; getSnapshot?: () => unknown };
      if (typeof ref.sessionId === 'string' && typeof ref.getSnapshot === 'function') return { actor: ref.sessionId, snapshot: ref.getSnapshot() };
    }
    return v;
  });
}

function encodings(secret: Uint8Array): string[] {
  return [bytesToHex(secret), base64.encode(secret), JSON.stringify(Array.from(secret)).slice(1, -1)];
}

describe('secrets never leave the vault', () => {
  it('no persisted snapshot or inspection event holds a share, data key or password', async () => {
    const world = await newWorld();
    const secrets: Uint8Array[] = [];
    const inner = simulatedClientMpc();
    const mpc: ClientMpc = {
      ...inner,
      generate: (c) => (session) => capturingParty(inner.generate(c)(session), secrets),
      backup: (c, s, m) => (session) => capturingParty(inner.backup(c, s, m)(session), secrets),
      recover: (c, s) => (session) => capturingParty(inner.recover(c, s)(session), secrets),
    };
    const innerCustodian = simulatedCustodianMpc();
    const custodianMpc: CustodianMpc = {
      ...innerCustodian,
      generate: (c) => capturingParty(innerCustodian.generate(c), secrets),
      backup: (c, s) => capturingParty(innerCustodian.backup(c, s), secrets),
      recover: (c, s) => capturingParty(innerCustodian.recover(c, s), secrets),
    };
    const custodian = new MemoryCustodian({ rules: world.rules, walletId: world.walletId, mpc: custodianMpc });
    const method = new MemoryBackupMethod('PASSWORD');
    const storeKey = method.storeKey.bind(method);
    method.storeKey = async (id, dataKey, opts) => {
      secrets.push(dataKey.slice());
      return storeKey(id, dataKey, opts);
    };

    const observed: string[] = [];
    const inspect = (e: InspectionEvent) => observed.push(serialise(e));
    const open = (keychain: MemoryKeychain) => createTandemWallet({ custodian, keychain, mpc, backupMethods: { PASSWORD: method }, inspect });

    const wallet = await open(new MemoryKeychain());
    const persistEveryChange = (w: typeof wallet) => w.actor.subscribe(() => observed.push(JSON.stringify(w.persist())));
    persistEveryChange(wallet);
    await wallet.createWallet();
    await wallet.backupWallet('PASSWORD', { password: PASSWORD });
    await wallet.signRaw('SECP256K1', new Uint8Array(32).fill(9));
    await wallet.signRaw('ED25519', new Uint8Array(32).fill(9));
    await expect(wallet.recoverWallet('PASSWORD', { password: 'wrong password, also secret' })).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    wallet.stop();

    const device = await open(new MemoryKeychain());
    persistEveryChange(device);
    await device.recoverWallet('PASSWORD', { password: PASSWORD });
    await device.signRaw('SECP256K1', new Uint8Array(32).fill(7));
    device.stop();

    // The capture worked: 2 generated + 2 backup + 2 recovered shares per side, and 2 data keys.
    expect(secrets.length).toBe(14);
    expect(observed.length).toBeGreaterThan(100);
    const haystack = observed.join('\n');
    for (const secret of secrets) for (const enc of encodings(secret)) expect(haystack.includes(enc), `leaked ${enc.slice(0, 12)}…`).toBe(false);
    for (const pw of [PASSWORD, 'wrong password, also secret']) {
      expect(haystack.includes(pw)).toBe(false);
      for (const enc of encodings(utf8ToBytes(pw))) expect(haystack.includes(enc)).toBe(false);
    }
    // The scan has teeth: a public key the snapshots do carry is found.
    const view = await world.rules.getWallet(world.walletId);
    expect(haystack.includes(view.publicKeys.SECP256K1!)).toBe(true);
  });
});
