/**
 * The operator's hooks over HTTP (DESIGN §4): the recovery authorisation and the signing policy become
 * POSTs to the operator's backend, signed like the webhooks — HMAC-SHA256 over `timestamp.body` with a
 * shared secret, so the backend can tell the custodian from anyone else and refuse replays — bounded by a
 * timeout, and failing closed: no answer, a slow answer, a malformed answer or an error status all refuse.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { CustodianHooks, HookDecision } from '../custodian/hooks.js';

export interface HttpHooksOptions {
  /** The operator's base URL; the hooks POST to `/recovery-authorization` and `/signing-policy` under it. */
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
  readonly clock?: () => number;
}

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`): the custodian's signature on a request it sends. */
export function signPayload(secret: string, timestamp: string, body: string): string {
  return `sha256=${bytesToHex(hmac(sha256, utf8ToBytes(secret), utf8ToBytes(`${timestamp}.${body}`)))}`;
}

export function httpHooks(options: HttpHooksOptions): CustodianHooks {
  const clock = options.clock ?? Date.now;
  const call = async (path: string, payload: unknown): Promise<HookDecision> => {
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(clock() / 1000));
    try {
      const res = await fetch(new URL(path, options.url.endsWith('/') ? options.url : `${options.url}/`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tandem-timestamp': timestamp, 'x-tandem-signature': signPayload(options.secret, timestamp, body) },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (res.status !== 200) return { allow: false, reason: `the operator's hook answered ${res.status}` };
      const answer = (await res.json()) as { allow?: unknown; reason?: unknown };
      if (answer.allow === true) return { allow: true };
      return { allow: false, reason: typeof answer.reason === 'string' ? answer.reason.slice(0, 200) : "the operator's hook refused" };
    } catch {
      return { allow: false, reason: "the operator's hook did not answer" };
    }
  };
  return {
    recoveryAuthorization: (ctx) => call('recovery-authorization', ctx),
    signingPolicy: (ctx) => call('signing-policy', ctx),
  };
}
