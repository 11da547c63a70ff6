/**
 * MPC sessions over WebSocket (DESIGN §4): one session per protocol run. The client opens
 * `/v1/wallet/sessions` with its client API key, sends one JSON text frame naming the operation, gets a
 * `ready` frame with both party ids, and then the two parties exchange binary frames — each one protocol
 * message — until the custodian commits through the custodian rules and sends `done` with the public
 * outcome. Anything malformed, out of order or refused ends the session with an `error` frame carrying a
 * typed error, and changes nothing beyond what the rules allow (ECDSA-2PC §5.2: a rejected Π_sign burns its
 * presignature and counts).
 *
 * The custodian side of each (operation, curve) is a driver over the pure parties of src/mpc; state-changing
 * runs hold the wallet's lease (with its fencing token checked at commit) for their whole length.
 */
import { bytesToHex, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { Ajv } from 'ajv';
import type {} from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { checkSignRequest, SIGN_REQUEST_KINDS, type SignRequest as ChainsSignRequest } from '../chains/sign-request.js';
import type { CustodianRules } from '../custodian/rules.js';
import { TandemError, toTandemError } from '../errors.js';
import { createFrostKeygenP1 } from '../mpc/frost-dkg.js';
import { decodeFrostShare } from '../mpc/frost-share.js';
import { createFrostBackupP1, createFrostRecoverP1 } from '../mpc/frost-reshare.js';
import { createFrostSignP1 } from '../mpc/frost-sign.js';
import { createKeygenP1 } from '../mpc/keygen.js';
import { createPresignP1 } from '../mpc/presign.js';
import { createBackupP1 } from '../mpc/backup.js';
import { clientBackupPoint, REPLACEMENT_CHALLENGE_BYTES, verifyCurrentBackup } from '../mpc/backup-proof.js';
import { s4Request } from '../mpc/client.js';
import { describeCustodianBackupShare, type SelfManagedBackups } from './self-managed.js';
import type { ModArith } from '../mpc/modexp.js';
import type { PrimeSource } from '../mpc/primes.js';
import { createRecoverP1 } from '../mpc/recover.js';
import { decodeCustodianShare } from '../mpc/share.js';
import { CustodianSigner } from '../mpc/sign.js';
import { signMessageSid, type SignRequest as MpcSignRequest } from '../mpc/sign-wire.js';
import { BACKUP_METHODS, CURVES, type BackupMethodName, type Curve } from '../types.js';
import type { Audit } from './app.js';
import type { ApiKeys } from './auth.js';
import type { AbuseLimits } from './rate-limit.js';
import { clientPid, type CustodianIdentity, type IcBundle } from './identity.js';

export interface SessionDeps {
  readonly rules: CustodianRules;
  readonly audit: Audit;
  readonly apiKeys: ApiKeys;
  readonly identity: CustodianIdentity;
  readonly ic: IcBundle;
  readonly primeSource: PrimeSource;
  /** The custodian's modular arithmetic (OpenSSL on the server); the BigInt reference when absent. */
  readonly arith?: ModArith;
  /** A session silent this long is ended (its lease released); the lease's own lifetime by default. */
  readonly idleTimeoutMs?: number;
  /** Self-managed backups: where new custodian backup shares go, and where recovery fetches them. */
  readonly selfManaged?: SelfManagedBackups;
  /** Abuse limits: a session start counts per address and per key, and a wrong key toward the lockout. */
  readonly limits?: AbuseLimits;
  /** Where a session reports what it could not clean up (the app's logger by default). */
  readonly log?: { warn(fields: Record<string, unknown>, message: string): void };
}

type StartFrame =
  | { type: 'start'; op: 'generate'; curve: Curve; idempotencyKey: string; icPinned?: boolean; apiKey?: string }
  | { type: 'start'; op: 'backup'; curve: Curve; idempotencyKey: string; method: BackupMethodName; proveCurrent?: boolean; apiKey?: string }
  | { type: 'start'; op: 'recover'; curve: Curve; idempotencyKey: string; backupPairId: string; icPinned?: boolean; apiKey?: string }
  | { type: 'start'; op: 'sign'; curve: Curve; idempotencyKey: string; pairId: string; request: ChainsSignRequest; apiKey?: string };

const ajv = new Ajv({ allErrors: false, removeAdditional: false, coerceTypes: false, useDefaults: false });
const base = {
  type: { const: 'start' },
  curve: { enum: [...CURVES] },
  idempotencyKey: { type: 'string', minLength: 8, maxLength: 200 },
  apiKey: { type: 'string', maxLength: 200 },
} as const;
const validateStart = ajv.compile<StartFrame>({
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'op', 'curve', 'idempotencyKey'],
      properties: { ...base, op: { const: 'generate' }, icPinned: { type: 'boolean' } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'op', 'curve', 'idempotencyKey', 'method'],
      properties: { ...base, op: { const: 'backup' }, method: { enum: [...BACKUP_METHODS] }, proveCurrent: { type: 'boolean' } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'op', 'curve', 'idempotencyKey', 'backupPairId'],
      properties: { ...base, op: { const: 'recover' }, backupPairId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' }, icPinned: { type: 'boolean' } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'op', 'curve', 'idempotencyKey', 'pairId', 'request'],
      properties: {
        ...base,
        op: { const: 'sign' },
        pairId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' },
        request: {
          type: 'object',
          required: ['kind', 'digest'],
          additionalProperties: false,
          properties: { kind: { enum: [...SIGN_REQUEST_KINDS] }, digest: { type: 'string', maxLength: 4000 }, payload: {} },
        },
      },
    },
  ],
});

