/**
 * The inspector sees nothing secret (DESIGN §3 rule 5, §6), and still sees the lifecycle. A whole
 * lifecycle runs with every secret captured where it is born (keychain writes, the MPC parties' shares,
 * the data keys, the envelopes, the password and an API key in the options), while both the sanitised
 * stream and the actor system's raw stream are recorded; then both are searched for every encoding of
 * those secrets. The sanitiser's own rules are tested on events that do carry secrets, and the real
 * @statelyai/inspect inspectors (the Node inspector server with the WebSocket inspector, and the
 * browser inspector with a stand-in window) are run behind it to check what actually leaves the process.
 */
import { createServer, type AddressInfo } from 'node:net';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { base64, base64urlnopad } from '@scure/base';
import { createBrowserInspector, createInspector, createWebSocketInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { assign, createActor, fromPromise, setup, type InspectionEvent, type Observer } from 'xstate';
import type { ClientMpc, Party } from '../../src/adapters/ports.js';
import { MemoryKeychain } from '../../src/adapters/index.js';
import { TandemError } from '../../src/errors.js';
import { addressOf } from '../../src/machines/address.js';
import { isSecretKey, REDACTED, redactSecrets, sanitizeInspectionEvent, sanitizingInspector } from '../../src/machines/inspect.js';
import { createTandemWallet, type TandemWallet } from '../../src/machines/wallet.js';
import { simulatedClientMpc } from '../../src/testing/index.js';
import { CURVES } from '../../src/types.js';
import { newWorld, PASSWORD, type World } from '../helpers/world.js';

const API_KEY = 'tk_live_9fQ2xLr7VbN4sT8wKp3ZyH6mJd1aGc5E';
const WRONG_PASSWORD = 'not the password, and secret too';

// ---- A lifecycle with every secret captured ------------------------------------------------------------

class RecordingKeychain extends MemoryKeychain {
  readonly written: Uint8Array[] = [];
  override async set(key: string, value: Uint8Array): Promise<void> {
    this.written.push(value.slice());
    return super.set(key, value);
  }
  /** What the keychain holds now. */
  async stored(): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (const k of await this.keys('')) out.push((await this.get(k))!);
    return out;
  }
}

function capturingParty<R extends object>(party: Party<R>, secrets: Uint8Array[]): Party<R> {
  return {
    start: () => party.start(),
    receive: (m) => {
      const out = party.receive(m);
      const r = out.result as { share?: unknown } | undefined;
      if (r?.share instanceof Uint8Array) secrets.push(r.share.slice());
      return out;
    },
  };
}

interface Lifecycle {
  /** Every secret byte string that existed during the run. */
  readonly secrets: Uint8Array[];
  readonly strings: string[];
  readonly addresses: string[];
  readonly publicKeys: string[];
}

interface LifecycleOptions {
  readonly inspect: Observer<InspectionEvent> | ((e: InspectionEvent) => void);
  /** The actor system's own stream, beneath whatever `createTandemWallet` does with `inspect`. */
  readonly raw?: (e: InspectionEvent) => void;
  /** create → backup → sign only (no wrong password, no new device). */
  readonly short?: boolean;
  /** Also send an event with secrets in it, as an app driving the machine directly might by mistake. */
  readonly mistake?: boolean;
}

const MISTAKEN_SHARE = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);

