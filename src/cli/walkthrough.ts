/**
 * `npm start` for now: the lifecycle walked end to end against the in-memory doubles, printing every
 * transition of the wallet machine, every progress status and the custodian's pair statuses. The MPC is
 * SIMULATED here (see src/testing); the client issue turns this into the real main job.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes, bytesToHex } from '@noble/hashes/utils.js';
import { MemoryBackupMethod, MemoryKeychain } from '../adapters/index.js';
import { CustodianRules, MemoryStore } from '../custodian/index.js';
import { createTandemWallet, type TandemWallet } from '../machines/index.js';
import { MemoryCustodian, simulatedClientMpc } from '../testing/index.js';
import type { Custodian } from '../adapters/ports.js';
import { CURVES, type WalletView } from '../types.js';

const say = (line = '') => process.stdout.write(line + '\n');

function describeState(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('active' in v) {
    const a = v['active'] as Record<string, unknown>;
    return `active — signingShares: ${flat(a['signingShares'])} | backupShares: ${flat(a['backupShares'])}`;
  }
  return flat(value);
}
const flat = (v: unknown): string =>
  typeof v === 'string' ? v : Object.entries(v as Record<string, unknown>).map(([k, s]) => `${k}.${flat(s)}`).join(',');

function printCustodian(view: WalletView): void {
  for (const p of view.signingPairs) say(`    custodian: signing pair ${p.curve} epoch ${p.epoch} ${p.pairId}: ${p.status}`);
  for (const b of view.backupPairs) say(`    custodian: backup pair ${b.curve} ${b.method} ${b.backupPairId}: ${b.status}`);
}

/** The custodian port, printing every pair status the custodian records as it happens. */
function narrated(custodian: Custodian, view: () => Promise<WalletView>): Custodian {
  const seen = new Map<string, string>();
  const report = async () => {
    const v = await view();
    const rows = [
      ...v.signingPairs.map((p) => [p.pairId, `signing pair ${p.curve} (epoch ${p.epoch}) ${p.pairId}`, p.status] as const),
      ...v.backupPairs.map((b) => [b.backupPairId, `backup pair ${b.curve} ${b.method} ${b.backupPairId}`, b.status] as const),
    ];
    for (const [id, name, status] of rows) {
      const before = seen.get(id);
      if (before !== status) say(`    custodian: ${name}: ${before ? `${before} → ` : ''}${status}`);
      seen.set(id, status);
    }
  };
  const after = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    const r = await fn(...a);
    await report();
    return r;
  };
  return {
    getWallet: () => custodian.getWallet(),
    runProtocol: after((req, party) => custodian.runProtocol(req, party)) as Custodian['runProtocol'],
    confirmSigningPair: after((id: string, key: string) => custodian.confirmSigningPair(id, key)),
    confirmBackupKey: after((id: string, key: string) => custodian.confirmBackupKey(id, key)),
    storeBackupCiphertext: after((id: string, c: Uint8Array, key: string) => custodian.storeBackupCiphertext(id, c, key)),
    fetchBackupCiphertext: (id) => custodian.fetchBackupCiphertext(id),
    confirmBackup: after((id: string, key: string) => custodian.confirmBackup(id, key)),
  };
}

function watch(wallet: TandemWallet, label: string): void {
  let last = '';
  wallet.actor.subscribe((s) => {
    const now = describeState(s.value);
    if (now !== last) {
      last = now;
      say(`  [${label}] state → ${now}`);
    }
  });
}

const progress = (status: string, curve: string | null) => say(`    progress: ${status}${curve ? ` (${curve})` : ''}`);

async function main(): Promise<void> {
  say('Tandem lifecycle walk-through — the MPC here is SIMULATED (an in-memory test double, not secure); the custodian rules are real.');
  const store = new MemoryStore();
  const rules = new CustodianRules({ store });
  const { walletId } = await rules.createWallet();
  const view = () => rules.getWallet(walletId);
  const custodian = narrated(new MemoryCustodian({ rules, walletId }), view);
  const password = new MemoryBackupMethod('PASSWORD');
  const mpc = simulatedClientMpc();

  say(`\n1. A new device opens wallet ${walletId}`);
  const device = await createTandemWallet({ custodian, keychain: new MemoryKeychain(), mpc, backupMethods: { PASSWORD: password } });
  watch(device, 'device 1');

  say('\n2. Generate');
  const addresses = await device.createWallet(progress);
  for (const c of CURVES) say(`    address ${c}: ${addresses[c]}`);

  say('\n3. Back up with PASSWORD');
  const pw = 'correct horse battery staple';
  await device.backupWallet('PASSWORD', { password: pw }, progress);
  say(`    backed up: ${device.isWalletBackedUp()}, recoverable with: ${device.availableRecoveryMethods().join(', ')}`);

  say('\n4. Sign on both curves');
  await signBoth(device);

  say('\n5. The device is lost (its keychain is gone); a new device opens the same wallet');
  device.stop();
  const replacement = await createTandemWallet({ custodian, keychain: new MemoryKeychain(), mpc, backupMethods: { PASSWORD: password } });
  watch(replacement, 'device 2');
  say(`  [device 2] state → ${describeState(replacement.actor.getSnapshot().value)}`);
  say(`    on device: ${replacement.isWalletOnDevice()}, recoverable: ${replacement.isWalletRecoverable()}`);

  say('\n6. Recover from the PASSWORD backup');
  const recovered = await replacement.recoverWallet('PASSWORD', { password: pw }, progress);
  for (const c of CURVES) {
    if (recovered[c] !== addresses[c]) throw new Error(`The ${c} address changed on recovery.`);
    say(`    address ${c}: ${recovered[c]} (unchanged)`);
  }

  say('\n7. Sign again after recovery');
  await signBoth(replacement);

  const final = replacement.actor.getSnapshot().value as { active?: { signingShares: string; backupShares: string } };
  if (final.active?.signingShares !== 'STORED_CLIENT' || final.active.backupShares !== 'STORED_CLIENT_BACKUP_SHARE') {
    throw new Error(`Unexpected final state ${describeState(final)}`);
  }
  say('\nThe custodian now holds:');
  printCustodian(await view());
  say('\nDone: signingShares reached STORED_CLIENT and backupShares reached STORED_CLIENT_BACKUP_SHARE; the addresses never changed.');
  replacement.stop();
}

async function signBoth(wallet: TandemWallet): Promise<void> {
  const digest = sha256(utf8ToBytes('Tandem walk-through'));
  for (const c of CURVES) {
    const sig = await wallet.signRaw(c, digest, progress);
    say(`    ${c} signature ${bytesToHex(sig).slice(0, 32)}… verified under the wallet key`);
  }
}

main().catch((err) => {
  process.stderr.write(`walk-through failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
