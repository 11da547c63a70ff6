/** Drivers for the FROST tests: run two parties to the end, record the messages, tamper with one. */
import { TandemError } from '../../src/errors.js';
import { derivePid } from '../../src/mpc/session.js';
import {
  createFrostBackupP1,
  createFrostBackupP2,
  createFrostKeygenP1,
  createFrostKeygenP2,
  createFrostRecoverP1,
  createFrostRecoverP2,
  createFrostSignP1,
  createFrostSignP2,
  type FrostParty,
} from '../../src/mpc/frost.js';

export const pid1 = derivePid(new TextEncoder().encode('custodian'));
export const pid2 = derivePid(new TextEncoder().encode('client device'));

export interface Outcome<R> {
  /** Every message delivered, in order (after tampering). */
  readonly messages: Uint8Array[];
  readonly r1?: R;
  readonly r2?: R;
  readonly error?: TandemError;
  /** Who threw: 1 or 2. */
  readonly thrower?: 1 | 2;
}

/**
 * Runs P1 and P2 to the end. `edit(i, m)` may replace the i-th message delivered (or return
 * `undefined` to deliver it unchanged); `extra(i)` may deliver additional messages before it.
 */
export function drive<R>(
  p1: FrostParty<R>,
  p2: FrostParty<R>,
  edit?: (i: number, m: Uint8Array) => Uint8Array | undefined,
): Outcome<R> {
  const messages: Uint8Array[] = [];
  const queue: { to: 1 | 2; m: Uint8Array }[] = [];
  let r1: R | undefined;
  let r2: R | undefined;
  try {
    for (const m of p1.start()) queue.push({ to: 2, m });
    for (const m of p2.start()) queue.push({ to: 1, m });
  } catch (e) {
    return { messages, error: e as TandemError };
  }
  while (queue.length > 0) {
    const next = queue.shift()!;
    const m = edit?.(messages.length, next.m) ?? next.m;
    messages.push(m);
    const party = next.to === 1 ? p1 : p2;
    try {
      const out = party.receive(m);
      if (out.result !== undefined) {
        if (next.to === 1) r1 = out.result;
        else r2 = out.result;
      }
      for (const x of out.messages) queue.push({ to: next.to === 1 ? 2 : 1, m: x });
    } catch (e) {
      if (!(e instanceof TandemError)) throw e;
      return { messages, ...(r1 === undefined ? {} : { r1 }), ...(r2 === undefined ? {} : { r2 }), error: e, thrower: next.to };
    }
  }
  return { messages, ...(r1 === undefined ? {} : { r1 }), ...(r2 === undefined ? {} : { r2 }) };
}

export interface ShareResult {
  readonly share: Uint8Array;
  readonly publicKey: string;
}

export const keygenParties = (epoch = 0) =>
  [createFrostKeygenP1({ pid1, pid2, epoch }), createFrostKeygenP2({ pid1, pid2 })] as const;

export function keygen(epoch = 0): { custodian: ShareResult; client: ShareResult; messages: Uint8Array[] } {
  const [a, b] = keygenParties(epoch);
  const o = drive<ShareResult>(a, b);
  if (o.error !== undefined || o.r1 === undefined || o.r2 === undefined) throw o.error ?? new Error('keygen incomplete');
  return { custodian: o.r1, client: o.r2, messages: o.messages };
}

export const backupParties = (custodian: Uint8Array, client: Uint8Array, method = 'PASSWORD' as const) =>
  [createFrostBackupP1({ pid1, pid2, share: custodian, method }), createFrostBackupP2({ pid1, pid2, share: client, method })] as const;

export const recoverParties = (custodian: Uint8Array, client: Uint8Array, epoch = 1) =>
  [createFrostRecoverP1({ pid1, pid2, share: custodian, epoch }), createFrostRecoverP2({ pid1, pid2, share: client })] as const;

export function complete<R>(o: Outcome<R>): { r1: R; r2: R; messages: Uint8Array[] } {
  if (o.error !== undefined || o.r1 === undefined || o.r2 === undefined) throw o.error ?? new Error('run incomplete');
  return { r1: o.r1, r2: o.r2, messages: o.messages };
}

export const signParties = (custodian: Uint8Array, client: Uint8Array, message: Uint8Array) =>
  [createFrostSignP1({ pid1, pid2, share: custodian, message }), createFrostSignP2({ pid1, pid2, share: client, message })] as const;

export const flip =
  (pos: number) =>
  (m: Uint8Array): Uint8Array => {
    const out = m.slice();
    const i = Math.min(pos, out.length - 1);
    out[i] = (out[i] ?? 0) ^ 0x41;
    return out;
  };
