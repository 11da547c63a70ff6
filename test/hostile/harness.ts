/**
 * Shared by the hostile-party harnesses (issue #13 item 3): where the fields of a protocol message lie,
 * the mutations made from them, and the bookkeeping both harnesses report with.
 *
 * Field boundaries come from the protocol's own readers, not from a hand-kept table: every message is
 * read by src/mpc's WireReader (src/mpc/wire.ts, the fixed-width encoding of ECDSA-2PC §1.8; the
 * length-prefixed `Enc` of src/mpc/encoding.ts is only ever hashed, never sent), so the harness wraps
 * WireReader's field methods for the duration of one read and records each field's name, offset and
 * width. ECDSA messages are read live with their exported decoders (their bounded fields vary in length
 * from run to run); FROST messages have fixed widths and no exported decoders, so their layout is
 * recorded once from a local honest run of the real parties and reused (checked against the length).
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { expect } from 'vitest';
import { isTandemError } from '../../src/errors.js';
import { decodeBackupB1, decodeBackupB2, decodeBackupB3, decodeBackupB4 } from '../../src/mpc/backup.js';
import { minBytes } from '../../src/mpc/bigint.js';
import { clientMpc } from '../../src/mpc/client.js';
import { createFrostKeygenP1 } from '../../src/mpc/frost-dkg.js';
import { createFrostBackupP1, createFrostRecoverP1 } from '../../src/mpc/frost-reshare.js';
import { createFrostSignP1 } from '../../src/mpc/frost-sign.js';
import { decodeKeygenK1, decodeKeygenK2, decodeKeygenK3, decodeKeygenK4 } from '../../src/mpc/keygen.js';
import { decodeRecoverR1, decodeRecoverR2, decodeRecoverR3, decodeRecoverR4 } from '../../src/mpc/recover.js';
import { decodeSignature, decodeSignS0, decodeSignS1, decodeSignS2, decodeSignS3, decodeSignS4 } from '../../src/mpc/sign-wire.js';
import { WireReader } from '../../src/mpc/wire.js';
import type { WalletView } from '../../src/types.js';
import { call, OPERATOR_KEY, type ServerProcess } from '../helpers/server-process.js';

// ---- field layouts ----------------------------------------------------------------------------------

export type FieldKind = 'bytes' | 'scalar' | 'point' | 'fixed' | 'bounded';

export interface Field {
  /** The reader's own name for the field (`Π_DL z[3]`). */
  readonly name: string;
  /** The name with array indices removed (`Π_DL z[]`): the unit of "every field at least once". */
  readonly group: string;
  readonly kind: FieldKind;
  readonly offset: number;
  /** Bytes on the wire, the 2-byte length of a bounded field included. */
  readonly size: number;
}

const WIDTH: Record<Exclude<FieldKind, 'bounded'>, (args: unknown[]) => number> = {
  bytes: (a) => a[0] as number,
  scalar: () => 32,
  point: () => 33,
  fixed: (a) => a[0] as number,
};
const NAME_ARG: Record<FieldKind, number> = { bytes: 1, scalar: 0, point: 0, fixed: 1, bounded: 1 };

/**
 * Runs `read` (which must read a message with WireReader, synchronously) and returns the fields of the
 * reader that consumed the most bytes, with what `read` returned or threw. A read that throws part-way
 * still reports the fields it had read.
 */
