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
  const custodian = new MemoryCustodian({ rules, walletId });
  const password = new MemoryBackupMethod('PASSWORD');
  const mpc = simulatedClientMpc();
  const view = () => rules.getWallet(walletId);

  say(`\n1. A new device opens wallet ${walletId}`);
  const device = await createTandemWallet({ custodian, keychain: new MemoryKeychain(), mpc, backupMethods: { PASSWORD: password } });
  watch(device, 'device 1');

  say('\n2. Generate');
  const addresses = await device.createWallet(progress);
  printCustodian(await view());
  for (const c of CURVES) say(`    address ${c}: ${addresses[c]}`);

  say('\n3. Back up with PASSWORD');
  const pw = 'correct horse battery staple';
  await device.backupWallet('PASSWORD', { password: pw }, progress);
  printCustodian(await view());
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
  printCustodian(await view());
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
