/**
 * A hostile custodian against the real client — issue #13 item 3.
 *
 * The client is the whole real stack: the wallet facade (createTandemWallet) over remoteCustodian and
 * clientMpc(), a keychain and a backup method, talking to a real custodian process (`tandem serve`). A
 * man in the middle sits in the client's WebSocket (every frame reaches the client's handler through it)
 * and plays the hostile custodian: each field of each custodian message (located by the protocol's own
 * reader, see harness.ts) with its first byte and length prefix flipped (at full depth also its last
 * byte), each message truncated, lengthened or emptied; rounds skipped, repeated and out of order;
 * messages replayed from an earlier session of this client and from another client's session; the JSON
 * `ready` frame (pid1, pid2, op, curve, a replacement's challenge) and the `done` frame's outcome
 * corrupted. For Generate, Backup, Recover and Sign on both curves.
 *
 * After every attempt: the operation rejects with a TandemError of an expected code (a hang is a failure,
 * bounded by HANG_MS); the keychain holds exactly what it held (no half-made share); the backup method
 * holds no data key of a backup that did not complete; the wallet machine has settled in the state the
 * custodian's truth and the keychain imply; the custodian process still answers. After each operation's
 * attacks the same client completes that operation against the honest custodian.
 *
 * Six lanes run side by side (Generate and Backup, Sign, Recover; per curve). The facade works on
 * SECP256K1 before ED25519, so the ED25519 lanes first let SECP256K1 reach the state each operation starts
 * from (the honest custodian finishes SECP256K1, the man in the middle breaks ED25519's first message).
 * Some attacks run one layer below the facade, through the calls it makes (which store nothing before
 * they resolve): ED25519 Recover, because the facade always recovers every curve, SECP256K1 first; and
 * SECP256K1 Generate/Recover attacks on anything but K1/R1's Π_IC material, with the party pinned to the
 * custodian's Π_IC parameters (see pinnedVia). Every `done` attack — where the protocol call resolves and
 * the facade acts on the outcome — goes through the facade.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest';
import WebSocket from 'ws';
import { createCustodianClient } from '../../src/adapters/custodian-client.js';
import { MemoryBackupMethod, MemoryKeychain, remoteCustodian, type WebSocketConstructor } from '../../src/adapters/index.js';
import type { BackupMethodOptions } from '../../src/adapters/ports.js';
import { isTandemError } from '../../src/errors.js';
import { deriveDetail, keychainPrefix } from '../../src/machines/detail.js';
import { openBackupShare, parseEnvelope } from '../../src/machines/envelope.js';
import { createTandemWallet, type TandemWallet } from '../../src/machines/wallet.js';
import { clientMpc } from '../../src/mpc/client.js';
import { intCommitmentPin } from '../../src/mpc/int-commitment.js';
import { createKeygenP2, decodeKeygenK1 } from '../../src/mpc/keygen.js';
import { createRecoverP2 } from '../../src/mpc/recover.js';
import type { Curve, WalletView } from '../../src/types.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { assertServing, codeOf, DEPTH, groupsOf, layoutOf, messageName, mutate, mutationsOf, newClient, NO_RATE_LIMITS, Tally, type ClientKey } from './harness.js';

const tally = new Tally();
const dir = tempDir();
let server: ServerProcess;

// ---- the man in the middle ----------------------------------------------------------------------------

type Frame = Uint8Array | string;

/** One session as the man in the middle saw it: what the custodian really sent, before any change. */
interface Session {
  op: string;
  curve: string;
  readonly binaries: Uint8Array[];
  readonly texts: Record<string, any>[];
}

/** What the client receives instead of each custodian frame (text frames parsed). */
interface Plan {
  binary?(n: number, m: Uint8Array, s: Session): Frame[];
  text?(frame: Record<string, any>, s: Session): Frame[];
}

const passThrough: Plan = {};

class ManInTheMiddle {
  /** The plan of the sessions opened from now on. */
  plan: Plan = passThrough;
  readonly sessions: Session[] = [];
  readonly WebSocket: WebSocketConstructor;

