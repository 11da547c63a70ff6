/**
 * Abuse limits (issue #13): a request budget per client API key and per client address, and a lockout of
 * an address that presents too many wrong API keys. Everything is in memory and per instance — several
 * instances behind a load balancer each limit on their own, so an operator divides (or simply sets the
 * limits above real traffic); nothing here touches the database, so a flood costs the custodian no writes.
 *
 * Why it is shaped so:
 * - A token bucket per key id and per address: up to a minute's allowance at once, refilled continuously,
 *   so a burst after a quiet spell passes and a steady flood is held to the rate. A bucket that has been
 *   idle a whole minute is full again, which is the same as having none: it is forgotten.
 * - Memory is bounded twice over. Entries live in a Map kept in least-recently-touched order, so the idle
 *   ones sit at its head and are swept in amortised O(1) on every call; and past `maxEntries` the oldest is
 *   dropped, so a flood of random addresses can never grow it without bound. Dropping a live entry fails open
 *   for that one client — the price of a hard bound, and only paid under a flood of that size.
 * - Addresses are counted by client, not by string: an IPv4-mapped IPv6 address is its IPv4 address, and an
 *   IPv6 address counts by its /64, which one client (one home, one phone) usually holds whole — otherwise a
 *   single host could walk through 2^64 fresh addresses and never meet a limit.
 * - A locked-out address is refused *before* its key is looked at, so the lockout answers the same for a
 *   right and a wrong key and is no oracle; the key comparison itself stays constant-time (auth.ts).
 * - The clock is injected: tests move time instead of sleeping.
 */
import { TandemError } from '../errors.js';

export interface AbuseLimitsOptions {
  /** Requests per minute per client API key (REST calls and WebSocket session starts); 0 turns it off. */
  readonly keyPerMin: number;
  /** Requests per minute per client address; 0 turns it off. */
  readonly addressPerMin: number;
  /** Wrong API keys an address may present per `lockoutMs` before it is locked out for `lockoutMs`; 0 turns it off. */
  readonly authFailureLimit: number;
  readonly lockoutMs: number;
  /** The most entries each table holds (default 100 000); past it the least recently touched is dropped. */
  readonly maxEntries?: number;
  readonly clock?: () => number;
  /** Told when an address is locked out (for the log). */
  readonly onLockout?: (address: string, untilMs: number) => void;
}

/** What a refusal says: how long to wait, and which limit it was. */
export type LimitScope = 'key' | 'address' | 'lockout';

const rateLimited = (scope: LimitScope, retryAfterMs: number, message?: string): TandemError =>
  new TandemError('RATE_LIMITED', { ...(message ? { message } : {}), details: { scope, retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)) } });

const MINUTE = 60_000;
const DEFAULT_MAX_ENTRIES = 100_000;

/**
 * A Map in least-recently-touched order whose entries die after `idleMs` untouched and which never holds
 * more than `max`. `touch` re-inserts, so the head is always the entry touched longest ago.
 */
class IdleMap<V extends { at: number }> {
  private readonly map = new Map<string, V>();

