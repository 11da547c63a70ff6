/**
 * The client's transport to the custodian (docs/custodian-api.md): typed REST calls and one-run MPC
 * sessions over WebSocket, the low layer under the `Custodian` port adapter. It must bundle for browsers,
 * so it touches no Node built-in and imports no WebSocket library: `fetch` and the `WebSocket` class are
 * injected (Node 20 has no global WebSocket; Node callers pass ws's class) and both are driven through the
 * browser API only (`binaryType = 'arraybuffer'`, `onopen`/`onmessage`/`onclose`/`onerror`), which ws
 * implements as well.
 *
 * Why it is shaped so:
 * - REST retries live here because the custodian makes them safe: a GET changes nothing and every
 *   state-changing request carries an `Idempotency-Key`, so a retry after a 5xx, a dropped connection or a
 *   timeout gets the first answer and applies nothing twice. A 4xx is an answer, never retried — except
 *   one `RATE_LIMITED` whose wait is short (at most the longest backoff, 5 s): that retry is waited out once,
 *   as told, within the same retry budget. A longer wait is the caller's to schedule. A request without a
 *   key (eject) is sent once.
 * - Sessions are never retried here: a protocol run cannot resume mid-way. The caller decides whether to
 *   start a new session with the same idempotency key, and a WS_CLOSED says how far the run got.
 * - Every failure is a TandemError with the custodian's own code, so a rule's refusal reads the same on
 *   both sides. The API key never appears in a message or in details (the custodian's own text is passed on
 *   with the key scrubbed from it), and neither does a request or response body.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { ERROR_CODES, TandemError, toTandemError, type ErrorCode, type ErrorDetails } from '../errors.js';
import {
  BACKUP_METHODS,
  BACKUP_PAIR_STATUSES,
  CURVES,
  SIGNING_PAIR_STATUSES,
  type BackupMethodName,
  type BackupPairView,
  type Curve,
  type SigningPairView,
  type WalletView,
} from '../types.js';
import type { Party, SignRequest } from './ports.js';

// ---- the injected WebSocket, as the browser API has it ------------------------------------------------

/** What this module reads from a message event: a string for a text frame, an ArrayBuffer for a binary one. */
export interface WebSocketMessageEvent {
  readonly data: unknown;
}

/** What this module reads from a close event. */
export interface WebSocketCloseEvent {
  readonly code: number;
}

/**
 * The browser WebSocket API as this module uses it; the browser's class and ws's both fit. The handlers
 * are write-only here (accessors), so each implementation's own event types need not match ours.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  get onopen(): unknown;
  set onopen(handler: ((event: unknown) => void) | null);
  get onmessage(): unknown;
  set onmessage(handler: ((event: WebSocketMessageEvent) => void) | null);
  get onclose(): unknown;
  set onclose(handler: ((event: WebSocketCloseEvent) => void) | null);
  get onerror(): unknown;
  set onerror(handler: ((event: unknown) => void) | null);
}

/** The browser's `new WebSocket(url, protocols?)`, or ws's, which also takes `{ headers }` third. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: { readonly headers: Record<string, string> }) => WebSocketLike;

/**
 * How a session presents the API key: in the `Authorization` header of the upgrade request (ws can set
 * it; a browser cannot) or as `apiKey` in the start frame (what the custodian accepts where headers cannot
 * be set). Both travel inside the same channel; the header keeps the key out of the session's frames.
 */
export type WebSocketAuth = 'header' | 'startFrame';

// ---- options and public types -------------------------------------------------------------------------

export interface CustodianClientOptions {
  /** The custodian's origin, with a path prefix if it sits behind a proxy: `https://custodian.example.com`. */
  readonly baseUrl: string;
  /** The client API key (`tdk_…`) of this device. */
  readonly apiKey: string;
  /** Defaults to `globalThis.fetch`. */
  readonly fetch?: typeof globalThis.fetch;
  /** Defaults to `globalThis.WebSocket`; in Node 20 pass ws's `WebSocket` class. */
  readonly WebSocket?: WebSocketConstructor;
  /**
   * Defaults to `'header'` when the constructor declares an options parameter (ws's
   * `(address, protocols, options)`), else `'startFrame'` (the browser's `(url, protocols)`).
   */
  readonly webSocketAuth?: WebSocketAuth;
  /** One REST attempt, connection and body included; 10 000 ms by default. */
  readonly requestTimeoutMs?: number;
  /** Extra attempts for a GET or a keyed request after a 5xx, a network failure or a timeout; 2 by default. */
  readonly retries?: number;
  /** The first backoff before a retry; it doubles per attempt, capped at 5 s, with jitter. 200 ms by default. */
  readonly retryDelayMs?: number;
  /** A session in which the custodian sends nothing this long is closed (`WS_CLOSED`); 60 000 ms by default. */
  readonly sessionIdleTimeoutMs?: number;
}