  constructor() {
    const mitm = this;
    const inherited = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage')!;
    this.WebSocket = class MitmWebSocket extends WebSocket {
      readonly #session: Session = { op: '', curve: '', binaries: [], texts: [] };

      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        const session = this.#session;
        const plan = mitm.plan;
        mitm.sessions.push(session);
        let n = 0;
        // ws defines onmessage as an accessor on its prototype; the client's handler sees only what the plan delivers.
        Object.defineProperty(this, 'onmessage', {
          get: () => inherited.get!.call(this),
          set: (handler: ((event: { data: unknown }) => void) | null) =>
            inherited.set!.call(
              this,
              handler === null
                ? null
                : (event: WebSocket.MessageEvent) => {
                    let out: Frame[];
                    if (typeof event.data === 'string') {
                      const frame = JSON.parse(event.data) as Record<string, any>;
                      session.texts.push(frame);
                      out = plan.text ? plan.text(frame, session) : [event.data];
                    } else {
                      const m = new Uint8Array(event.data as ArrayBuffer).slice();
                      session.binaries.push(m);
                      out = plan.binary ? plan.binary(n++, m, session) : [m];
                    }
                    for (const f of out) handler.call(this, { data: typeof f === 'string' ? f : f.slice().buffer });
                  },
            ),
        });
      }

      override send(data: Parameters<WebSocket['send']>[0], ...rest: unknown[]): void {
        if (typeof data === 'string' && this.#session.op === '') {
          const f = JSON.parse(data) as { type?: string; op?: string; curve?: string };
          if (f.type === 'start') Object.assign(this.#session, { op: f.op, curve: f.curve });
        }
        (super.send as (...a: unknown[]) => void)(data, ...rest);
      }
    } as unknown as WebSocketConstructor;
  }
}

/** A backup method that remembers every data key it was asked to store. */
class WatchedMethod extends MemoryBackupMethod {
  readonly stored: string[] = [];
  override async storeKey(backupPairId: string, dataKey: Uint8Array, options: BackupMethodOptions): Promise<Uint8Array | null> {
    this.stored.push(backupPairId);
    return super.storeKey(backupPairId, dataKey, options);
  }
}

// ---- devices and lanes ------------------------------------------------------------------------------------

interface Device {
  readonly walletId: string;
  readonly key: ClientKey;
  readonly keychain: MemoryKeychain;
  readonly method: WatchedMethod;
  readonly mitm: ManInTheMiddle;
  readonly wallet: TandemWallet;
}

/** One lane: its curve and the test's own `expect` (soft failures are reported per lane, all of them). */
interface Lane {
  readonly curve: Curve;
  readonly expect: ExpectStatic;
}

async function openDevice(key: ClientKey, method: WatchedMethod, mitm = new ManInTheMiddle()): Promise<Device> {
  const keychain = new MemoryKeychain();
  const wallet = await createTandemWallet({
    custodian: remoteCustodian({ baseUrl: server.url, apiKey: key.apiKey, WebSocket: mitm.WebSocket }),
    keychain,
    mpc: clientMpc(),
    backupMethods: { GDRIVE: method },
  });
  return { walletId: key.walletId, key, keychain, method, mitm, wallet };
}

/** A new device of the same wallet (a new client API key), with the same backup method (the same drive). */
async function newDevice(d: Device): Promise<Device> {
  const issued = (await call(server, 'POST', `/v1/operator/clients/${d.walletId}/keys`, { key: OPERATOR_KEY })).body as { apiKey: string };
  return openDevice({ walletId: d.walletId, apiKey: issued.apiKey }, d.method);
}

/** Runs `fn` with `plan` in force on `d`'s sessions, and pass-through afterwards. */
async function withPlan<T>(d: Device, plan: Plan, fn: () => Promise<T>): Promise<T> {
  d.mitm.plan = plan;
  try {
    return await fn();
  } finally {
    d.mitm.plan = passThrough;
  }
}

/** Breaks the first custodian message of every `curve` session: the operation finishes the other curve only. */
const breakCurve = (curve: Curve): Plan => ({ binary: (n, m, s) => (s.curve === curve && n === 0 ? [new Uint8Array(0)] : [m]) });

/** `fn`, retried while the custodian still holds the lease of a session the client itself closed a moment ago. */
async function whenFree<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTandemError(err, 'OPERATION_IN_PROGRESS') || i >= 40) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

// ---- the operations -------------------------------------------------------------------------------------

type Op = 'generate' | 'backup' | 'recover' | 'sign';

const digestFor = (curve: Curve): Uint8Array => (curve === 'SECP256K1' ? sha256(utf8ToBytes('hostile custodian')) : utf8ToBytes('hostile custodian, ed25519'));

/** The operation as the app calls it on the facade. */
function facadeOp(op: Op, d: Device, curve: Curve): () => Promise<unknown> {
  switch (op) {
    case 'generate':
      return () => d.wallet.createWallet();
    case 'backup':
      return () => d.wallet.backupWallet('GDRIVE');
    case 'recover':
      return () => d.wallet.recoverWallet('GDRIVE');
    case 'sign':
      return () => d.wallet.signRaw(curve, digestFor(curve));
  }
}

