/**
 * What an inspector may see of the wallet (DESIGN §3 rule 5, §6). By design no share, key, password or
 * presignature ever enters the machine: context, events and actor input and output carry vault handles.
 * The inspector is still where a mistake would show: an app that drives `wallet.actor` directly may put a
 * password in an event, a later change may put a share in context, and XState's inspection events carry
 * whole snapshots, event payloads and live actor refs. So everything an inspector sees passes through
 * `sanitizeInspectionEvent` first, a second line behind the design, never a reason to relax it.
 *
 * It redacts by rule, not by a list of Tandem's fields, because the point is to catch what nobody
 * planned for: a field whose *name* says secret, any *bytes*, and any string that *looks like* key
 * material (long hex or base64) outside the few fields known to hold public values. It keeps what makes
 * the inspector useful: state values, event types, statuses, progress, ids, handles, addresses, public
 * keys, digests, signatures, error codes. It copies and never touches the live event, and reduces actor
 * refs to stand-ins (`id`, `sessionId`, lazy sanitised `getSnapshot()`, the machine's definition) so
 * that it does not walk a whole actor system, yet the Stately inspectors still read them as actor refs.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { BACKUP_METHODS } from '../types.js';

/** What a redacted value becomes. */
export const REDACTED = '[redacted]';
const CIRCULAR = '[circular]';
const TRUNCATED = '[truncated]';
const MAX_DEPTH = 64;

// ---- The rules ---------------------------------------------------------------------------------------

/**
 * A field whose last word is one of these names a reference to a thing or a fact about it, never the
 * thing: `secretHandle` and `shareHandle` are vault handles (meaningless outside this process's vault),
 * `backupPairId`, `presignatureId`, `tokenId` are ids. Their values still pass the byte and shape rules.
 */
const REFERENCE_WORDS = new Set(['handle', 'handles', 'id', 'ids', 'count', 'length', 'size', 'status', 'statuses', 'type', 'kind', 'required', 'index']);

/** Any of these words anywhere in a field's name makes the field secret (`passwordHash`, `clientSecret`, `custodianBackupShare`). */
const SECRET_WORDS = new Set([
  'password', 'passwords', 'passphrase', 'passphrases', 'passcode', 'passwd', 'pwd', 'pass', 'pin',
  'secret', 'secrets', 'seed', 'seeds', 'mnemonic', 'mnemonics', 'entropy',
  'share', 'shares', 'presignature', 'presignatures', 'presig', 'presigs', 'prf',
  'token', 'tokens', 'jwt', 'bearer', 'authorization', 'cookie', 'cookies', 'credential', 'credentials', 'otp',
  'envelope', 'envelopes', 'ciphertext', 'ciphertexts', 'plaintext', 'kek', 'dek',
  'apikey', 'privatekey', 'privkey', 'secretkey', 'accesskey',
]);

/** `key` names key material (`key`, `dataKey`, `wrappedKey`, `privateKey`, `apiKey`) unless one of these qualifies it. */
const PUBLIC_KEY_QUALIFIERS = new Set(['public', 'verifying', 'verification', 'idempotency', 'keychain', 'cache', 'storage']);

/** Fields known to hold public values that look like key material: their strings skip the shape rule. */
const PUBLIC_VALUE_WORDS = new Set(['address', 'addresses', 'digest', 'signature', 'signatures', 'payload']);

/** `privateKeyHex` → private, key, hex; `APIKey` → api, key; `x-api-key` → x, api, key. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/**
 * Whether a field of this name holds a secret: not when its last word names a reference (`…Handle`,
 * `…Id`, `…Status`); yes when any word is a secret word, or when it says `key` without a public
 * qualifier (`publicKey` and `idempotencyKey` are public; `key`, `dataKey`, `apiKey` are not).
 *
 * @example
 * isSecretKey('password')     // true
 * isSecretKey('secretHandle') // false: a vault handle
 * isSecretKey('publicKey')    // false
 */
