/**
 * What the wallet machine knows, derived from the custodian's view of the wallet and the list of shares
 * in the device keychain. The machine's regions show aggregates of this; the per-curve and per-method
 * detail lives in context. Pure functions, so the start-up sync, the guards and the property tests agree.
 */
import {
  BACKUP_METHODS,
  CURVES,
  type BackupMethodName,
  type BackupPairStatus,
  type Curve,
  type SigningPairStatus,
  type WalletView,
} from '../types.js';
import { addressOf } from './address.js';

/**
 * Per curve: `none` (no confirmed key; a pending pair without a share on this device may be replaced),
 * `pending` (custodian `STORED_DATABASE`, share in this keychain: only the confirmation is missing),
 * `STORED_CLIENT` (confirmed and on this device), `notOnDevice` (confirmed, but this device holds no share
 * of it), `shareRevoked` (this device's share was suspended or superseded by a recovery), `locked`.
 */
export type CurveState = 'none' | 'pending' | 'STORED_CLIENT' | 'notOnDevice' | 'shareRevoked' | 'locked';

export interface CurveDetail {
  readonly state: CurveState;
  /** The pair that signs (or will sign) for this curve at the custodian. */
  readonly pairId: string | null;
  readonly status: SigningPairStatus | null;
  readonly epoch: number;
  /** The newest pair whose client share is in this device's keychain. */
  readonly devicePairId: string | null;
  /** The wallet key, only once confirmed. */
  readonly publicKey: string | null;
  /** Shown only once the curve's first pair is STORED_CLIENT (rule 3). */
  readonly address: string | null;
}

export interface BackupSlot {
  /** The completed backup pair (STORED_CLIENT_BACKUP_SHARE) of this (curve, method), if any. */
  readonly completed: string | null;
  /** A newer backup pair on its way, if any. */
  readonly pending: { readonly backupPairId: string; readonly status: BackupPairStatus } | null;
}

export interface WalletDetail {
  readonly walletId: string;
  readonly archived: boolean;
  readonly curves: Readonly<Record<Curve, CurveDetail>>;
  readonly backups: Readonly<Partial<Record<BackupMethodName, Readonly<Partial<Record<Curve, BackupSlot>>>>>>;
}

export const keychainPrefix = (walletId: string) => `${walletId}/`;
export const keychainKey = (walletId: string, curve: Curve, pairId: string) => `${walletId}/${curve}/${pairId}`;

/** Parses `walletId/curve/pairId` keys into the pair ids this device holds per curve. */
export function devicePairIds(walletId: string, keys: readonly string[]): Record<Curve, Set<string>> {
  const out = { SECP256K1: new Set<string>(), ED25519: new Set<string>() } as Record<Curve, Set<string>>;
  for (const k of keys) {
    const [w, curve, pairId, ...rest] = k.split('/');
    if (w !== walletId || rest.length > 0 || !pairId || !(CURVES as readonly string[]).includes(curve!)) continue;
    out[curve as Curve].add(pairId);
  }
  return out;
}

export function deriveDetail(view: WalletView, deviceKeys: readonly string[]): WalletDetail {
  const onDevice = devicePairIds(view.walletId, deviceKeys);
  const curves = {} as Record<Curve, CurveDetail>;
  for (const curve of CURVES) {
    const pairs = view.signingPairs.filter((p) => p.curve === curve);
    const live = pairs.filter((p) => p.status !== 'SUPERSEDED').sort((a, b) => b.epoch - a.epoch);
    const current = live[0] ?? null;
    const device = pairs.filter((p) => onDevice[curve].has(p.pairId)).sort((a, b) => b.epoch - a.epoch)[0] ?? null;
    const publicKey = view.publicKeys[curve] ?? null;
    const currentOnDevice = current !== null && device?.pairId === current.pairId;
    let state: CurveState;
    if (current?.status === 'LOCKED') state = 'locked';
    else if (publicKey === null) state = current?.status === 'STORED_DATABASE' && currentOnDevice ? 'pending' : 'none';
    else if (currentOnDevice) {
      state = current.status === 'STORED_CLIENT' ? 'STORED_CLIENT' : current.status === 'STORED_DATABASE' ? 'pending' : 'shareRevoked';
    }
    else if (device !== null) state = 'shareRevoked';
    else state = 'notOnDevice';
    curves[curve] = {
      state,
      pairId: current?.pairId ?? null,
      status: current?.status ?? null,
      epoch: current?.epoch ?? 0,
      devicePairId: device?.pairId ?? null,
      publicKey,
      address: publicKey === null ? null : addressOf(curve, publicKey),
    };
  }
  const backups: Partial<Record<BackupMethodName, Partial<Record<Curve, BackupSlot>>>> = {};
  for (const b of view.backupPairs) {
    if (b.status === 'SUPERSEDED') continue;
    const slots = (backups[b.method] ??= {});
    const slot = slots[b.curve] ?? { completed: null, pending: null };
    slots[b.curve] =
      b.status === 'STORED_CLIENT_BACKUP_SHARE'
        ? { ...slot, completed: b.backupPairId }
        : { ...slot, pending: { backupPairId: b.backupPairId, status: b.status } };
  }
  return { walletId: view.walletId, archived: view.archived, curves, backups };
}