/** Codes a client may answer a hostile custodian with, per operation: its own refusal or the custodian's. */
const REFUSALS: Record<Op, readonly string[]> = {
  generate: ['DKG_FAILED', 'MALFORMED_MESSAGE', 'PUBLIC_KEY_MISMATCH'],
  backup: ['BACKUP_FAILED', 'MALFORMED_MESSAGE', 'PUBLIC_KEY_MISMATCH'],
  recover: ['RECOVER_FAILED', 'MALFORMED_MESSAGE', 'PUBLIC_KEY_MISMATCH'],
  sign: ['SIGN_FAILED', 'MALFORMED_MESSAGE'],
};

/** Longer than any honest operation here; a wait this long is a hang, and a hang is a failure. */
const HANG_MS = 30_000;

async function keychainState(d: Device, curve?: Curve): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const prefix = curve ? `${keychainPrefix(d.walletId)}${curve}/` : keychainPrefix(d.walletId);
  for (const k of await d.keychain.keys(prefix)) out[k] = bytesToHex((await d.keychain.get(k))!);
  return out;
}

/**
 * The keychain rule after an attempt: the attacked curve's entries are exactly what they were, and any
 * entry of the other curve (which the same operation may have finished honestly first) is a pair the
 * custodian holds as STORED_CLIENT.
 */
async function assertKeychain(l: Lane, d: Device, before: Record<string, string>, where: string): Promise<void> {
  l.expect.soft(await keychainState(d, l.curve), `${where}: the keychain holds nothing new`).toEqual(before);
  const confirmed = new Set((await clientView(d)).signingPairs.filter((p) => p.status === 'STORED_CLIENT').map((p) => p.pairId));
  const otherCurve = Object.keys(await keychainState(d)).filter((k) => !k.startsWith(`${keychainPrefix(d.walletId)}${l.curve}/`));
  l.expect.soft(otherCurve.filter((k) => !confirmed.has(k.slice(k.lastIndexOf('/') + 1))), `${where}: every other entry is a confirmed pair`).toEqual([]);
}

async function clientView(d: { key: ClientKey }): Promise<WalletView> {
  return (await call(server, 'GET', '/v1/wallet', { key: d.key.apiKey })).body as WalletView;
}

/** The machine settled where the custodian's truth and the keychain put it (DESIGN §3: statuses equal after sync). */
async function assertConsistent(l: Lane, d: Device, where: string): Promise<void> {
  const snap = d.wallet.actor.getSnapshot();
  l.expect.soft(snap.hasTag('busy'), `${where}: the wallet machine settled`).toBe(false);
  l.expect.soft(snap.context.running, `${where}: no operation left running`).toBeNull();
  const keys = await d.keychain.keys(keychainPrefix(d.walletId));
  l.expect.soft(snap.context.detail, `${where}: the machine's detail is the custodian's truth`).toEqual(deriveDetail(await clientView(d), keys));
}

/** Where an attempt runs: through the facade of `device`, or one layer down (`run`, recorded by `mitm`). */
type Via = { readonly device: Device } | { readonly mitm: ManInTheMiddle; readonly run: () => Promise<unknown> };

interface Expect {
  /** A value the client never uses (the outcome's signature, a signature of the same digest): completing correctly is fine too. */
  readonly harmlessIfCompletes?: string;
}

async function attempt(l: Lane, op: Op, via: Via, target: string, attack: string, plan: Plan, opts: Expect = {}): Promise<void> {
  const { curve } = l;
  const where = `${op} ${curve} ${target} ${attack}`;
  const device = 'device' in via ? via.device : null;
  const mitm = device ? device.mitm : (via as { mitm: ManInTheMiddle }).mitm;
  const runOp = device ? facadeOp(op, device, curve) : (via as { run: () => Promise<unknown> }).run;
  const keysBefore = device ? await keychainState(device, curve) : {};
  const storedBefore = device ? device.method.stored.length : 0;
  let settled: { ok: true } | { ok: false; error: unknown } | 'hung';
  for (let i = 0; ; i++) {
    const sessionsBefore = mitm.sessions.length;
    let timer: NodeJS.Timeout | undefined;
    mitm.plan = plan;
    try {
      settled = await Promise.race([
        runOp().then(
          () => ({ ok: true as const }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
        new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), HANG_MS))),
      ]);
    } finally {
      mitm.plan = passThrough;
      clearTimeout(timer);
    }
    // A session the client closed itself releases the custodian's lease on its close event, a moment later.
    const started = mitm.sessions.slice(sessionsBefore).some((s) => s.texts.some((t) => t['type'] === 'ready'));
    if (settled === 'hung' || settled.ok || !isTandemError(settled.error, 'OPERATION_IN_PROGRESS') || started || i >= 40) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // Soft: one run reports every attempt that breaks a rule, not only the first.
  l.expect.soft(settled, `${where}: the operation hung`).not.toBe('hung');
  if (settled === 'hung') return;
  let outcome: string;
  if (settled.ok) {
    l.expect.soft(opts.harmlessIfCompletes, `${where}: the client accepted it`).toBeDefined();
    outcome = opts.harmlessIfCompletes ? `accepted, harmless: ${opts.harmlessIfCompletes}` : 'ACCEPTED: the operation reported success';
  } else {
    l.expect.soft(isTandemError(settled.error), `${where}: typed, not ${codeOf(settled.error)}`).toBe(true);
    outcome = `rejected: ${codeOf(settled.error)}`;
  }
  if (device) {
    if (!settled.ok || !opts.harmlessIfCompletes) await assertKeychain(l, device, keysBefore, where);
    // A data key may only have been stored for a backup that completed (the other curve's, in a replacement).
    const completed = new Set((await clientView(device)).backupPairs.filter((b) => b.status === 'STORED_CLIENT_BACKUP_SHARE').map((b) => b.backupPairId));
    l.expect.soft(device.method.stored.slice(storedBefore).filter((id) => !completed.has(id)), `${where}: no data key of an unfinished backup was stored`).toEqual([]);
  }
  if (!settled.ok) l.expect.soft(REFUSALS[op], `${where}: ${codeOf(settled.error)}`).toContain(codeOf(settled.error));
  if (device) await assertConsistent(l, device, where);
  await assertServing(server, where);
  tally.add({ harness: 'hostile custodian', operation: `${op} ${curve}`, target, attack, outcome });
}