export function traceRead<T>(read: () => T, length?: number): { fields: Field[]; value?: T; error?: unknown } {
  const proto = WireReader.prototype as unknown as Record<FieldKind, (...args: unknown[]) => unknown>;
  const kinds = Object.keys(NAME_ARG) as FieldKind[];
  const saved = Object.fromEntries(kinds.map((k) => [k, proto[k]])) as Record<FieldKind, (...args: unknown[]) => unknown>;
  const perReader = new Map<object, { pos: number; fields: Field[] }>();
  for (const kind of kinds) {
    proto[kind] = function (this: object, ...args: unknown[]) {
      const value = saved[kind].apply(this, args);
      let rec = perReader.get(this);
      if (!rec) perReader.set(this, (rec = { pos: 0, fields: [] }));
      const size = kind === 'bounded' ? 2 + minBytes(value as bigint).length : WIDTH[kind](args);
      const name = String(args[NAME_ARG[kind]]);
      rec.fields.push({ name, group: name.replace(/\[\d+\]/g, '[]'), kind, offset: rec.pos, size });
      rec.pos += size;
      return value;
    };
  }
  let outcome: { value?: T; error?: unknown };
  try {
    outcome = { value: read() };
  } catch (error) {
    outcome = { error };
  } finally {
    for (const kind of kinds) proto[kind] = saved[kind];
  }
  // A party may read more than the message while it handles it (the client decodes the share it just
  // made, say): with the message's length given, the reader that read exactly that many bytes is the one.
  const total = (fields: Field[]) => fields.reduce((n, f) => n + f.size, 0);
  let best: Field[] = [];
  for (const { fields } of perReader.values()) if (total(fields) > total(best) && (length === undefined || total(fields) <= length)) best = fields;
  return { fields: best, ...outcome };
}

// ---- message names and layouts --------------------------------------------------------------------------

const ECDSA_NAMES: Record<number, string> = {
  0x11: 'K1', 0x12: 'K2', 0x13: 'K3', 0x14: 'K4',
  0x20: 'S0', 0x21: 'S1', 0x22: 'S2', 0x23: 'S3', 0x24: 'S4',
  0x31: 'B1', 0x32: 'B2', 0x33: 'B3', 0x34: 'B4',
  0x41: 'R1', 0x42: 'R2', 0x43: 'R3', 0x44: 'R4',
};
const FROST_PROTOCOLS: Record<number, string> = { 0xa0: 'dkg', 0xb0: 'backup', 0xc0: 'recover', 0xd0: 'sign' };

/** A protocol message's name from its round tag: `K2`, `S4` (ECDSA-2PC §3) or `dkg M3`, `sign M2` (FROST). */
export function messageName(m: Uint8Array): string {
  const tag = m[0] ?? -1;
  const ecdsa = ECDSA_NAMES[tag];
  if (ecdsa) return ecdsa;
  const frost = FROST_PROTOCOLS[tag & 0xf0];
  if (frost && (tag & 0x0f) >= 1 && (tag & 0x0f) <= 5) return `${frost} M${tag & 0x0f}`;
  throw new Error(`no protocol message has the tag ${tag}`);
}

const DECODERS: Record<string, (m: Uint8Array) => unknown> = {
  K1: (m) => decodeKeygenK1(m), K2: decodeKeygenK2, K3: decodeKeygenK3, K4: decodeKeygenK4,
  S0: decodeSignS0, S1: decodeSignS1, S2: decodeSignS2, S3: decodeSignS3, S4: decodeSignS4,
  B1: decodeBackupB1, B2: decodeBackupB2, B3: decodeBackupB3, B4: decodeBackupB4,
  R1: (m) => decodeRecoverR1(m), R2: decodeRecoverR2, R3: decodeRecoverR3, R4: decodeRecoverR4,
  // The custodian's last ECDSA signing message, r ‖ s ‖ v (§3.2 step 12), carries no round tag.
  'S answer': decodeSignature,
};

let frostLayouts: Map<string, Field[]> | undefined;

/**
 * The layouts of every FROST message, read by the receiving party of a local honest run of the real
 * parties (the custodian's from src/mpc, the client's from clientMpc): keygen, Backup, Recover, sign.
 */