/** The signing region's aggregate: the least advanced curve, most urgent first. */
export type SigningAggregate = CurveState;
const SIGNING_ORDER: readonly CurveState[] = ['locked', 'shareRevoked', 'notOnDevice', 'pending', 'none', 'STORED_CLIENT'];

export function signingAggregate(detail: WalletDetail): SigningAggregate {
  const states = CURVES.map((c) => detail.curves[c].state);
  return SIGNING_ORDER.find((s) => states.includes(s)) ?? 'none';
}

export type BackupAggregate = 'none' | 'STORED_CUSTODIAN_BACKUP_SHARE' | 'STORED_CLIENT_BACKUP_SHARE_KEY' | 'STORED_CLIENT_BACKUP_SHARE';
const BACKUP_RANK: Readonly<Record<BackupAggregate, number>> = {
  none: 0,
  STORED_CUSTODIAN_BACKUP_SHARE: 1,
  STORED_CLIENT_BACKUP_SHARE_KEY: 2,
  STORED_CLIENT_BACKUP_SHARE: 3,
};

/** The curves that have a wallet key, i.e. that a backup must cover. */
export const confirmedCurves = (detail: WalletDetail): Curve[] => CURVES.filter((c) => detail.curves[c].publicKey !== null);

function slotRank(slot: BackupSlot | undefined): BackupAggregate {
  if (slot?.completed) return 'STORED_CLIENT_BACKUP_SHARE';
  const s = slot?.pending?.status;
  return s === 'STORED_CUSTODIAN_BACKUP_SHARE' || s === 'STORED_CLIENT_BACKUP_SHARE_KEY' ? s : 'none';
}

/** A method's status: its least advanced curve (a method covers the wallet only when it covers every key). */
export function methodStatus(detail: WalletDetail, method: BackupMethodName): BackupAggregate {
  const curves = confirmedCurves(detail);
  if (curves.length === 0) return 'none';
  return curves
    .map((c) => slotRank(detail.backups[method]?.[c]))
    .reduce((a, b) => (BACKUP_RANK[a] <= BACKUP_RANK[b] ? a : b));
}

/** The backup region's aggregate: the most advanced method ("has a completed backup for at least one method"). */
export function backupAggregate(detail: WalletDetail): BackupAggregate {
  return BACKUP_METHODS.map((m) => methodStatus(detail, m)).reduce((a, b) => (BACKUP_RANK[a] >= BACKUP_RANK[b] ? a : b));
}

export function completedMethods(detail: WalletDetail): BackupMethodName[] {
  return BACKUP_METHODS.filter((m) => methodStatus(detail, m) === 'STORED_CLIENT_BACKUP_SHARE');
}

export const curvesToGenerate = (detail: WalletDetail): Curve[] => CURVES.filter((c) => detail.curves[c].state === 'none');

/** Curves a backup with `method` should cover: those without a completed backup, or all when replacing. */
export function curvesToBackUp(detail: WalletDetail, method: BackupMethodName, replace: boolean): Curve[] {
  return confirmedCurves(detail).filter((c) => replace || !detail.backups[method]?.[c]?.completed);
}

export function recoveryTargets(detail: WalletDetail, method: BackupMethodName): { curve: Curve; backupPairId: string; publicKey: string }[] {
  return confirmedCurves(detail).flatMap((curve) => {
    const backupPairId = detail.backups[method]?.[curve]?.completed;
    const publicKey = detail.curves[curve].publicKey;
    return backupPairId && publicKey ? [{ curve, backupPairId, publicKey }] : [];
  });
}