// ---- the attacks ----------------------------------------------------------------------------------------

/** A message's name: its round tag, or (the ECDSA signature answer, which has none) its place. */
const nameAt = (op: Op, curve: Curve, k: number, m: Uint8Array): string => (op === 'sign' && curve === 'SECP256K1' && k === 2 ? 'S answer' : messageName(m));

/** In a session of the lane's curve only. */
const on = (curve: Curve, f: (n: number, m: Uint8Array, s: Session) => Frame[]): Plan => ({ binary: (n, m, s) => (s.curve === curve ? f(n, m, s) : [m]) });
const onText = (curve: Curve, f: (frame: Record<string, any>, s: Session) => Frame[]): Plan => ({
  text: (frame, s) => (s.curve === curve ? f(frame, s) : [JSON.stringify(frame)]),
});

/** Flips the last hex digit of a hex string (a pid or a challenge): same length, another value. */
const flipHex = (h: string): string => h.slice(0, -1) + (h.endsWith('0') ? '1' : '0');

/**
 * Quick depth leaves out, besides every last-byte flip, the proof material and public parameters of R1 and
 * R3 that K1 and K3 carry under the same name (Π_eq, Π_range, Π_IC, Π_DL, Π_PDL, Π_N, Com, Ñ, g̃, h̃): the
 * same reader reads them and the same verifier checks them, and each attempt costs a whole Paillier
 * session. Recover's own fields (its round, sid, epoch, coin δ1 and its commitment and opening, N′, c_b)
 * are always attacked. Full depth (TANDEM_HOSTILE_DEPTH=full) runs every group of every message.
 */
function quickSkips(name: string, group: string, label: string): boolean {
  if (DEPTH === 'full') return false;
  if (label.endsWith(': last byte')) return true;
  const twin = name === 'R1' ? 'K1' : name === 'R3' ? 'K3' : null;
  const sharedMaterial = group.startsWith('Π_') || ['Com', 'Ñ', 'g̃', 'h̃'].includes(group);
  return twin !== null && sharedMaterial && (sharedGroups.get(twin) ?? new Set()).has(group);
}
const sharedGroups = new Map<string, Set<string>>();

/** Where each attack kind runs; `message(k, group)` for the field attacks on the custodian's k-th message. */
interface Routes {
  readonly message: (k: number, group: string) => Via;
  readonly sequence: Via;
  readonly ready: Via;
  readonly done: Device;
}

const facadeRoutes = (d: Device): Routes => ({ message: () => ({ device: d }), sequence: { device: d }, ready: { device: d }, done: d });

async function fieldAttacks(l: Lane, op: Op, routes: Routes, reference: Session): Promise<void> {
  for (let k = 0; k < reference.binaries.length; k++) {
    const m = reference.binaries[k]!;
    const name = nameAt(op, l.curve, k, m);
    for (const { label, group } of mutationsOf(m, name)) {
      if (quickSkips(name, group, label)) continue;
      await attempt(l, op, routes.message(k, group), name, label, on(l.curve, (n, live) => (n === k ? [mutate(live, label, name)] : [live])));
    }
  }
}

