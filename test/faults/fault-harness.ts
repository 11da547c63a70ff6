/**
 * Real faults for the property test beside this file (issue #13, item 2), kept in test code: nothing in
 * src/ knows it is being attacked. Each fault is injected where it happens in production:
 *
 * - the wire: every client request and WebSocket frame goes through `WireProxy`, a proxy between the
 *   client and the custodian that counts them as *wire events* and, at a chosen one, cuts the connection
 *   (before or after passing the event on), SIGKILLs the custodian, or locks its database;
 * - the custodian: `Custodian` runs `tandem serve` on one SQLite file; a kill starts a new process on the
 *   same file with the same master key at once, as a supervisor would;
 * - the database: `DbLock` holds SQLite's write lock from the test (`BEGIN EXCLUSIVE` on the same file),
 *   so the server's `BEGIN IMMEDIATE` waits out its busy timeout and fails with a real SQLITE_BUSY when the
 *   hold is longer;
 * - the operator's backend: `WebhookReceiver` is the self-managed backups' webhook, answering 500 or never;
 * - the device: `FlakyKeychain` fails a chosen write (before it, or after it with the answer lost);
 * - the client process: `runOp` kills the wallet after its n-th snapshot change (the client-process gate
 *   keeps the dead one off every port; the OS would close its sockets, so the proxy cuts them) and the
 *   caller restores the snapshot persisted at that moment in a new wallet.
 *
 * Wire events are counted, not timed, so a seed replays the same plan; where a fault races the custodian
 * (a kill right after a frame was passed on) the outcome may differ between replays, never the invariants.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import Database from 'better-sqlite3';
import WebSocket, { WebSocketServer } from 'ws';
import { MemoryKeychain, PasswordBackupMethod, remoteCustodian, type WebSocketConstructor } from '../../src/adapters/index.js';
import type { Keychain } from '../../src/adapters/ports.js';
import { createTandemWallet, type PersistedWallet, type TandemWallet } from '../../src/machines/wallet.js';
import { clientMpc } from '../../src/mpc/client.js';
import { openProcess, type ClientProcess } from '../helpers/client-process.js';
import { call, OPERATOR_KEY, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The custodian's settings for fault runs: short lease and webhook timings so a fault costs seconds, not minutes. */
export const CUSTODIAN_ENV: Record<string, string> = {
  TANDEM_LEASE_TTL_MS: '5000',
  TANDEM_WEBHOOK_TIMEOUT_MS: '300',
  TANDEM_WEBHOOK_RETRY_BASE_MS: '50',
  TANDEM_WEBHOOK_MAX_ATTEMPTS: '3',
  TANDEM_WEBHOOK_POLL_MS: '50',
  TANDEM_LOG_LEVEL: 'error',
};

/** The server's SQLite busy timeout (src/server/store/sqlite.ts): a lock held longer fails its transactions. */
export const SERVER_BUSY_TIMEOUT_MS = 5000;

// ---- the plan's faults ------------------------------------------------------------------------------

/** At the `at`-th wire event of an operation: cut the connection, SIGKILL the custodian, or lock its database. */
export type WireFault =
  | { readonly kind: 'drop'; readonly at: number; readonly after: boolean }
  | { readonly kind: 'restart'; readonly at: number; readonly after: boolean }
  | { readonly kind: 'dbLock'; readonly at: number; readonly holdMs: number };

export type Fault =
  | WireFault
  | { readonly kind: 'webhook'; readonly mode: 'fail' | 'hang'; readonly count: number }
  | { readonly kind: 'keychain'; readonly at: number; readonly lostAck: boolean }
  | { readonly kind: 'crash'; readonly after: number };

export type FaultKind = Fault['kind'];

export const describeFault = (f: Fault): string => {
  switch (f.kind) {
    case 'drop':
      return `drop the connection ${f.after ? 'after' : 'before'} wire event ${f.at}`;
    case 'restart':
      return `SIGKILL and restart the custodian ${f.after ? 'after' : 'before'} wire event ${f.at}`;
    case 'dbLock':
      return `lock the database for ${f.holdMs} ms at wire event ${f.at}`;
    case 'webhook':
      return `the webhook ${f.mode === 'fail' ? 'answers 500' : 'hangs'} ${f.count} time(s)`;
    case 'keychain':
      return `keychain write ${f.at} fails${f.lostAck ? ' after writing (answer lost)' : ''}`;
    case 'crash':
      return `the client crashes after snapshot change ${f.after} and is restored`;
  }
};

