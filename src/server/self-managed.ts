/**
 * Self-managed backups (DESIGN §4) on the server: the operator configures a webhook, and the custodian
 * backup share of every new backup then goes to the operator's backend instead of staying here.
 *
 * The deliveries come from the outbox (src/custodian/outbox.ts), written in the same transaction as the
 * backup pair. A worker delivers them with bounded timeouts and a growing delay between attempts; every
 * request is signed like the operator hooks (HMAC-SHA256 over `timestamp.body`) and carries the backup
 * pair id as its idempotency key, since delivery is at least once.
 *
 *   POST {url}/backup             {event: "backup.created", walletId, backupPairId, curve, method,
 *                                  publicKey, publicShare, share (base64)} → any 2xx
 *   POST {url}/backup/fetch       {walletId, backupPairId} → 200 {share (base64)}
 *   POST {url}/backup/superseded  {event: "backup.superseded", walletId, backupPairId} → any 2xx
 *
 * A backup counts only once `/backup/fetch` has returned a share that decodes as this pair's custodian
 * backup share, for this key, with this public share — only then does the custodian erase its own copy.
 * Recovery (and eject) fetch the share again and run the same check before using it, so a backend that
 * lost, mixed up or altered a share is caught before any protocol message is sent.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import type { BackupOutbox, Delivery } from '../custodian/outbox.js';
import type { CustodianBackupShareSource } from '../custodian/rules.js';
import { TandemError } from '../errors.js';
import { decodeBackupShare } from '../mpc/backup-share.js';
import { decodeFrostShare } from '../mpc/frost-share.js';
import type { Curve } from '../types.js';
import { openValue, sealValue, type MasterKeys } from './at-rest.js';
import { signPayload } from './operator-hooks.js';
import type { ServerData } from './store/server-data.js';

export interface WebhookConfig {
  readonly url: string;
  readonly secret: string;
}

export interface SelfManagedOptions {
  readonly data: ServerData;
  readonly keys: MasterKeys;
  readonly outbox: BackupOutbox;
  /** How long one webhook request may take. */
  readonly timeoutMs: number;
  /** How often the worker looks for due deliveries. */
  readonly pollMs?: number;
  readonly log?: { warn(fields: object, message: string): void; info(fields: object, message: string): void };
  readonly clock?: () => number;
}

const META = 'webhook';
const AAD = 'server/webhook';

/** The public share a custodian backup share stands for, checked by its decoder; MALFORMED_MESSAGE otherwise. */
export function describeCustodianBackupShare(curve: Curve, share: Uint8Array): { backupPairId: string; publicKey: string; publicShare: string } {
  if (curve === 'SECP256K1') {
    const s = decodeBackupShare(share, 'custodian-backup');
    return { backupPairId: bytesToHex(s.pairId), publicKey: s.Q.toHex(true), publicShare: s.B1.toHex(true) };
  }
  const s = decodeFrostShare(share);
  if (s.kind !== 'custodian-backup') throw new TandemError('MALFORMED_MESSAGE', { message: 'The share is not a custodian backup share.' });
  return { backupPairId: bytesToHex(s.pairId), publicKey: s.Y.toHex(), publicShare: s.Y1.toHex() };
}

export class SelfManagedBackups {
  private readonly o: SelfManagedOptions;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(options: SelfManagedOptions) {
    this.o = options;
  }

  // ---- configuration (operator) -------------------------------------------------------------------

  async config(): Promise<WebhookConfig | null> {
    const raw = await this.o.data.getMeta(META);
    if (!raw) return null;
    const stored = JSON.parse(new TextDecoder().decode(raw)) as { url: string; secret: string } | { cleared: true };
    if ('cleared' in stored) return null;
    const secret = new TextDecoder().decode(openValue(this.o.keys, AAD, Buffer.from(stored.secret, 'base64')));
    return { url: stored.url, secret };
  }

  async configure(config: WebhookConfig): Promise<void> {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new TandemError('INVALID_INPUT', { message: 'The webhook URL is not a URL.' });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TandemError('INVALID_INPUT', { message: 'The webhook URL must be http(s).' });
    if (url.username || url.password || url.search || url.hash) {
      throw new TandemError('INVALID_INPUT', { message: 'The webhook URL must not carry credentials, a query or a fragment.' });
    }
    if (config.secret.length < 32) throw new TandemError('INVALID_INPUT', { message: 'The webhook secret must be at least 32 characters.' });
    const sealed = Buffer.from(sealValue(this.o.keys, AAD, new TextEncoder().encode(config.secret))).toString('base64');
    await this.o.data.setMeta(META, new TextEncoder().encode(JSON.stringify({ url: url.toString().replace(/\/$/, ''), secret: sealed })));
    this.kick();
  }

  /** New backups stay with the custodian again; existing self-managed ones keep needing a webhook to recover. */
  async clear(): Promise<void> {
    await this.o.data.setMeta(META, new TextEncoder().encode(JSON.stringify({ cleared: true })));
  }