type Outcome = Record<string, unknown>;

/** The custodian's side of one run: protocol messages in, protocol messages (and at the end the outcome) out. */
interface Driver {
  start(): Promise<Uint8Array[]>;
  receive(message: Uint8Array): Promise<{ messages: Uint8Array[]; outcome?: Outcome }>;
  /** Releases what the run holds (the lease); safe to call more than once. */
  close(): Promise<void>;
  /** Extra public fields of the `ready` frame (a replacement's challenge). */
  readonly ready?: Record<string, string>;
  /** A text frame after `ready` (a replacement's proof of the current backup); absent, text is refused. */
  text?(frame: unknown): Promise<void>;
}

interface Client {
  readonly walletId: string;
  readonly keyId: string;
}

/** The running sessions, so a shutdown can end them cleanly before the database closes. */
export interface Sessions {
  /** Ends every running session with an error frame and waits until each has released what it held. */
  abortAll(reason: string): Promise<void>;
}

export function registerSessions(app: FastifyInstance, deps: SessionDeps): Sessions {
  const running = new Set<(reason: string) => Promise<void>>();
  app.get('/v1/wallet/sessions', { websocket: true }, (socket: WebSocket, req) => {
    const header = req.headers.authorization;
    const ip = req.ip;
    let driver: Driver | null = null;
    let client: Client | null = null;
    let finished = false;
    let started: StartFrame | null = null;
    let chain: Promise<void> = Promise.resolve();

    const send = (frame: Uint8Array | Outcome) => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(frame instanceof Uint8Array ? frame : JSON.stringify(frame), { binary: frame instanceof Uint8Array });
    };
    const end = async (err?: unknown) => {
      if (finished) return;
      finished = true;
      await driver?.close();
      if (err !== undefined) {
        send({ type: 'error', error: toTandemError(err).toJSON() });
        socket.close(1008, 'session aborted');
      } else socket.close(1000, 'done');
    };

    const handle = async (data: Buffer, isBinary: boolean) => {
      if (finished) return;
      if (driver === null) {
        // The abuse limits come before any protocol work, and a refusal is this session's error frame.
        deps.limits?.countAddress(ip);
        if (isBinary) throw new TandemError('MALFORMED_MESSAGE', { message: 'A session starts with a JSON start frame.' });
        let frame: unknown;
        try {
          frame = JSON.parse(data.toString('utf8'));
        } catch {
          throw new TandemError('MALFORMED_MESSAGE', { message: 'The start frame is not JSON.' });
        }
        if (!validateStart(frame)) throw new TandemError('INVALID_INPUT', { message: `The start frame is invalid: ${ajv.errorsText(validateStart.errors)}.` });
        const presented = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : frame.apiKey;
        const presentsKey = header !== undefined || frame.apiKey !== undefined;
        if (presentsKey) deps.limits?.assertNotLockedOut(ip);
        client = await deps.apiKeys.authenticate(presented).catch((err: unknown) => {
          if (presentsKey && err instanceof TandemError && err.code === 'AUTH_FAILED') deps.limits?.recordAuthFailure(ip);
          throw err;
        });
        deps.limits?.countKey(client.keyId);
        driver = await makeDriver({ ...deps, log: deps.log ?? app.log }, client, frame);
        started = frame;
        send({ type: 'ready', op: frame.op, curve: frame.curve, pid1: bytesToHex(deps.identity.pid), pid2: bytesToHex(clientPid(client.keyId)), ...driver.ready });
        for (const m of await driver.start()) send(m);
        return;
      }
      if (!isBinary) {
        if (!driver.text) throw new TandemError('MALFORMED_MESSAGE', { message: 'Protocol messages are binary frames.' });
        let frame: unknown;
        try {
          frame = JSON.parse(data.toString('utf8'));
        } catch {
          throw new TandemError('MALFORMED_MESSAGE', { message: 'A text frame is not JSON.' });
        }
        await driver.text(frame);
        return;
      }
      const { messages, outcome } = await driver.receive(new Uint8Array(data));
      for (const m of messages) send(m);
      if (outcome) {
        await deps.audit({ actor: `client:${client!.keyId}`, action: `session.${String(outcome['op'])}`, walletId: client!.walletId, subject: auditSubject(outcome), details: auditDetails(outcome, started) });
        send({ type: 'done', outcome });
        await end();
      }
    };

    const abort = (reason: string, code: 'OPERATION_IN_PROGRESS' | 'WS_CLOSED' = 'OPERATION_IN_PROGRESS') => {
      chain = chain.then(() => end(new TandemError(code, { message: reason })));
      return chain;
    };
    running.add(abort);
    // A client that goes silent must not keep a socket (or, until it expires, the wallet's lease): a timeout
    // is a benign abort, kept apart from cryptographic failures (ECDSA-2PC §5.2).
    let idle: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => void abort('The session was idle too long.', 'WS_CLOSED'), deps.idleTimeoutMs ?? 60_000);
      idle.unref();
    };
    touch();
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      touch();
      chain = chain.then(() => handle(data, isBinary)).catch((err: unknown) => end(err));
    });
    socket.on('close', () => {
      chain = chain
        .then(() => {
          if (!finished) {
            finished = true;
            return driver?.close();
          }
          return undefined;
        })
        .finally(() => {
          clearTimeout(idle);
          running.delete(abort);
        });
    });
  });
  return {
    async abortAll(reason) {
      await Promise.allSettled([...running].map((abort) => abort(reason)));
    },
  };
}