function frostTemplates(): Map<string, Field[]> {
  if (frostLayouts) return frostLayouts;
  const out = new Map<string, Field[]>();
  const pid1 = new Uint8Array(16).fill(0x71);
  const pid2 = new Uint8Array(16).fill(0x72);
  const mpc = clientMpc();
  type P = { start(): Uint8Array[]; receive(m: Uint8Array): { messages: Uint8Array[]; result?: unknown } };
  const run = (p1: P, p2: P): { r1: unknown; r2: unknown } => {
    let toP2 = p1.start();
    let toP1 = p2.start();
    const results: { r1?: unknown; r2?: unknown } = {};
    /** Hands `inbox` to `party`, recording each message's layout as it reads it; returns its replies. */
    const deliver = (party: P, inbox: Uint8Array[], result: 'r1' | 'r2'): Uint8Array[] =>
      inbox.flatMap((m) => {
        const t = traceRead(() => party.receive(m), m.length);
        if (t.error) throw t.error;
        out.set(messageName(m), t.fields);
        if (t.value!.result !== undefined) results[result] = t.value!.result;
        return t.value!.messages;
      });
    for (let i = 0; i < 10 && (toP1.length > 0 || toP2.length > 0); i++) {
      const next1 = deliver(p2, toP2, 'r2');
      const next2 = deliver(p1, toP1, 'r1');
      toP1 = next1;
      toP2 = next2;
    }
    return { r1: results.r1, r2: results.r2 };
  };
  const share = (r: unknown) => (r as { share: Uint8Array }).share;
  const gen = run(createFrostKeygenP1({ pid1, pid2, epoch: 0 }), mpc.generate('ED25519')({ pid1, pid2 }));
  const backup = run(createFrostBackupP1({ pid1, pid2, share: share(gen.r1), method: 'GDRIVE' }), mpc.backup('ED25519', share(gen.r2), 'GDRIVE')({ pid1, pid2 }));
  run(createFrostRecoverP1({ pid1, pid2, share: share(backup.r1), epoch: 1 }), mpc.recover('ED25519', share(backup.r2))({ pid1, pid2 }));
  const message = new Uint8Array([1, 2, 3]);
  run(createFrostSignP1({ pid1, pid2, share: share(gen.r1), message }), mpc.sign('ED25519', share(gen.r2), { kind: 'raw', digest: bytesToHex(message) }, message)({ pid1, pid2 }));
  frostLayouts = out;
  return out;
}

/**
 * The fields of a live protocol message: ECDSA messages read by their own decoder (so a bounded field's
 * actual length is used), FROST messages by the recorded layout of their name, which must cover exactly
 * the message's bytes.
 */
export function layoutOf(m: Uint8Array, name = messageName(m)): Field[] {
  const decode = DECODERS[name];
  let fields: Field[];
  if (decode) {
    const t = traceRead(() => decode(m));
    if (t.error) throw new Error(`${name} does not decode: ${String(t.error)}`);
    fields = t.fields;
  } else {
    fields = frostTemplates().get(name) ?? [];
  }
  const covered = fields.reduce((n, f) => n + f.size, 0);
  if (fields.length === 0 || covered !== m.length) throw new Error(`the layout of ${name} covers ${covered} of its ${m.length} bytes`);
  return fields;
}

/** The field groups of a layout in wire order: each group's first and last element. */
export function groupsOf(fields: readonly Field[]): { group: string; first: Field; last: Field; count: number }[] {
  const out = new Map<string, { group: string; first: Field; last: Field; count: number }>();
  for (const f of fields) {
    const g = out.get(f.group);
    if (g) {
      g.last = f;
      g.count++;
    } else out.set(f.group, { group: f.group, first: f, last: f, count: 1 });
  }
  return [...out.values()];
}

// ---- mutations ----------------------------------------------------------------------------------------

export interface Mutation {
  /** What was done, for the report: `Q2: first byte`, `whole: truncated`. */
  readonly label: string;
  /** The field group it hits, or `whole` for message-level mutations. */
  readonly group: string;
  readonly apply: (message: Uint8Array) => Uint8Array;
}

