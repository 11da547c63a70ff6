/**
 * The main job (`npm start`, here as `tandem demo`) end to end: it starts its own custodian process and
 * walks a wallet through create → back up → sign → lose the device → recover → sign on both curves. Its
 * machine-readable lines are the contract: four verified signatures, each address the same before and
 * after recovery, and the closing line only when every address survived.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/server-process.js';

describe('the main job', () => {
  it('prints a verified signature per curve before and after recovery, then "lifecycle complete", and exits 0', async () => {
    const child = runCli(['demo'], {});
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out).toBe(0);
    const lines = out.split('\n');
    const verified = lines.map((l) => /^signature verified curve=(SECP256K1|ED25519) address=(\S+) step=(before-recovery|after-recovery)$/.exec(l)).filter((m) => m !== null);
    expect(verified.map((m) => `${m[1]} ${m[3]}`)).toEqual(['SECP256K1 before-recovery', 'ED25519 before-recovery', 'SECP256K1 after-recovery', 'ED25519 after-recovery']);
    for (const curve of ['SECP256K1', 'ED25519']) {
      const addresses = new Set(verified.filter((m) => m[1] === curve).map((m) => m[2]));
      expect(addresses.size, curve).toBe(1);
    }
    expect(lines.filter((l) => l.length > 0).at(-1)).toBe('lifecycle complete: addresses unchanged');
    // DESIGN §1's status names, verbatim.
    for (const status of ['STORED_DATABASE', 'STORED_CLIENT', 'STORED_CUSTODIAN_BACKUP_SHARE', 'STORED_CLIENT_BACKUP_SHARE_KEY', 'STORED_CLIENT_BACKUP_SHARE', 'SUSPENDED', 'SUPERSEDED']) {
      expect(out).toContain(status);
    }
  });
});
