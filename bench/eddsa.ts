/**
 * ED25519 (two-of-two FROST) figures for `npm run bench`: medians over `reps` runs with both parties
 * in one process, and the bytes of all messages in both directions. It prints nothing and asserts
 * nothing; bench/index.ts prints the object under `eddsa`.
 *
 * - keygen_ms / backup_ms / recover_ms: one whole five-message run.
 * - sign_ms: one whole three-message signing run, the custodian's nonce commitment included.
 * - sign_online_ms: the same run after the custodian's first message (its nonce commitment, which
 *   needs no message content and could be made ahead): the client's round, the custodian's share and
 *   aggregation, and the client's aggregation, each with strict verification.
 * - client_share_bytes: the client's signing share as stored (frost-share.ts).
 */
import {
  createFrostBackupP1,
  createFrostBackupP2,
  createFrostKeygenP1,
  createFrostKeygenP2,
  createFrostRecoverP1,
  createFrostRecoverP2,
  createFrostSignP1,
  createFrostSignP2,
  type FrostParty,
} from '../src/mpc/frost.js';
import { derivePid } from '../src/mpc/session.js';

const pid1 = derivePid(new TextEncoder().encode('bench custodian'));
const pid2 = derivePid(new TextEncoder().encode('bench client'));

interface Run<R> {
  readonly r1: R;
  readonly r2: R;
  readonly bytes: number;
  /** Milliseconds from after P1's first message to the end. */
  readonly onlineMs: number;
}

/** Delivers messages alternately until both parties have a result. */
function run<R>(p1: FrostParty<R>, p2: FrostParty<R>): Run<R> {
  const queue: { to: 1 | 2; m: Uint8Array }[] = [];
  for (const m of p1.start()) queue.push({ to: 2, m });
  for (const m of p2.start()) queue.push({ to: 1, m });
  const t0 = performance.now();
  let bytes = 0;
  let r1: R | undefined;
  let r2: R | undefined;
  while (queue.length > 0) {
    const { to, m } = queue.shift()!;
    bytes += m.length;
    const out = (to === 1 ? p1 : p2).receive(m);
    if (out.result !== undefined) {
      if (to === 1) r1 = out.result;
      else r2 = out.result;
    }
    for (const x of out.messages) queue.push({ to: to === 1 ? 2 : 1, m: x });
  }
  if (r1 === undefined || r2 === undefined) throw new Error('bench run did not complete');
  return { r1, r2, bytes, onlineMs: performance.now() - t0 };
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

interface ShareResult {
  readonly share: Uint8Array;
  readonly publicKey: string;
}

export async function benchEddsa(reps: number): Promise<Record<string, number>> {
  const n = Math.max(1, Math.floor(reps));
  const ms: Record<'keygen' | 'sign' | 'online' | 'backup' | 'recover', number[]> = { keygen: [], sign: [], online: [], backup: [], recover: [] };
  const bytes = { keygen: 0, sign: 0, backup: 0, recover: 0, clientShare: 0 };
  const message = new Uint8Array(256).fill(0x5a); // a typical Solana transaction message size
  // One warm-up of each so the medians do not include noble's first-use precomputation.
  for (let i = 0; i <= n; i++) {
    const k = timed(() => run<ShareResult>(createFrostKeygenP1({ pid1, pid2, epoch: 0 }), createFrostKeygenP2({ pid1, pid2 })));
    const s = timed(() =>
      run(
        createFrostSignP1({ pid1, pid2, share: k.value.r1.share, message }),
        createFrostSignP2({ pid1, pid2, share: k.value.r2.share, message }),
      ),
    );
    const b = timed(() =>
      run<ShareResult>(
        createFrostBackupP1({ pid1, pid2, share: k.value.r1.share, method: 'PASSWORD' }),
        createFrostBackupP2({ pid1, pid2, share: k.value.r2.share, method: 'PASSWORD' }),
      ),
    );
    const r = timed(() =>
      run<ShareResult>(
        createFrostRecoverP1({ pid1, pid2, share: b.value.r1.share, epoch: 1 }),
        createFrostRecoverP2({ pid1, pid2, share: b.value.r2.share }),
      ),
    );
    if (k.value.r1.publicKey !== r.value.r2.publicKey) throw new Error('bench: recover changed the public key');
    if (i === 0) continue;
    ms.keygen.push(k.ms);
    ms.sign.push(s.ms);
    ms.online.push(s.value.onlineMs);
    ms.backup.push(b.ms);
    ms.recover.push(r.ms);
    bytes.keygen = k.value.bytes;
    bytes.sign = s.value.bytes;
    bytes.backup = b.value.bytes;
    bytes.recover = r.value.bytes;
    bytes.clientShare = k.value.r2.share.length;
    await Promise.resolve();
  }
  return {
    keygen_ms: round2(median(ms.keygen)),
    sign_ms: round2(median(ms.sign)),
    sign_online_ms: round2(median(ms.online)),
    backup_ms: round2(median(ms.backup)),
    recover_ms: round2(median(ms.recover)),
    keygen_bytes: bytes.keygen,
    sign_bytes: bytes.sign,
    backup_bytes: bytes.backup,
    recover_bytes: bytes.recover,
    client_share_bytes: bytes.clientShare,
  };
}
