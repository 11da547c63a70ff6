/**
 * Labelled hash commitments, Com_X(label; ctx_sid; items) of §1.7 (Δ7):
 *
 *     HMAC-SHA256(u, Enc(label, ctx_sid, pid_X, items…)),  u ←$ 32 bytes, opening = (u, items)
 *
 * Everything that names the commitment is framed inside it: which protocol and item (the label), which
 * session (ctx_sid: the protocol sid, or the committer's fresh 16-byte contribution before one exists)
 * and who committed (pid_X), so a commitment cannot be replayed into another slot, session or direction.
 * The opener's key must be exactly 32 bytes: HMAC zero-pads short keys, so u and u‖00 would both open.
 *
 * @example
 * const { commitment, u } = commit('dkg/Q1', sid1, pid1, [Q1]);
 * verifyOpening(commitment, u, 'dkg/Q1', sid1, pid1, [Q1], 'DKG_FAILED');
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import type { ErrorCode } from '../errors.js';
import { assertBytes, assertBytesOf, rejected } from './assert.js';
import { equalBytes } from './bigint.js';
import { encode, type EncItem } from './encoding.js';
import { label } from './oracle.js';
import { PID_BYTES } from './session.js';

export const COMMITMENT_BYTES = 32;
export const COMMITMENT_KEY_BYTES = 32;

function compute(u: Uint8Array, path: string, ctxSid: Uint8Array, pid: Uint8Array, items: readonly EncItem[]): Uint8Array {
  assertBytesOf(ctxSid, [16, 32], 'commitment ctx_sid');
  assertBytes(pid, PID_BYTES, 'commitment pid');
  return hmac(sha256, u, encode(label(path), ctxSid, pid, ...items));
}

/**
 * Commits to `items` under `label(path)`. Keep `u` secret until the opening; erase it (`u.fill(0)`) on
 * abort.
 */
export function commit(
  path: string,
  ctxSid: Uint8Array,
  pid: Uint8Array,
  items: readonly EncItem[],
): { readonly commitment: Uint8Array; readonly u: Uint8Array } {
  const u = randomBytes(COMMITMENT_KEY_BYTES);
  return { commitment: compute(u, path, ctxSid, pid, items), u };
}

/** Checks an opening; throws `rejected(code, …)` when it does not open, `MALFORMED_MESSAGE` on sizes. */
export function verifyOpening(
  commitment: Uint8Array,
  u: Uint8Array,
  path: string,
  ctxSid: Uint8Array,
  pid: Uint8Array,
  items: readonly EncItem[],
  code: ErrorCode,
): void {
  assertBytes(commitment, COMMITMENT_BYTES, 'commitment');
  assertBytes(u, COMMITMENT_KEY_BYTES, 'commitment key u');
  if (!equalBytes(compute(u, path, ctxSid, pid, items), commitment)) throw rejected(code, path, 'commitment opens');
}