export type SessionOp = 'generate' | 'backup' | 'recover' | 'sign';

/**
 * The start frame of a session, per operation, as the custodian's schema has it (src/server/sessions.ts)
 * less `type` and `apiKey`, which the client adds.
 */
export type StartFrame =
  | { readonly op: 'generate'; readonly curve: Curve; readonly idempotencyKey: string; readonly icPinned?: boolean }
  | { readonly op: 'backup'; readonly curve: Curve; readonly idempotencyKey: string; readonly method: BackupMethodName; readonly proveCurrent?: boolean }
  | { readonly op: 'recover'; readonly curve: Curve; readonly idempotencyKey: string; readonly backupPairId: string; readonly icPinned?: boolean }
  | { readonly op: 'sign'; readonly curve: Curve; readonly idempotencyKey: string; readonly pairId: string; readonly request: SignRequest };

/** The custodian's `ready` frame: both party ids, bound into every session id (pin `pid1` at first contact). */
export interface SessionReady {
  readonly op: SessionOp;
  readonly curve: Curve;
  /** The custodian's party id (the hash of its identity key). */
  readonly pid1: Uint8Array;
  /** This client's party id (derived from the API key id the session was authenticated with). */
  readonly pid2: Uint8Array;
  /** A replacement by proof (`proveCurrent`): the fresh challenge the proof binds, and the backup pair it replaces. */
  readonly challenge?: Uint8Array;
  readonly replaces?: string;
}

export interface SessionOptions {
  /** A replacement by proof: the proof of the current backup, made from `ready` and sent before the protocol. */
  readonly proof?: (ready: SessionReady) => Uint8Array;
}

/** The custodian's `done` frame: what it committed, public data only. */
export type SessionOutcome =
  | { readonly op: 'generate'; readonly pair: SigningPairView }
  | { readonly op: 'recover'; readonly pair: SigningPairView }
  | { readonly op: 'backup'; readonly backupPair: BackupPairView }
  /** `signature` is hex of the custodian's last message: the 65-byte ECDSA answer, or the ed25519 signature. */
  | { readonly op: 'sign'; readonly pairId: string; readonly signature: string };

export type OutcomeOf<Op extends SessionOp> = Extract<SessionOutcome, { readonly op: Op }>;

export interface SessionEnd<Op extends SessionOp, Result> {
  readonly outcome: OutcomeOf<Op>;
  /** What the client party produced. */
  readonly result: Result;
}

/** One custodian backup share released by eject: secret material, to be combined and then erased. */
export interface EjectedShare {
  readonly backupPairId: string;
  readonly curve: Curve;
  readonly method: BackupMethodName;
  readonly custodianBackupShare: Uint8Array;
}

export interface CustodianClient {
  /** `GET /v1/wallet`: the wallet view (public data only). */
  getWallet(): Promise<WalletView>;
  /** `POST /v1/wallet/signing-pairs/:pairId/confirm`: the pair, now `STORED_CLIENT`. */
  confirmSigningPair(pairId: string, idempotencyKey: string): Promise<SigningPairView>;
  /** `POST /v1/wallet/backup-pairs/:backupPairId/key-confirm`: the pair, now `STORED_CLIENT_BACKUP_SHARE_KEY`. */
  confirmBackupKey(backupPairId: string, idempotencyKey: string): Promise<BackupPairView>;
  /** `PUT /v1/wallet/backup-pairs/:backupPairId/ciphertext`: stores the encrypted client backup share. */
  storeBackupCiphertext(backupPairId: string, ciphertext: Uint8Array, idempotencyKey: string): Promise<BackupPairView>;
  /** `PUT /v1/wallet/backup-pairs/:backupPairId/ciphertext-digest`: the app keeps the envelope; the custodian its SHA-256. */
  storeBackupCiphertextDigest(backupPairId: string, digest: string, idempotencyKey: string): Promise<BackupPairView>;
  /** `GET /v1/wallet/backup-pairs/:backupPairId/ciphertext`: the stored envelope. */
  fetchBackupCiphertext(backupPairId: string): Promise<Uint8Array>;
  /** `POST /v1/wallet/backup-pairs/:backupPairId/confirm`: the pair, now `STORED_CLIENT_BACKUP_SHARE` (completed). */
  confirmBackup(backupPairId: string, idempotencyKey: string): Promise<BackupPairView>;
  /** `POST /v1/wallet/eject`, inside the operator's eject window only. Sent once: it carries no idempotency key. */
  eject(): Promise<readonly EjectedShare[]>;
  /** One MPC session over WebSocket; see {@link createCustodianClient}. Never retried here. */
  runSession<S extends StartFrame, Result>(start: S, makeParty: (ready: SessionReady) => Party<Result>, options?: SessionOptions): Promise<SessionEnd<S['op'], Result>>;
}

