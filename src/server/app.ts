/**
 * The custodian's HTTP API (REST; the MPC sessions are in sessions.ts) on Fastify: every request body,
 * parameter and header is validated by a JSON schema that rejects unknown fields instead of dropping them,
 * every error leaves as a typed body (http-errors.ts), and nothing secret is logged (the Authorization
 * header is redacted; bodies are never logged). Routes are thin: the custodian rules decide everything.
 */
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { BackupOutbox } from '../custodian/outbox.js';
import type { CustodianRules } from '../custodian/rules.js';
import { TandemError } from '../errors.js';
import { BACKUP_METHODS, type BackupMethodName } from '../types.js';
import { operatorCheck, authFailed, type ApiKeys } from './auth.js';
import type { AbuseLimits } from './rate-limit.js';
import { errorBody } from './http-errors.js';
import type { CustodianIdentity, IcBundle } from './identity.js';
import type { ModArith } from '../mpc/modexp.js';
import type { PrimeSource } from '../mpc/primes.js';
import type { SelfManagedBackups } from './self-managed.js';
import { registerSessions, type Sessions } from './sessions.js';

export interface AppOptions {
  readonly rules: CustodianRules;
  readonly apiKeys: ApiKeys;
  readonly operatorKey: string;
  readonly bodyLimitBytes: number;
  readonly logLevel: string;
  /** Browser origins allowed on the client endpoints (CORS); none by default. */
  readonly corsOrigins?: readonly string[];
  /** Called by /ready: false while starting or shutting down. */
  readonly isReady: () => boolean;
  /** Appends to the audit log (who, what, when; never a secret). */
  readonly audit: Audit;
  readonly listAudit: (walletId: string) => Promise<unknown[]>;
  /** The operator's eject windows, per wallet (ms since the epoch). */
  readonly ejectWindows: { open(walletId: string, until: number): Promise<void>; until(walletId: string): Promise<number | null> };
  /** Self-managed backups (the operator's webhook and its outbox); without it the endpoints are not served. */
  readonly selfManaged?: { readonly backups: SelfManagedBackups; readonly outbox: BackupOutbox };
  /** Abuse limits per key, per address and for wrong keys (rate-limit.ts); absent, nothing is limited. */
  readonly limits?: AbuseLimits;
  /** Fastify's `trustProxy`: whose `X-Forwarded-For` names the client address (`request.ip`); none by default. */
  readonly trustProxy?: boolean | readonly string[];
  /** The MPC sessions' public material; without it the WebSocket endpoint is not served. */
  readonly mpc?: {
    readonly identity: CustodianIdentity;
    readonly ic: IcBundle;
    readonly primeSource: PrimeSource;
    readonly frameLimitBytes: number;
    readonly arith?: ModArith;
    readonly idleTimeoutMs?: number;
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    walletId?: string;
    keyId?: string;
  }
}

export type Audit = (entry: { actor: string; action: string; walletId: string | null; subject: string | null; details?: Record<string, string | number | boolean | null> }) => Promise<void>;

const ID = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' } as const;
const IDEMPOTENCY = { type: 'string', minLength: 8, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' } as const;
const noBody = { type: 'null' } as const;

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  return typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
}

function idempotencyKey(req: FastifyRequest): string {
  const k = req.headers['idempotency-key'];
  if (typeof k !== 'string') throw new TandemError('INVALID_INPUT', { message: 'An Idempotency-Key header is required.' });
  return k;
}

