/**
 * Backup and Recover for ED25519: re-sharings of the same key (DESIGN §3, ECDSA-2PC §3.4–3.5 in
 * spirit). Both run the five-message re-sharing of frost-dkg.ts, in which each party deals its
 * Lagrange-weighted old share λ_i·s_i on a fresh random line, so the new pair interpolates to the same
 * key x while every new share differs from every old one:
 *
 * - Backup: from the signing pair to a fresh backup pair (kinds `*-backup`). The backup pair id is
 *   the backup sid, which binds the signing pair's wallet key id, pair id and epoch and the backup
 *   method; the backup shares record the signing pair's epoch. A backup share cannot sign.
 * - Recover: from a backup pair to a fresh signing pair with the custodian's new epoch′ (above the
 *   backup's), pair id = the recover sid.
 *
 * Both parties check that the group key is unchanged, that the peer dealt exactly its old verifying
 * share's Lagrange multiple, and each proves its new verifying share. Failures are BACKUP_FAILED /
 * RECOVER_FAILED (or MALFORMED_MESSAGE for bytes), and the party stays aborted.
 *
 * @example
 * const p1 = createFrostBackupP1({ pid1, pid2, share: custodianSigningShare, method: 'PASSWORD' });
 * const p2 = createFrostBackupP2({ pid1, pid2, share: clientSigningShare, method: 'PASSWORD' });
 * // …run the five messages as for keygen; both results carry the same publicKey as the signing pair.
 */
import type { BackupMethodName } from '../types.js';
import { createReshareParty, type FrostDkgP1, type FrostDkgP2 } from './frost-dkg.js';

export interface FrostBackupOptions {
  /** pid_P1 and pid_P2, from the authenticated channel. */
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** This party's signing share bytes (frost-share.ts). */
  readonly share: Uint8Array;
  readonly method: BackupMethodName;
}

export interface FrostRecoverP1Options {
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** The custodian's backup share bytes. */
  readonly share: Uint8Array;
  /** epoch′ of the new signing pair: the wallet's highest epoch for the curve plus one. */
  readonly epoch: number | bigint;
}

export interface FrostRecoverP2Options {
  readonly pid1: Uint8Array;
  readonly pid2: Uint8Array;
  /** The client's backup share bytes (decrypted). */
  readonly share: Uint8Array;
  /** When the client knows which epoch′ to expect, M1 must announce it. */
  readonly expectedEpoch?: number | bigint;
}

/** The custodian's Backup party. `start` → [M1]; M2 → [M3]; M4 → [M5] and its backup share. */
export function createFrostBackupP1(o: FrostBackupOptions): FrostDkgP1 {
  return createReshareParty({ role: 1, protocol: 'backup', ...o }) as FrostDkgP1;
}

/** The client's Backup party. `start` → []; M1 → [M2]; M3 → [M4]; M5 → its backup share. */
export function createFrostBackupP2(o: FrostBackupOptions): FrostDkgP2 {
  return createReshareParty({ role: 2, protocol: 'backup', ...o }) as FrostDkgP2;
}

/** The custodian's Recover party: from its backup share to a new signing share at epoch′. */
export function createFrostRecoverP1(o: FrostRecoverP1Options): FrostDkgP1 {
  return createReshareParty({ role: 1, protocol: 'recover', ...o }) as FrostDkgP1;
}

/** The client's Recover party: from its backup share to a new signing share. */
export function createFrostRecoverP2(o: FrostRecoverP2Options): FrostDkgP2 {
  const { expectedEpoch, ...rest } = o;
  return createReshareParty({ role: 2, protocol: 'recover', ...rest, ...(expectedEpoch === undefined ? {} : { epoch: expectedEpoch }) }) as FrostDkgP2;
}
