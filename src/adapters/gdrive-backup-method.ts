/**
 * The GDRIVE backup method: the data key is kept as a file in the user's Google Drive *app data folder*
 * — hidden from the user's Drive listing and from other apps, readable by this app's OAuth client with
 * the `drive.appdata` scope. Whoever can act as that app in the user's Google account (Google, or the
 * app's operator with a token) and holds the custodian backup share (the custodian) could together
 * decrypt the client backup share.
 *
 * Browser-safe: only `fetch` and @noble/hashes, no Node built-ins, no Google client library (a few REST
 * calls do not justify one, and the app keeps the OAuth flow — it supplies access tokens). The subset of
 * Drive v3 used:
 *
 *   find    GET    /drive/v3/files?spaces=appDataFolder&q=name='tandem-backup-<id>'&fields=files(id,name)
 *   read    GET    /drive/v3/files/<fileId>?alt=media
 *   create  POST   /upload/drive/v3/files?uploadType=multipart  (metadata {name, parents: ['appDataFolder']} + bytes)
 *   delete  DELETE /drive/v3/files/<fileId>
 *
 * A data key is written once: storing the same key again is a no-op (a retried step), a different one is
 * refused. Drive allows two files of one name, so a load that finds several that disagree refuses to pick
 * one. A 401 is answered by asking the app for a fresh token (`{ refresh: true }`) and trying once more;
 * a second 401 is BACKUP_METHOD_AUTH_EXPIRED, which tells the app to sign the user in again. Nothing else
 * is retried here: the wallet's step fails with a typed error and the app decides.
 *
 * The file is versioned and self-checking, so a garbled or foreign file fails with DECRYPT_FAILED
 * instead of yielding a wrong key (the same layout as LOCAL_FILE's, under its own domain string):
 *
 *   "TBK" | version (1) | id length (1) | backup pair id (ASCII) | data key (32) | check (16)
 *
 * where check = SHA-256("tandem/data-key/GDRIVE\0" ‖ everything before it), first 16 bytes.
 */