const flipAt = (i: number) => (m: Uint8Array): Uint8Array => {
  const out = m.slice();
  out[i] = (out[i] ?? 0) ^ 0x01;
  return out;
};

/**
 * For every field group of `fields`: the lowest bit of the first byte of its first element flipped and,
 * unless the group is one byte, of the last byte of its last element; for a bounded integer also its
 * 2-byte length prefix plus one. Labels depend only on the group's shape, so a label names the same
 * mutation in every session even where a bounded field's length differs (a zero-length value's "byte"
 * is its length prefix's low byte).
 */
export function fieldMutations(fields: readonly Field[]): Mutation[] {
  const out: Mutation[] = [];
  const valueByte = (f: Field, which: 'first' | 'last'): number => {
    if (f.kind === 'bounded' && f.size === 2) return f.offset + 1;
    return which === 'first' ? (f.kind === 'bounded' ? f.offset + 2 : f.offset) : f.offset + f.size - 1;
  };
  for (const { group, first, last, count } of groupsOf(fields)) {
    if (first.size === 0) continue; // an empty payload: its length field is the group that carries it
    out.push({ label: `${group}: first byte`, group, apply: flipAt(valueByte(first, 'first')) });
    const oneByte = count === 1 && first.kind !== 'bounded' && first.size === 1;
    if (!oneByte) out.push({ label: `${group}: last byte`, group, apply: flipAt(valueByte(last, 'last')) });
    if (first.kind === 'bounded') {
      const at = first.offset;
      out.push({
        label: `${group}: length prefix`,
        group,
        apply: (m) => {
          const o = m.slice();
          const len = (((o[at] ?? 0) << 8) | (o[at + 1] ?? 0)) + 1;
          o[at] = len >> 8;
          o[at + 1] = len & 0xff;
          return o;
        },
      });
    }
  }
  return out;
}

/** Message-level damage: one byte short, one byte long, nothing at all. */
export const wholeMutations: readonly Mutation[] = [
  { label: 'whole: truncated by one byte', group: 'whole', apply: (m) => m.slice(0, m.length - 1) },
  { label: 'whole: one byte appended', group: 'whole', apply: (m) => Uint8Array.from([...m, 0]) },
  { label: 'whole: empty frame', group: 'whole', apply: () => new Uint8Array(0) },
];

/** Every mutation of a message: its fields' (by its live layout), then the message-level ones. */
export function mutationsOf(m: Uint8Array, name?: string): Mutation[] {
  return [...fieldMutations(layoutOf(m, name)), ...wholeMutations];
}

/** The mutation named `label`, computed on the live message `m`. */
export function mutate(m: Uint8Array, label: string, name?: string): Uint8Array {
  const found = mutationsOf(m, name).find((x) => x.label === label);
  if (!found) throw new Error(`${name ?? messageName(m)} has no mutation "${label}"`);
  return found.apply(m);
}

// ---- the custodian, as its operator sees it ------------------------------------------------------------

export interface ClientKey {
  readonly walletId: string;
  readonly apiKey: string;
}

export async function newClient(server: Pick<ServerProcess, 'url'>): Promise<ClientKey> {
  const r = await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} });
  expect(r.status).toBe(201);
  return r.body as ClientKey;
}

/** The wallet as the operator API shows it: what "no state change" is checked against. */
export async function operatorView(server: Pick<ServerProcess, 'url'>, walletId: string): Promise<WalletView> {
  const r = await call(server, 'GET', `/v1/operator/clients/${walletId}`, { key: OPERATOR_KEY });
  expect(r.status).toBe(200);
  return r.body.wallet as WalletView;
}

/** The custodian process is alive and answers. */
export async function assertServing(server: ServerProcess, where: string): Promise<void> {
  expect(server.child.exitCode, `${where}: the custodian process exited`).toBeNull();
  expect((await call(server, 'GET', '/health')).status, `${where}: /health`).toBe(200);
}