/** create → backup (PASSWORD) → sign both curves → a wrong password → new device → recover → sign. */
async function runLifecycle(world: World, opts: LifecycleOptions): Promise<Lifecycle> {
  const secrets: Uint8Array[] = [];
  const inner = simulatedClientMpc();
  const mpc: ClientMpc = {
    ...inner,
    generate: (c) => (session) => capturingParty(inner.generate(c)(session), secrets),
    backup: (c, s, m) => (session) => capturingParty(inner.backup(c, s, m)(session), secrets),
    recover: (c, s) => (session) => capturingParty(inner.recover(c, s)(session), secrets),
  };
  const method = world.methods.PASSWORD;
  const storeKey = method.storeKey.bind(method);
  method.storeKey = async (id, dataKey, o) => {
    secrets.push(dataKey.slice());
    return storeKey(id, dataKey, o);
  };
  const storeCiphertext = world.custodian.storeBackupCiphertext.bind(world.custodian);
  world.custodian.storeBackupCiphertext = async (id, ciphertext, key) => {
    secrets.push(ciphertext.slice());
    return storeCiphertext(id, ciphertext, key);
  };
  const keychains: RecordingKeychain[] = [];
  const open = async (): Promise<TandemWallet> => {
    const keychain = new RecordingKeychain();
    keychains.push(keychain);
    const wallet = await createTandemWallet({ custodian: world.custodian, keychain, mpc, backupMethods: { PASSWORD: method }, inspect: opts.inspect });
    if (opts.raw) wallet.actor.system.inspect(opts.raw);
    return wallet;
  };

  const first = await open();
  await first.createWallet();
  if (opts.mistake) {
    // Not a WalletEvent: the machine ignores the extra fields, but they are in the event an inspector sees.
    first.actor.send({ type: 'sync.refresh', password: PASSWORD, options: { apiKey: API_KEY, share: MISTAKEN_SHARE } } as never);
    secrets.push(MISTAKEN_SHARE);
  }
  await first.backupWallet('PASSWORD', { password: PASSWORD, apiKey: API_KEY });
  await first.signRaw('SECP256K1', new Uint8Array(32).fill(9));
  await first.signRaw('ED25519', new Uint8Array(32).fill(9));
  if (!opts.short) {
    await expect(first.recoverWallet('PASSWORD', { password: WRONG_PASSWORD })).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
  }
  first.stop();
  if (!opts.short) {
    const device = await open();
    await device.recoverWallet('PASSWORD', { password: PASSWORD });
    await device.signRaw('SECP256K1', new Uint8Array(32).fill(7));
    device.stop();
  }

  for (const k of keychains) secrets.push(...k.written, ...(await k.stored()));
  const view = await world.rules.getWallet(world.walletId);
  const publicKeys = CURVES.map((c) => view.publicKeys[c]!);
  return {
    secrets,
    strings: [PASSWORD, WRONG_PASSWORD, API_KEY],
    addresses: CURVES.map((c) => addressOf(c, view.publicKeys[c]!)),
    publicKeys,
  };
}

/** Every form a leaked secret could take in a JSON text. */
function encodings(secret: Uint8Array): string[] {
  return [bytesToHex(secret), base64.encode(secret), base64urlnopad.encode(secret), JSON.stringify(Array.from(secret)).slice(1, -1)];
}

function expectNoSecret(haystack: string, run: Lifecycle): void {
  expect(run.secrets.length).toBeGreaterThan(0);
  for (const secret of run.secrets) {
    for (const enc of encodings(secret)) expect(haystack.includes(enc), `leaked ${enc.slice(0, 10)}… (${secret.length} bytes)`).toBe(false);
  }
  for (const s of run.strings) {
    expect(haystack.includes(s), `leaked "${s.slice(0, 6)}…"`).toBe(false);
    for (const enc of encodings(utf8ToBytes(s))) expect(haystack.includes(enc)).toBe(false);
  }
}

/**
 * A raw inspection event as plain data, holding back nothing an inspector could reach: bytes in every
 * encoding, Maps and Sets, and every actor ref followed to its snapshot (its first appearance in the event).
 * The machine and its state nodes are left out: they are the static config, not data.
 */
function dumpRaw(event: InspectionEvent): string {
  const path = new Set<object>();
  const refs = new Set<string>();
  const dump = (v: unknown): unknown => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'function' || typeof v === 'symbol') return undefined;
    if (typeof v !== 'object' || v === null) return v;
    if (v instanceof Uint8Array) return { hex: bytesToHex(v), base64: base64.encode(v), array: Array.from(v) };
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return dump(new Uint8Array(v instanceof ArrayBuffer ? v : v.buffer));
    if (path.has(v)) return '[circular]';
    path.add(v);
    try {
      const o = v as Record<string, unknown>;
      if (typeof o['sessionId'] === 'string' && typeof o['getSnapshot'] === 'function') {
        const id = o['sessionId'] as string;
        if (refs.has(id)) return { actor: id };
        refs.add(id);
        let snapshot: unknown;
        try {
          snapshot = (o['getSnapshot'] as () => unknown)();
        } catch {
          snapshot = '[initialising]'; // the `@xstate.actor` event comes before the actor's first snapshot
        }
        return { actor: id, snapshot: dump(snapshot) };
      }
      if (typeof o['id'] === 'string' && Array.isArray(o['path']) && typeof o['machine'] === 'object') return { node: o['id'] };
      if (v instanceof Map) return Array.from(v, ([k, x]) => [dump(k), dump(x)]);
      if (v instanceof Set) return Array.from(v, dump);
      if (Array.isArray(v)) return v.map(dump);
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(o)) if (k !== 'machine' && k !== '_nodes') out[k] = dump(o[k]);
      if (v instanceof Error) Object.assign(out, { message: v.message, cause: dump(v.cause) });
      return out;
    } finally {
      path.delete(v);
    }
  };
  return JSON.stringify(dump(event));
}