async function makeDriver(deps: SessionDeps, client: Client, frame: StartFrame): Promise<Driver> {
  const pid1 = deps.identity.pid;
  const pid2 = clientPid(client.keyId);
  const { rules } = deps;
  const walletId = client.walletId;
  const arith = deps.arith ? { arith: deps.arith } : {};

  if (frame.op === 'generate') {
    const view = await rules.getWallet(walletId);
    if (view.publicKeys[frame.curve] !== undefined) {
      throw new TandemError('STATE_INVALID', { message: 'The wallet already has a confirmed signing pair for this curve.', details: { curve: frame.curve } });
    }
    return leasedRun(deps, client, 'generate', (token) => {
      const epoch = nextEpoch(view, frame.curve);
      const party =
        frame.curve === 'SECP256K1'
          ? createKeygenP1({ pid1, pid2, epoch, intCommitment: { params: deps.ic.params, proof: deps.ic.proof }, sendIcProof: frame.icPinned !== true, primeSource: deps.primeSource, ...arith })
          : createFrostKeygenP1({ pid1, pid2, epoch });
      return {
        party,
        async commit(out) {
          const { share, publicKey } = out;
          const pair = await rules.recordGeneratedPair({ walletId, curve: frame.curve, leaseToken: token, publicKey, custodianShare: share, idempotencyKey: frame.idempotencyKey, pairId: pairIdOf(frame.curve, out) });
          return { op: 'generate', pair };
        },
      };
    });
  }

  if (frame.op === 'backup' || frame.op === 'recover') {
    if (frame.op === 'backup') {
      return leasedRun(deps, client, 'backup', async (token) => {
        const { share } = await rules.signingShareForBackup({ walletId, curve: frame.curve, leaseToken: token });
        // Decided at the start: a webhook configured mid-session does not change where this share goes.
        const selfManaged = (await deps.selfManaged?.config()) ? deps.selfManaged : undefined;
        const party =
          frame.curve === 'SECP256K1'
            ? createBackupP1({ pid1, pid2, share: share.slice(), method: frame.method, ...arith })
            : createFrostBackupP1({ pid1, pid2, share, method: frame.method });
        share.fill(0);
        // Replacing a completed backup by proof: the client proves it holds that backup's share, bound to
        // a challenge fresh to this session (src/mpc/backup-proof.ts), before any protocol message.
        const replacement = frame.proveCurrent === true ? await replacementCheck(deps, walletId, frame.curve, frame.method, pid1, pid2) : null;
        return {
          party,
          ...(replacement ? { ready: replacement.ready, text: replacement.text } : {}),
          async commit(out) {
            const { share: backupShare, publicKey } = out;
            const backupPair = await rules.recordBackupPair({
              walletId,
              curve: frame.curve,
              method: frame.method,
              leaseToken: token,
              publicKey,
              custodianBackupShare: backupShare,
              idempotencyKey: frame.idempotencyKey,
              backupPairId: pairIdOf(frame.curve, out),
              ...(selfManaged ? { selfManaged: { publicShare: describeCustodianBackupShare(frame.curve, backupShare).publicShare } } : {}),
              ...(replacement?.proven() ? { proofOfCurrentBackup: true } : {}),
            });
            selfManaged?.kick();
            return { op: 'backup', backupPair };
          },
        };
      });
    }
    // Recover: the operator's recovery-authorisation hook decides before any message is exchanged.
    await rules.authorizeRecovery({ walletId, curve: frame.curve, backupPairId: frame.backupPairId });
    const view = await rules.getWallet(walletId);
    return leasedRun(deps, client, 'recover', async (token) => {
      const source = await rules.backupShareForRecovery({ walletId, backupPairId: frame.backupPairId, leaseToken: token });
      // Self-managed: fetched from the operator's backend and checked against the pair before use.
      const backupShare = source.share ?? (deps.selfManaged ? await deps.selfManaged.fetchShare(source) : null);
      if (!backupShare) throw new TandemError('NO_VALID_BACKUP', { details: { backupPairId: frame.backupPairId } });
      const epoch = nextEpoch(view, frame.curve);
      const party =
        frame.curve === 'SECP256K1'
          ? createRecoverP1({
              pid1,
              pid2,
              share: backupShare.slice(),
              epoch,
              intCommitment: { params: deps.ic.params, proof: deps.ic.proof },
              sendIcProof: frame.icPinned !== true,
              primeSource: deps.primeSource,
              ...arith,
            })
          : createFrostRecoverP1({ pid1, pid2, share: backupShare, epoch });
      backupShare.fill(0);
      return {
        party,
        async commit(out) {
          const { share, publicKey } = out;
          const pair = await rules.recordRecoveredPair({
            walletId,
            curve: frame.curve,
            leaseToken: token,
            backupPairId: frame.backupPairId,
            publicKey,
            custodianShare: share,
            idempotencyKey: frame.idempotencyKey,
            pairId: pairIdOf(frame.curve, out),
          });
          return { op: 'recover', pair };
        },
      };
    });
  }

  // sign: the custodian recomputes what is signed before anything else, then the policy hook decides.
  const bytesToSign = checkSignRequest(frame.curve, frame.request);
  const { share } = await rules.authorizeSign({
    walletId,
    curve: frame.curve,
    pairId: frame.pairId,
    request: { kind: frame.request.kind, digest: bytesToHex(bytesToSign), ...('payload' in frame.request ? { payload: frame.request.payload } : {}) },
  });
  if (frame.curve === 'ED25519') {
    const party = createFrostSignP1({ pid1, pid2, share, message: bytesToSign });
    share.fill(0);
    return {
      start: async () => party.start(),
      async receive(message) {
        const r = party.receive(message);
        if (r.result === undefined) return { messages: r.messages };
        return { messages: r.messages, outcome: { op: 'sign', pairId: frame.pairId, signature: bytesToHex(r.result.signature) } };
      },
      close: async () => undefined,
    };
  }
  return ecdsaSignDriver(deps, walletId, frame, share, pid1, pid2, bytesToSign);
}