// ---- the custodian process ----------------------------------------------------------------------------

/**
 * Prepares a migrated database (identity and integer-commitment parameters made) once, so every run's
 * custodian starts on a copy instead of making them again.
 */
export async function makeTemplateDatabase(path: string): Promise<void> {
  const server = await startServerProcess(path, CUSTODIAN_ENV);
  await server.stop();
}

export function copyDatabase(from: string, to: string): void {
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
}

/** `tandem serve` on one database file; `crash()` SIGKILLs it and starts the next process on the same file. */
export class Custodian {
  private current: ServerProcess | null = null;
  private starting: Promise<void> = Promise.resolve();
  restarts = 0;

  constructor(
    readonly databasePath: string,
    private readonly env: Record<string, string>,
    private readonly onUrl: (url: string | null) => void,
  ) {}

  async start(): Promise<void> {
    this.starting = this.boot();
    await this.starting;
  }

  /** The custodian's direct URL once it is up (operator calls go here, never through the proxy). */
  async up(): Promise<string> {
    for (let i = 0; !this.current; i++) {
      if (i > 100) throw new Error('the custodian did not come back');
      await this.starting;
      if (!this.current) await sleep(50);
    }
    return this.current.url;
  }

  get isUp(): boolean {
    return this.current !== null;
  }

  /** SIGKILL: no shutdown, no lease release, whatever transaction is running is cut short. */
  crash(): void {
    const dying = this.current;
    if (!dying) return; // already down; a new process is on its way
    this.current = null;
    this.onUrl(null);
    this.restarts++;
    const exited = new Promise((resolve) => (dying.child.exitCode !== null || dying.child.signalCode !== null ? resolve(null) : dying.child.once('exit', resolve)));
    dying.child.kill('SIGKILL');
    this.starting = exited.then(() => this.boot());
  }

  async stop(): Promise<void> {
    await this.starting.catch(() => undefined);
    const last = this.current;
    this.current = null;
    this.onUrl(null);
    if (last) {
      const exited = new Promise((resolve) => (last.child.exitCode !== null ? resolve(null) : last.child.once('exit', resolve)));
      last.child.kill('SIGKILL');
      await exited;
    }
  }

  output(): string {
    return this.current?.output() ?? '';
  }

  private async boot(): Promise<void> {
    // A start can fail while the test still holds the database lock (the migration check waits out the
    // busy timeout): try again, as a supervisor would.
    for (let attempt = 1; ; attempt++) {
      try {
        const server = await startServerProcess(this.databasePath, this.env);
        this.current = server;
        this.onUrl(server.url);
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(500);
      }
    }
  }
}

// ---- the database lock --------------------------------------------------------------------------------

/** SQLite's write lock on the custodian's file, held from the test process. */
export class DbLock {
  private db: Database.Database | null = null;
  private timer: NodeJS.Timeout | undefined;
  taken = 0;

  constructor(private readonly path: string) {}

  hold(ms: number): void {
    if (this.db) return;
    const db = new Database(this.path, { timeout: 2000 });
    try {
      db.exec('BEGIN EXCLUSIVE');
    } catch {
      db.close(); // the custodian held it longer than we wait: no fault this time
      return;
    }
    this.db = db;
    this.taken++;
    this.timer = setTimeout(() => this.release(), ms);
  }

  release(): void {
    clearTimeout(this.timer);
    const db = this.db;
    this.db = null;
    if (!db) return;
    db.exec('ROLLBACK');
    db.close();
  }
}

// ---- the wire -----------------------------------------------------------------------------------------

interface Pipe {
  readonly client: WebSocket;
  readonly upstream: WebSocket;
  /** The client process the session belongs to. */
  readonly owner: string;
}

/** Each client process marks its requests, so the proxy can treat a dead one's sockets as the OS would. */
export const PROCESS_HEADER = 'x-fault-client-process';

export interface WireHooks {
  readonly crashCustodian: () => void;
  readonly lockDatabase: (holdMs: number) => void;
}

/**
 * The network between client and custodian. HTTP requests are passed on whole; a WebSocket session is two
 * sockets piped frame by frame. Every request, upgrade and frame (either way) is one wire event; an armed
 * fault fires at its event. A custodian that is down looks like one that cannot be reached: the client's
 * connection is reset.
 */