export async function buildApp(options: AppOptions): Promise<{ app: FastifyInstance; sessions: Sessions | null }> {
  const { rules, apiKeys, audit, limits } = options;
  const byOperator = (action: string, walletId: string, subject: string | null = null, details: Record<string, string | number | boolean | null> = {}) =>
    audit({ actor: 'operator', action, walletId, subject, details });
  const byClient = (req: FastifyRequest, action: string, subject: string, details: Record<string, string | number | boolean | null> = {}) =>
    audit({ actor: `client:${req.keyId!}`, action, walletId: req.walletId!, subject, details });
  const isOperator = operatorCheck(options.operatorKey);
  const app = Fastify({
    bodyLimit: options.bodyLimitBytes,
    logger: options.logLevel === 'silent' ? false : { level: options.logLevel, redact: ['req.headers.authorization'] },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    trustProxy: typeof options.trustProxy === 'boolean' || options.trustProxy === undefined ? (options.trustProxy ?? false) : [...options.trustProxy],
  });

  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: options.bodyLimitBytes }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof TandemError) {
      const { status, body, headers } = errorBody(err);
      return reply.status(status).headers(headers).send(body);
    }
    const e = err as { validation?: unknown; statusCode?: number; code?: string; message?: string };
    if (e.validation) {
      return reply.status(400).send({ error: new TandemError('INVALID_INPUT', { message: `The request is invalid: ${e.message ?? ''}`.trim() }).toJSON() });
    }
    if (e.statusCode === 413 || e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({ error: new TandemError('INVALID_INPUT', { message: 'The request body is too large.' }).toJSON() });
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(e.statusCode).send({ error: new TandemError('INVALID_INPUT', { message: 'The request is malformed.', details: { reason: e.code ?? 'bad request' } }).toJSON() });
    }
    const { status, body } = errorBody(err);
    return reply.status(status).send(body);
  });
  // CORS for browser apps, on the client endpoints only: exact origins from the configuration, no cookies
  // (the API key travels in the Authorization header), and a preflight that names what the client sends.
  const corsOrigins = new Set(options.corsOrigins ?? []);
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !corsOrigins.has(origin) || !req.url.startsWith('/v1/wallet')) return;
    // Retry-After is not a CORS-safelisted header: exposed, a browser app can read a 429's wait from it too.
    reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', 'retry-after');
    if (req.method === 'OPTIONS') {
      return reply
        .header('access-control-allow-methods', 'GET, POST, PUT')
        .header('access-control-allow-headers', 'authorization, content-type, idempotency-key')
        .header('access-control-max-age', '600')
        .status(204)
        .send();
    }
  });

  app.setNotFoundHandler((_req, reply) => reply.status(404).send({ error: new TandemError('INVALID_INPUT', { message: 'No such endpoint.' }).toJSON() }));

  let sessions: Sessions | null = null;
  if (options.mpc) {
    await app.register(websocket, { options: { maxPayload: options.mpc.frameLimitBytes } });
    sessions = registerSessions(app, {
      rules,
      apiKeys,
      audit,
      identity: options.mpc.identity,
      ic: options.mpc.ic,
      primeSource: options.mpc.primeSource,
      ...(options.mpc.arith ? { arith: options.mpc.arith } : {}),
      ...(options.mpc.idleTimeoutMs ? { idleTimeoutMs: options.mpc.idleTimeoutMs } : {}),
      ...(options.selfManaged ? { selfManaged: options.selfManaged.backups } : {}),
      ...(limits ? { limits } : {}),
    });
  }

  // Abuse limits, after CORS (so a browser app can read its 429) and after the WebSocket plugin has marked
  // upgrades: a session is counted at its start frame (sessions.ts), where a refusal can be a typed error
  // frame. A request that presents a key from a locked-out address is refused before the key is looked at;
  // the operator's backend, often one address making every call, is not counted per address, and neither
  // are the load balancer's health checks.
  if (limits) {
    app.addHook('onRequest', async (req) => {
      if (req.ws === true) return;
      if (req.headers.authorization !== undefined) limits.assertNotLockedOut(req.ip);
      if (!limits.limitsAddresses || req.url === '/health' || req.url === '/ready') return;
      if (req.url.startsWith('/v1/operator/') && isOperator(bearer(req))) return;
      limits.countAddress(req.ip);
    });
  }

  // ---- operations -------------------------------------------------------------------------------------
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => (options.isReady() ? { status: 'ready' } : reply.status(503).send({ status: 'not ready' })));

  // ---- operator (custodian API key) ---------------------------------------------------------------------
  const operatorOnly = async (req: FastifyRequest) => {
    if (isOperator(bearer(req))) return;
    if (req.headers.authorization !== undefined) limits?.recordAuthFailure(req.ip);
    throw authFailed();
  };
  const walletParams = { type: 'object', required: ['walletId'], additionalProperties: false, properties: { walletId: ID } } as const;

  app.post('/v1/operator/clients', { preHandler: operatorOnly, schema: { body: { type: 'object', additionalProperties: false, properties: {} } } }, async (_req, reply) => {
    const wallet = await rules.createWallet();
    const { keyId, apiKey } = await apiKeys.issue(wallet.walletId);
    await byOperator('client.create', wallet.walletId, keyId);
    return reply.status(201).send({ walletId: wallet.walletId, keyId, apiKey });
  });
  app.get<{ Params: { walletId: string } }>('/v1/operator/clients/:walletId', { preHandler: operatorOnly, schema: { params: walletParams } }, async (req) => ({
    wallet: await rules.getWallet(req.params.walletId),
    keys: await apiKeys.list(req.params.walletId),
  }));
  app.post<{ Params: { walletId: string } }>('/v1/operator/clients/:walletId/keys', { preHandler: operatorOnly, schema: { params: walletParams, body: noBody } }, async (req, reply) => {
    await rules.getWallet(req.params.walletId);
    const issued = await apiKeys.issue(req.params.walletId);
    await byOperator('key.issue', req.params.walletId, issued.keyId);
    return reply.status(201).send(issued);
  });
  app.delete<{ Params: { walletId: string; keyId: string } }>(
    '/v1/operator/clients/:walletId/keys/:keyId',
    { preHandler: operatorOnly, schema: { params: { type: 'object', required: ['walletId', 'keyId'], additionalProperties: false, properties: { walletId: ID, keyId: ID } } } },
    async (req, reply) => {
      await apiKeys.revoke(req.params.walletId, req.params.keyId);
      await byOperator('key.revoke', req.params.walletId, req.params.keyId);
      return reply.status(204).send();
    },
  );
  app.post<{ Params: { walletId: string } }>('/v1/operator/clients/:walletId/archive', { preHandler: operatorOnly, schema: { params: walletParams, body: noBody } }, async (req) => {
    const view = await rules.archiveWallet(req.params.walletId);
    await byOperator('wallet.archive', req.params.walletId);
    return view;
  });
  app.get<{ Params: { walletId: string } }>('/v1/operator/clients/:walletId/audit', { preHandler: operatorOnly, schema: { params: walletParams } }, async (req) => {
    await rules.getWallet(req.params.walletId);
    return { entries: await options.listAudit(req.params.walletId) };
  });
  const pairParams = { type: 'object', required: ['walletId', 'pairId'], additionalProperties: false, properties: { walletId: ID, pairId: ID } } as const;
  app.post<{ Params: { walletId: string; pairId: string }; Body: { reason: string } }>(
    '/v1/operator/clients/:walletId/pairs/:pairId/lock',
    { preHandler: operatorOnly, schema: { params: pairParams, body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } } } } },
    async (req, reply) => {
      await rules.lockPair({ walletId: req.params.walletId, pairId: req.params.pairId, reason: req.body.reason });
      await byOperator('pair.lock', req.params.walletId, req.params.pairId, { reason: req.body.reason });
      return reply.status(204).send();
    },
  );
  app.post<{ Params: { walletId: string; pairId: string } }>('/v1/operator/clients/:walletId/pairs/:pairId/unlock', { preHandler: operatorOnly, schema: { params: pairParams, body: noBody } }, async (req, reply) => {
    await rules.unlockPair({ walletId: req.params.walletId, pairId: req.params.pairId });
    await byOperator('pair.unlock', req.params.walletId, req.params.pairId);
    return reply.status(204).send();
  });
  app.post<{ Params: { walletId: string }; Body: { method: BackupMethodName; ttlSeconds: number } }>(
    '/v1/operator/clients/:walletId/step-up',
    {
      preHandler: operatorOnly,
      schema: {
        params: walletParams,
        body: {
          type: 'object',
          required: ['method', 'ttlSeconds'],
          additionalProperties: false,
          properties: { method: { type: 'string', enum: [...BACKUP_METHODS] }, ttlSeconds: { type: 'integer', minimum: 1, maximum: 3600 } },
        },
      },
    },
    async (req, reply) => {
      await rules.grantStepUp({ walletId: req.params.walletId, method: req.body.method, ttlMs: req.body.ttlSeconds * 1000 });
      await byOperator('backup.step-up', req.params.walletId, null, { method: req.body.method, ttlSeconds: req.body.ttlSeconds });
      return reply.status(204).send();
    },
  );

  // Eject: the operator opens a short window; inside it the client may take the custodian backup shares.
  app.post<{ Params: { walletId: string }; Body: { ttlSeconds: number } }>(
    '/v1/operator/clients/:walletId/eject',
    {
      preHandler: operatorOnly,
      schema: { params: walletParams, body: { type: 'object', required: ['ttlSeconds'], additionalProperties: false, properties: { ttlSeconds: { type: 'integer', minimum: 1, maximum: 3600 } } } },
    },
    async (req, reply) => {
      await rules.getWallet(req.params.walletId);
      const until = Date.now() + req.body.ttlSeconds * 1000;
      await options.ejectWindows.open(req.params.walletId, until);
      await byOperator('eject.enable', req.params.walletId, null, { until });
      return reply.status(204).send();
    },
  );

  // Self-managed backups: the operator's webhook, and what was delivered to it.
  const selfManaged = options.selfManaged;
  if (selfManaged) {
    app.put<{ Body: { url: string; secret: string } }>(
      '/v1/operator/webhook',
      {
        preHandler: operatorOnly,
        schema: {
          body: {
            type: 'object',
            required: ['url', 'secret'],
            additionalProperties: false,
            properties: { url: { type: 'string', minLength: 8, maxLength: 2000 }, secret: { type: 'string', minLength: 32, maxLength: 500 } },
          },
        },
      },
      async (req, reply) => {
        await selfManaged.backups.configure({ url: req.body.url, secret: req.body.secret });
        await audit({ actor: 'operator', action: 'webhook.configure', walletId: null, subject: null, details: { url: req.body.url } });
        return reply.status(204).send();
      },
    );
    app.get('/v1/operator/webhook', { preHandler: operatorOnly }, async () => {
      const config = await selfManaged.backups.config();
      return config ? { configured: true, url: config.url } : { configured: false };
    });
    app.delete('/v1/operator/webhook', { preHandler: operatorOnly }, async (_req, reply) => {
      await selfManaged.backups.clear();
      await audit({ actor: 'operator', action: 'webhook.clear', walletId: null, subject: null });
      return reply.status(204).send();
    });
    app.get<{ Params: { walletId: string } }>('/v1/operator/clients/:walletId/deliveries', { preHandler: operatorOnly, schema: { params: walletParams } }, async (req) => {
      await rules.getWallet(req.params.walletId);
      const entries = await selfManaged.outbox.list(req.params.walletId);
      return {
        deliveries: entries.map((e) => ({
          kind: e.kind,
          backupPairId: e.backupPairId,
          status: e.status,
          attempts: e.attempts,
          nextAttemptAt: e.nextAttemptAt,
          lastError: e.lastError,
          createdAt: e.createdAt,
          updatedAt: e.updatedAt,
        })),
      };
    });
    app.post<{ Params: { walletId: string } }>('/v1/operator/clients/:walletId/deliveries/retry', { preHandler: operatorOnly, schema: { params: walletParams, body: noBody } }, async (req) => {
      await rules.getWallet(req.params.walletId);
      const retried = await selfManaged.outbox.retryFailed(req.params.walletId);
      await byOperator('webhook.retry', req.params.walletId, null, { retried });
      selfManaged.backups.kick();
      return { retried };
    });
  }

  // ---- client (client API key; its own wallet only) -------------------------------------------------------
  const clientOnly = async (req: FastifyRequest) => {
    const who = await apiKeys.authenticate(bearer(req)).catch((err: unknown) => {
      // A missing key is no guess; any key presented and refused counts toward the address's lockout.
      if (req.headers.authorization !== undefined && err instanceof TandemError && err.code === 'AUTH_FAILED') limits?.recordAuthFailure(req.ip);
      throw err;
    });
    limits?.countKey(who.keyId);
    req.walletId = who.walletId;
    req.keyId = who.keyId;
  };
  const walletOf = (req: FastifyRequest): string => req.walletId!;
  const pairOnly = { type: 'object', required: ['pairId'], additionalProperties: false, properties: { pairId: ID } } as const;
  const backupOnly = { type: 'object', required: ['backupPairId'], additionalProperties: false, properties: { backupPairId: ID } } as const;
  const withKey = { type: 'object', required: ['idempotency-key'], properties: { 'idempotency-key': IDEMPOTENCY } } as const;

  app.get('/v1/wallet', { preHandler: clientOnly }, async (req) => rules.getWallet(walletOf(req)));
  app.post('/v1/wallet/eject', { preHandler: clientOnly, schema: { body: noBody } }, async (req) => {
    const until = await options.ejectWindows.until(walletOf(req));
    if (until === null || until <= Date.now()) throw new TandemError('EJECT_NOT_ALLOWED', { details: { walletId: walletOf(req) } });
    const sources = await rules.custodianBackupSharesForEject(walletOf(req));
    const shares = [];
    for (const s of sources) {
      // A self-managed share is fetched back from the operator's backend and checked like for a recovery.
      const share = s.share ?? (selfManaged ? await selfManaged.backups.fetchShare(s) : null);
      if (share) shares.push({ backupPairId: s.backupPairId, curve: s.curve, method: s.method, custodianBackupShare: Buffer.from(share).toString('base64') });
    }
    await byClient(req, 'eject.release', walletOf(req), { backups: shares.length });
    return { shares };
  });
  app.post<{ Params: { pairId: string } }>('/v1/wallet/signing-pairs/:pairId/confirm', { preHandler: clientOnly, schema: { params: pairOnly, headers: withKey, body: noBody } }, async (req) => {
    const pair = await rules.confirmSigningPair({ walletId: walletOf(req), pairId: req.params.pairId, idempotencyKey: idempotencyKey(req) });
    await byClient(req, 'signing-pair.confirm', pair.pairId, { curve: pair.curve, status: pair.status });
    return pair;
  });
  app.post<{ Params: { backupPairId: string } }>('/v1/wallet/backup-pairs/:backupPairId/key-confirm', { preHandler: clientOnly, schema: { params: backupOnly, headers: withKey, body: noBody } }, async (req) => {
    const b = await rules.confirmBackupKey({ walletId: walletOf(req), backupPairId: req.params.backupPairId, idempotencyKey: idempotencyKey(req) });
    await byClient(req, 'backup-pair.key-confirm', b.backupPairId, { status: b.status });
    return b;
  });
  app.put<{ Params: { backupPairId: string }; Body: Buffer }>(
    '/v1/wallet/backup-pairs/:backupPairId/ciphertext',
    { preHandler: clientOnly, schema: { params: backupOnly, headers: withKey } },
    async (req) => {
      if (!Buffer.isBuffer(req.body)) throw new TandemError('INVALID_INPUT', { message: 'The ciphertext must be sent as application/octet-stream.' });
      const b = await rules.storeBackupCiphertext({ walletId: walletOf(req), backupPairId: req.params.backupPairId, ciphertext: new Uint8Array(req.body), idempotencyKey: idempotencyKey(req) });
      await byClient(req, 'backup-pair.ciphertext', b.backupPairId, { bytes: req.body.length });
      return b;
    },
  );
  app.put<{ Params: { backupPairId: string }; Body: { digest: string } }>(
    '/v1/wallet/backup-pairs/:backupPairId/ciphertext-digest',
    {
      preHandler: clientOnly,
      schema: { params: backupOnly, headers: withKey, body: { type: 'object', required: ['digest'], additionalProperties: false, properties: { digest: { type: 'string', pattern: '^[0-9a-f]{64}$' } } } },
    },
    async (req) => {
      const b = await rules.recordBackupCiphertextDigest({ walletId: walletOf(req), backupPairId: req.params.backupPairId, digest: req.body.digest, idempotencyKey: idempotencyKey(req) });
      await byClient(req, 'backup-pair.ciphertext-digest', b.backupPairId);
      return b;
    },
  );
  app.get<{ Params: { backupPairId: string } }>('/v1/wallet/backup-pairs/:backupPairId/ciphertext', { preHandler: clientOnly, schema: { params: backupOnly } }, async (req, reply: FastifyReply) => {
    const bytes = await rules.fetchBackupCiphertext({ walletId: walletOf(req), backupPairId: req.params.backupPairId });
    return reply.type('application/octet-stream').send(Buffer.from(bytes));
  });
  app.post<{ Params: { backupPairId: string } }>('/v1/wallet/backup-pairs/:backupPairId/confirm', { preHandler: clientOnly, schema: { params: backupOnly, headers: withKey, body: noBody } }, async (req) => {
    const confirm = () => rules.confirmBackup({ walletId: walletOf(req), backupPairId: req.params.backupPairId, idempotencyKey: idempotencyKey(req) });
    const b = await confirm().catch(async (err: unknown) => {
      // Self-managed and not yet shown to be with the operator: deliver now (bounded by the webhook timeout), then try once more.
      if (!(err instanceof TandemError && err.code === 'WEBHOOK_FAILED' && selfManaged)) throw err;
      await selfManaged.backups.deliverNow(req.params.backupPairId);
      return confirm();
    });
    await byClient(req, 'backup-pair.confirm', b.backupPairId, { status: b.status, method: b.method });
    return b;
  });

  return { app, sessions };
}