/** Sanitised events as JSON, with each stand-in's snapshot and definition (read once per actor after the run). */
function dumpSanitised(events: readonly InspectionEvent[]): string {
  const actors = new Map<string, { getSnapshot(): unknown; logic?: { config: unknown } }>();
  const text = events.map((e) =>
    JSON.stringify(e, (_k, v: unknown) => {
      if (typeof v === 'bigint') throw new Error('a bigint survived the sanitiser');
      const ref = v as { sessionId?: unknown; getSnapshot?: unknown } | null;
      if (ref && typeof ref.sessionId === 'string' && typeof ref.getSnapshot === 'function') actors.set(ref.sessionId, ref as never);
      return v;
    }),
  );
  for (const [id, ref] of actors) text.push(JSON.stringify({ actor: id, snapshot: ref.getSnapshot(), definition: ref.logic?.config }));
  return text.join('\n');
}

// ---- 1. The lifecycle ----------------------------------------------------------------------------------

describe('a whole lifecycle, inspected', () => {
  it('the sanitised stream holds no secret and still shows the lifecycle; the raw stream holds none either', async () => {
    const world = await newWorld();
    const sanitised: InspectionEvent[] = [];
    const raw: string[] = [];
    const run = await runLifecycle(world, { inspect: sanitizingInspector((e) => sanitised.push(e)), raw: (e) => raw.push(dumpRaw(e)) });

    // The capture worked: 2 generated + 2 backup + 2 recovered shares, 2 data keys, 2 envelopes, keychain writes.
    expect(run.secrets.length).toBeGreaterThanOrEqual(14);
    expect(sanitised.length).toBeGreaterThan(300);
    const text = dumpSanitised(sanitised);
    expectNoSecret(text, run);

    // …and the inspector is still worth opening.
    expect(text).toContain('"value":{"active":{"signingShares":"STORED_CLIENT","backupShares":"STORED_CLIENT_BACKUP_SHARE"}}');
    expect(text).toContain('"value":{"active":{"signingShares":"recovering","backupShares":"STORED_CLIENT_BACKUP_SHARE"}}');
    for (const type of ['generate.start', 'backup.start', 'recover.start', 'sign.start', 'progress']) expect(text).toContain(`"type":"${type}"`);
    for (const status of ['Generating share', 'Encrypting share', 'Decrypting share', 'Recovering signing share', 'Done']) expect(text).toContain(`"status":"${status}"`);
    for (const s of [...run.addresses, ...run.publicKeys]) expect(text).toContain(s);
    expect(text).toContain('"code":"DECRYPT_FAILED"');
    expect(text).toMatch(/"secretHandle":"vault:method-options:[0-9a-f]{16}"/);
    expect(text).toMatch(/"backupPairId":"bkp_\d+"/);
    // The definition travels too (the inspector draws the machine from it).
    expect(text).toContain('"definition":{"id":"wallet"');
    // By design nothing in a clean lifecycle is secret, so the sanitiser has nothing to redact.
    expect(text.includes(REDACTED)).toBe(false);

    // The design itself (rule 5): the raw events, every actor followed, hold no secret either.
    expect(raw.length).toBeGreaterThan(300);
    const rawText = raw.join('\n');
    expectNoSecret(rawText, run);
    expect(rawText).toContain(run.publicKeys[0]!);
  });

  it('an event an app sends by mistake with a secret in it reaches the inspector redacted', async () => {
    const world = await newWorld();
    const sanitised: InspectionEvent[] = [];
    const raw: string[] = [];
    const wallet = await createTandemWallet({
      custodian: world.custodian,
      keychain: new MemoryKeychain(),
      mpc: simulatedClientMpc(),
      backupMethods: { PASSWORD: world.methods.PASSWORD },
      inspect: sanitizingInspector((e) => sanitised.push(e)),
    });
    wallet.actor.system.inspect((e) => raw.push(dumpRaw(e)));
    const share = new Uint8Array(32).fill(0xab);
    // Not a WalletEvent: the machine ignores the extra fields, but they are in the event an inspector sees.
    wallet.actor.send({ type: 'sync.refresh', password: PASSWORD, options: { apiKey: API_KEY, share } } as never);
    await wallet.refresh();
    wallet.stop();

    const leak = { secrets: [share], strings: [PASSWORD, API_KEY], addresses: [], publicKeys: [] };
    expect(raw.join('\n')).toContain(PASSWORD); // without the sanitiser, the mistake shows
    const text = dumpSanitised(sanitised);
    expectNoSecret(text, leak);
    expect(text).toContain('"type":"sync.refresh","password":"[redacted]","options":{"apiKey":"[redacted]","share":"[redacted]"}');
  });
});