// ---- boundary checks ----------------------------------------------------------------------------------

const DEFAULTS = { requestTimeoutMs: 10_000, retries: 2, retryDelayMs: 200, sessionIdleTimeoutMs: 60_000 } as const;
const MAX_RETRY_DELAY_MS = 5_000;
const ID = /^[A-Za-z0-9_-]{1,128}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{8,200}$/;
const API_KEY = /^[\x21-\x7e]{1,200}$/;
const PID = /^(?:[0-9a-fA-F]{2}){1,64}$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const OPEN = 1;
/** Private-use close code: the client ended the session (a party failed, or the custodian went silent). */
const CLIENT_ABORT = 4000;

const invalid = (message: string, details: ErrorDetails = {}) => new TandemError('INVALID_INPUT', { message, details });

function checkId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID.test(value)) throw invalid(`${field} must be 1 to 128 of A-Z a-z 0-9 _ -.`, { field });
  return value;
}

function checkIdempotencyKey(value: unknown): string {
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value)) throw invalid('An idempotency key is 8 to 200 printable ASCII characters.', { field: 'idempotencyKey' });
  return value;
}

function checkDuration(value: number | undefined, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw invalid(`${field} must be an integer of at least ${min}.`, { field });
  return value;
}

function checkBaseUrl(value: unknown): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw invalid('baseUrl must be an absolute http(s) URL.', { field: 'baseUrl' });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw invalid('baseUrl must be an http(s) URL without credentials, query or fragment.', { field: 'baseUrl' });
  }
  return url.href.replace(/\/+$/, '');
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isKnownCode = (code: unknown): code is ErrorCode => typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);

/** Something the custodian sent does not have the shape this client was built for. */
function malformed(what: string, where: string): TandemError {
  return new TandemError('MALFORMED_MESSAGE', { message: `The custodian sent a malformed ${what}.`, details: { field: what, where } });
}

function signingPairOf(v: unknown, where: string): SigningPairView {
  if (
    !isRecord(v) ||
    typeof v['pairId'] !== 'string' ||
    !CURVES.includes(v['curve'] as Curve) ||
    !SIGNING_PAIR_STATUSES.includes(v['status'] as SigningPairView['status']) ||
    !Number.isInteger(v['epoch']) ||
    typeof v['publicKey'] !== 'string' ||
    typeof v['createdAt'] !== 'number' ||
    (v['recoveredFrom'] !== undefined && typeof v['recoveredFrom'] !== 'string')
  ) {
    throw malformed('signing pair', where);
  }
  return v as unknown as SigningPairView;
}

function backupPairOf(v: unknown, where: string): BackupPairView {
  if (
    !isRecord(v) ||
    typeof v['backupPairId'] !== 'string' ||
    !CURVES.includes(v['curve'] as Curve) ||
    !BACKUP_METHODS.includes(v['method'] as BackupMethodName) ||
    !BACKUP_PAIR_STATUSES.includes(v['status'] as BackupPairView['status']) ||
    typeof v['publicKey'] !== 'string' ||
    typeof v['createdAt'] !== 'number' ||
    (v['replaces'] !== undefined && typeof v['replaces'] !== 'string')
  ) {
    throw malformed('backup pair', where);
  }
  return v as unknown as BackupPairView;
}

function walletOf(v: unknown, where: string): WalletView {
  if (!isRecord(v) || typeof v['walletId'] !== 'string' || typeof v['archived'] !== 'boolean' || !isRecord(v['publicKeys']) || !Array.isArray(v['signingPairs']) || !Array.isArray(v['backupPairs'])) {
    throw malformed('wallet view', where);
  }
  for (const [curve, key] of Object.entries(v['publicKeys'])) if (!CURVES.includes(curve as Curve) || typeof key !== 'string') throw malformed('wallet view', where);
  for (const p of v['signingPairs']) signingPairOf(p, where);
  for (const p of v['backupPairs']) backupPairOf(p, where);
  return v as unknown as WalletView;
}