export function isSecretKey(name: string): boolean {
  const w = words(name);
  const last = w[w.length - 1];
  if (last === undefined || REFERENCE_WORDS.has(last)) return false;
  if (w.some((x) => SECRET_WORDS.has(x))) return true;
  return w.some((x, i) => (x === 'key' || x === 'keys') && !(i > 0 && PUBLIC_KEY_QUALIFIERS.has(w[i - 1]!)));
}

const METHOD_NAMES: ReadonlySet<string> = new Set(BACKUP_METHODS);

/**
 * Whether a field's value is withheld whole. Null, undefined and booleans only say whether something is
 * set. The backup method names are Tandem's vocabulary: `PASSWORD` keys the per-method detail (an object
 * of ids and statuses), which is walked like any other; a `PASSWORD` that holds a string is still withheld.
 */
function withheld(name: string, v: unknown): boolean {
  if (v === null || v === undefined || typeof v === 'boolean' || !isSecretKey(name)) return false;
  return !(METHOD_NAMES.has(name) && isObject(v) && !Array.isArray(v) && !isBinary(v));
}

function isPublicField(name: string): boolean {
  const w = words(name);
  const last = w[w.length - 1];
  if (last === undefined) return false;
  return PUBLIC_VALUE_WORDS.has(last) || ((last === 'key' || last === 'keys') && w[w.length - 2] === 'public');
}

/** 128 bits or more of hex (or decimal) digits. */
const HEX_RUN = /(?:0x)?[0-9a-fA-F]{32,}/g;
/** 24 or more base64 / base64url characters; key material when it mixes digits, lower and upper case, as random bytes do. */
const BASE64_RUN = /[A-Za-z0-9+/_-]{24,}={0,2}/g;

function redactString(s: string): string {
  return s
    .replace(HEX_RUN, REDACTED)
    .replace(BASE64_RUN, (run) => (/[0-9]/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run) ? REDACTED : run));
}

/** Bytes spelled as a JSON array: at least 16 integers, each 0–255. */
function looksLikeByteArray(a: readonly unknown[]): boolean {
  return a.length >= 16 && a.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 255);
}

const isBinary = (v: object): boolean =>
  ArrayBuffer.isView(v) || v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer) || (typeof Blob !== 'undefined' && v instanceof Blob);

/** A secret scalar is far wider than 64 bits; a count or an amount that fits is shown as decimal. */
function bigintOf(v: bigint): string {
  return (v < 0n ? -v : v).toString(2).length > 64 ? REDACTED : v.toString();
}

// ---- XState's shapes ---------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

interface ActorRefShape {
  readonly id?: unknown;
  readonly sessionId: string;
  readonly src?: unknown;
  readonly systemId?: unknown;
  readonly _parent?: unknown;
  readonly logic?: unknown;
  getSnapshot(): unknown;
}

const isActorRef = (v: unknown): v is ActorRefShape => isObject(v) && typeof v['sessionId'] === 'string' && typeof v['getSnapshot'] === 'function';
const isStateNode = (v: unknown): v is { id: string } => isObject(v) && typeof v['id'] === 'string' && Array.isArray(v['path']) && isObject(v['machine']);
const isMachineSnapshot = (v: unknown): boolean => isObject(v) && isObject(v['machine']) && Array.isArray(v['_nodes']) && 'value' in v;
const isActorLogic = (v: unknown): boolean => isObject(v) && typeof v['transition'] === 'function' && typeof v['getInitialSnapshot'] === 'function';

/** XState (in development builds) throws when a snapshot is read before the actor has one. */
function snapshotOf(ref: ActorRefShape): unknown {
  try {
    return ref.getSnapshot();
  } catch {
    return undefined;
  }
}

/** Machine configs are static; each is sanitised once. */
const configs = new WeakMap<object, unknown>();