// ---- 2. The rules --------------------------------------------------------------------------------------

const PUBLIC_KEY = '02' + 'c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5';
const EVM_ADDRESS = '0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF';
const DIGEST = 'ab'.repeat(32);
const SIGNATURE = 'cd'.repeat(64);

describe('sanitizeInspectionEvent and redactSecrets', () => {
  it('names: secrets by word, references and public keys kept', () => {
    const secret = ['password', 'passphrase', 'newPassword', 'passwordHash', 'secret', 'clientSecret', 'seed', 'seedPhrase', 'mnemonic', 'share',
      'clientShare', 'custodianBackupShare', 'signing_share', 'privateKey', 'PRIVATE_KEY', 'privateKeyHex', 'dataKey', 'wrappedKey', 'key', 'keyMaterial',
      'apiKey', 'APIKey', 'x-api-key', 'apikey', 'token', 'accessToken', 'authorization', 'Authorization', 'prf', 'prfOutput', 'presignature',
      'presignatures', 'envelope', 'ciphertext', 'sessionKey', 'credentials', 'cookie'];
    const kept = ['publicKey', 'publicKeys', 'pairId', 'backupPairId', 'devicePairId', 'secretHandle', 'shareHandle', 'backupShareHandle',
      'envelopeHandle', 'handles', 'presignatureId', 'idempotencyKey', 'address', 'digest', 'signature', 'status', 'type', 'method', 'curve', 'opId',
      'walletId', 'progress', 'passwordRequired', 'keyId', 'monkey', 'keychain', 'code', 'details'];
    for (const k of secret) expect(isSecretKey(k), k).toBe(true);
    for (const k of kept) expect(isSecretKey(k), k).toBe(false);
  });

  it('redacts secrets in payloads, context, nested arrays and bytes; keeps public fields; never changes its input', () => {
    const fn = () => 1;
    const make = () => {
      const cyclic: Record<string, unknown> = { label: 'loop' };
      cyclic['self'] = cyclic;
      return {
        type: 'backup.start',
        opId: 'op_0123456789abcdef01234567',
        method: 'PASSWORD',
        password: PASSWORD,
        secretHandle: 'vault:method-options:00ff00ff00ff00ff',
        options: { apiKey: API_KEY, nested: [{ share: new Uint8Array(32).fill(7), curve: 'ED25519' }], flags: { passwordRequired: true } },
        detail: { curves: { SECP256K1: { publicKey: PUBLIC_KEY, address: EVM_ADDRESS, pairId: 'sig_0123456789abcdef01234567', status: 'STORED_CLIENT', epoch: 2 } } },
        request: { digest: DIGEST, payload: { to: EVM_ADDRESS, data: '0x' + 'ef'.repeat(40) }, signature: SIGNATURE },
        bytes: { ab: new ArrayBuffer(16), view: new DataView(new ArrayBuffer(8)), words: new Uint32Array(4), asJson: Array.from({ length: 32 }, (_, i) => i * 7) },
        strings: { hex: 'ef'.repeat(32), prefixed: '0x' + 'ef'.repeat(16), b64: 'q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=', inText: `failed on ${'12'.repeat(20)} here`, uuid: '123e4567-e89b-12d3-a456-426614174000', code: 'BACKUP_REPLACEMENT_UNAUTHORISED' },
        numbers: { scalar: 2n ** 200n + 12345n, small: 42n, epoch: 3, short: [1, 2, 3] },
        map: new Map<unknown, unknown>([['privateKey', 'x'], ['label', 'kept'], [1, new Uint8Array(2)]]),
        set: new Set([new Uint8Array(4), 'kept']),
        fn,
        error: new TandemError('DECRYPT_FAILED', { details: { backupPairId: 'bkp_0001' } }),
        foreign: Object.assign(new Error(`bad scalar ${'deadbeef'.repeat(8)}`), { input: { privateKey: 'x' } }),
        cyclic,
      };
    };
    const input = make();
    const out = redactSecrets(input) as typeof input & Record<string, never>;

    expect(out).toMatchObject({
      type: 'backup.start',
      opId: 'op_0123456789abcdef01234567',
      method: 'PASSWORD',
      password: REDACTED,
      secretHandle: 'vault:method-options:00ff00ff00ff00ff',
      options: { apiKey: REDACTED, nested: [{ share: REDACTED, curve: 'ED25519' }], flags: { passwordRequired: true } },
      detail: { curves: { SECP256K1: { publicKey: PUBLIC_KEY, address: EVM_ADDRESS, pairId: 'sig_0123456789abcdef01234567', status: 'STORED_CLIENT', epoch: 2 } } },
      request: { digest: DIGEST, payload: { to: EVM_ADDRESS, data: '0x' + 'ef'.repeat(40) }, signature: SIGNATURE },
      bytes: { ab: REDACTED, view: REDACTED, words: REDACTED, asJson: REDACTED },
      strings: { hex: REDACTED, prefixed: REDACTED, b64: REDACTED, inText: `failed on ${REDACTED} here`, uuid: '123e4567-e89b-12d3-a456-426614174000', code: 'BACKUP_REPLACEMENT_UNAUTHORISED' },
      numbers: { scalar: REDACTED, small: '42', epoch: 3, short: [1, 2, 3] },
      map: [['privateKey', REDACTED], ['label', 'kept'], [1, REDACTED]],
      set: [REDACTED, 'kept'],
      fn: '[function]',
      error: { name: 'TandemError', code: 'DECRYPT_FAILED', details: { backupPairId: 'bkp_0001' } },
      foreign: { name: 'Error', message: `bad scalar ${REDACTED}`, input: { privateKey: REDACTED } },
      cyclic: { label: 'loop', self: '[circular]' },
    });
    expect(JSON.stringify(out)).not.toContain('deadbeef');
    // The input is untouched: same values, bytes not zeroed.
    expect(input).toEqual(make());
    expect(input.error.details).toEqual({ backupPairId: 'bkp_0001' });
    expect(input.options.nested[0]!.share.every((b) => b === 7)).toBe(true);
  });

  it('sanitises real inspection events: snapshots, events, actions, microsteps, actor refs; the live actor is untouched', async () => {
    const secret = new Uint8Array(32).fill(0x5a);
    const machine = setup({
      types: {} as { context: { note: string; keyMaterial: Uint8Array | null; loop: Record<string, unknown> }; events: { type: 'load'; password: string } },
      actors: { child: fromPromise(async ({ input }: { input: { shareHandle: string } }) => ({ ok: input.shareHandle.length > 0 })) },
      actions: {
        remember: assign({ keyMaterial: () => secret }),
        audit: (_, _params: { password: string; method: string }) => undefined,
      },
    }).createMachine({
      id: 'toy',
      context: () => {
        const loop: Record<string, unknown> = { name: 'loop' };
        loop['again'] = loop;
        return { note: 'hello', keyMaterial: null, loop };
      },
      initial: 'idle',
      states: {
        idle: {
          on: {
            load: { target: 'loading', actions: ['remember', { type: 'audit', params: ({ event }) => ({ password: event.password, method: 'PASSWORD' }) }] },
          },
        },
        loading: { invoke: { id: 'fetchShare', src: 'child', input: () => ({ shareHandle: 'vault:share:0011223344556677' }), onDone: 'done' } },
        done: { type: 'final' },
      },
    });
    const events: InspectionEvent[] = [];
    const actor = createActor(machine, { inspect: sanitizingInspector((e) => events.push(e)) });
    actor.start();
    actor.send({ type: 'load', password: PASSWORD });
    await new Promise<void>((resolve) => actor.subscribe({ complete: resolve }));

    const byType = (t: string) => events.filter((e) => e.type === t);
    const root = actor.sessionId;
    const sent = byType('@xstate.event').find((e) => (e as { event: { type: string } }).event.type === 'load')!;
    expect(sent).toMatchObject({ event: { type: 'load', password: REDACTED }, actorRef: { id: root, sessionId: root } });
    expect(Object.keys(sent.actorRef)).toEqual(['id', 'sessionId']);

    const loading = byType('@xstate.snapshot').map((e) => (e as { snapshot: Record<string, unknown> }).snapshot).find((s) => s['value'] === 'loading')!;
    expect(loading).toMatchObject({ status: 'active', value: 'loading', context: { note: 'hello', keyMaterial: REDACTED, loop: { name: 'loop', again: '[circular]' } } });
    expect(loading).not.toHaveProperty('machine');
    expect(loading).not.toHaveProperty('_nodes');
    const child = (loading['children'] as Record<string, { sessionId: string; getSnapshot(): unknown }>)['fetchShare']!;
    expect(child).toEqual({ id: 'fetchShare', sessionId: child.sessionId, src: 'child', _parent: { id: root, sessionId: root } });
    expect(child.getSnapshot()).toMatchObject({ status: 'done', output: { ok: true } });
    const started = byType('@xstate.snapshot').find((e) => e.actorRef.sessionId === child.sessionId)!;
    expect((started as { snapshot: unknown }).snapshot).toMatchObject({ status: 'active', input: { shareHandle: 'vault:share:0011223344556677' } });

    const micro = byType('@xstate.microstep').find((e) => (e as { event: { type: string } }).event.type === 'load')!;
    expect((micro as { _transitions: unknown[] })._transitions).toEqual([{ eventType: 'load', source: '#toy.idle', target: ['#toy.loading'], reenter: false }]);
    expect(byType('@xstate.action').map((e) => (e as { action: unknown }).action)).toContainEqual({ type: 'audit', params: { password: REDACTED, method: 'PASSWORD' } });

    // The stand-in reads as an actor to @statelyai/inspect: the definition, and the snapshot it asks for later.
    const registered = byType('@xstate.actor')[0]!.actorRef as unknown as { getSnapshot(): { context: unknown }; logic: { config: { id: string; states: Record<string, unknown> } } };
    expect(registered.logic.config.id).toBe('toy');
    expect(Object.keys(registered.logic.config.states)).toEqual(['idle', 'loading', 'done']);
    expect(registered.getSnapshot().context).toMatchObject({ keyMaterial: REDACTED });

    // The live actor keeps its secret; only the copies lost it.
    expect(actor.getSnapshot().context.keyMaterial).toBe(secret);
    expect(secret.every((b) => b === 0x5a)).toBe(true);
    const all = dumpSanitised(events);
    for (const enc of encodings(secret)) expect(all).not.toContain(enc);
    expect(all).not.toContain(PASSWORD);
  });

  it('sanitizingInspector: keeps the kind it was given, wraps once, drops what it cannot sanitise without throwing', () => {
    const seen: InspectionEvent[] = [];
    const fn = sanitizingInspector((e: InspectionEvent) => seen.push(e));
    expect(typeof fn).toBe('function');
    expect(sanitizingInspector(fn)).toBe(fn);
    const observer = sanitizingInspector({ next: (e: InspectionEvent) => seen.push(e) });
    expect(typeof observer.next).toBe('function');
    expect(sanitizingInspector(observer)).toBe(observer);

    const hostile = new Proxy({} as InspectionEvent, { ownKeys: () => { throw new Error('no'); } });
    expect(() => fn(hostile)).not.toThrow();
    expect(() => observer.next!(hostile)).not.toThrow();
    expect(seen).toEqual([]);

    const event = { type: '@xstate.event', rootId: 'x:0', actorRef: undefined, sourceRef: undefined, event: { type: 'e', secret: 'x' } } as unknown as InspectionEvent;
    fn(event);
    observer.next!(event);
    expect(seen).toEqual([sanitizeInspectionEvent(event), sanitizeInspectionEvent(event)]);
    expect(seen[0]).toMatchObject({ event: { type: 'e', secret: REDACTED } });
  });
});