function ejectedOf(v: unknown, where: string): EjectedShare[] {
  if (!isRecord(v) || !Array.isArray(v['shares'])) throw malformed('eject answer', where);
  return v['shares'].map((s: unknown) => {
    if (!isRecord(s) || typeof s['backupPairId'] !== 'string' || !CURVES.includes(s['curve'] as Curve) || !BACKUP_METHODS.includes(s['method'] as BackupMethodName) || typeof s['custodianBackupShare'] !== 'string') {
      throw malformed('eject answer', where);
    }
    let share: Uint8Array;
    try {
      share = base64.decode(s['custodianBackupShare']);
    } catch {
      throw malformed('eject answer', where);
    }
    return { backupPairId: s['backupPairId'], curve: s['curve'] as Curve, method: s['method'] as BackupMethodName, custodianBackupShare: share };
  });
}

function outcomeOf(v: unknown, start: StartFrame): SessionOutcome {
  const where = `${start.op} session`;
  if (!isRecord(v) || v['op'] !== start.op) throw malformed('outcome', where);
  switch (start.op) {
    case 'generate':
    case 'recover': {
      const pair = signingPairOf(v['pair'], where);
      if (pair.curve !== start.curve) throw malformed('outcome', where);
      return { op: start.op, pair };
    }
    case 'backup': {
      const backupPair = backupPairOf(v['backupPair'], where);
      if (backupPair.curve !== start.curve || backupPair.method !== start.method) throw malformed('outcome', where);
      return { op: 'backup', backupPair };
    }
    case 'sign':
      if (v['pairId'] !== start.pairId || typeof v['signature'] !== 'string' || !HEX.test(v['signature'])) throw malformed('outcome', where);
      return { op: 'sign', pairId: start.pairId, signature: v['signature'] };
  }
}

/** The exact frame the custodian's schema accepts: fields named one by one, so nothing else rides along. */
function startFrameOf(start: StartFrame): Record<string, unknown> {
  if (!isRecord(start)) throw invalid('A start frame is an object.');
  if (!CURVES.includes(start.curve)) throw invalid('Unknown curve.', { field: 'curve' });
  const base = { type: 'start', op: start.op, curve: start.curve, idempotencyKey: checkIdempotencyKey(start.idempotencyKey) };
  const pinned = (p: boolean | undefined) => (p === undefined ? {} : { icPinned: p });
  switch (start.op) {
    case 'generate':
      return { ...base, ...pinned(start.icPinned) };
    case 'backup':
      if (!BACKUP_METHODS.includes(start.method)) throw invalid('Unknown backup method.', { field: 'method' });
      return { ...base, method: start.method, ...(start.proveCurrent === true ? { proveCurrent: true } : {}) };
    case 'recover':
      return { ...base, backupPairId: checkId(start.backupPairId, 'backupPairId'), ...pinned(start.icPinned) };
    case 'sign': {
      const r = start.request;
      if (!isRecord(r) || typeof r.kind !== 'string' || typeof r.digest !== 'string') throw invalid('A sign request is { kind, digest, payload? }.', { field: 'request' });
      const request = { kind: r.kind, digest: r.digest, ...(r.payload === undefined ? {} : { payload: r.payload }) };
      return { ...base, pairId: checkId(start.pairId, 'pairId'), request };
    }
    default:
      throw invalid('Unknown session operation.', { field: 'op' });
  }
}

// ---- the client ---------------------------------------------------------------------------------------

interface RestCall {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly idempotencyKey?: string;
  readonly body?: Uint8Array<ArrayBuffer>;
  /** The body's type: octet-stream (a ciphertext) unless it is JSON. */
  readonly bodyType?: 'application/json';
  readonly accept: 'application/json' | 'application/octet-stream';
}