import { bytesToHex, concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { TandemError, type ErrorDetails } from '../errors.js';
import { decodeDataKeyFile, encodeDataKeyFile } from './data-key-file.js';
import { equalBytes } from './memory-keychain.js';
import type { BackupMethod, BackupMethodOptions } from './ports.js';

/** What `getAccessToken` is told: `refresh` is true after Google refused the last token it returned. */
export interface GDriveAccessTokenRequest {
  readonly refresh: boolean;
}

export interface GDriveBackupMethodOptions {
  /**
   * Returns an OAuth 2.0 access token with the `https://www.googleapis.com/auth/drive.appdata` scope.
   * Called once per operation; after a 401, called again with `{ refresh: true }`, when it should return
   * a new token rather than a cached one. May throw (the user closed the sign-in): the error is kept as
   * the `cause`.
   */
  readonly getAccessToken: (request: GDriveAccessTokenRequest) => Promise<string>;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch;
  /** Default `https://www.googleapis.com`; plain http only for a loopback host (tests). */
  readonly baseUrl?: string;
  /** Per request, including reading the answer. Default 30 s. */
  readonly timeoutMs?: number;
}

type Op = 'find' | 'read' | 'create' | 'delete';

type Outcome = Answer | 'timeout' | { readonly cause: unknown };

/** What a Session needs from its method: tokens, and one HTTP exchange that never throws. */
interface Transport {
  token(refresh: boolean): Promise<string>;
  send(method: string, path: string, token: string, body: Uint8Array | undefined, contentType: string | undefined): Promise<Outcome>;
}

interface Answer {
  readonly status: number;
  readonly body: Uint8Array;
}

const METHOD = 'GDRIVE';
const PAIR_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Drive file ids are URL-safe; anything else in a listing is not Drive's answer. */
const FILE_ID = /^[A-Za-z0-9_-]{1,256}$/;
const DATA_KEY = 32;
const DEFAULT_BASE_URL = 'https://www.googleapis.com';
const DEFAULT_TIMEOUT_MS = 30_000;
/** More than a listing of a few files ever needs. */
const MAX_LISTING = 1 << 20;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const gdriveFileName = (backupPairId: string) => `tandem-backup-${backupPairId}`;

/**
 * @example
 * const drive = new GDriveBackupMethod({
 *   // The app's own OAuth flow (Google Identity Services in a browser, say), scope drive.appdata;
 *   // `refresh` asks it for a new token instead of its cached one.
 *   getAccessToken: ({ refresh }) => app.googleAccessToken({ scope: 'https://www.googleapis.com/auth/drive.appdata', forceNew: refresh }),
 * });
 * const wallet = await createTandemWallet({ custodian, keychain, mpc, backupMethods: { GDRIVE: drive } });
 * await wallet.backupWallet('GDRIVE');
 */
export class GDriveBackupMethod implements BackupMethod {
  readonly name = METHOD;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  private readonly transport: Transport;

  constructor(options: GDriveBackupMethodOptions) {
    if (typeof options?.getAccessToken !== 'function') throw invalid('getAccessToken must be a function returning an OAuth access token.', 'getAccessToken');
    if (options.fetch !== undefined && typeof options.fetch !== 'function') throw invalid('fetch must be a function.', 'fetch');
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw invalid('timeoutMs must be a positive integer.', 'timeoutMs');
    this.baseUrl = checkBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
    this.timeoutMs = timeoutMs;
    const getAccessToken = options.getAccessToken;
    this.transport = {
      token: (refresh) => getAccessToken({ refresh }),
      // The default looks the global up per call and calls it unbound: a browser's fetch refuses any other `this`.
      send: exchange(this.baseUrl, timeoutMs, options.fetch ?? ((input, init) => globalThis.fetch(input, init))),
    };
  }

  async storeKey(backupPairId: string, dataKey: Uint8Array, _options: BackupMethodOptions): Promise<null> {
    assertPairId(backupPairId);
    if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY) {
      throw new TandemError('INVALID_INPUT', { message: `Expected a ${DATA_KEY}-byte data key.`, details: { method: METHOD, backupPairId } });
    }
    const session = new Session(this.transport, backupPairId);
    const stored = await this.readAll(session, await this.find(session));
    if (stored.length > 0) {
      const same = stored.every((s) => s instanceof Uint8Array && equalBytes(s, dataKey));
      wipe(stored);
      if (same) return null;
      throw new TandemError('BACKUP_METHOD_FAILED', {
        message: 'Another data key is already stored for this backup pair; it is never overwritten.',
        details: { method: METHOD, backupPairId, reason: 'exists' },
      });
    }
    const content = encodeDataKeyFile(METHOD, backupPairId, dataKey);
    try {
      await this.create(session, content);
    } finally {
      content.fill(0);
    }
    return null;
  }

  async loadKey(backupPairId: string, _wrappedKey: Uint8Array | null, _options: BackupMethodOptions): Promise<Uint8Array> {
    assertPairId(backupPairId);
    const session = new Session(this.transport, backupPairId);
    const stored = await this.readAll(session, await this.find(session));
    const bad = stored.find((s): s is TandemError => s instanceof TandemError);
    const keys = stored.filter((s): s is Uint8Array => s instanceof Uint8Array);
    try {
      if (bad) throw bad;
      const [first] = keys;
      if (first === undefined) throw new TandemError('BACKUP_KEY_NOT_FOUND', { details: { method: METHOD, backupPairId } });
      if (!keys.every((k) => equalBytes(k, first))) {
        throw new TandemError('BACKUP_METHOD_FAILED', {
          message: 'Several Drive files hold different data keys for this backup pair.',
          details: { method: METHOD, backupPairId, reason: 'duplicate', files: keys.length },
        });
      }
      return first.slice();
    } finally {
      wipe(stored);
    }
  }

  /** Deletes every file of the pair's name; none is fine. */
  async deleteKey(backupPairId: string): Promise<void> {
    assertPairId(backupPairId);
    const session = new Session(this.transport, backupPairId);
    for (const fileId of await this.find(session)) {
      const answer = await session.call('delete', 'DELETE', `/drive/v3/files/${encodeURIComponent(fileId)}`);
      if (answer.status !== 404) expectOk(session, 'delete', answer);
    }
  }

  /** The ids of the files named for the pair in the app data folder. */
  private async find(session: Session): Promise<string[]> {
    const name = gdriveFileName(session.backupPairId);
    // The id was checked against PAIR_ID, so it cannot close the quoted string of the query.
    const query = new URLSearchParams({ spaces: 'appDataFolder', q: `name='${name}'`, fields: 'files(id,name)' });
    const answer = await session.call('find', 'GET', `/drive/v3/files?${query}`);
    expectOk(session, 'find', answer);
    let listing: unknown;
    try {
      listing = answer.body.length <= MAX_LISTING ? JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(answer.body)) : undefined;
    } catch {
      listing = undefined;
    }
    const files = isRecord(listing) ? listing['files'] : undefined;
    if (!Array.isArray(files) || !files.every((f) => isRecord(f) && typeof f['id'] === 'string' && FILE_ID.test(f['id']) && typeof f['name'] === 'string')) {
      throw session.failed('find', 'malformed_response', 'Google Drive answered with a listing this method cannot read.');
    }
    return (files as { id: string; name: string }[]).filter((f) => f.name === name).map((f) => f.id);
  }

  /** Each file's data key, or the DECRYPT_FAILED its content earned; a file deleted since the listing is skipped. */
  private async readAll(session: Session, fileIds: string[]): Promise<(Uint8Array | TandemError)[]> {
    const out: (Uint8Array | TandemError)[] = [];
    try {
      for (const fileId of fileIds) {
        const answer = await session.call('read', 'GET', `/drive/v3/files/${encodeURIComponent(fileId)}?alt=media`);
        if (answer.status === 404) continue;
        expectOk(session, 'read', answer);
        try {
          out.push(decodeDataKeyFile(METHOD, session.backupPairId, answer.body));
        } catch (err) {
          out.push(err as TandemError);
        } finally {
          answer.body.fill(0);
        }
      }
      return out;
    } catch (err) {
      wipe(out);
      throw err;
    }
  }

  private async create(session: Session, content: Uint8Array): Promise<void> {
    const metadata = JSON.stringify({ name: gdriveFileName(session.backupPairId), parents: ['appDataFolder'] });
    let boundary: string;
    do boundary = `tandem-${bytesToHex(randomBytes(16))}`;
    while (contains(content, utf8ToBytes(boundary)));
    const body = concatBytes(
      utf8ToBytes(`--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${metadata}\r\n`),
      utf8ToBytes(`--${boundary}\r\nContent-Type: application/octet-stream\r\n\r\n`),
      content,
      utf8ToBytes(`\r\n--${boundary}--\r\n`),
    );
    try {
      const answer = await session.call('create', 'POST', '/upload/drive/v3/files?uploadType=multipart', body, `multipart/related; boundary=${boundary}`);
      expectOk(session, 'create', answer);
    } finally {
      body.fill(0);
    }
  }
}

