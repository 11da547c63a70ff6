/**
 * The custodian's configuration, read from the environment once at start and validated whole: a
 * deployment with a missing master key or a malformed port fails at start with every problem named,
 * never later with a half-working server. Secrets may come from files (`*_FILE`) so they stay out of
 * process listings and container specs.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { TandemError } from '../errors.js';

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** A SQLite file (created if missing), or a `postgres://` URL for several instances on one database. */
  readonly databasePath: string;
  /** The PostgreSQL schema to use (created if missing). */
  readonly databaseSchema: string;
  /** How long an MPC session may hold a wallet before another instance may take it over. */
  readonly leaseTtlMs: number;
  /** 32-byte AES-256-GCM key that encrypts custodian shares at rest, and its id (for rotation). */
  readonly masterKey: Uint8Array;
  readonly masterKeyId: string;
  /** The operator's custodian API key (kept only as a hash in memory). */
  readonly operatorKey: string;
  readonly bodyLimitBytes: number;
  readonly frameLimitBytes: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** The operator's hooks over HTTP; absent, the built-in defaults (allow) apply. */
  readonly hooks: { readonly url: string; readonly secret: string; readonly timeoutMs: number } | null;
  /** Browser origins allowed to call the client endpoints (CORS); the operator API is never exposed to browsers. */
  readonly corsOrigins: readonly string[];
  /** Self-managed backups' webhook deliveries (the webhook itself is configured by the operator's API). */
  readonly webhook: { readonly timeoutMs: number; readonly maxAttempts: number; readonly retryBaseMs: number; readonly pollMs: number };
  /** Abuse limits per instance (rate-limit.ts); a 0 turns that limit off. */
  readonly limits: { readonly keyPerMin: number; readonly addressPerMin: number; readonly authFailureLimit: number; readonly authLockoutMs: number };
  /**
   * Whose `X-Forwarded-For` names the client (Fastify's `trustProxy`): no one (`false`), anyone (`true`), or
   * the proxies' addresses and CIDR ranges. The per-address limit and the lockout key on the client it names.
   */
  readonly trustProxy: boolean | readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * @example
 * const config = loadConfig(process.env); // throws INVALID_INPUT naming every bad variable
 */