type Attempt =
  | { readonly kind: 'answer'; readonly status: number; readonly body: Uint8Array; readonly retryAfter: string | null }
  | { readonly kind: 'failure'; readonly reason: 'timeout' | 'unreachable'; readonly cause: unknown };

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date; null when absent or unreadable. */
function retryAfterMsOf(header: string | null): number | null {
  if (header === null) return null;
  if (/^\s*\d+\s*$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/**
 * A transport bound to one wallet by its client API key.
 *
 * REST calls resolve with the custodian's typed answer or reject with a TandemError: the custodian's own
 * code for its refusals, `NETWORK_ERROR` (`details.reason` `'unreachable'` or `'timeout'`) when no answer
 * came, `RATE_LIMITED` (`details.retryAfterMs` when known) for any 429 without a code of its own — also a
 * proxy's — `INTERNAL` (`details.httpStatus`) for another answer without a known code, `MALFORMED_MESSAGE`
 * for an answer of the wrong shape. A session refused by a limit rejects with `RATE_LIMITED` as well.
 *
 * `runSession(start, makeParty)` runs one protocol: it opens the socket, sends the start frame, waits for
 * `ready`, makes the client party from it, and relays binary frames until the custodian's `done`, which
 * resolves `{ outcome, result }` once the party has produced its result. The custodian's `error` frame
 * rejects with its code; a party that throws closes the session and rejects with its error (a foreign error
 * as `MALFORMED_MESSAGE`); a close before `done`, or a custodian silent for `sessionIdleTimeoutMs`, rejects
 * with `WS_CLOSED` and details `{ reason: 'closed' | 'timeout', closeCode (on a close), op, curve,
 * framesSent, framesReceived, partyFinished }` — enough for the caller to decide on a new session with the
 * same idempotency key; no connection at all rejects with `NETWORK_ERROR`.
 *
 * @example
 * import WebSocket from 'ws'; // Node 20; a browser has its own
 * const custodian = createCustodianClient({ baseUrl: 'https://custodian.example.com', apiKey, WebSocket });
 * const { outcome, result } = await custodian.runSession(
 *   { op: 'generate', curve: 'ED25519', idempotencyKey: 'gen-7f3a9c21' },
 *   ({ pid1, pid2 }) => createFrostKeygenP2({ pid1, pid2 }),
 * );
 * await keychain.set(`${walletId}/ED25519/${outcome.pair.pairId}`, result.share);
 * await custodian.confirmSigningPair(outcome.pair.pairId, 'confirm-7f3a9c21');
 */
export function createCustodianClient(options: CustodianClientOptions): CustodianClient {
  const baseUrl = checkBaseUrl(options.baseUrl);
  if (typeof options.apiKey !== 'string' || !API_KEY.test(options.apiKey)) throw invalid('apiKey must be 1 to 200 printable ASCII characters.', { field: 'apiKey' });
  const apiKey = options.apiKey;
  const requestTimeoutMs = checkDuration(options.requestTimeoutMs, 'requestTimeoutMs', DEFAULTS.requestTimeoutMs, 1);
  const retries = checkDuration(options.retries, 'retries', DEFAULTS.retries, 0);
  const retryDelayMs = checkDuration(options.retryDelayMs, 'retryDelayMs', DEFAULTS.retryDelayMs, 0);
  const idleTimeoutMs = checkDuration(options.sessionIdleTimeoutMs, 'sessionIdleTimeoutMs', DEFAULTS.sessionIdleTimeoutMs, 1);
  if (options.webSocketAuth !== undefined && options.webSocketAuth !== 'header' && options.webSocketAuth !== 'startFrame') throw invalid("webSocketAuth is 'header' or 'startFrame'.", { field: 'webSocketAuth' });
  // The default looks the global up per call and calls it unbound: a browser's fetch refuses any other `this`.
  const doFetch: typeof globalThis.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  // The custodian's text is passed on, but never with the key in it, whatever a proxy or a bug echoes.
  const secretPart = /^tdk_[^_]+_(.{16,})$/.exec(apiKey)?.[1];
  const scrub = (text: string): string => {
    let out = text.split(apiKey).join('[redacted]');
    if (secretPart) out = out.split(secretPart).join('[redacted]');
    return out.length > 500 ? `${out.slice(0, 500)}…` : out;
  };

  /** The custodian's `{code, message, details}` as a TandemError, with the key scrubbed from its text. */
  function fromWire(wire: unknown, fallback: ErrorDetails): TandemError {
    if (!isRecord(wire) || !isKnownCode(wire['code'])) {
      const serverCode = isRecord(wire) && typeof wire['code'] === 'string' ? { serverCode: scrub(wire['code']).slice(0, 64) } : {};
      return new TandemError('INTERNAL', { message: 'The custodian answered with an error this client does not know.', details: { ...fallback, ...serverCode } });
    }
    const details: Record<string, string | number | boolean | readonly string[]> = {};
    if (isRecord(wire['details'])) {
      for (const [k, v] of Object.entries(wire['details']).slice(0, 32)) {
        if (typeof v === 'string') details[k] = scrub(v);
        else if (typeof v === 'number' || typeof v === 'boolean') details[k] = v;
        else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) details[k] = v.map(scrub);
      }
    }
    return new TandemError(wire['code'], { ...(typeof wire['message'] === 'string' ? { message: scrub(wire['message']) } : {}), details });
  }

  async function attempt(call: RestCall): Promise<Attempt> {
    const headers: Record<string, string> = { authorization: `Bearer ${apiKey}`, accept: call.accept };
    if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
    if (call.body !== undefined) headers['content-type'] = call.bodyType ?? 'application/octet-stream';
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, requestTimeoutMs);
    try {
      const res = await doFetch(baseUrl + call.path, {
        method: call.method,
        headers,
        ...(call.body !== undefined ? { body: call.body } : {}),
        signal: controller.signal,
        // The key must never follow a redirect; a custodian does not redirect.
        redirect: 'error',
      });
      return { kind: 'answer', status: res.status, body: new Uint8Array(await res.arrayBuffer()), retryAfter: res.headers.get('retry-after') };
    } catch (cause) {
      return { kind: 'failure', reason: timedOut ? 'timeout' : 'unreachable', cause };
    } finally {
      clearTimeout(timer);
    }
  }

  /** A non-2xx answer as a TandemError; a 429 without a code of its own (a proxy's) is RATE_LIMITED. */
  function answerError(a: Extract<Attempt, { kind: 'answer' }>, where: { method: string; path: string }): TandemError {
    let wire: unknown;
    try {
      wire = (JSON.parse(new TextDecoder().decode(a.body)) as Record<string, unknown>)['error'];
    } catch {
      wire = undefined;
    }
    const err = fromWire(wire, { httpStatus: a.status, ...where });
    // Another code of the custodian's own (PRESIGNATURE_LIMIT) stays as it is, and so does a complete RATE_LIMITED.
    if (a.status !== 429 || (err.code !== 'INTERNAL' && err.code !== 'RATE_LIMITED')) return err;
    if (err.code === 'RATE_LIMITED' && typeof err.details['retryAfterMs'] === 'number') return err;
    const retryAfterMs = retryAfterMsOf(a.retryAfter);
    const wait = retryAfterMs === null ? {} : { retryAfterMs };
    return err.code === 'RATE_LIMITED'
      ? new TandemError('RATE_LIMITED', { message: err.shortMessage, details: { ...err.details, ...wait } })
      : new TandemError('RATE_LIMITED', { details: { ...wait, httpStatus: 429, ...where } });
  }

  async function request(call: RestCall): Promise<Uint8Array> {
    const idempotent = call.method === 'GET' || call.idempotencyKey !== undefined;
    const attempts = idempotent ? retries + 1 : 1;
    const where = { method: call.method, path: call.path };
    let waitedForLimit = false;
    for (let n = 1; ; n++) {
      const a = await attempt(call);
      const retryable = a.kind === 'failure' || a.status >= 500;
      let delay = Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2 ** (n - 1)) * (0.5 + Math.random() / 2);
      if (!retryable || n >= attempts) {
        if (a.kind === 'failure') {
          throw new TandemError('NETWORK_ERROR', { details: { reason: a.reason, ...where, attempts: n }, cause: a.cause });
        }
        if (a.status >= 200 && a.status < 300) return a.body;
        const err = answerError(a, where);
        // A short rate-limit wait is waited out once; a long one, or a second refusal, is the caller's.
        const wait = err.details['retryAfterMs'];
        if (!(err.code === 'RATE_LIMITED' && n < attempts && !waitedForLimit && typeof wait === 'number' && wait <= MAX_RETRY_DELAY_MS)) throw err;
        waitedForLimit = true;
        delay = wait;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  async function json<T>(call: Omit<RestCall, 'accept'>, parse: (v: unknown, where: string) => T): Promise<T> {
    const body = await request({ ...call, accept: 'application/json' });
    const where = `${call.method} ${call.path}`;
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw malformed('answer', where);
    }
    return parse(value, where);
  }

  function runSession<S extends StartFrame, Result>(start: S, makeParty: (ready: SessionReady) => Party<Result>, sessionOptions: SessionOptions = {}): Promise<SessionEnd<S['op'], Result>> {
    let frame: Record<string, unknown>;
    try {
      frame = startFrameOf(start);
    } catch (err) {
      return Promise.reject(err);
    }
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WS === undefined) return Promise.reject(invalid("No WebSocket implementation: pass one (in Node 20, ws's WebSocket class) as `WebSocket`.", { field: 'WebSocket' }));
    const auth: WebSocketAuth = options.webSocketAuth ?? (WS.length >= 3 ? 'header' : 'startFrame');
    const url = `${baseUrl.replace(/^http/, 'ws')}/v1/wallet/sessions`;

    return new Promise((resolve, reject) => {
      let socket: WebSocketLike;
      try {
        socket = auth === 'header' ? new WS(url, [], { headers: { authorization: `Bearer ${apiKey}` } }) : new WS(url);
        socket.binaryType = 'arraybuffer';
      } catch (cause) {
        reject(new TandemError('NETWORK_ERROR', { details: { reason: 'unreachable', op: start.op, curve: start.curve }, cause }));
        return;
      }
      let opened = false;
      let settled = false;
      let party: Party<Result> | null = null;
      let finished = false;
      let result: Result | undefined;
      let framesSent = 0;
      let framesReceived = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;

      const progress = () => ({ op: start.op, curve: start.curve, framesSent, framesReceived, partyFinished: finished });
      const closeSocket = (code: number, reason: string) => {
        // Closing a socket that is still connecting is allowed (it fails the handshake); a closed one is left alone.
        if (socket.readyState <= OPEN) socket.close(code, reason);
      };
      // Handlers stay installed after the end (ws throws on an 'error' nobody listens to); they just do nothing.
      const finish = (outcome: { ok: true; value: SessionEnd<S['op'], Result> } | { ok: false; error: TandemError }, close?: { code: number; reason: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        party = null;
        if (close) closeSocket(close.code, close.reason);
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.error);
      };
      const fail = (error: TandemError, close?: { code: number; reason: string }) => finish({ ok: false, error }, close);
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (!opened) fail(new TandemError('NETWORK_ERROR', { details: { reason: 'timeout', op: start.op, curve: start.curve } }), { code: CLIENT_ABORT, reason: 'timeout' });
          else fail(new TandemError('WS_CLOSED', { message: 'The custodian went silent during the session.', details: { reason: 'timeout', ...progress() } }), { code: CLIENT_ABORT, reason: 'idle' });
        }, idleTimeoutMs);
      };
      const send = (message: Uint8Array) => {
        if (socket.readyState !== OPEN) return; // the close that follows settles the session
        socket.send(message);
        framesSent++;
      };

      const onText = (text: string) => {
        let f: unknown;
        try {
          f = JSON.parse(text);
        } catch {
          throw malformed('text frame', `${start.op} session`);
        }
        if (!isRecord(f)) throw malformed('text frame', `${start.op} session`);
        switch (f['type']) {
          case 'ready': {
            if (party !== null || f['op'] !== start.op || f['curve'] !== start.curve || typeof f['pid1'] !== 'string' || typeof f['pid2'] !== 'string' || !PID.test(f['pid1']) || !PID.test(f['pid2'])) {
              throw malformed('ready frame', `${start.op} session`);
            }
            const replacement = start.op === 'backup' && start.proveCurrent === true;
            if (replacement && (typeof f['challenge'] !== 'string' || !/^[0-9a-f]{64}$/.test(f['challenge']) || typeof f['replaces'] !== 'string')) {
              throw malformed('ready frame', 'a replacement challenge');
            }
            const ready: SessionReady = {
              op: start.op,
              curve: start.curve,
              pid1: hexToBytes(f['pid1']),
              pid2: hexToBytes(f['pid2']),
              ...(replacement ? { challenge: hexToBytes(f['challenge'] as string), replaces: f['replaces'] as string } : {}),
            };
            if (replacement && sessionOptions.proof) socket.send(JSON.stringify({ type: 'proof', proof: bytesToHex(sessionOptions.proof(ready)) }));
            const p = makeParty(ready);
            party = p;
            for (const m of p.start()) send(m);
            return;
          }
          case 'done': {
            if (!finished) throw new TandemError('MALFORMED_MESSAGE', { message: 'The custodian ended the session before the client party finished.', details: progress() });
            const outcome = outcomeOf(f['outcome'], start) as OutcomeOf<S['op']>;
            finish({ ok: true, value: { outcome, result: result as Result } }, { code: 1000, reason: 'done' });
            return;
          }
          case 'error':
            fail(fromWire(f['error'], { ...progress() }), { code: 1000, reason: 'error received' });
            return;
          default:
            throw malformed('text frame', `${start.op} session`);
        }
      };

      const onBinary = (message: Uint8Array) => {
        if (party === null) throw malformed('binary frame before ready', `${start.op} session`);
        framesReceived++;
        const r = party.receive(message);
        if (r.result !== undefined) {
          finished = true;
          result = r.result;
        }
        for (const m of r.messages) send(m);
      };

      socket.onopen = () => {
        if (settled) return;
        opened = true;
        socket.send(JSON.stringify(auth === 'startFrame' ? { ...frame, apiKey } : frame));
        arm();
      };
      socket.onmessage = (event) => {
        if (settled) return;
        try {
          const data = event.data;
          if (typeof data === 'string') onText(data);
          else onBinary(bytesOf(data, start.op));
          if (!settled) arm();
        } catch (err) {
          fail(toTandemError(err, 'MALFORMED_MESSAGE'), { code: CLIENT_ABORT, reason: 'client aborted' });
        }
      };
      socket.onerror = () => {
        // Before the connection opened this is the only news there will be; after it, the close follows.
        if (!settled && !opened) fail(new TandemError('NETWORK_ERROR', { details: { reason: 'unreachable', op: start.op, curve: start.curve } }), { code: CLIENT_ABORT, reason: 'connection failed' });
      };
      socket.onclose = (event) => {
        if (settled) return;
        if (!opened) fail(new TandemError('NETWORK_ERROR', { details: { reason: 'unreachable', op: start.op, curve: start.curve, closeCode: event.code } }));
        else fail(new TandemError('WS_CLOSED', { details: { reason: 'closed', closeCode: event.code, ...progress() } }));
      };
      arm();
    });
  }

  return {
    getWallet: () => json({ method: 'GET', path: '/v1/wallet' }, walletOf),
    confirmSigningPair: async (pairId, idempotencyKey) =>
      json({ method: 'POST', path: `/v1/wallet/signing-pairs/${checkId(pairId, 'pairId')}/confirm`, idempotencyKey: checkIdempotencyKey(idempotencyKey) }, signingPairOf),
    confirmBackupKey: async (backupPairId, idempotencyKey) =>
      json({ method: 'POST', path: `/v1/wallet/backup-pairs/${checkId(backupPairId, 'backupPairId')}/key-confirm`, idempotencyKey: checkIdempotencyKey(idempotencyKey) }, backupPairOf),
    storeBackupCiphertext: async (backupPairId, ciphertext, idempotencyKey) => {
      if (!(ciphertext instanceof Uint8Array)) throw invalid('The ciphertext must be a Uint8Array.', { field: 'ciphertext' });
      return json(
        // A copy: every retry must send the bytes of the first attempt, whatever the caller does meanwhile.
        { method: 'PUT', path: `/v1/wallet/backup-pairs/${checkId(backupPairId, 'backupPairId')}/ciphertext`, idempotencyKey: checkIdempotencyKey(idempotencyKey), body: ciphertext.slice() },
        backupPairOf,
      );
    },
    storeBackupCiphertextDigest: async (backupPairId, digest, idempotencyKey) => {
      if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) throw invalid('The digest is 64 lower-case hex characters.', { field: 'digest' });
      const body = new TextEncoder().encode(JSON.stringify({ digest }));
      return json(
        { method: 'PUT', path: `/v1/wallet/backup-pairs/${checkId(backupPairId, 'backupPairId')}/ciphertext-digest`, idempotencyKey: checkIdempotencyKey(idempotencyKey), body, bodyType: 'application/json' },
        backupPairOf,
      );
    },
    fetchBackupCiphertext: async (backupPairId) =>
      request({ method: 'GET', path: `/v1/wallet/backup-pairs/${checkId(backupPairId, 'backupPairId')}/ciphertext`, accept: 'application/octet-stream' }),
    confirmBackup: async (backupPairId, idempotencyKey) =>
      json({ method: 'POST', path: `/v1/wallet/backup-pairs/${checkId(backupPairId, 'backupPairId')}/confirm`, idempotencyKey: checkIdempotencyKey(idempotencyKey) }, backupPairOf),
    eject: () => json({ method: 'POST', path: '/v1/wallet/eject' }, ejectedOf),
    runSession,
  };
}

/** A binary frame's bytes: an ArrayBuffer from a browser (or ws with `binaryType = 'arraybuffer'`), or a view. */
function bytesOf(data: unknown, op: SessionOp): Uint8Array {
  if (Object.prototype.toString.call(data) === '[object ArrayBuffer]') return new Uint8Array(data as ArrayBuffer);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  throw malformed('binary frame', `${op} session`);
}