export class WireProxy {
  private server: Server | null = null;
  private readonly wss = new WebSocketServer({ noServer: true });
  private upstream: string | null = null;
  private faults: WireFault[] = [];
  private readonly firedFaults = new Set<WireFault>();
  private pipes = new Set<Pipe>();
  private readonly dead = new Set<string>();
  private inFlight = 0;
  events = 0;
  /** The wire events of the operation under way, for a failure's log. */
  trace: string[] = [];
  url = '';

  constructor(private readonly hooks: WireHooks) {}

  async listen(): Promise<void> {
    const server = createServer((req, res) => void this.http(req, res));
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  setUpstream(url: string | null): void {
    this.upstream = url;
  }

  /** Counts events from zero for the next operation, with these faults armed. */
  arm(faults: readonly WireFault[]): void {
    this.events = 0;
    this.trace = [];
    this.faults = [...faults];
  }

  disarm(): void {
    this.faults = [];
  }

  fired(fault: Fault): boolean {
    return this.firedFaults.has(fault as WireFault);
  }

  /**
   * A client process died: the OS closes its sockets, and nothing it had not yet sent will arrive (a
   * request already passed on still completes at the custodian, as it would).
   */
  killProcess(id: string): void {
    this.dead.add(id);
    for (const p of this.pipes) if (p.owner === id) this.cut(p);
  }

  /** Resolves once no request is in flight and no session is open. */
  async quiescent(): Promise<void> {
    for (let i = 0; this.inFlight > 0 || this.pipes.size > 0; i++) {
      if (i > 600) throw new Error(`the wire never went quiet (${this.inFlight} requests, ${this.pipes.size} sessions)`);
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    for (const p of this.pipes) this.cut(p);
    this.wss.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private next(what: string): WireFault[] {
    const n = ++this.events;
    this.trace.push(`${n} ${what}`);
    const due = this.faults.filter((f) => f.at === n && !this.firedFaults.has(f));
    for (const f of due) {
      this.firedFaults.add(f);
      if (f.kind === 'dbLock') this.hooks.lockDatabase(f.holdMs);
    }
    return due.filter((f) => f.kind !== 'dbLock');
  }

  private async http(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    if (this.dead.has(String(req.headers[PROCESS_HEADER]))) return void req.socket.destroy();
    this.inFlight++;
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const due = this.next(`${req.method ?? ''} ${(req.url ?? '').replace(/[0-9a-f]{16,}/g, '…')}`);
      const before = due.filter((f) => !('after' in f) || !f.after);
      const after = due.filter((f) => 'after' in f && f.after);
      if (before.some((f) => f.kind === 'restart')) this.hooks.crashCustodian();
      if (before.length > 0 || !this.upstream) return void req.socket.destroy();
      const headers: Record<string, string> = {};
      for (const h of ['authorization', 'content-type', 'idempotency-key', 'accept']) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      let answer: { status: number; type: string | null; body: Buffer };
      try {
        const r = await fetch(this.upstream + (req.url ?? '/'), { method: req.method ?? 'GET', headers, ...(body ? { body } : {}), redirect: 'manual' });
        answer = { status: r.status, type: r.headers.get('content-type'), body: Buffer.from(await r.arrayBuffer()) };
      } catch {
        return void req.socket.destroy(); // the custodian died under the request
      }
      // Applied: the answer is lost on the way back (and the custodian may die right after committing).
      if (after.some((f) => f.kind === 'restart')) this.hooks.crashCustodian();
      if (after.length > 0) return void req.socket.destroy();
      res.writeHead(answer.status, answer.type ? { 'content-type': answer.type } : {}).end(answer.body);
    } finally {
      this.inFlight--;
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const owner = String(req.headers[PROCESS_HEADER]);
    if (this.dead.has(owner)) return void socket.destroy();
    const due = this.next('session upgrade');
    const before = due.filter((f) => !('after' in f) || !f.after);
    if (before.some((f) => f.kind === 'restart')) this.hooks.crashCustodian();
    if (before.length > 0 || !this.upstream) return void socket.destroy();
    this.inFlight++;
    const auth = req.headers.authorization;
    const upstream = new WebSocket(this.upstream.replace(/^http/, 'ws') + (req.url ?? '/'), auth ? { headers: { authorization: auth } } : {});
    upstream.on('error', () => undefined);
    let done = false;
    const settle = () => {
      if (!done) this.inFlight--;
      done = true;
    };
    upstream.once('unexpected-response', () => {
      settle();
      socket.destroy();
      upstream.terminate();
    });
    upstream.once('close', () => {
      if (done) return;
      settle();
      socket.destroy();
    });
    upstream.once('open', () => {
      this.wss.handleUpgrade(req, socket, head, (client) => {
        settle();
        client.on('error', () => undefined);
        const pipe: Pipe = { client, upstream, owner };
        this.pipes.add(pipe);
        client.on('message', (data, isBinary) => this.frame(pipe, upstream, data as Buffer, isBinary));
        upstream.on('message', (data, isBinary) => this.frame(pipe, client, data as Buffer, isBinary));
        const forget = () => {
          if (client.readyState === WebSocket.CLOSED && upstream.readyState === WebSocket.CLOSED) this.pipes.delete(pipe);
        };
        client.on('close', (code, reason) => {
          passClose(upstream, code, reason);
          forget();
        });
        upstream.on('close', (code, reason) => {
          passClose(client, code, reason);
          forget();
        });
        if (due.some((f) => 'after' in f && f.after && f.kind === 'restart')) this.hooks.crashCustodian();
        if (due.length > 0 || this.dead.has(owner)) this.cut(pipe);
      });
    });
  }

  private frame(pipe: Pipe, to: WebSocket, data: Buffer, isBinary: boolean): void {
    const due = this.next(`${to === pipe.upstream ? 'client→custodian' : 'custodian→client'} ${isBinary ? `binary ${data.length} B` : `text ${frameType(data)}`}`);
    const before = due.filter((f) => !('after' in f) || !f.after);
    const after = due.filter((f) => 'after' in f && f.after);
    if (before.some((f) => f.kind === 'restart')) this.hooks.crashCustodian();
    if (before.length > 0) return this.cut(pipe);
    if (to.readyState !== WebSocket.OPEN) return;
    to.send(data, { binary: isBinary }, () => {
      if (after.some((f) => f.kind === 'restart')) this.hooks.crashCustodian();
      if (after.length > 0) this.cut(pipe);
    });
  }

  private cut(pipe: Pipe): void {
    pipe.client.terminate();
    pipe.upstream.terminate();
    this.pipes.delete(pipe);
  }
}

const frameType = (data: Buffer): string => {
  try {
    return String((JSON.parse(data.toString('utf8')) as { type?: unknown }).type);
  } catch {
    return '?';
  }
};

/** Passes a close on with its code where the protocol allows sending it, else as an abrupt close. */
function passClose(to: WebSocket, code: number, reason: Buffer): void {
  if (to.readyState !== WebSocket.OPEN) {
    if (to.readyState === WebSocket.CONNECTING) to.terminate();
    return;
  }
  const sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
  if (sendable) to.close(code, reason);
  else to.terminate();
}

// ---- the operator's backend ---------------------------------------------------------------------------

/** The self-managed backups' webhook (DESIGN §4): keeps shares by backup pair id; fails or hangs on demand. */
export class WebhookReceiver {
  private server: Server | null = null;
  readonly shares = new Map<string, string>();
  private mode: 'fail' | 'hang' = 'fail';
  private faultsLeft = 0;
  faulted = 0;
  url = '';
  static readonly SECRET = 'webhook-secret-for-fault-runs-0123456789';

  async listen(): Promise<void> {
    const server = createServer(async (req, res) => {
      let raw = '';
      for await (const c of req) raw += (c as Buffer).toString();
      if (this.faultsLeft > 0) {
        this.faultsLeft--;
        this.faulted++;
        if (this.mode === 'hang') return; // never answers; the custodian gives up after its timeout
        return void res.writeHead(500).end('{}');
      }
      const body = JSON.parse(raw) as { backupPairId: string; share?: string };
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.url === '/hooks/backup') {
        this.shares.set(body.backupPairId, body.share!);
        return json(200, { ok: true });
      }
      if (req.url === '/hooks/backup/fetch') {
        const share = this.shares.get(body.backupPairId);
        return share ? json(200, { share }) : json(404, { error: 'unknown' });
      }
      if (req.url === '/hooks/backup/superseded') {
        this.shares.delete(body.backupPairId);
        return json(200, { ok: true });
      }
      return json(404, {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  }

  misbehave(mode: 'fail' | 'hang', count: number): void {
    this.mode = mode;
    this.faultsLeft = count;
  }

  heal(): void {
    this.faultsLeft = 0;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// ---- the device ---------------------------------------------------------------------------------------

/** A keychain whose `at`-th write (counted from `arm`) fails with a foreign error, before or after writing. */
export class FlakyKeychain implements Keychain {
  private readonly inner = new MemoryKeychain();
  private writes = 0;
  private plan: { at: number; lostAck: boolean } | null = null;
  fired = false;

  arm(at: number, lostAck: boolean): void {
    this.writes = 0;
    this.plan = { at, lostAck };
    this.fired = false;
  }

  disarm(): void {
    this.plan = null;
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    const plan = this.plan;
    if (plan && ++this.writes === plan.at) {
      this.fired = true;
      if (plan.lostAck) await this.inner.set(key, value);
      throw new Error('the keychain write failed (injected)');
    }
    return this.inner.set(key, value);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  keys(prefix: string): Promise<string[]> {
    return this.inner.keys(prefix);
  }
}

export interface Device {
  readonly name: string;
  readonly apiKey: string;
  readonly keychain: FlakyKeychain;
  proc: ClientProcess | null;
  /** The running process's id on the wire (a restored process gets a new one). */
  processId: string;
}

let processes = 0;

/** ws's WebSocket, marking the upgrade request with the process id. */
function processWebSocket(id: string): WebSocketConstructor {
  class ProcessWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
      super(url, protocols, { ...options, headers: { ...options?.headers, [PROCESS_HEADER]: id } });
    }
  }
  return ProcessWebSocket as unknown as WebSocketConstructor;
}

const processFetch =
  (id: string): typeof fetch =>
  (input, init) =>
    fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), [PROCESS_HEADER]: id } });

export const walletOf = (d: Device): TandemWallet => {
  if (!d.proc) throw new Error(`device ${d.name} is not running`);
  return d.proc.wallet;
};

/** One password for every backup of a run: a recovery with it must work, whatever happened before. */
export const PASSWORD = 'fault runs keep this passphrase 7 times';
export const passwordMethod = new PasswordBackupMethod();

/** Starts (or restarts, from `snapshot`) the device's wallet: every port behind the process gate, the custodian behind the proxy. */
export async function openDevice(proxyUrl: string, device: Device, snapshot?: PersistedWallet): Promise<void> {
  const id = `${device.name}#${++processes}`;
  device.processId = id;
  device.proc = await openProcess((gate) =>
    createTandemWallet({
      custodian: gate(remoteCustodian({ baseUrl: proxyUrl, apiKey: device.apiKey, WebSocket: processWebSocket(id), fetch: processFetch(id) })),
      keychain: gate(device.keychain),
      mpc: clientMpc(),
      backupMethods: { PASSWORD: gate(passwordMethod) },
      ...(snapshot ? { snapshot } : {}),
    }),
  );
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * Runs `op` on the device; with `crashAfter`, kills the device's process after that many snapshot changes
 * (keeping the snapshot persisted at that moment). A process that settles first is not killed.
 */
export async function runOp<T>(
  device: Device,
  op: (w: TandemWallet) => Promise<T>,
  crashAfter: number | null,
  onKill: () => void,
  timeoutMs: number,
): Promise<{ crashed: false; outcome: Outcome<T> } | { crashed: true; persisted: PersistedWallet }> {
  const proc = device.proc!;
  let seen = 0;
  const crash: { persisted: PersistedWallet | null } = { persisted: null };
  let died = () => undefined as void;
  const dead = new Promise<null>((resolve) => (died = () => resolve(null)));
  const sub = proc.wallet.actor.subscribe(() => {
    if (crashAfter !== null && ++seen === crashAfter && crash.persisted === null) {
      crash.persisted = proc.wallet.persist();
      queueMicrotask(() => {
        proc.kill();
        onKill();
        died();
      });
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the operation did not settle within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const outcome = await Promise.race([
      op(proc.wallet).then(
        (value): Outcome<T> => ({ ok: true, value }),
        (error: unknown): Outcome<T> => ({ ok: false, error }),
      ),
      dead,
      hung,
    ]);
    if (crash.persisted !== null) {
      await dead; // killed in a microtask; wait for it
      device.proc = null;
      return { crashed: true, persisted: crash.persisted };
    }
    return { crashed: false, outcome: outcome! };
  } finally {
    clearTimeout(timer);
    sub.unsubscribe();
  }
}

// ---- the operator -------------------------------------------------------------------------------------

export async function operator(custodianUrl: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await call({ url: custodianUrl }, method, path, { key: OPERATOR_KEY, ...(body !== undefined ? { body } : {}) });
  if (r.status >= 300) throw new Error(`operator ${method} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}