/** One operation's requests: the token is fetched once, and fetched again after a 401. */
class Session {
  private token: string | undefined;

  constructor(
    private readonly transport: Transport,
    readonly backupPairId: string,
  ) {}

  async call(op: Op, httpMethod: string, path: string, body?: Uint8Array, contentType?: string): Promise<Answer> {
    for (let refresh = false; ; refresh = true) {
      if (this.token === undefined || refresh) this.token = await this.fetchToken(op, refresh);
      const answer = await this.transport.send(httpMethod, path, this.token, body, contentType);
      if (answer === 'timeout') throw this.failed(op, 'timeout', 'Google Drive did not answer in time.');
      if (!('status' in answer)) throw this.failed(op, 'network', 'Google Drive could not be reached.', {}, answer.cause);
      if (answer.status !== 401) return answer;
      if (refresh) {
        throw new TandemError('BACKUP_METHOD_AUTH_EXPIRED', { details: { method: METHOD, backupPairId: this.backupPairId, op, httpStatus: 401 } });
      }
    }
  }

  failed(op: Op, reason: string, message: string, extra: ErrorDetails = {}, cause?: unknown): TandemError {
    return new TandemError('BACKUP_METHOD_FAILED', { message, details: { method: METHOD, backupPairId: this.backupPairId, op, reason, ...extra }, cause });
  }