/**
 * A copy of an actor ref that is not the actor: plain `id`, `sessionId`, `src`, `systemId` and `_parent`
 * (which @statelyai/inspect reads for the hierarchy), and, not enumerable, a `getSnapshot()` that
 * sanitises the live actor's snapshot when called (@statelyai/inspect calls it after the `@xstate.actor`
 * event, which XState sends before the snapshot exists) and the machine's `logic.config` (its diagram).
 */
function standIn(ref: ActorRefShape): Obj {
  const out: Obj = { id: typeof ref.id === 'string' ? redactString(ref.id) : ref.sessionId, sessionId: ref.sessionId };
  if (typeof ref.src === 'string') out['src'] = redactString(ref.src);
  if (typeof ref.systemId === 'string') out['systemId'] = redactString(ref.systemId);
  const parent = ref._parent;
  if (isObject(parent) && typeof parent['sessionId'] === 'string') {
    out['_parent'] = { id: typeof parent['id'] === 'string' ? redactString(parent['id']) : parent['sessionId'], sessionId: parent['sessionId'] };
  }
  Object.defineProperty(out, 'getSnapshot', { value: () => new Redactor().snapshot(snapshotOf(ref)) });
  const config = isObject(ref.logic) ? ref.logic['config'] : undefined;
  if (isObject(config) && !Array.isArray(config)) {
    let clean = configs.get(config);
    if (clean === undefined) configs.set(config, (clean = new Redactor().config(config)));
    Object.defineProperty(out, 'logic', { value: { config: clean } });
  }
  return out;
}

/** One walk: tracks the objects on the current path (a cycle becomes `[circular]`) and the depth. */
class Redactor {
  private readonly path = new Set<object>();

  /** A named field: redacted whole when the name says secret (null, undefined and booleans say only whether it is set). */
  field(name: string, v: unknown, isPublic = false): unknown {
    return withheld(name, v) ? REDACTED : this.value(v, isPublic || isPublicField(name));
  }

  value(v: unknown, isPublic = false): unknown {
    switch (typeof v) {
      case 'string':
        return isPublic ? v : redactString(v);
      case 'bigint':
        return bigintOf(v);
      case 'function':
        return '[function]';
      case 'symbol':
        return redactString(v.toString());
      case 'object':
        if (v === null) return null;
        if (isBinary(v)) return REDACTED;
        if (isActorRef(v)) return standIn(v);
        return this.nested(v, (o) => this.object(o, isPublic));
      default:
        return v;
    }
  }

  /** Guards a step into an object against cycles and runaway depth. */
  private nested<T>(o: object, walk: (o: object) => T): T | string {
    if (this.path.has(o)) return CIRCULAR;
    if (this.path.size >= MAX_DEPTH) return TRUNCATED;
    this.path.add(o);
    try {
      return walk(o);
    } finally {
      this.path.delete(o);
    }
  }

  private object(o: object, isPublic: boolean): unknown {
    if (Array.isArray(o)) return !isPublic && looksLikeByteArray(o) ? REDACTED : o.map((x) => this.value(x, isPublic));
    if (o instanceof Map) return Array.from(o, ([k, v]) => (typeof k === 'string' ? [k, this.field(k, v, isPublic)] : [this.value(k, isPublic), this.value(v, isPublic)]));
    if (o instanceof Set) return Array.from(o, (x) => this.value(x, isPublic));
    if (o instanceof Date) return Number.isNaN(o.getTime()) ? null : o.toISOString();
    if (o instanceof RegExp) return redactString(String(o));
    if (o instanceof Error) return this.error(o, isPublic);
    if (isMachineSnapshot(o)) return this.snapshotFields(o as Obj);
    if (isStateNode(o)) return `#${o.id}`;
    if (isActorLogic(o)) {
      const id = (o as Obj)['id'];
      return typeof id === 'string' ? `[logic ${redactString(id)}]` : '[logic]';
    }
    const out: Obj = {};
    for (const k of Object.keys(o)) if (k !== '__proto__') out[k] = this.field(k, (o as Obj)[k], isPublic);
    return out;
  }

