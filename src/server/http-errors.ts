/**
 * TandemError → HTTP. The body is always `{ error: { code, message, details } }` with the stable code, so
 * the client adapter rebuilds the same TandemError the rules threw; the status is for proxies and people.
 */
import type { ErrorCode, SerializedError, TandemError } from '../errors.js';
import { toTandemError } from '../errors.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  AUTH_FAILED: 401,
  INVALID_INPUT: 400,
  MALFORMED_MESSAGE: 400,
  POLICY_REFUSED: 403,
  EJECT_NOT_ALLOWED: 403,
  RECOVERY_REFUSED: 403,
  BACKUP_REPLACEMENT_UNAUTHORISED: 403,
  WALLET_NOT_FOUND: 404,
  PAIR_NOT_FOUND: 404,
  NO_VALID_BACKUP: 404,
  OPERATION_IN_PROGRESS: 409,
  STATE_INVALID: 409,
  STALE_LEASE: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  SHARE_REVOKED: 409,
  PUBLIC_KEY_MISMATCH: 409,
  WALLET_ARCHIVED: 410,
  PAIR_LOCKED: 423,
  PRESIGNATURE_LIMIT: 429,
  /** An abuse limit (rate-limit.ts); the answer carries `Retry-After`. */
  RATE_LIMITED: 429,
  /** The operator's own backend (webhook) failed: a gateway error, worth retrying. */
  WEBHOOK_FAILED: 502,
  /** The database stayed locked past the busy timeout, or its transactions kept conflicting: retry. */
  STORE_BUSY: 503,
};

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

export function errorBody(err: unknown): { status: number; body: { error: SerializedError }; headers: Record<string, string> } {
  const e = toTandemError(err);
  return { status: httpStatusOf(e.code), body: { error: e.toJSON() }, headers: headersOf(e) };
}

/** `Retry-After` (whole seconds, rounded up) for a refusal that says how long to wait; the body has the milliseconds. */
function headersOf(e: TandemError): Record<string, string> {
  const ms = e.details['retryAfterMs'];
  if (e.code === 'STORE_BUSY') return { 'retry-after': '1' };
  return e.code === 'RATE_LIMITED' && typeof ms === 'number' && ms > 0 ? { 'retry-after': String(Math.ceil(ms / 1000)) } : {};
}