export function loadConfig(env: Env): ServerConfig {
  const problems: string[] = [];
  const secret = (name: string): string | undefined => {
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (direct && file) problems.push(`${name} and ${name}_FILE are both set; set one`);
    if (file) {
      try {
        return readFileSync(file, 'utf8').trim();
      } catch {
        problems.push(`${name}_FILE cannot be read`);
        return undefined;
      }
    }
    return direct;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };

  const masterHex = secret('TANDEM_MASTER_KEY');
  let masterKey = new Uint8Array(0);
  if (!masterHex) problems.push('TANDEM_MASTER_KEY (or TANDEM_MASTER_KEY_FILE) is required: 64 hex characters');
  else if (!/^[0-9a-fA-F]{64}$/.test(masterHex)) problems.push('TANDEM_MASTER_KEY must be 64 hex characters (32 bytes)');
  else masterKey = Uint8Array.from(Buffer.from(masterHex, 'hex'));

  const operatorKey = secret('TANDEM_OPERATOR_KEY') ?? '';
  if (operatorKey.length < 32) problems.push('TANDEM_OPERATOR_KEY (or TANDEM_OPERATOR_KEY_FILE) is required: at least 32 characters');

  const masterKeyId = env['TANDEM_MASTER_KEY_ID'] ?? 'k1';
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(masterKeyId)) problems.push('TANDEM_MASTER_KEY_ID must be 1 to 32 of [A-Za-z0-9_-]');

  if (env['TANDEM_DATABASE_SCHEMA'] !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(env['TANDEM_DATABASE_SCHEMA'])) {
    problems.push('TANDEM_DATABASE_SCHEMA must be a lower-case SQL identifier');
  }

  const corsOrigins = (env['TANDEM_CORS_ORIGINS'] ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  for (const o of corsOrigins) {
    if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(o)) problems.push('TANDEM_CORS_ORIGINS must list origins such as https://app.example.com (scheme, host, optional port; no wildcard)');
  }

  const logLevel = (env['TANDEM_LOG_LEVEL'] ?? 'info') as ServerConfig['logLevel'];
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'silent'].includes(logLevel)) problems.push('TANDEM_LOG_LEVEL must be fatal, error, warn, info, debug or silent');

  const hookUrl = env['TANDEM_HOOK_URL'];
  const hookSecret = secret('TANDEM_HOOK_SECRET');
  let hooks: ServerConfig['hooks'] = null;
  if (hookUrl !== undefined && hookUrl !== '') {
    if (!/^https?:\/\/[^\s]+$/.test(hookUrl)) problems.push('TANDEM_HOOK_URL must be an http(s) URL');
    if (!hookSecret || hookSecret.length < 32) problems.push('TANDEM_HOOK_SECRET (or _FILE) is required with TANDEM_HOOK_URL: at least 32 characters');
    hooks = { url: hookUrl, secret: hookSecret ?? '', timeoutMs: int('TANDEM_HOOK_TIMEOUT_MS', 5000, 100, 60_000) };
  }

  const trustProxy = parseTrustProxy(env['TANDEM_TRUST_PROXY'], problems);

  const config: ServerConfig = {
    host: env['TANDEM_HOST'] ?? '127.0.0.1',
    port: int('TANDEM_PORT', 8787, 0, 65535),
    databasePath: env['TANDEM_DATABASE'] ?? 'tandem-custodian.db',
    databaseSchema: env['TANDEM_DATABASE_SCHEMA'] ?? 'public',
    leaseTtlMs: int('TANDEM_LEASE_TTL_MS', 60_000, 1000, 3_600_000),
    masterKey,
    masterKeyId,
    operatorKey,
    bodyLimitBytes: int('TANDEM_BODY_LIMIT', 256 * 1024, 1024, 16 * 1024 * 1024),
    frameLimitBytes: int('TANDEM_FRAME_LIMIT', 512 * 1024, 1024, 16 * 1024 * 1024),
    logLevel,
    hooks,
    corsOrigins,
    webhook: {
      timeoutMs: int('TANDEM_WEBHOOK_TIMEOUT_MS', 5000, 100, 60_000),
      maxAttempts: int('TANDEM_WEBHOOK_MAX_ATTEMPTS', 8, 1, 100),
      retryBaseMs: int('TANDEM_WEBHOOK_RETRY_BASE_MS', 1000, 10, 3_600_000),
      pollMs: int('TANDEM_WEBHOOK_POLL_MS', 1000, 10, 60_000),
    },
    limits: {
      keyPerMin: int('TANDEM_RATE_LIMIT_KEY_PER_MIN', 600, 0, 1_000_000),
      addressPerMin: int('TANDEM_RATE_LIMIT_IP_PER_MIN', 1200, 0, 1_000_000),
      authFailureLimit: int('TANDEM_AUTH_FAILURE_LIMIT', 10, 0, 1_000_000),
      authLockoutMs: int('TANDEM_AUTH_LOCKOUT_MS', 60_000, 1000, 86_400_000),
    },
    trustProxy,
  };
  if (problems.length > 0) {
    throw new TandemError('INVALID_INPUT', { message: `The custodian configuration is invalid: ${problems.join('; ')}.`, details: { problems } });
  }
  return config;
}

/** The names proxy-addr (under Fastify's `trustProxy`) knows for whole ranges. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * `TANDEM_TRUST_PROXY`: `false` (default), `true`, or a comma-separated list of proxy addresses, CIDR ranges
 * and range names. No hop count: Fastify 5 trusts nothing for one, since it cannot check the nearest peer.
 */
function parseTrustProxy(raw: string | undefined, problems: string[]): ServerConfig['trustProxy'] {
  const value = (raw ?? '').trim();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  const entries = value.split(',').map((e) => e.trim());
  const ok = (e: string) => {
    if (PROXY_RANGE_NAMES.includes(e)) return true;
    const [address, prefix, extra] = e.split('/');
    const family = isIP(address ?? '');
    if (family === 0 || extra !== undefined) return false;
    return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
  };
  if (entries.every(ok)) return entries;
  problems.push('TANDEM_TRUST_PROXY must be false, true, or a comma-separated list of proxy addresses, CIDR ranges, loopback, linklocal or uniquelocal');
  return false;
}