async function sequenceAttacks(l: Lane, op: Op, via: Via, other: Session): Promise<void> {
  const { curve } = l;
  const mitm = 'device' in via ? via.device.mitm : via.mitm;
  const count = other.binaries.length;
  const last = count - 1;
  const first = nameAt(op, curve, 0, other.binaries[0]!);
  const lastName = nameAt(op, curve, last, other.binaries[last]!);
  // Taken before the attempt, so that the session attacked is never its own source.
  const own = (index: number): Uint8Array => {
    const s = mitm.sessions.filter((x) => x.op === op && x.curve === curve && x.binaries.length > index).at(-1);
    if (!s) throw new Error(`no earlier ${op} ${curve} session reached message ${index}`);
    return s.binaries[index]!;
  };
  if (count > 1) {
    const second = nameAt(op, curve, 1, other.binaries[1]!);
    const ownSecond = own(1);
    await attempt(l, op, via, 'sequence', `skip: ${second} delivered where ${first} is due`, on(curve, (n, m) => (n === 0 ? [ownSecond] : [m])));
    let m0: Uint8Array | undefined;
    await attempt(l, op, via, 'sequence', `out of order: ${first} again where ${second} is due`, on(curve, (n, m) => {
      if (n === 0) m0 = m;
      return n === 1 ? [m0!] : [m];
    }));
  }
  await attempt(l, op, via, 'sequence', `repeat: ${first} delivered twice`, on(curve, (n, m) => (n === 0 ? [m, m] : [m])));
  const ownFirst = own(0);
  await attempt(l, op, via, 'sequence', `replay: ${first} from an earlier session of this client`, on(curve, (n, m) => (n === 0 ? [ownFirst] : [m])));
  await attempt(l, op, via, 'sequence', `replay: ${first} from another client's session`, on(curve, (n, m) => (n === 0 ? [other.binaries[0]!] : [m])));
  if (count > 1) {
    const ownLast = own(last);
    // The ECDSA answer carries no session binding: an earlier signature of the same digest under the same key verifies.
    const sameDigestSignature = op === 'sign' && curve === 'SECP256K1' ? { harmlessIfCompletes: 'an earlier valid signature of the same digest under the same key' } : {};
    await attempt(l, op, via, 'sequence', `replay: ${lastName} from an earlier session of this client`, on(curve, (n, m) => (n === last ? [ownLast] : [m])), sameDigestSignature);
    await attempt(l, op, via, 'sequence', `replay: ${lastName} from another client's session`, on(curve, (n, m) => (n === last ? [other.binaries[last]!] : [m])));
  }
}

/**
 * Quick depth runs the frame-shape attacks on `ready` and `done` (a field missing, another op or curve
 * named, a frame twice or early) only where a session is cheap: runSession checks them before any party or
 * curve is involved, so SECP256K1 Generate and Recover (and `done` on ED25519 Recover, whose facade run
 * recovers SECP256K1 first) get only the attacks whose effect depends on the protocol: the party ids, and
 * the outcome's pair id and key.
 */
const skipShapes = (op: Op, curve: Curve, frame: 'ready' | 'done'): boolean =>
  DEPTH === 'quick' && ((curve === 'SECP256K1' && (op === 'generate' || op === 'recover')) || (frame === 'done' && op === 'recover'));

async function readyAttacks(l: Lane, op: Op, via: Via, other: Session): Promise<void> {
  const { curve } = l;
  const ready = (change: (f: Record<string, any>) => Record<string, any>): Plan => onText(curve, (f) => [JSON.stringify(f['type'] === 'ready' ? change({ ...f }) : f)]);
  await attempt(l, op, via, 'ready', 'pid1 changed', ready((f) => ({ ...f, pid1: flipHex(f['pid1']) })));
  await attempt(l, op, via, 'ready', 'pid2 changed', ready((f) => ({ ...f, pid2: flipHex(f['pid2']) })));
  const theirs = other.texts.find((t) => t['type'] === 'ready')!;
  await attempt(l, op, via, 'ready', "another client's ready frame", ready(() => theirs));
  if (skipShapes(op, curve, 'ready')) return;
  await attempt(l, op, via, 'ready', 'pid1 one byte short', ready((f) => ({ ...f, pid1: f['pid1'].slice(2) })));
  await attempt(l, op, via, 'ready', 'pid2 missing', ready((f) => ({ ...f, pid2: undefined })));
  await attempt(l, op, via, 'ready', 'another operation named', ready((f) => ({ ...f, op: op === 'sign' ? 'generate' : 'sign' })));
  await attempt(l, op, via, 'ready', 'the other curve named', ready((f) => ({ ...f, curve: curve === 'SECP256K1' ? 'ED25519' : 'SECP256K1' })));
  await attempt(l, op, via, 'ready', 'sent twice', onText(curve, (f) => (f['type'] === 'ready' ? [JSON.stringify(f), JSON.stringify(f)] : [JSON.stringify(f)])));
}