interface ShareOut {
  readonly share: Uint8Array;
  readonly publicKey: string;
  /** Set by the ECDSA re-sharings: the new pair's id. */
  readonly pairId?: Uint8Array;
  readonly backupPairId?: Uint8Array;
}

/** A state-changing run: holds the wallet's lease from before the first message to after the commit. */
/** One leased protocol run: the custodian's party, its commit, and the optional extras of a Driver. */
interface LeasedRun extends Pick<Driver, 'ready' | 'text'> {
  readonly party: { start(): Uint8Array[]; receive(m: Uint8Array): { messages: Uint8Array[]; result?: unknown } };
  commit(r: ShareOut): Promise<Outcome>;
}

/**
 * The custodian's side of a replacement by proof: a fresh challenge for `ready`, and the check of the
 * client's `{"type":"proof","proof":"<hex>"}` frame against the client backup share's public point of
 * the completed backup being replaced. A proof that does not verify ends the session.
 */
async function replacementCheck(deps: SessionDeps, walletId: string, curve: Curve, method: BackupMethodName, pid1: Uint8Array, pid2: Uint8Array) {
  const current = await deps.rules.completedBackupOf({ walletId, curve, method });
  if (!current) throw new TandemError('NO_VALID_BACKUP', { message: 'There is no completed backup of this method to replace.', details: { curve, method } });
  const clientPoint = current.share
    ? clientBackupPoint(curve, { custodianBackupShare: current.share })
    : clientBackupPoint(curve, { publicKey: current.publicKey, custodianPublicShare: current.selfManaged.publicShare });
  current.share?.fill(0);
  const challenge = randomBytes(REPLACEMENT_CHALLENGE_BYTES);
  let proven = false;
  return {
    ready: { challenge: bytesToHex(challenge), replaces: current.backupPairId },
    proven: () => proven,
    async text(frame: unknown): Promise<void> {
      const f = frame as { type?: unknown; proof?: unknown };
      if (proven || f?.type !== 'proof' || typeof f.proof !== 'string' || !/^(?:[0-9a-f]{2}){1,4096}$/.test(f.proof)) {
        throw new TandemError('MALFORMED_MESSAGE', { message: 'Expected one proof frame {"type":"proof","proof":"<hex>"}.' });
      }
      verifyCurrentBackup(curve, clientPoint, hexToBytes(current.publicKey), hexToBytes(f.proof), { challenge, pid1, pid2, backupPairId: current.backupPairId, method });
      proven = true;
    },
  };
}