  constructor(
    private readonly idleMs: number,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(id: string): V | undefined {
    return this.map.get(id);
  }

  /** Stores `value` as the most recently touched entry, dropping the oldest past the bound. */
  touch(id: string, value: V): void {
    this.map.delete(id);
    this.map.set(id, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  /** Drops the dead entries at the head; stops at the first live one (the rest were touched later). */
  sweep(now: number): void {
    for (const [id, v] of this.map) {
      if (now - v.at < this.idleMs) return;
      this.map.delete(id);
    }
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets of `perMin` tokens, refilled at `perMin` a minute. */
class TokenBuckets {
  private readonly buckets: IdleMap<Bucket>;
  private readonly perMs: number;

  constructor(
    private readonly perMin: number,
    maxEntries: number,
  ) {
    // A bucket idle for a minute is full again from any level: forgetting it changes nothing.
    this.buckets = new IdleMap(MINUTE, maxEntries);
    this.perMs = perMin / MINUTE;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token: 0 when there was one, else the milliseconds until there will be. */
  take(id: string, now: number): number {
    this.buckets.sweep(now);
    const b = this.buckets.get(id);
    // A clock that steps back refills nothing rather than draining.
    const tokens = b ? Math.min(this.perMin, b.tokens + Math.max(0, now - b.at) * this.perMs) : this.perMin;
    const ok = tokens >= 1;
    this.buckets.touch(id, { tokens: ok ? tokens - 1 : tokens, at: now });
    return ok ? 0 : (1 - tokens) / this.perMs;
  }
}

interface Failures {
  count: number;
  since: number;
  lockedUntil: number;
  at: number;
}

/**
 * The per-instance abuse limits. Each check either returns or throws `RATE_LIMITED` with
 * `details.retryAfterMs` (and `scope`); the HTTP layer turns that into a 429 with `Retry-After`.
 *
 * @example
 * const limits = new AbuseLimits({ keyPerMin: 600, addressPerMin: 1200, authFailureLimit: 10, lockoutMs: 60_000 });
 * limits.assertNotLockedOut(req.ip); // before looking at the key
 * limits.countAddress(req.ip);
 */
export class AbuseLimits {
  private readonly keys: TokenBuckets | null;
  private readonly addresses: TokenBuckets | null;
  private readonly failures: IdleMap<Failures> | null;
  private readonly clock: () => number;

  constructor(private readonly options: AbuseLimitsOptions) {
    const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    for (const [name, v] of Object.entries({ keyPerMin: options.keyPerMin, addressPerMin: options.addressPerMin, authFailureLimit: options.authFailureLimit })) {
      if (!Number.isInteger(v) || v < 0) throw new TandemError('INVALID_INPUT', { message: `${name} must be a non-negative integer.`, details: { field: name } });
    }
    if (!Number.isInteger(options.lockoutMs) || options.lockoutMs < 1) throw new TandemError('INVALID_INPUT', { message: 'lockoutMs must be a positive integer.', details: { field: 'lockoutMs' } });
    if (!Number.isInteger(max) || max < 1) throw new TandemError('INVALID_INPUT', { message: 'maxEntries must be a positive integer.', details: { field: 'maxEntries' } });
    this.keys = options.keyPerMin > 0 ? new TokenBuckets(options.keyPerMin, max) : null;
    this.addresses = options.addressPerMin > 0 ? new TokenBuckets(options.addressPerMin, max) : null;
    // A record untouched for the lockout length has neither a live window nor a live lockout.
    this.failures = options.authFailureLimit > 0 ? new IdleMap(options.lockoutMs, max) : null;
    this.clock = options.clock ?? Date.now;
  }

  /** Whether requests are counted per address at all (the caller can skip working out who is exempt). */
  get limitsAddresses(): boolean {
    return this.addresses !== null;
  }

  /** Entries held per table: bounded by `maxEntries`, and emptied by idleness. */
  get entries(): { keys: number; addresses: number; authFailures: number } {
    return { keys: this.keys?.size ?? 0, addresses: this.addresses?.size ?? 0, authFailures: this.failures?.size ?? 0 };
  }

  /** Refuses a request from a locked-out address. Call it before looking at the key the request presents. */
  assertNotLockedOut(ip: string): void {
    if (!this.failures) return;
    const now = this.clock();
    const r = this.failures.get(clientAddress(ip));
    if (r && r.lockedUntil > now) throw rateLimited('lockout', r.lockedUntil - now, 'Too many wrong API keys came from this address; try again later.');
  }

  /** Counts one request from an address against its budget. */
  countAddress(ip: string): void {
    if (!this.addresses) return;
    const wait = this.addresses.take(clientAddress(ip), this.clock());
    if (wait > 0) throw rateLimited('address', wait, 'Too many requests came from this address; try again after a moment.');
  }

  /** Counts one request made with a client API key (by its key id) against the key's budget. */
  countKey(keyId: string): void {
    if (!this.keys) return;
    const wait = this.keys.take(keyId, this.clock());
    if (wait > 0) throw rateLimited('key', wait, 'Too many requests were made with this API key; try again after a moment.');
  }

  /** Records a wrong key from an address; the `authFailureLimit`-th within the window locks it out. */
  recordAuthFailure(ip: string): void {
    if (!this.failures) return;
    const now = this.clock();
    this.failures.sweep(now);
    const address = clientAddress(ip);
    const prev = this.failures.get(address);
    // A window that has ended has no lockout left either (a lockout is as long as the window it starts).
    const r = prev && now - prev.since < this.options.lockoutMs ? prev : { count: 0, since: now, lockedUntil: 0, at: now };
    r.count++;
    r.at = now;
    if (r.count >= this.options.authFailureLimit) {
      // Counting starts afresh with the lockout; once it ends the window has ended too.
      r.lockedUntil = now + this.options.lockoutMs;
      r.count = 0;
      r.since = now;
      this.options.onLockout?.(address, r.lockedUntil);
    }
    this.failures.touch(address, r);
  }
}

/**
 * The client an address stands for: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. Anything that
 * does not parse is its own client.
 *
 * @example
 * clientAddress('2001:db8:0:1:aaaa::1'); // '2001:db8:0:1::/64'
 * clientAddress('::ffff:192.0.2.1'); // '192.0.2.1'
 */
export function clientAddress(ip: string): string {
  const bare = ip.replace(/%.*$/, '');
  if (!bare.includes(':')) return bare;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped) return mapped[1]!;
  const halves = bare.split('::');
  if (halves.length > 2) return bare;
  const groups = (s: string | undefined) => (s ? s.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const all = [...head, ...Array<string>(Math.max(0, fill)).fill('0'), ...tail];
  if (all.length !== 8 || !all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return bare;
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
