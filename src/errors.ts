/**
 * One error family for the whole SDK (DESIGN §6). Apps branch on `code`, a stable string that never
 * changes meaning; `shortMessage` is for people; `details` carries public facts only (ids, statuses,
 * curves), never a share, key, password or presignature; `cause` keeps the chain for debugging.
 */

export const ERROR_CODES = {
  DKG_FAILED: 'Key generation failed.',
  SIGN_FAILED: 'Signing failed.',
  BACKUP_FAILED: 'Backup failed.',
  RECOVER_FAILED: 'Recovery failed.',
  WS_CLOSED: 'The connection to the custodian closed.',
  NETWORK_ERROR: 'The custodian could not be reached.',
  AUTH_FAILED: 'The custodian refused the credentials.',
  OPERATION_IN_PROGRESS: 'Another operation on this wallet is in progress.',
  STATE_INVALID: 'The wallet is not in a state that allows this operation.',
  NO_VALID_BACKUP: 'No completed backup exists for this method.',
  BACKUP_REPLACEMENT_UNAUTHORISED: 'Replacing a completed backup needs the current backup or an operator step-up.',
  RECOVERY_REFUSED: "The operator's recovery authorisation refused this recovery.",
  PASSWORD_REQUIRED: 'This backup method needs a password.',
  PASSWORD_TOO_WEAK: 'The password is too weak to protect a backup.',
  DECRYPT_FAILED: 'The backup share could not be decrypted.',
  SHARE_REVOKED: 'The signing share on this device was replaced by a recovery.',
  SHARE_NOT_ON_DEVICE: 'The signing share is not on this device.',
  SHARE_LOST: 'A share held only in memory was lost before it was stored.',
  PAIR_LOCKED: 'The share pair is locked; only the operator can unlock it.',
  PAIR_NOT_FOUND: 'No such share pair.',
  WALLET_NOT_FOUND: 'No such wallet.',
  WALLET_ARCHIVED: 'The wallet was archived by the operator.',
  PUBLIC_KEY_MISMATCH: 'The new share pair does not belong to the wallet key.',
  POLICY_REFUSED: "The operator's signing policy refused this request.",
  PRESIGNATURE_LIMIT: 'Too many presignatures are outstanding for this signing pair.',
  RATE_LIMITED: 'Too many requests; try again after a moment.',
  STORE_BUSY: "The custodian's database is busy; try again in a moment.",
  STALE_LEASE: 'The operation lost its lease on the wallet.',
  IDEMPOTENCY_KEY_REUSED: 'The idempotency key was already used for a different request.',
  KEYCHAIN_FAILED: 'The device keychain failed.',
  BACKUP_METHOD_FAILED: 'The backup method failed.',
  BACKUP_METHOD_AUTH_EXPIRED: "The backup method's access token was refused; the app should sign the user in again.",
  BACKUP_KEY_NOT_FOUND: 'The backup method holds no data key for this backup.',
  BACKUP_METHOD_UNAVAILABLE: 'This backup method is not configured.',
  WEBHOOK_FAILED: "The operator's webhook failed.",
  EJECT_NOT_ALLOWED: 'Eject is not enabled for this wallet right now; the operator opens a short window for it.',
  MALFORMED_MESSAGE: 'A message was malformed.',
  INVALID_INPUT: 'The input is invalid.',
  INTERNAL: 'An internal error occurred.',
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Public facts about an error: identifiers, statuses, names. Never secret material. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

export interface TandemErrorOptions {
  readonly details?: ErrorDetails;
  readonly cause?: unknown;
  /** Overrides the code's default short message with a more specific one. */
  readonly message?: string;
}

/**
 * @example
 * try { await wallet.recoverWallet('PASSWORD') } catch (e) {
 *   if (e instanceof TandemError && e.code === 'NO_VALID_BACKUP') showBackupFirst();
 * }
 */
export class TandemError extends Error {
  override readonly name = 'TandemError';
  readonly code: ErrorCode;
  readonly shortMessage: string;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, options: TandemErrorOptions = {}) {
    const shortMessage = options.message ?? ERROR_CODES[code];
    const details = options.details ?? {};
    super(formatMessage(code, shortMessage, details), options.cause === undefined ? undefined : { cause: withheld(options.cause) });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = details;
  }

  /** Walks the cause chain and returns the first error `fn` accepts (or the last one). */
  walk(fn?: (err: unknown) => boolean): unknown {
    let err: unknown = this;
    for (;;) {
      if (fn?.(err)) return err;
      const next = err instanceof Error ? err.cause : undefined;
      if (next === undefined) return fn ? undefined : err;
      err = next;
    }
  }

  /** A plain, serialisable form for machine context and the wire (no cause: it may hold anything). */
  toJSON(): SerializedError {
    return { code: this.code, message: this.shortMessage, details: this.details };
  }
}

export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details: ErrorDetails;
}

/**
 * A foreign error's text may repeat its input — a library that prints the scalar or point it refused —
 * so a cause that is not a TandemError keeps its class name and stack frames but not its message.
 */
function withheld(cause: unknown): unknown {
  if (cause instanceof TandemError) return cause;
  const name = cause instanceof Error ? cause.name : typeof cause;
  const e = new Error(`${name} (its message is withheld: it may contain secret material)`);
  e.name = name;
  if (cause instanceof Error && cause.stack) e.stack = [`${name}: message withheld`, ...cause.stack.split('\n').filter((l) => /^\s+at /.test(l))].join('\n');
  return e;
}

function formatMessage(code: ErrorCode, shortMessage: string, details: ErrorDetails): string {
  const lines = Object.entries(details)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `  ${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  return [`${shortMessage} [${code}]`, ...lines].join('\n');
}

export function isTandemError(err: unknown, code?: ErrorCode): err is TandemError {
  return err instanceof TandemError && (code === undefined || err.code === code);
}

/**
 * Turns anything thrown into a TandemError without leaking its message: a foreign error's text may
 * contain secret material (a library that prints its input), so only its class name is kept in details.
 */
export function toTandemError(err: unknown, fallback: ErrorCode = 'INTERNAL'): TandemError {
  if (err instanceof TandemError) return err;
  const kind = err instanceof Error ? err.name : typeof err;
  return new TandemError(fallback, { details: { causeKind: kind }, cause: err });
}

export function fromSerialized(e: SerializedError): TandemError {
  return new TandemError(e.code, { message: e.message, details: e.details });
}

/**
 * EIP-1193 provider error codes for the errors a provider can surface (the chains issue uses this).
 * 4001 user rejected, 4100 unauthorised, 4200 unsupported, 4900 disconnected, -32602 invalid params,
 * -32603 internal, -32005 limit exceeded (EIP-1474's code, which providers use for rate limits) and -32002
 * resource unavailable (EIP-1474; a busy custodian database).
 */
export const EIP1193_CODES: Readonly<Partial<Record<ErrorCode, number>>> = {
  POLICY_REFUSED: 4001,
  AUTH_FAILED: 4100,
  SHARE_REVOKED: 4100,
  SHARE_NOT_ON_DEVICE: 4100,
  PAIR_LOCKED: 4100,
  WALLET_ARCHIVED: 4100,
  EJECT_NOT_ALLOWED: 4100,
  STATE_INVALID: 4100,
  WS_CLOSED: 4900,
  NETWORK_ERROR: 4900,
  INVALID_INPUT: -32602,
  PASSWORD_TOO_WEAK: -32602,
  RATE_LIMITED: -32005,
  STORE_BUSY: -32002,
};

export function eip1193Code(err: TandemError): number {
  return EIP1193_CODES[err.code] ?? -32603;
}
