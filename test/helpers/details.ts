/** Builds WalletDetail fixtures for the pure machine tests. */
import { addressOf } from '../../src/machines/address.js';
import type { BackupSlot, CurveDetail, CurveState, WalletDetail } from '../../src/machines/detail.js';
import type { BackupMethodName, BackupPairStatus, Curve } from '../../src/types.js';

export const KEYS: Record<Curve, string> = {
  SECP256K1: '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
  ED25519: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
};

type SlotSpec = 'completed' | Exclude<BackupPairStatus, 'STORED_CLIENT_BACKUP_SHARE' | 'SUPERSEDED' | 'LOCKED'>;

export interface DetailSpec {
  readonly SECP256K1?: CurveState;
  readonly ED25519?: CurveState;
  readonly backups?: Partial<Record<BackupMethodName, Partial<Record<Curve, SlotSpec>>>>;
  readonly archived?: boolean;
}

const confirmed = (s: CurveState) => s === 'STORED_CLIENT' || s === 'notOnDevice' || s === 'shareRevoked' || s === 'locked';

export function detailOf(spec: DetailSpec = {}): WalletDetail {
  const curve = (c: Curve): CurveDetail => {
    const state = spec[c] ?? 'none';
    const publicKey = confirmed(state) ? KEYS[c] : null;
    const status = { none: null, pending: 'STORED_DATABASE', STORED_CLIENT: 'STORED_CLIENT', notOnDevice: 'STORED_CLIENT', shareRevoked: 'STORED_CLIENT', locked: 'LOCKED' }[state];
    return {
      state,
      pairId: status ? `sig_${c}` : null,
      status: status as CurveDetail['status'],
      epoch: status ? 1 : 0,
      devicePairId: state === 'STORED_CLIENT' || state === 'pending' ? `sig_${c}` : state === 'shareRevoked' ? `sig_old_${c}` : null,
      publicKey,
      address: publicKey ? addressOf(c, publicKey) : null,
    };
  };
  const backups: Partial<Record<BackupMethodName, Partial<Record<Curve, BackupSlot>>>> = {};
  for (const [method, slots] of Object.entries(spec.backups ?? {})) {
    backups[method as BackupMethodName] = Object.fromEntries(
      Object.entries(slots).map(([c, s]) => [
        c,
        s === 'completed'
          ? { completed: `bkp_${method}_${c}`, pending: null }
          : { completed: null, pending: { backupPairId: `bkp_${method}_${c}`, status: s } },
      ]),
    );
  }
  return { walletId: 'wal_test', archived: spec.archived ?? false, curves: { SECP256K1: curve('SECP256K1'), ED25519: curve('ED25519') }, backups };
}