// ---- 3. The real inspectors ----------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until `count()` has not changed for a while (the inspectors send on timers). */
async function quiet(count: () => number, ms = 300): Promise<void> {
  let last = -1;
  while (count() !== last) {
    last = count();
    await new Promise((r) => setTimeout(r, ms));
  }
}

function expectUsefulStatelyEvents(events: readonly StatelyInspectionEvent[], run: Lifecycle): void {
  const text = JSON.stringify(events);
  const walletActor = events.find((e) => e.type === '@xstate.actor' && e.name === 'wallet');
  expect(walletActor, 'the wallet registered as an actor').toBeDefined();
  expect((walletActor as { definition: string }).definition).toContain('"signingShares"');
  expect(events.some((e) => e.type === '@xstate.actor' && e.parentId === walletActor!.sessionId), 'children know their parent').toBe(true);
  const values = events.map((e) => JSON.stringify((e as { snapshot?: { value?: unknown } }).snapshot?.value ?? null));
  expect(values).toContain(JSON.stringify({ active: { backupShares: 'STORED_CLIENT_BACKUP_SHARE', signingShares: 'STORED_CLIENT' } }));
  for (const type of ['generate.start', 'backup.start', 'sign.start']) expect(text).toContain(`"type":"${type}"`);
  for (const s of run.addresses) expect(text).toContain(s);
  // The mistaken event went through, redacted: the sanitiser really stands in front of the inspector.
  expect(text).toContain('"password":"[redacted]"');
}

