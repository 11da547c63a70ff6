/**
 * One custodian process per store for the load run: `tandem serve` from this same build (via
 * src/cli/custodian-process.ts) bound to 127.0.0.1, on a SQLite file in a temporary directory or on a
 * fresh PostgreSQL schema that is dropped again at the end.
 *
 * Why it is shaped so:
 * - Loopback only: the custodian is told to bind 127.0.0.1, and the URL it reports is checked before any
 *   client is started, as is the PostgreSQL host; the load never leaves the machine.
 * - The rate limits are on but far above what this load can reach (LOAD_RATE_LIMITS), so every request
 *   goes through the limiter's code path and none is throttled; a limit of 0 would switch it off and
 *   measure a custodian nobody deploys.
 * - A schema of its own per run, so a run never sees another's wallets and leaves nothing behind.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import pg from 'pg';
import { operatorApi, startCustodian } from '../../src/cli/custodian-process.js';
import type { Operator } from './client.js';

export const STORES = ['sqlite', 'postgres'] as const;
export type StoreName = (typeof STORES)[number];

/** Per minute, per client API key and per IP; far above this load's own rate (a few hundred a minute). */
export const LOAD_RATE_LIMITS = {
  TANDEM_RATE_LIMIT_KEY_PER_MIN: '100000',
  TANDEM_RATE_LIMIT_IP_PER_MIN: '100000',
  TANDEM_AUTH_FAILURE_LIMIT: '1000',
} as const;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export const isLoopback = (url: string): boolean => {
  try {
    return LOOPBACK.has(new URL(url).hostname);
  } catch {
    return false;
  }
};

export interface StoreCustodian {
  readonly url: string;
  readonly pid: number;
  readonly operator: Operator;
  /** Resolves with the exit code if the process ends before `close()` is called. */
  readonly exited: Promise<number | null>;
  /** SIGTERM (SIGKILL after 10 s), then the database is removed. */
  close(): Promise<void>;
}

/** Fails with a clear message if PostgreSQL does not answer, or is not on this machine. */
export async function checkPostgres(url: string): Promise<void> {
  if (!isLoopback(url)) throw new Error(`the load runs on loopback only: expected a PostgreSQL URL on 127.0.0.1, localhost or ::1, got host ${safeHost(url)}`);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(`PostgreSQL at ${safeHost(url)} is unreachable (${err instanceof Error ? err.message : String(err)}); start it, pass --pg-url, or run --stores sqlite`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Host and port only: a URL may carry a password. */
function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return '(unparsable URL)';
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Every custodian started and not yet closed, for `abandonAll` when the deadline passes. */
const live = new Set<{ stop: (() => Promise<void>) | null; removeDatabase: () => Promise<void> }>();

export async function startStoreCustodian(store: StoreName, pgUrl: string, onSpawn?: (pid: number) => void): Promise<StoreCustodian> {
  const dir = mkdtempSync(join(tmpdir(), `tandem-load-${store}-`));
  const operatorKey = `op_${bytesToHex(randomBytes(24))}`;
  const schema = `tandem_load_${process.pid}_${bytesToHex(randomBytes(4))}`;
  const env: Record<string, string> = { TANDEM_HOST: '127.0.0.1', ...LOAD_RATE_LIMITS };
  if (store === 'postgres') Object.assign(env, { TANDEM_DATABASE: pgUrl, TANDEM_DATABASE_SCHEMA: schema });
  const entry: { stop: (() => Promise<void>) | null; removeDatabase: () => Promise<void> } = {
    stop: null,
    removeDatabase: async () => {
      rmSync(dir, { recursive: true, force: true });
      if (store === 'postgres') await dropSchema(pgUrl, schema);
    },
  };
  live.add(entry);
  const close = async () => {
    await entry.stop?.();
    live.delete(entry);
    await entry.removeDatabase();
  };

  let child: ChildProcess;
  let url: string;
  try {
    ({ url, child } = await startCustodian(dir, operatorKey, env, onSpawn));
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  let closing = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (closing ? undefined : resolve(code))));
  entry.stop = async () => {
    closing = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  };
  if (!isLoopback(url)) {
    await close();
    throw new Error(`the load runs on loopback only: the custodian reports ${url}`);
  }
  return { url, pid: child.pid!, operator: operatorApi(url, operatorKey), exited, close };
}

/**
 * The deadline's way out: stop the custodians that listen (SIGTERM, for up to 8 s), SIGKILL any child
 * still left (one that was still starting), then remove every database.
 */
export async function abandonAll(): Promise<void> {
  const entries = [...live];
  await Promise.race([Promise.allSettled(entries.map((e) => e.stop?.())), pause(8000)]);
  for (const pid of ownChildPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await Promise.race([Promise.allSettled(entries.map((e) => e.removeDatabase())), pause(5000)]);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pids of this process's own children (the custodians it started). */
function ownChildPids(): number[] {
  const pids: number[] = [];
  try {
    for (const task of readdirSync('/proc/self/task')) {
      const list = readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim();
      if (list) pids.push(...list.split(/\s+/).map(Number));
    }
  } catch {
    // Not Linux: the custodians are stopped through their handles only.
  }
  return pids;
}