  private async fetchToken(op: Op, refresh: boolean): Promise<string> {
    let token: unknown;
    try {
      token = await this.transport.token(refresh);
    } catch (cause) {
      // After a 401 the old token is dead: not getting a new one is the expiry the app must handle.
      if (refresh) throw new TandemError('BACKUP_METHOD_AUTH_EXPIRED', { details: { method: METHOD, backupPairId: this.backupPairId, op, httpStatus: 401 }, cause });
      throw this.failed(op, 'access_token', 'The app could not supply a Google access token.', {}, cause);
    }
    // A header value must be visible ASCII; the token itself never goes into an error.
    if (typeof token !== 'string' || !/^[\x21-\x7e]{1,4096}$/.test(token)) {
      throw this.failed(op, 'access_token', 'getAccessToken returned something that is not an access token.', { tokenKind: typeof token });
    }
    return token;
  }
}

/** One HTTP exchange, the answer read in full within the timeout; an HTTP status is an answer, not a failure. */
function exchange(baseUrl: string, timeoutMs: number, doFetch: typeof globalThis.fetch): Transport['send'] {
  return async (method, path, token, body, contentType) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (contentType !== undefined) headers['content-type'] = contentType;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      const res = await doFetch(baseUrl + path, {
        method,
        headers,
        ...(body !== undefined ? { body: body as Uint8Array<ArrayBuffer> } : {}),
        signal: controller.signal,
      });
      return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
    } catch (cause) {
      return timedOut ? 'timeout' : { cause };
    } finally {
      clearTimeout(timer);
    }
  };
}

/** 2xx passes; 403, 429, 5xx and anything else unexpected become BACKUP_METHOD_FAILED with the status. */
function expectOk(session: Session, op: Op, answer: Answer): void {
  const { status } = answer;
  if (status >= 200 && status < 300) return;
  const googleReason = googleReasonOf(answer.body);
  const rateLimited = status === 429 || (status === 403 && (googleReason === 'rateLimitExceeded' || googleReason === 'userRateLimitExceeded'));
  const reason = rateLimited ? 'rate_limited' : status === 403 ? 'forbidden' : status >= 500 ? 'server' : 'http';
  const message = rateLimited
    ? 'Google Drive is rate-limiting this app; try again later.'
    : status === 403
      ? 'Google Drive refused the request (scope, quota or policy).'
      : status >= 500
        ? 'Google Drive failed to answer the request.'
        : 'Google Drive answered with an unexpected status.';
  throw session.failed(op, reason, message, { httpStatus: status, googleReason });
}

/** Drive's machine-readable reason (`storageQuotaExceeded`, …) when the body has one; its prose is never copied. */
function googleReasonOf(body: Uint8Array): string | undefined {
  try {
    const error = (JSON.parse(new TextDecoder().decode(body.subarray(0, 64 * 1024))) as { error?: { errors?: { reason?: unknown }[] } }).error;
    const reason = error?.errors?.[0]?.reason;
    return typeof reason === 'string' && /^[A-Za-z]{1,64}$/.test(reason) ? reason : undefined;
  } catch {
    return undefined;
  }
}

function wipe(stored: (Uint8Array | TandemError)[]): void {
  for (const s of stored) if (s instanceof Uint8Array) s.fill(0);
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function assertPairId(backupPairId: unknown): asserts backupPairId is string {
  if (typeof backupPairId !== 'string' || !PAIR_ID.test(backupPairId)) {
    const got = typeof backupPairId === 'string' ? `${backupPairId.length} characters` : typeof backupPairId;
    throw new TandemError('INVALID_INPUT', { message: `Expected a backup pair id of 1 to 128 letters, digits, '_' or '-', got ${got}.`, details: { method: METHOD } });
  }
}

function checkBaseUrl(value: unknown): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw invalid('baseUrl must be an absolute https URL.', 'baseUrl');
  }
  // The access token travels in every request: never in clear text beyond this machine.
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  if (!secure || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw invalid('baseUrl must be an https URL (http only for a loopback host) without credentials, query or fragment.', 'baseUrl');
  }
  return url.href.replace(/\/+$/, '');
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const invalid = (message: string, field: string) => new TandemError('INVALID_INPUT', { message, details: { method: METHOD, field } });