export async function unlockPair(server: Pick<ServerProcess, 'url'>, walletId: string, pairId: string): Promise<void> {
  const r = await call(server, 'POST', `/v1/operator/clients/${walletId}/pairs/${pairId}/unlock`, { key: OPERATOR_KEY });
  expect(r.status).toBe(204);
}

/** A TandemError's code, or a description of what else it was (an untyped error is a finding). */
export function codeOf(err: unknown): string {
  if (isTandemError(err)) return err.code;
  return `untyped ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
}

/**
 * The custodian's abuse limits switched off (0 = off): the harnesses open several hundred sessions a minute
 * from one address on purpose, and what they test is each session's handling, not the limits (which have
 * their own tests). A real hostile client would meet RATE_LIMITED sooner.
 */
export const NO_RATE_LIMITS: Record<string, string> = { TANDEM_RATE_LIMIT_KEY_PER_MIN: '0', TANDEM_RATE_LIMIT_IP_PER_MIN: '0' };

/** How deep the field sweeps go: `full` (TANDEM_HOSTILE_DEPTH=full) flips first and last byte of every group. */
export const DEPTH: 'quick' | 'full' = process.env['TANDEM_HOSTILE_DEPTH'] === 'full' ? 'full' : 'quick';

// ---- bookkeeping ----------------------------------------------------------------------------------------

export interface AttemptRecord {
  readonly harness: 'hostile client' | 'hostile custodian';
  /** `generate SECP256K1`, `sign ED25519`… */
  readonly operation: string;
  /** The message or frame attacked (`K2`, `ready`, `sequence`). */
  readonly target: string;
  readonly attack: string;
  /** What ended the attempt: the typed code, and who produced it. */
  readonly outcome: string;
}

/** Collects attempts and prints one table row per (operation, target, outcome kind). */
export class Tally {
  readonly records: AttemptRecord[] = [];

  add(r: AttemptRecord): void {
    this.records.push(r);
  }

  /** Per message: the field groups its attacks hit (from their labels, `group: first byte`). */
  fields(): string {
    const byTarget = new Map<string, Set<string>>();
    for (const r of this.records) {
      if (r.target === 'sequence' || r.target === 'ready' || r.target === 'done' || r.attack.startsWith('whole:')) continue;
      const set = byTarget.get(r.target) ?? new Set<string>();
      set.add(r.attack.slice(0, r.attack.lastIndexOf(':')));
      byTarget.set(r.target, set);
    }
    return [...byTarget].map(([t, g]) => `${t} (${g.size}): ${[...g].join(', ')}`).join('\n');
  }

  /**
   * What the run prints: one line by default, and with TANDEM_HOSTILE_REPORT=1 the tables that
   * docs/reliability.md is made from.
   */
  report(title: string): string {
    const head = `${title}: ${this.records.length} attempts`;
    return process.env['TANDEM_HOSTILE_REPORT'] === '1'
      ? `${head}\n${this.table()}\n\nfield groups:\n${this.fields()}`
      : `${head} (TANDEM_HOSTILE_REPORT=1 prints the table per message)`;
  }

  /** Rows of `| on | message | attempts | outcomes |`. */
  table(): string {
    const rows = new Map<string, { on: string; target: string; n: number; outcomes: Map<string, number> }>();
    for (const r of this.records) {
      const key = `${r.operation}|${r.target}`;
      let row = rows.get(key);
      if (!row) rows.set(key, (row = { on: r.operation, target: r.target, n: 0, outcomes: new Map() }));
      row.n++;
      row.outcomes.set(r.outcome, (row.outcomes.get(r.outcome) ?? 0) + 1);
    }
    return [...rows.values()]
      .map((r) => `| ${r.on} | ${r.target} | ${r.n} | ${[...r.outcomes].map(([o, n]) => `${o} ×${n}`).join(', ')} |`)
      .join('\n');
  }
}