async function doneAttacks(l: Lane, op: Op, d: Device, other: Session): Promise<void> {
  const { curve } = l;
  const via = { device: d };
  const done = (attack: string, change: (o: Record<string, any>) => unknown, opts: Expect = {}): Promise<void> =>
    attempt(l, op, via, 'done', attack, onText(curve, (f) => [JSON.stringify(f['type'] === 'done' ? { ...f, outcome: change(structuredClone(f['outcome'])) } : f)]), opts);
  const theirs = other.texts.find((t) => t['type'] === 'done')!['outcome'];
  const bogusId = 'ab'.repeat(32);
  if (!skipShapes(op, curve, 'done')) {
    await done('outcome missing', () => undefined);
    await done('another operation', (o) => ({ ...o, op: op === 'sign' ? 'generate' : 'sign' }));
    await done("another client's outcome", () => theirs);
    await attempt(l, op, via, 'done', 'before the client party finished', on(curve, (n, m) => (n === 0 ? [m, JSON.stringify({ type: 'done', outcome: theirs })] : [m])));
  }
  if (op === 'generate' || op === 'recover') {
    await done('pair id changed (an id the wallet never had)', (o) => ({ ...o, pair: { ...o.pair, pairId: bogusId } }));
    // The id of a pair this wallet has (its last, whatever its status by then), read just before the attempt.
    const existing = (await clientView(d)).signingPairs.at(-1)?.pairId ?? bogusId;
    await done("pair id changed (another pair of this wallet's)", (o) => ({ ...o, pair: { ...o.pair, pairId: existing } }));
    // The other curve's confirmed pair: confirming it again succeeds at the custodian, so nothing downstream objects.
    const confirmedOther = (await clientView(d)).signingPairs.find((p) => p.status === 'STORED_CLIENT' && p.curve !== curve)?.pairId;
    if (confirmedOther) await done("pair id changed (the other curve's confirmed pair)", (o) => ({ ...o, pair: { ...o.pair, pairId: confirmedOther } }));
    await done('public key changed', (o) => ({ ...o, pair: { ...o.pair, publicKey: theirs.pair.publicKey } }));
    if (!skipShapes(op, curve, 'done')) await done('curve changed', (o) => ({ ...o, pair: { ...o.pair, curve: curve === 'SECP256K1' ? 'ED25519' : 'SECP256K1' } }));
  } else if (op === 'backup') {
    await done('backup pair id changed', (o) => ({ ...o, backupPair: { ...o.backupPair, backupPairId: bogusId } }));
    await done('public key changed', (o) => ({ ...o, backupPair: { ...o.backupPair, publicKey: theirs.backupPair.publicKey } }));
    await done('method changed', (o) => ({ ...o, backupPair: { ...o.backupPair, method: 'CUSTOM' } }));
  } else {
    await done('pair id changed', (o) => ({ ...o, pairId: bogusId }));
    await done("signature replaced by another client's", (o) => ({ ...o, signature: theirs.signature }), { harmlessIfCompletes: "the client uses its own party's verified signature, not the outcome's" });
  }
}

/** A recorded honest session of `op` on `curve` by another client. */
function otherSession(op: Op, curve: Curve): Session {
  const s = bystander.sessions.find((x) => x.op === op && x.curve === curve && x.texts.some((t) => t['type'] === 'done'));
  if (!s) throw new Error(`no recorded ${op} ${curve} session of another client`);
  return s;
}

/** Every attack on `op`, then the same client completes `op` against the honest custodian (through the facade). */
async function attackOperation(l: Lane, op: Op, d: Device, complete: () => Promise<void>, routes: Routes = facadeRoutes(d)): Promise<void> {
  const other = otherSession(op, l.curve);
  await fieldAttacks(l, op, routes, other);
  await sequenceAttacks(l, op, routes.sequence, other);
  await readyAttacks(l, op, routes.ready, other);
  await doneAttacks(l, op, routes.done, other);
  await whenFree(complete);
  await assertConsistent(l, d, `${op} ${l.curve} completed after the attacks`);
}

/**
 * SECP256K1 Generate and Recover one layer down, with the client's party pinned to the custodian's
 * integer-commitment parameters (as a client that pinned them at first contact is, ECDSA-2PC §1.8):
 * runSession and src/mpc's keygen/recover party, the ones clientMpc() wraps, minus the Π_IC check of
 * K1/R1 (≈0.6 s of BigInt per session). Used for every attack but those on K1/R1's Π_IC material and
 * whole-message damage and on `done`, which go through the facade, unpinned.
 */
