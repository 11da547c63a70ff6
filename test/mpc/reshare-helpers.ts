/**
 * Test-only drivers for Backup and Recover: one seeded keygen pair from fixtures, and makers of seeded
 * Backup / Recover parties over it, for the run and tamperAt pumps of keygen-helpers.ts (the four
 * message shapes are the same: P1 starts, the parties alternate, P2 gets its result at message 3).
 */
import { createBackupP1, createBackupP2, type BackupResult } from '../../src/mpc/backup.js';
import { decodeBackupShare } from '../../src/mpc/backup-share.js';
import { G, q } from '../../src/mpc/curve.js';
import type { MpcParty } from '../../src/mpc/keygen.js';
import { createRecoverP1, createRecoverP2, type RecoverResult } from '../../src/mpc/recover.js';
import { decodeClientShare, decodeCustodianShare } from '../../src/mpc/share.js';
import type { BackupMethodName } from '../../src/types.js';
import { fixturePrimes, ic, icPin, p1, p2, pid1, pid2, run, seeded, type Transcript } from './keygen-helpers.js';

export { pid1, pid2 };

/** A signing pair from a seeded keygen (fixture Paillier key 0). */
export function keygenPair(seed: string): Transcript {
  return run(seeded(p1(), `${seed}/keygen/P1`), seeded(p2(), `${seed}/keygen/P2`));
}

export interface Shares {
  readonly custodian: Uint8Array;
  readonly client: Uint8Array;
}

export function backupParties(
  signing: Shares,
  method: BackupMethodName,
  seed: string,
): { a: MpcParty<BackupResult>; b: MpcParty<BackupResult> } {
  return {
    a: seeded(createBackupP1({ pid1, pid2, share: signing.custodian, method }), `${seed}/backup/P1`),
    b: seeded(createBackupP2({ pid1, pid2, share: signing.client, method }), `${seed}/backup/P2`),
  };
}

export function recoverParties(
  backup: Shares,
  seed: string,
  o: { readonly epoch?: bigint; readonly fixture?: number; readonly newPid2?: Uint8Array } = {},
): { a: MpcParty<RecoverResult>; b: MpcParty<RecoverResult> } {
  const device = o.newPid2 ?? pid2;
  return {
    a: seeded(
      createRecoverP1({
        pid1,
        pid2: device,
        share: backup.custodian,
        epoch: o.epoch ?? 1n,
        primeSource: fixturePrimes(o.fixture ?? 1),
        intCommitment: ic,
        sendIcProof: false,
      }),
      `${seed}/recover/P1`,
    ),
    b: seeded(createRecoverP2({ pid1, pid2: device, share: backup.client, icPin }), `${seed}/recover/P2`),
  };
}

export const sharesOf = (t: Transcript): Shares => ({ custodian: t.custodian.share, client: t.client.share });

/** Test-only: the key x of a signing pair (the key never exists whole outside tests). */
export function signingKey(s: Shares): bigint {
  const c = decodeCustodianShare(s.custodian);
  const d = decodeClientShare(s.client);
  return (c.x1 + d.x2) % q;
}

/** Test-only: the key x of a backup pair. */
export function backupKey(s: Shares): bigint {
  return (decodeBackupShare(s.custodian, 'custodian-backup').b + decodeBackupShare(s.client, 'client-backup').b) % q;
}

export const publicOf = (x: bigint): string => G.multiply(x).toHex(true);