  /** Name and message (shape rule applied), own fields (`code`, `details`) and the cause chain; never the stack. */
  private error(e: Error, isPublic: boolean): Obj {
    const out: Obj = { name: redactString(String(e.name)), message: redactString(String(e.message)) };
    for (const k of Object.keys(e)) if (k !== '__proto__' && !(k in out)) out[k] = this.field(k, (e as unknown as Obj)[k], isPublic);
    if (e.cause !== undefined) out['cause'] = this.value(e.cause, isPublic);
    return out;
  }

  /** Any actor's snapshot: a machine's without its machine, nodes and methods; state value and child ids kept as names. */
  snapshot(s: unknown): unknown {
    if (!isObject(s) || isBinary(s)) return this.value(s);
    return this.nested(s, (o) => this.snapshotFields(o as Obj));
  }

  private snapshotFields(s: Obj): Obj {
    const out: Obj = {};
    for (const k of Object.keys(s)) {
      const v = s[k];
      if (k === 'machine' || k === '_nodes' || k === '__proto__' || typeof v === 'function') continue;
      if (k === 'value') out[k] = this.stateValue(v);
      else if (k === 'children' && isObject(v)) out[k] = this.names(v, (child) => (isActorRef(child) ? standIn(child) : this.value(child)));
      else if (k === 'historyValue' && isObject(v)) {
        out[k] = this.names(v, (nodes) => (Array.isArray(nodes) ? nodes.map((n) => (isStateNode(n) ? { id: n.id } : this.value(n))) : this.value(nodes)));
      } else out[k] = this.field(k, v);
    }
    return out;
  }

  /** A state value is a path through the machine's own state names (`{ active: { signingShares: 'STORED_CLIENT' } }`): kept as is. */
  private stateValue(v: unknown): unknown {
    if (typeof v === 'string') return v;
    if (!isObject(v) || Array.isArray(v) || isBinary(v)) return this.value(v);
    return this.names(v, (x) => this.stateValue(x));
  }

  /** An object whose keys are names from a machine (state names, event types, child ids): keys kept, values walked. */
  private names(o: Obj, walk: (v: unknown) => unknown): unknown {
    return this.nested(o, () => {
      const out: Obj = {};
      for (const k of Object.keys(o)) if (k !== '__proto__') out[k] = walk(o[k]);
      return out;
    });
  }

  /** A machine's config, as data: functions become `{ type: name }` as @statelyai/inspect writes them; state names and event types are kept. */
  config(v: unknown): unknown {
    if (typeof v === 'function') return { type: v.name || 'anonymous' };
    if (!isObject(v) || isBinary(v) || isActorRef(v) || isActorLogic(v)) return this.value(v);
    return this.nested(v, (o) => {
      if (Array.isArray(o)) return o.map((x) => this.config(x));
      if (Object.getPrototypeOf(o) !== Object.prototype && Object.getPrototypeOf(o) !== null) return this.value(o);
      const out: Obj = {};
      for (const k of Object.keys(o)) {
        const x = (o as Obj)[k];
        if (k === '__proto__') continue;
        if ((k === 'states' || k === 'on') && isObject(x) && !Array.isArray(x)) out[k] = this.names(x, (y) => this.config(y));
        else if (typeof x !== 'function' && withheld(k, x)) out[k] = REDACTED;
        else out[k] = this.config(x);
      }
      return out;
    });
  }
}

function transitionOf(r: Redactor, t: unknown): unknown {
  if (!isObject(t)) return r.value(t);
  const node = (n: unknown) => (isStateNode(n) ? `#${n.id}` : r.value(n));
  return {
    eventType: r.value(t['eventType']),
    source: node(t['source']),
    target: Array.isArray(t['target']) ? t['target'].map(node) : r.value(t['target']),
    reenter: t['reenter'] === true,
  };
}