  // ---- the worker ---------------------------------------------------------------------------------

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.o.pollMs ?? 1000);
    this.timer.unref();
    this.kick();
  }

  /** Stops the worker and waits for the deliveries under way (each bounded by the timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs the due deliveries now (and once more if asked again meanwhile). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.runDue().catch((err: unknown) => this.o.log?.warn({ code: (err as { code?: string }).code }, 'the webhook outbox could not run'));
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = null;
    });
  }

  /** Resolves once the worker is idle (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async runDue(): Promise<void> {
    const config = await this.config();
    if (!config) return;
    for (;;) {
      const batch = await this.o.outbox.claimDue(10);
      if (batch.length === 0) return;
      await Promise.all(batch.map((d) => this.deliver(config, d)));
      if (this.stopped) return;
    }
  }

  /**
   * A client is confirming a self-managed backup whose share has not been shown to be with the operator
   * yet: try its delivery now rather than at the worker's next turn. Failures are recorded, not thrown;
   * the confirmation then says why.
   */
  async deliverNow(backupPairId: string): Promise<void> {
    const config = await this.config();
    if (!config) return;
    const d = await this.o.outbox.claimNow('backup', backupPairId);
    if (d) await this.deliver(config, d);
  }

  private async deliver(config: WebhookConfig, d: Delivery): Promise<void> {
    try {
      if (d.kind === 'superseded') {
        await this.post(config, 'backup/superseded', { event: 'backup.superseded', ...d.payload }, d.id);
      } else {
        const p = d.payload;
        try {
          await this.post(
            config,
            'backup',
            { event: 'backup.created', walletId: p.walletId, backupPairId: p.backupPairId, curve: p.curve, method: p.method, publicKey: p.publicKey, publicShare: p.publicShare, share: Buffer.from(p.share).toString('base64') },
            d.id,
          );
        } finally {
          p.share.fill(0);
        }
        const fetched = await this.fetchFrom(config, p);
        fetched.fill(0);
      }
      await this.o.outbox.succeeded(d);
      this.o.log?.info({ delivery: d.id, attempt: d.attempt }, 'webhook delivery done');
    } catch (err) {
      const reason = err instanceof TandemError ? String(err.details['reason'] ?? err.code) : 'the delivery failed';
      await this.o.outbox.failed(d, reason);
      this.o.log?.warn({ delivery: d.id, attempt: d.attempt, reason }, 'webhook delivery failed');
    }
  }

  // ---- fetching a share back ----------------------------------------------------------------------

  /**
   * The custodian backup share of a self-managed pair, fetched from the operator's backend and checked
   * against the pair before anyone uses it. `WEBHOOK_FAILED` when there is no webhook, no answer, or
   * the wrong share.
   */
  async fetchShare(source: CustodianBackupShareSource): Promise<Uint8Array> {
    if (source.share) return source.share;
    const config = await this.config();
    if (!config) throw webhookFailed('no webhook is configured for self-managed backups');
    return this.fetchFrom(config, { walletId: source.walletId, backupPairId: source.backupPairId, curve: source.curve, publicKey: source.publicKey, publicShare: source.selfManaged.publicShare });
  }

  private async fetchFrom(config: WebhookConfig, p: { walletId: string; backupPairId: string; curve: Curve; publicKey: string; publicShare: string }): Promise<Uint8Array> {
    const res = await this.post(config, 'backup/fetch', { walletId: p.walletId, backupPairId: p.backupPairId }, `fetch:${p.backupPairId}`);
    if (res.status !== 200) throw webhookFailed(`the fetch answered ${res.status}`);
    let share: Uint8Array;
    try {
      const body = JSON.parse(res.body) as { share?: unknown };
      if (typeof body.share !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(body.share)) throw new Error('no share');
      share = new Uint8Array(Buffer.from(body.share, 'base64'));
    } catch {
      throw webhookFailed('the fetch did not return a share');
    }
    let seen: ReturnType<typeof describeCustodianBackupShare>;
    try {
      seen = describeCustodianBackupShare(p.curve, share);
    } catch {
      share.fill(0);
      throw webhookFailed('the fetched share is not a custodian backup share');
    }
    if (seen.backupPairId !== p.backupPairId || seen.publicKey !== p.publicKey || seen.publicShare !== p.publicShare) {
      share.fill(0);
      throw webhookFailed("the fetched share does not match the pair's public share");
    }
    return share;
  }

  private async post(config: WebhookConfig, path: string, payload: unknown, idempotencyKey: string): Promise<{ status: number; body: string }> {
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor((this.o.clock ?? Date.now)() / 1000));
    let res: Response;
    try {
      res = await fetch(`${config.url}/${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': idempotencyKey,
          'x-tandem-timestamp': timestamp,
          'x-tandem-signature': signPayload(config.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      const timedOut = (err as { name?: string }).name === 'TimeoutError';
      throw webhookFailed(timedOut ? `no answer within ${this.o.timeoutMs} ms` : 'the webhook could not be reached');
    }
    const text = await res.text().catch(() => '');
    if (res.status < 200 || res.status >= 300) throw webhookFailed(`the webhook answered ${res.status}`);
    return { status: res.status, body: text };
  }
}

const webhookFailed = (reason: string) => new TandemError('WEBHOOK_FAILED', { details: { reason } });