describe('behind the real @statelyai/inspect inspectors', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('Node: the inspector server and the WebSocket inspector carry no secret over the wire', async () => {
    const port = await freePort();
    const server = createInspectorServer({ port, autoOpen: false });
    cleanups.push(() => server.stop());

    // Stands where the browser bridge page would: the server relays every message the app sends to it.
    const received: string[] = [];
    const bridge = new WebSocket(`ws://127.0.0.1:${port}`);
    cleanups.push(() => bridge.close());
    await new Promise<void>((resolve, reject) => {
      bridge.once('open', () => resolve());
      bridge.once('error', reject);
    });
    bridge.on('message', (data: Buffer) => received.push(data.toString()));
    const page = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
    expect(page).toContain('https://stately.ai/inspect');

    const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}`, maxDeferredEvents: 10_000 });
    cleanups.push(() => inspector.stop());
    // The app's socket is open once a probe comes through.
    inspector.event('probe', { type: 'inspector.probe' });
    await expect.poll(() => received.some((m) => m.includes('inspector.probe')), { timeout: 10_000 }).toBe(true);

    const world = await newWorld();
    const run = await runLifecycle(world, { inspect: sanitizingInspector(inspector.inspect), short: true, mistake: true });
    await quiet(() => received.length);

    const events = received.map((m) => JSON.parse(m) as StatelyInspectionEvent);
    expect(events.length).toBeGreaterThan(100);
    expectNoSecret(received.join('\n'), run);
    expectUsefulStatelyEvents(events, run);
  });

  it('browser: the browser inspector posts no secret to the inspector window', async () => {
    const posted: unknown[] = [];
    const listeners: ((e: { data: unknown }) => void)[] = [];
    const inspectorWindow = { postMessage: (m: unknown) => posted.push(m) };
    const appWindow = { open: () => inspectorWindow, addEventListener: (_t: string, fn: (e: { data: unknown }) => void) => listeners.push(fn) };
    const inspector = createBrowserInspector({ window: appWindow as unknown as Window, maxDeferredEvents: 10_000 });
    cleanups.push(() => inspector.stop());
    // The Stately window says it is ready.
    for (const l of listeners) l({ data: { type: '@statelyai.connected' } });

    const world = await newWorld();
    const run = await runLifecycle(world, { inspect: sanitizingInspector(inspector.inspect), short: true, mistake: true });
    await quiet(() => posted.length);

    const events = posted.filter((m): m is StatelyInspectionEvent => typeof (m as { _version?: unknown })._version === 'string');
    expect(events.length).toBeGreaterThan(100);
    expectNoSecret(JSON.stringify(posted), run);
    expectUsefulStatelyEvents(events, run);
  });

  it('createInspector with the package’s own sanitize hooks sees the same events, redacted twice over', async () => {
    const sent: StatelyInspectionEvent[] = [];
    const inspector = createInspector(
      { send: (e) => sent.push(JSON.parse(JSON.stringify(e)) as StatelyInspectionEvent) },
      { sanitizeContext: (c) => redactSecrets(c) as typeof c, sanitizeEvent: (e) => redactSecrets(e) as typeof e },
    );
    const world = await newWorld();
    const run = await runLifecycle(world, { inspect: sanitizingInspector(inspector.inspect), short: true, mistake: true });
    await quiet(() => sent.length);
    expectNoSecret(JSON.stringify(sent), run);
    expectUsefulStatelyEvents(sent, run);
  });
});
