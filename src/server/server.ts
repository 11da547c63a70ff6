/**
 * Starting and stopping the custodian: open (and migrate) the SQLite file, seal secrets at rest, build the
 * rules and the HTTP app, listen; on SIGTERM or SIGINT stop taking new work, let running requests finish,
 * then close the database. `/ready` is false outside that window, so a load balancer drains first.
 */
import type { FastifyInstance } from 'fastify';
import { BackupOutbox } from '../custodian/outbox.js';
import { CustodianRules, type CustodianRulesOptions } from '../custodian/rules.js';
import { buildApp } from './app.js';
import { encryptedStore } from './at-rest.js';
import { ApiKeys } from './auth.js';
import { loadOrCreateIcBundle, loadOrCreateIdentity, nodePrimeSource } from './identity.js';
import { nativeArith } from './native-arith.js';
import { httpHooks } from './operator-hooks.js';
import { AbuseLimits } from './rate-limit.js';
import { SelfManagedBackups } from './self-managed.js';
import type { ServerConfig } from './config.js';
import type { Store } from '../custodian/store.js';
import { PostgresStore } from './store/postgres.js';
import { postgresServerData, sqliteServerData, type ServerData } from './store/server-data.js';
import { SqliteStore } from './store/sqlite.js';
import { toTandemError } from '../errors.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly rules: CustodianRules;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, rulesOptions: Partial<CustodianRulesOptions> = {}): Promise<RunningServer> {
  const db = await openDatabase(config);
  const keys = { current: config.masterKeyId, keys: new Map([[config.masterKeyId, config.masterKey]]) };
  const store = encryptedStore(db.store, keys);
  const rules = new CustodianRules({
    leaseTtlMs: config.leaseTtlMs,
    // A presignature is usable only by its own session, which ends when silent this long (the idle timeout).
    presignatureTtlMs: config.leaseTtlMs,
    ...(config.hooks ? { hooks: httpHooks(config.hooks) } : {}),
    ...rulesOptions,
    store,
  });
  // No session survives a restart. One SQLite custodian is the only instance on its file, so every lease
  // there is held by a session of a dead process, and every unused presignature was left by a process that
  // died between S2 and S4 (or came back with a restored file, ECDSA-2PC §4): release and burn them all
  // before serving. Instances sharing PostgreSQL may have live sessions; there leases expire by their TTL
  // and the sweep below burns presignatures once they expire.
  if (db.singleInstance) await rules.releaseAllLeases();
  await rules.burnStalePresignatures({ all: db.singleInstance });
  // Made on first start and kept: the identity clients pin, and the one-time integer-commitment parameters.
  const identity = await loadOrCreateIdentity(db.data, keys);
  const ic = await loadOrCreateIcBundle(db.data, nodePrimeSource);
  let ready = false;
  let log: FastifyInstance['log'] | null = null;
  const sweep = new PresignatureSweep(rules, Math.min(Math.max(Math.floor(config.leaseTtlMs / 2), 1000), 30_000), (err) =>
    log?.warn({ code: toTandemError(err).code }, 'the presignature sweep failed; it runs again'),
  );
  const outbox = new BackupOutbox({ store, maxAttempts: config.webhook.maxAttempts, baseDelayMs: config.webhook.retryBaseMs });
  const selfManaged = new SelfManagedBackups({
    data: db.data,
    keys,
    outbox,
    timeoutMs: config.webhook.timeoutMs,
    pollMs: config.webhook.pollMs,
    log: { warn: (fields, message) => log?.warn(fields, message), info: (fields, message) => log?.info(fields, message) },
  });
  const { app, sessions } = await buildApp({
    selfManaged: { backups: selfManaged, outbox },
    rules,
    apiKeys: new ApiKeys(db.data),
    audit: (e) => db.data.appendAudit({ at: Date.now(), actor: e.actor, action: e.action, walletId: e.walletId, subject: e.subject, details: e.details ?? {} }),
    listAudit: (walletId) => db.data.listAudit(walletId),
    ejectWindows: {
      open: (walletId, until) => db.data.setMeta(`eject-until:${walletId}`, new TextEncoder().encode(String(until))),
      until: async (walletId) => {
        const v = await db.data.getMeta(`eject-until:${walletId}`);
        return v ? Number(new TextDecoder().decode(v)) : null;
      },
    },
    operatorKey: config.operatorKey,
    bodyLimitBytes: config.bodyLimitBytes,
    logLevel: config.logLevel,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    limits: new AbuseLimits({
      keyPerMin: config.limits.keyPerMin,
      addressPerMin: config.limits.addressPerMin,
      authFailureLimit: config.limits.authFailureLimit,
      lockoutMs: config.limits.authLockoutMs,
      onLockout: (address, until) => log?.warn({ address, until }, 'too many wrong API keys: address locked out'),
    }),
    isReady: () => ready,
    mpc: { identity, ic, primeSource: nodePrimeSource, frameLimitBytes: config.frameLimitBytes, arith: nativeArith(), idleTimeoutMs: config.leaseTtlMs },
  });
  log = app.log;
  const url = await app.listen({ host: config.host, port: config.port });
  selfManaged.start();
  sweep.start();
  ready = true;
  let closing: Promise<void> | null = null;
  return {
    app,
    url,
    rules,
    close() {
      closing ??= (async () => {
        ready = false;
        // Running MPC sessions end with a typed error and release their leases while the database is open.
        await sessions?.abortAll('The custodian is shutting down; retry the operation.');
        await app.close();
        // Deliveries under way finish (each bounded by the webhook timeout); the rest wait in the outbox.
        await selfManaged.stop();
        await sweep.stop();
        await db.close();
      })();
      return closing;
    },
  };
}

/** Burns expired presignatures every `intervalMs`, one sweep at a time, until stopped. */
class PresignatureSweep {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly rules: CustodianRules,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.stopped || this.timer) return;
    this.timer = setInterval(() => {
      this.running = this.running.then(() => (this.stopped ? undefined : this.rules.burnStalePresignatures().then(() => undefined, this.onError)));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** No new sweep starts; the one under way finishes (the database is still open). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}

interface Database {
  readonly store: Store;
  /** Whether this process is the only one using the database (SQLite) or may share it (PostgreSQL). */
  readonly singleInstance: boolean;
  readonly data: ServerData;
  close(): Promise<void>;
}

/** SQLite by default; PostgreSQL when the database is a `postgres://` URL (several instances share it). */
async function openDatabase(config: ServerConfig): Promise<Database> {
  if (/^postgres(ql)?:\/\//.test(config.databasePath)) {
    const pg = new PostgresStore({ connectionString: config.databasePath, schema: config.databaseSchema });
    await pg.whenReady();
    return { store: pg, data: postgresServerData(pg.pool, pg.whenReady()), singleInstance: false, close: () => pg.close() };
  }
  const sqlite = new SqliteStore(config.databasePath);
  return { store: sqlite, data: sqliteServerData(sqlite.db), singleInstance: true, close: async () => sqlite.close() };
}
