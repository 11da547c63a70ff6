/**
 * Test-only drivers for keygen: fixture prime sources, seeded randomness per party (so a party can be
 * replayed into the same state and fed a tampered message), and a pump that runs a session to its end.
 */
import { vi } from 'vitest';
import { isTandemError, type TandemError } from '../../src/errors.js';
import { intCommitmentPin } from '../../src/mpc/int-commitment.js';
import { createKeygenP1, createKeygenP2, type KeygenResult, type MpcParty } from '../../src/mpc/keygen.js';
import { XofStream } from '../../src/mpc/oracle.js';
import type { PrimeSource } from '../../src/mpc/primes.js';
import { big, icFixture, params } from './helpers.js';

export const ic = icFixture();
export const icPin = intCommitmentPin(ic.params);
export const pid1 = new Uint8Array(16).fill(0xa1);
export const pid2 = new Uint8Array(16).fill(0xb2);

/** A prime source that returns fixture key i's two primes, in order, again and again. */
export function fixturePrimes(i: number): PrimeSource {
  const k = params.paillier[i];
  if (k === undefined) throw new Error(`no Paillier fixture ${i}`);
  const primes = [big(k.p), big(k.q)];
  let next = 0;
  return () => primes[next++ % 2] ?? 0n;
}

let current: XofStream | undefined;

/**
 * Routes `crypto.getRandomValues` (which noble's randomBytes, and so all of src/mpc, uses) to the stream
 * of the party being called, when there is one. Call once per test file.
 */
export function installSeededRandom(): void {
  const cr = globalThis.crypto;
  const original = cr.getRandomValues.bind(cr) as <T extends ArrayBufferView>(array: T) => T;
  vi.spyOn(cr, 'getRandomValues').mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
    if (array === null) return array;
    if (current !== undefined && array instanceof Uint8Array) {
      array.set(current.next(array.length));
      return array;
    }
    return original(array);
  });
}

/** Wraps a party so that every call draws its randomness from its own stream, seeded by `seed`. */
export function seeded<R>(party: MpcParty<R>, seed: string): MpcParty<R> {
  const stream = new XofStream(new TextEncoder().encode(seed));
  const run = <T>(f: () => T): T => {
    const prev = current;
    current = stream;
    try {
      return f();
    } finally {
      current = prev;
    }
  };
  return { start: () => run(() => party.start()), receive: (m) => run(() => party.receive(m)) };
}

export interface PartyOptions {
  readonly pinned?: boolean;
  readonly fixture?: number;
  readonly epoch?: bigint;
}

export function p1(o: PartyOptions = {}): MpcParty<KeygenResult> {
  return createKeygenP1({
    pid1,
    pid2,
    epoch: o.epoch ?? 0n,
    primeSource: fixturePrimes(o.fixture ?? 0),
    intCommitment: ic,
    sendIcProof: !(o.pinned ?? true),
  });
}

export function p2(o: PartyOptions = {}): MpcParty<KeygenResult> {
  return createKeygenP2((o.pinned ?? true) ? { pid1, pid2, icPin } : { pid1, pid2 });
}

/** The four messages and both results of one honest session. */
export interface Transcript {
  readonly k1: Uint8Array;
  readonly k2: Uint8Array;
  readonly k3: Uint8Array;
  readonly k4: Uint8Array;
  readonly client: KeygenResult;
  readonly custodian: KeygenResult;
}

function one(messages: Uint8Array[]): Uint8Array {
  if (messages.length !== 1 || messages[0] === undefined) throw new Error(`expected one message, got ${messages.length}`);
  return messages[0];
}

export function run(a: MpcParty<KeygenResult>, b: MpcParty<KeygenResult>): Transcript {
  const k1 = one(a.start());
  if (b.start().length !== 0) throw new Error('P2 sends nothing first');
  const k2 = one(b.receive(k1).messages);
  const k3 = one(a.receive(k2).messages);
  const r3 = b.receive(k3);
  const k4 = one(r3.messages);
  const r4 = a.receive(k4);
  if (r3.result === undefined || r4.result === undefined || r4.messages.length !== 0) throw new Error('no result');
  return { k1, k2, k3, k4, client: r3.result, custodian: r4.result };
}

/** What happened when a session was driven with one message replaced. */
export interface Outcome {
  /** The first error thrown, by either party. */
  readonly error: TandemError | undefined;
  /** Who threw it. */
  readonly by: 'P1' | 'P2' | undefined;
  readonly clientResult: boolean;
  readonly custodianResult: boolean;
  /** The party that threw throws again, with the same code, when it is given the honest message after. */
  readonly stillAborted: boolean;
}

/**
 * Replays a seeded session whose honest run was `honest` (made by the parties `make` returns, with the
 * same seeds), but delivers `tamper(honest message t)` as message t (0 = K1 … 3 = K4), and follows the
 * session from there until a party throws or it ends. A party is brought into its pre-tamper state by
 * feeding it the honest messages it would have received (seeded, it answers exactly as in `honest`), and
 * only when the session reaches it, so a tampered K3 costs a client replay, not a whole session.
 */
export function tamperAt(
  honest: Transcript,
  make: () => { a: MpcParty<KeygenResult>; b: MpcParty<KeygenResult> },
  t: number,
  tamper: (m: Uint8Array) => Uint8Array,
): Outcome {
  const msgs = [honest.k1, honest.k2, honest.k3, honest.k4];
  const { a, b } = make();
  const receiverOf = (r: number): MpcParty<KeygenResult> => (r % 2 === 0 ? b : a);
  const fed = new Map<MpcParty<KeygenResult>, number>();
  const catchUp = (p: MpcParty<KeygenResult>, before: number): void => {
    let from = fed.get(p);
    if (from === undefined) {
      const first = p.start();
      if (p === a && !eq(first[0], msgs[0])) throw new Error('replay diverged at K1');
      from = 0;
    }
    for (let r = from; r < before; r++) {
      if (receiverOf(r) !== p) continue;
      const m = msgs[r];
      if (m === undefined) throw new Error('no honest message');
      const out = p.receive(m).messages;
      if (r + 1 < msgs.length && !eq(out[0], msgs[r + 1])) throw new Error(`replay diverged at K${r + 2}`);
    }
    fed.set(p, before);
  };
  let clientResult = false;
  let custodianResult = false;
  let msg = tamper(msgs[t] ?? new Uint8Array());
  let error: TandemError | undefined;
  let by: 'P1' | 'P2' | undefined;
  let stillAborted = false;
  for (let r = t; r < msgs.length; r++) {
    const p = receiverOf(r);
    catchUp(p, r);
    let out: { readonly messages: Uint8Array[]; readonly result?: KeygenResult };
    try {
      out = p.receive(msg);
    } catch (e) {
      if (!isTandemError(e)) throw e;
      error = e;
      by = p === a ? 'P1' : 'P2';
      try {
        p.receive(msgs[r] ?? new Uint8Array());
      } catch (again) {
        stillAborted = isTandemError(again) && again.code === e.code;
      }
      break;
    }
    fed.set(p, r + 1);
    if (out.result !== undefined) {
      if (p === a) custodianResult = true;
      else clientResult = true;
    }
    const next = out.messages[0];
    if (next === undefined) break;
    msg = next;
  }
  return { error, by, clientResult, custodianResult, stillAborted };
}

function eq(x: Uint8Array | undefined, y: Uint8Array | undefined): boolean {
  return x !== undefined && y !== undefined && x.length === y.length && x.every((v, i) => v === y[i]);
}
