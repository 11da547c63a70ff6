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
  const rules = new CustodianRules({ leaseTtlMs: config.leaseTtlMs, ...(config.hooks ? { hooks: httpHooks(config.hooks) } : {}), ...rulesOptions, store });
  // Made on first start and kept: the identity clients pin, and the one-time integer-commitment parameters.
  const identity = await loadOrCreateIdentity(db.data, keys);
  const ic = await loadOrCreateIcBundle(db.data, nodePrimeSource);
  let ready = false;
  let log: FastifyInstance['log'] | null = null;
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
        await db.close();
      })();
      return closing;
    },
  };
}

interface Database {
  readonly store: Store;
  readonly data: ServerData;
  close(): Promise<void>;
}

/** SQLite by default; PostgreSQL when the database is a `postgres://` URL (several instances share it). */
async function openDatabase(config: ServerConfig): Promise<Database> {
  if (/^postgres(ql)?:\/\//.test(config.databasePath)) {
    const pg = new PostgresStore({ connectionString: config.databasePath, schema: config.databaseSchema });
    await pg.whenReady();
    return { store: pg, data: postgresServerData(pg.pool, pg.whenReady()), close: () => pg.close() };
  }
  const sqlite = new SqliteStore(config.databasePath);
  return { store: sqlite, data: sqliteServerData(sqlite.db), close: async () => sqlite.close() };
}