async function leasedRun(
  deps: SessionDeps,
  client: Client,
  operation: 'generate' | 'backup' | 'recover',
  make: (leaseToken: number) => LeasedRun | Promise<LeasedRun>,
): Promise<Driver> {
  const lease = await deps.rules.acquireLease({ walletId: client.walletId, operation, holder: `ws:${client.keyId}` });
  let released = false;
  const close = async () => {
    if (released) return;
    released = true;
    await deps.rules.releaseLease({ walletId: client.walletId, token: lease.token });
  };
  let run: Awaited<ReturnType<typeof make>>;
  try {
    run = await make(lease.token);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    ...(run.ready ? { ready: run.ready } : {}),
    ...(run.text ? { text: run.text } : {}),
    start: async () => run.party.start(),
    async receive(message) {
      const r = run.party.receive(message);
      if (r.result === undefined) return { messages: r.messages };
      const out = r.result as ShareOut;
      try {
        return { messages: r.messages, outcome: await run.commit(out) };
      } finally {
        out.share.fill(0);
      }
    },
    close,
  };
}

/** The epoch′ of a curve's next signing pair: one above the highest it has had. */
const nextEpoch = (view: { signingPairs: readonly { curve: Curve; epoch: number }[] }, curve: Curve): number =>
  Math.max(0, ...view.signingPairs.filter((p) => p.curve === curve).map((p) => p.epoch)) + 1;

/** A new pair's id is the session id of the run that made it, as the party reports it or read from its share. */
const pairIdOf = (curve: Curve, out: ShareOut): string =>
  bytesToHex(out.pairId ?? out.backupPairId ?? (curve === 'SECP256K1' ? decodeCustodianShare(out.share).pairId : decodeFrostShare(out.share).pairId));