// ---- The API -----------------------------------------------------------------------------------------

/**
 * A deep copy of any value with secrets redacted by the rules above (a field named for a secret; bytes;
 * long hex or base64 outside public fields; bigints wider than 64 bits); actor refs become stand-ins,
 * cycles `[circular]`. The value itself is never changed.
 *
 * @example
 * redactSecrets({ method: 'PASSWORD', password: 'hunter2', secretHandle: 'vault:method-options:00ff' })
 * // → { method: 'PASSWORD', password: '[redacted]', secretHandle: 'vault:method-options:00ff' }
 */
export function redactSecrets(value: unknown): unknown {
  return new Redactor().value(value);
}

/**
 * A sanitised copy of one XState inspection event: `type` and `rootId` as they are; `actorRef` and
 * `sourceRef` as stand-ins (see `standIn`); `snapshot` without its machine and methods, its state value
 * and child ids kept, its context, output, error and input redacted; `event` and `action` redacted;
 * `@xstate.microstep` transitions as `{ eventType, source, target, reenter }` with state ids.
 *
 * @example
 * actor.system.inspect((e) => console.log(JSON.stringify(sanitizeInspectionEvent(e))));
 */
export function sanitizeInspectionEvent(event: InspectionEvent): InspectionEvent {
  const r = new Redactor();
  const source = event as unknown as Obj;
  const out: Obj = {};
  for (const k of Object.keys(source)) {
    const v = source[k];
    if (k === '__proto__') continue;
    if (k === 'type' || k === 'rootId') out[k] = typeof v === 'string' ? v : r.value(v);
    else if (k === 'actorRef' || k === 'sourceRef') out[k] = isActorRef(v) ? standIn(v) : r.value(v);
    else if (k === 'snapshot') out[k] = r.snapshot(v);
    else if (k === '_transitions' && Array.isArray(v)) out[k] = v.map((t) => transitionOf(r, t));
    else out[k] = r.field(k, v);
  }
  return out as unknown as InspectionEvent;
}

type InspectFn = (event: InspectionEvent) => void;
const sanitizing = new WeakSet<object>();

/**
 * Wraps an inspector so that it only ever sees sanitised events; pass the result as `inspect`. An event
 * that cannot be sanitised is dropped, never passed on raw and never thrown into the wallet. Wrapping
 * twice is the same as wrapping once.
 *
 * @example
 * import { createBrowserInspector } from '@statelyai/inspect';
 * const wallet = await createTandemWallet({ custodian, keychain, mpc, inspect: sanitizingInspector(createBrowserInspector().inspect) });
 */
export function sanitizingInspector(inspect: InspectFn): InspectFn;
export function sanitizingInspector(inspect: Observer<InspectionEvent>): Observer<InspectionEvent>;
export function sanitizingInspector(inspect: Observer<InspectionEvent> | InspectFn): Observer<InspectionEvent> | InspectFn;
export function sanitizingInspector(inspect: Observer<InspectionEvent> | InspectFn): Observer<InspectionEvent> | InspectFn {
  if (sanitizing.has(inspect)) return inspect;
  const clean = (event: InspectionEvent): InspectionEvent | null => {
    try {
      return sanitizeInspectionEvent(event);
    } catch {
      return null;
    }
  };
  let wrapped: Observer<InspectionEvent> | InspectFn;
  if (typeof inspect === 'function') {
    wrapped = (event: InspectionEvent) => {
      const e = clean(event);
      if (e) inspect(e);
    };
  } else {
    wrapped = {
      next: (event) => {
        const e = clean(event);
        if (e) inspect.next?.(e);
      },
      error: (err) => inspect.error?.(redactSecrets(err)),
      complete: () => inspect.complete?.(),
    };
  }
  sanitizing.add(wrapped);
  return wrapped;
}