function pinnedVia(d: Device, op: 'generate' | 'recover', recover?: { share: Uint8Array; backupPairId: string }): Via {
  const client = createCustodianClient({ baseUrl: server.url, apiKey: d.key.apiKey, WebSocket: d.mitm.WebSocket });
  let n = 0;
  return {
    mitm: d.mitm,
    run: () => {
      const idempotencyKey = `pinned-${op}-${++n}-${Date.now()}`;
      return recover
        ? client.runSession({ op: 'recover', curve: 'SECP256K1', idempotencyKey, backupPairId: recover.backupPairId, icPinned: true }, ({ pid1, pid2 }) => createRecoverP2({ pid1, pid2, share: recover.share, icPin }))
        : client.runSession({ op: 'generate', curve: 'SECP256K1', idempotencyKey, icPinned: true }, ({ pid1, pid2 }) => createKeygenP2({ pid1, pid2, icPin }));
    },
  };
}
let icPin: Uint8Array;

/** What a pinned K1/R1 leaves out or checks differently: these, and the whole-message damage, go to the unpinned facade. */
const IC_GROUPS = new Set(['Π_IC flag', 'Ñ', 'g̃', 'h̃', 'Π_IC E', 'Π_IC z[]', 'whole']);

/** SECP256K1 Generate or Recover: K1/R1's Π_IC material through the facade, unpinned; everything else pinned. */
const pinnedRoutes = (d: Device, pinned: Via): Routes => ({
  message: (k, group) => (k === 0 && IC_GROUPS.has(group) ? { device: d } : pinned),
  sequence: pinned,
  ready: pinned,
  done: d,
});

/** The client backup share of `curve`'s completed backup, opened as the facade would open it. */
async function clientBackupShare(d: Device, curve: Curve): Promise<{ share: Uint8Array; backupPairId: string }> {
  const backupPairId = (await clientView(d)).backupPairs.find((b) => b.curve === curve && b.status === 'STORED_CLIENT_BACKUP_SHARE')!.backupPairId;
  const custodian = remoteCustodian({ baseUrl: server.url, apiKey: d.key.apiKey, WebSocket: d.mitm.WebSocket });
  const envelope = parseEnvelope(await custodian.fetchBackupCiphertext(backupPairId));
  return { share: openBackupShare({ backupPairId, dataKey: d.method.peek(backupPairId, {}), envelope }), backupPairId };
}

// ---- the lanes ------------------------------------------------------------------------------------------

/** Another client whose honest sessions (every operation, both curves) are recorded for replay. */
const bystander = new ManInTheMiddle();

beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`, NO_RATE_LIMITS);
  const method = new WatchedMethod('GDRIVE');
  const b = await openDevice(await newClient(server), method);
  await b.wallet.createWallet();
  await b.wallet.backupWallet('GDRIVE');
  for (const curve of ['SECP256K1', 'ED25519'] as const) await b.wallet.signRaw(curve, digestFor(curve));
  const b2 = await newDevice(b);
  await b2.wallet.recoverWallet('GDRIVE');
  b.wallet.stop();
  b2.wallet.stop();
  bystander.sessions.push(...b.mitm.sessions, ...b2.mitm.sessions);
  icPin = intCommitmentPin(decodeKeygenK1(otherSession('generate', 'SECP256K1').binaries[0]!).ic);
  for (const [op, name] of [['generate', 'K1'], ['generate', 'K3']] as const) {
    const m = otherSession(op, 'SECP256K1').binaries[name === 'K1' ? 0 : 1]!;
    sharedGroups.set(name, new Set(groupsOf(layoutOf(m)).map((g) => g.group)));
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
  dir.remove();
  console.log(tally.report(`hostile custodian (${DEPTH})`));
});

function verifies(curve: Curve, publicKey: string, digest: Uint8Array, signature: Uint8Array): boolean {
  return curve === 'SECP256K1'
    ? secp256k1.verify(signature, digest, hexToBytes(publicKey), { prehash: false, lowS: true })
    : ed25519.verify(signature, digest, hexToBytes(publicKey), { zip215: false });
}

/**
 * Replacing the completed backup by proof (`replace: true`): the proof binds the custodian's challenge from
 * `ready`, which the man in the middle changes; the custodian must refuse the proof and the client keep its
 * completed backup. Then the same client replaces it for real.
 */
async function attackReplacement(l: Lane, d: Device): Promise<void> {
  const { curve } = l;
  const where = `backup ${curve} replacement`;
  const completedOf = async () => (await clientView(d)).backupPairs.filter((b) => b.curve === curve && b.status === 'STORED_CLIENT_BACKUP_SHARE');
  const before = await completedOf();
  const plan = onText(curve, (f) => [JSON.stringify(f['type'] === 'ready' ? { ...f, challenge: flipHex(f['challenge']) } : f)]);
  const outcome = await withPlan(d, plan, () => d.wallet.backupWallet('GDRIVE', { replace: true })).then(
    () => 'completed',
    (e: unknown) => codeOf(e),
  );
  l.expect.soft(['BACKUP_FAILED', 'MALFORMED_MESSAGE', 'BACKUP_REPLACEMENT_UNAUTHORISED'], `${where}: ${outcome}`).toContain(outcome);
  l.expect.soft(await completedOf(), `${where}: the completed backup is still the one`).toEqual(before);
  await assertConsistent(l, d, where);
  tally.add({ harness: 'hostile custodian', operation: `backup ${curve}`, target: 'ready', attack: 'replacement challenge changed', outcome: `rejected: ${outcome}` });
  await whenFree(() => d.wallet.backupWallet('GDRIVE', { replace: true }));
  l.expect.soft(await completedOf(), `${where}: the same client then replaces it`).not.toEqual(before);
}

/** Generate and Backup (and a replacement) on one wallet, attacked on the lane's curve. */
async function laneGenerateBackup(l: Lane): Promise<void> {
  const { curve, expect } = l;
  const d = await openDevice(await newClient(server), new WatchedMethod('GDRIVE'));
  if (curve === 'ED25519') await expect(withPlan(d, breakCurve(curve), () => d.wallet.createWallet())).rejects.toThrow();
  const pinned = curve === 'SECP256K1' ? pinnedVia(d, 'generate') : null;
  await attackOperation(
    l,
    'generate',
    d,
    async () => {
      await d.wallet.createWallet();
      expect(d.wallet.actor.getSnapshot().context.detail!.curves[curve].state).toBe('STORED_CLIENT');
    },
    pinned ? pinnedRoutes(d, pinned) : facadeRoutes(d),
  );

  if (curve === 'ED25519') await expect(withPlan(d, breakCurve(curve), () => d.wallet.backupWallet('GDRIVE'))).rejects.toThrow();
  await attackOperation(l, 'backup', d, async () => {
    await d.wallet.backupWallet('GDRIVE');
    expect(d.wallet.isWalletRecoverable()).toBe(true);
  });
  await attackReplacement(l, d);
  d.wallet.stop();
}

/** Sign, attacked on the lane's curve, on a wallet of its own (its sessions then overlap the other lanes'). */
async function laneSign(l: Lane): Promise<void> {
  const { curve, expect } = l;
  const d = await openDevice(await newClient(server), new WatchedMethod('GDRIVE'));
  await d.wallet.createWallet();
  const key = (await clientView(d)).publicKeys[curve]!;
  await attackOperation(l, 'sign', d, async () => {
    expect(verifies(curve, key, digestFor(curve), await d.wallet.signRaw(curve, digestFor(curve)))).toBe(true);
  });
  d.wallet.stop();
}

/** Recover on a new device, attacked on the lane's curve; then the new device signs. */
async function laneRecover(l: Lane): Promise<void> {
  const { curve, expect } = l;
  const d = await openDevice(await newClient(server), new WatchedMethod('GDRIVE'));
  await d.wallet.createWallet();
  await d.wallet.backupWallet('GDRIVE');
  const key = (await clientView(d)).publicKeys[curve]!;
  d.wallet.stop();
  const phone = await newDevice(d);
  const complete = async () => {
    const addresses = await phone.wallet.recoverWallet('GDRIVE');
    expect(addresses[curve]).toBeDefined();
    expect((await clientView(phone)).publicKeys[curve]).toBe(key);
    expect(verifies(curve, key, digestFor(curve), await phone.wallet.signRaw(curve, digestFor(curve)))).toBe(true);
  };
  const backup = await clientBackupShare(phone, curve);
  if (curve === 'SECP256K1') {
    const pinned = pinnedVia(phone, 'recover', backup);
    await attackOperation(l, 'recover', phone, complete, pinnedRoutes(phone, pinned));
  } else {
    // One layer down: the facade's own call, with the client backup share the facade would have decrypted.
    const custodian = remoteCustodian({ baseUrl: server.url, apiKey: phone.key.apiKey, WebSocket: phone.mitm.WebSocket });
    const mpc = clientMpc();
    let n = 0;
    const via: Via = {
      mitm: phone.mitm,
      run: () => custodian.runProtocol({ op: 'recover', curve, backupPairId: backup.backupPairId, idempotencyKey: `rec-ed-${++n}-${Date.now()}` }, mpc.recover(curve, backup.share)),
    };
    await attackOperation(l, 'recover', phone, complete, { message: () => via, sequence: via, ready: via, done: phone });
  }
  phone.wallet.stop();
}

describe.concurrent('a hostile custodian against the real client', () => {
  for (const curve of ['SECP256K1', 'ED25519'] as const) {
    it(`${curve}: Generate, Backup`, { timeout: 900_000 }, ({ expect }) => laneGenerateBackup({ curve, expect }));
    it(`${curve}: Sign`, { timeout: 900_000 }, ({ expect }) => laneSign({ curve, expect }));
    it(`${curve}: Recover on a new device`, { timeout: 900_000 }, ({ expect }) => laneRecover({ curve, expect }));
  }
});