/** ECDSA: presign S0–S3 with the presignature persisted at S2, then S4 and the custodian's checked finish. */
async function ecdsaSignDriver(
  deps: SessionDeps,
  walletId: string,
  frame: Extract<StartFrame, { op: 'sign' }>,
  shareBytes: Uint8Array,
  pid1: Uint8Array,
  pid2: Uint8Array,
  digest: Uint8Array,
): Promise<Driver> {
  const { rules } = deps;
  const pairId = frame.pairId;
  await rules.assertCanPresign({ walletId, pairId });
  const share = decodeCustodianShare(shareBytes, deps.arith);
  shareBytes.fill(0);
  const presign = createPresignP1({ pair: share, pid1, pid2 });
  let presigned = false;
  let sidHex: string | null = null;
  let done = false;
  return {
    start: async () => presign.start(),
    async receive(message) {
      if (!presigned) {
        const r = presign.receive(message);
        if (r.result !== undefined) {
          sidHex = bytesToHex(r.result.sid);
          await rules.recordPresignature({ walletId, pairId, sid: sidHex, secret: r.result.secret });
          r.result.secret.fill(0);
          presigned = true;
        }
        return { messages: r.messages };
      }
      const sid = bytesToHex(signMessageSid(message));
      if (sid !== sidHex || done) throw new TandemError('MALFORMED_MESSAGE', { message: 'An S4 for another presignature.' });
      const use = await rules.usePresignature({ walletId, pairId, sid, s4: message });
      if (use.kind === 'cached') return { messages: [use.answer], outcome: { op: 'sign', pairId, signature: bytesToHex(use.answer) } };
      const signer = new CustodianSigner(share);
      const out = await signer.signAsync({
        presignature: use.secret,
        s4: message,
        // The request S4 carries must be the one the session started with, byte for byte.
        checkRequest: (req: MpcSignRequest) => {
          if (req.kind !== frame.request.kind || bytesToHex(req.digest) !== bytesToHex(digest) || bytesToHex(req.payload) !== bytesToHex(s4Request(frame.request, digest).payload)) {
            throw new TandemError('SIGN_FAILED', { message: 'S4 carries another request than the session started with.' });
          }
          return digest;
        },
      });
      done = true;
      if (!out.ok) {
        await rules.recordSignFailure({ walletId, pairId, sid, reason: out.reason === 'request' ? 'abort' : out.reason });
        throw out.error;
      }
      await rules.recordSignature({ walletId, sid, answer: out.answer });
      return { messages: [out.answer], outcome: { op: 'sign', pairId, signature: bytesToHex(out.answer) } };
    },
    async close() {
      // A presignature whose session ended before its S4 is burned, not left for later (§4 rule 4). If the
      // store refuses now (busy, gone), the presignature is past use anyway once its TTL — the session's
      // idle timeout — has passed, and the server's sweep burns it then.
      if (sidHex !== null && !done) {
        await rules.recordSignFailure({ walletId, pairId, sid: sidHex, reason: 'abort' }).catch((err: unknown) => {
          deps.log?.warn({ walletId, pairId, code: toTandemError(err).code }, 'a presignature could not be burned at the end of its session; the sweep burns it once it expires');
        });
      }
    },
  };
}

/** The pair a session's outcome is about, for the audit log. */
function auditSubject(outcome: Outcome): string | null {
  const pair = (outcome['pair'] ?? outcome['backupPair']) as { pairId?: string; backupPairId?: string } | undefined;
  return pair?.pairId ?? pair?.backupPairId ?? (typeof outcome['pairId'] === 'string' ? outcome['pairId'] : null);
}

/**
 * Public facts of an outcome: curve, status, epoch, method — not the signature bytes. A signature's
 * request kind is recorded, and a `raw` request's digest too: the custodian could not see what it signed,
 * so the operator can at least find it later (DESIGN §4).
 */
function auditDetails(outcome: Outcome, started: StartFrame | null): Record<string, string | number | boolean | null> {
  const pair = (outcome['pair'] ?? outcome['backupPair'] ?? {}) as Record<string, unknown>;
  const out: Record<string, string | number | boolean | null> = {};
  if (started?.op === 'sign') {
    out['curve'] = started.curve;
    out['kind'] = started.request.kind;
    if (started.request.kind === 'raw') out['digest'] = started.request.digest;
  }
  for (const k of ['curve', 'status', 'epoch', 'method'] as const) {
    const v = pair[k];
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
  }
  return out;
}


