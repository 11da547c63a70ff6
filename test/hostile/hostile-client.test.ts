/**
 * A hostile client against the real custodian (`tandem serve`, a separate process) — issue #13 item 3.
 *
 * The client is the real one (the parties of clientMpc()), but every binary frame it sends passes a plan
 * that may change it: each field of each message it sends (located by the protocol's own decoder, see
 * harness.ts) with its first byte and its length prefix flipped (TANDEM_HOSTILE_DEPTH=full: also its last
 * byte), the message truncated, lengthened or emptied; rounds skipped, repeated and sent out of order;
 * messages replayed from an earlier session of the same client and from another client's session. For
 * Generate, Backup, Recover and Sign on both curves.
 *
 * After every attempt: the session ended with a typed error frame from the custodian and a close (or, for
 * a value the protocol lets the client choose freely, the custodian answered consistently and the client's
 * own party refused that answer); the custodian's view of the wallet (operator API) is unchanged, except
 * what ECDSA-2PC §5.2 prescribes for Π_sign rejections (counted; three in a row lock the pair, which then
 * answers PAIR_LOCKED until the operator unlocks it) — and an aborted presignature must have been burned,
 * or the cap of 4 outstanding ones would refuse a later attempt's start; the custodian process still
 * answers. After the field attacks and again after the sequence attacks, an honest session by another
 * client and then by the same client succeeds (per phase rather than per attempt: an honest ECDSA keygen
 * costs about 1.7 s here).
 */
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signRequest } from '../../src/chains/sign-request.js';
import { isTandemError } from '../../src/errors.js';
import { clientMpc } from '../../src/mpc/client.js';
import { createKeygenP2 } from '../../src/mpc/keygen.js';
import { createRecoverP2 } from '../../src/mpc/recover.js';
import { decodeClientShare } from '../../src/mpc/share.js';
import type { Curve, WalletView } from '../../src/types.js';
import { call, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';
import {
  assertServing,
  codeOf,
  NO_RATE_LIMITS,
  DEPTH,
  messageName,
  mutate,
  mutationsOf,
  newClient,
  operatorView,
  Tally,
  unlockPair,
  type ClientKey,
} from './harness.js';

const mpc = clientMpc();
const tally = new Tally();
const dir = tempDir();
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess(`${dir.path}/custodian.db`, NO_RATE_LIMITS);
});
afterAll(async () => {
  await server?.stop();
  dir.remove();
  console.log(tally.report(`hostile client (${DEPTH})`));
});

// ---- one session, driven by the real client party through a plan -----------------------------------------

type Party = { start(): Uint8Array[]; receive(m: Uint8Array): { messages: Uint8Array[]; result?: unknown } };
type Factory = (s: { pid1: Uint8Array; pid2: Uint8Array }) => Party;
/** The frames actually sent for the party's n-th message (0-based). */
type Plan = (n: number, message: Uint8Array) => Uint8Array[];

const honestPlan: Plan = (_n, m) => [m];

interface Run {
  /** The custodian's error frame. */
  error?: { code: string; message: string };
  outcome?: Record<string, any>;
  result?: unknown;
  /** What the client's own party threw (it then closes the session). */
  partyError?: unknown;
  /** The party's own messages, before the plan. */
  readonly messages: Uint8Array[];
  closeCode?: number;
  closedBy?: 'custodian' | 'client';
  timedOut: boolean;
  ready: boolean;
}

/** Longer than any honest session here, far shorter than the custodian's idle timeout (60 s): a wait this long is a hang. */
const HANG_MS = 20_000;

function drive(key: ClientKey, start: Record<string, unknown>, factory: Factory, plan: Plan): Promise<Run> {
  return new Promise((resolve) => {
    const run: Run = { messages: [], timedOut: false, ready: false };
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/wallet/sessions`, { headers: { authorization: `Bearer ${key.apiKey}` } });
    let party: Party | null = null;
    let n = 0;
    let closing = false;
    const timer = setTimeout(() => {
      run.timedOut = true;
      ws.terminate();
    }, HANG_MS);
    const emit = (messages: Uint8Array[]) => {
      for (const m of messages) {
        run.messages.push(m);
        for (const frame of plan(n, m)) if (ws.readyState === ws.OPEN) ws.send(frame);
        n++;
      }
    };
    const abort = (err: unknown) => {
      run.partyError = err;
      closing = true;
      ws.close(4000, 'client aborted');
    };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'start', ...start })));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (run.partyError !== undefined) return;
      if (!isBinary) {
        const f = JSON.parse(data.toString('utf8'));
        if (f.type === 'ready') {
          run.ready = true;
          try {
            party = factory({ pid1: hexToBytes(f.pid1), pid2: hexToBytes(f.pid2) });
            emit(party.start());
          } catch (err) {
            abort(err);
          }
        } else if (f.type === 'error') run.error = f.error;
        else if (f.type === 'done') run.outcome = f.outcome;
        return;
      }
      if (!party) return;
      try {
        const r = party.receive(new Uint8Array(data));
        if (r.result !== undefined) run.result = r.result;
        emit(r.messages);
      } catch (err) {
        abort(err);
      }
    });
    ws.on('error', () => undefined); // the close follows
    ws.on('close', (code: number) => {
      clearTimeout(timer);
      run.closeCode = code;
      run.closedBy = closing ? 'client' : 'custodian';
      resolve(run);
    });
  });
}

/**
 * `drive`, retried while the wallet's lease is still held: after the client itself closed a session the
 * custodian releases the lease on its close event, which may come a moment after the client saw the close.
 */
async function driveWhenFree(key: ClientKey, start: () => Record<string, unknown>, factory: Factory, plan: Plan): Promise<Run> {
  for (let i = 0; ; i++) {
    const run = await drive(key, start(), factory, plan);
    if (run.ready || run.error?.code !== 'OPERATION_IN_PROGRESS' || i >= 40) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- the operations --------------------------------------------------------------------------------------

type Op = 'generate' | 'backup' | 'recover' | 'sign';

/** The typed codes a custodian may answer a damaged message of each operation with. */
const REFUSALS: Record<Op, readonly string[]> = {
  generate: ['DKG_FAILED', 'MALFORMED_MESSAGE'],
  backup: ['BACKUP_FAILED', 'MALFORMED_MESSAGE'],
  recover: ['RECOVER_FAILED', 'MALFORMED_MESSAGE'],
  sign: ['SIGN_FAILED', 'MALFORMED_MESSAGE'],
};

/**
 * Fields whose value the protocol lets the client choose freely (its sid contribution or coin, the
 * challenges it poses as verifier): any other value is another honest choice the custodian cannot tell
 * apart, so it answers consistently with it, and it is the client's own party that then refuses the answer
 * (the run ends at the client, the custodian commits nothing). Everything else must be refused by the
 * custodian itself.
 */
const CLIENT_CHOSEN: Record<string, readonly string[]> = {
  K2: ['Π_eq challenge', 'Π_range challenge', 'Π_N kV'],
  R2: ['Π_eq challenge', 'Π_range challenge', 'Π_N kV'],
  B2: ['rnd_P2', 'δ2'],
  'dkg M2': ['rnd2'],
  'backup M2': ['rnd2'],
  'recover M2': ['rnd2'],
};
/** Messages made only of such free choices: a replayed copy is a valid message of this session too. */
const REPLAYABLE_AS_CHOICE = ['B2', 'dkg M2', 'backup M2', 'recover M2'];

interface Actor extends ClientKey {
  /** The share this client's operation starts from (signing share for Backup and Sign, backup share for Recover). */
  share?: Uint8Array;
  pairId?: string;
  backupPairId?: string;
  publicKey?: string;
}

interface Suite {
  readonly op: Op;
  readonly curve: Curve;
  readonly name: string;
  readonly attacker: Actor;
  readonly bystander: Actor;
  /** Sign: consecutive Π_sign-capable attempts since the streak was last reset (an honest sign or an unlock). */
  streak: number;
  locks: number;
  /**
   * SECP256K1 Generate and Recover: the custodian's integer-commitment parameters pinned (their hash, as
   * a client keeps it after first contact, ECDSA-2PC §1.8), so an attempt's client skips the Π_IC check.
   */
  pin?: Uint8Array;
}

let keySeq = 0;
const idem = (op: string) => `${op}-${(++keySeq).toString().padStart(6, '0')}-${Date.now()}`;

const ecdsaRequest = signRequest('SECP256K1', 'eip191', { message: 'hostile client' });
const edMessage = utf8ToBytes('hostile client, solana');
const edRequest = signRequest('ED25519', 'solanaMessage', { message: Buffer.from(edMessage).toString('base64') });

function startFrame(s: Suite, a: Actor, pinned = false): Record<string, unknown> {
  const pin = pinned && s.pin ? { icPinned: true } : {};
  switch (s.op) {
    case 'generate':
      return { op: 'generate', curve: s.curve, idempotencyKey: idem('gen'), ...pin };
    case 'backup':
      return { op: 'backup', curve: s.curve, idempotencyKey: idem('bkp'), method: 'GDRIVE' };
    case 'recover':
      return { op: 'recover', curve: s.curve, idempotencyKey: idem('rec'), backupPairId: a.backupPairId, ...pin };
    case 'sign':
      return { op: 'sign', curve: s.curve, idempotencyKey: idem('sig'), pairId: a.pairId, request: s.curve === 'SECP256K1' ? ecdsaRequest : edRequest };
  }
}

function factory(s: Suite, a: Actor): Factory {
  switch (s.op) {
    case 'generate':
      return mpc.generate(s.curve);
    case 'backup':
      return mpc.backup(s.curve, a.share!, 'GDRIVE');
    case 'recover':
      return mpc.recover(s.curve, a.share!);
    case 'sign':
      return s.curve === 'SECP256K1'
        ? mpc.sign('SECP256K1', a.share!, ecdsaRequest, hexToBytes(ecdsaRequest.digest.slice(2)))
        : mpc.sign('ED25519', a.share!, edRequest, edMessage);
  }
}

/**
 * The client party of an attempt: clientMpc()'s, except that SECP256K1 Generate and Recover use the same
 * src/mpc parties with the pin (clientMpc() never pins), which spares each attempt the Π_IC check of K1/R1;
 * what the custodian receives and checks is the same.
 */
function attackFactory(s: Suite, a: Actor): Factory {
  const icPin = s.pin;
  if (icPin && s.op === 'generate') return ({ pid1, pid2 }) => createKeygenP2({ pid1, pid2, icPin });
  if (icPin && s.op === 'recover') return ({ pid1, pid2 }) => createRecoverP2({ pid1, pid2, share: a.share!, icPin });
  return factory(s, a);
}

/** One honest session of the suite's operation by `a`; it must succeed. Returns it (its messages are replayed later). */
async function honest(s: Suite, a: Actor, why: string): Promise<Run> {
  const run = await driveWhenFree(a, () => startFrame(s, a), factory(s, a), honestPlan);
  const where = `${s.name}: honest session (${why})`;
  expect(run.timedOut, `${where}: hung`).toBe(false);
  expect(run.error, where).toBeUndefined();
  expect(run.partyError, where).toBeUndefined();
  expect(run.outcome, where).toMatchObject({ op: s.op });
  if (s.op === 'sign') {
    const signature = (run.result as { signature: Uint8Array }).signature;
    const message = s.curve === 'SECP256K1' ? hexToBytes(ecdsaRequest.digest.slice(2)) : edMessage;
    expect(mpc.verify(s.curve, a.publicKey!, message, signature), `${where}: the signature verifies`).toBe(true);
    if (a === s.attacker) s.streak = 0;
  }
  return run;
}

// ---- one attempt and what must hold after it -------------------------------------------------------------

/** A view with the sign lock rule's one allowed change (the attacked pair's status) masked. */
const masked = (v: WalletView, pairId?: string): unknown => ({
  ...v,
  signingPairs: v.signingPairs.map((p) => (p.pairId === pairId ? { ...p, status: 'masked' } : p)),
});

async function attempt(s: Suite, target: string, attack: string, plan: Plan, opts: { clientChosen?: boolean; completes?: boolean } = {}): Promise<void> {
  const where = `${s.name} ${target} ${attack}`;
  const before = await operatorView(server, s.attacker.walletId);
  const run = await driveWhenFree(s.attacker, () => startFrame(s, s.attacker, true), attackFactory(s, s.attacker), plan);
  expect(run.timedOut, `${where}: the session hung`).toBe(false);
  expect(run.closeCode, `${where}: the socket closed`).toBeDefined();
  expect(run.ready, `${where}: the session started (${run.error?.code ?? ''})`).toBe(true);
  let outcome: string;
  if (run.error) {
    expect(REFUSALS[s.op], `${where}: the custodian's error is a typed refusal`).toContain(run.error.code);
    expect(run.closedBy, where).toBe('custodian');
    expect(run.closeCode, where).toBe(1008);
    expect(run.outcome, where).toBeUndefined();
    outcome = `refused: ${run.error.code}`;
  } else if (run.partyError !== undefined && opts.clientChosen) {
    expect(isTandemError(run.partyError), `${where}: ${codeOf(run.partyError)}`).toBe(true);
    outcome = `taken as the client's own choice; client party refused the answer: ${codeOf(run.partyError)}`;
  } else if (opts.completes && run.outcome) {
    outcome = 'completed once; the extra frame was ignored';
  } else {
    throw new Error(`${where}: no typed refusal — outcome ${JSON.stringify(run.outcome)}, party error ${codeOf(run.partyError)}`);
  }
  await assertServing(server, where);

  const after = await operatorView(server, s.attacker.walletId);
  const pair = after.signingPairs.find((p) => p.pairId === s.attacker.pairId);
  if (s.op === 'sign' && target === 'S4' && !opts.completes) s.streak++;
  if (pair?.status === 'LOCKED') {
    // §5.2: only Π_sign rejections count, and only a run of them (default 3) locks.
    expect(s.op === 'sign' && target === 'S4', `${where}: only rejected Π_sign proofs may lock a pair`).toBe(true);
    expect(s.streak, `${where}: locked after ${s.streak} S4 attempts in a row`).toBeGreaterThanOrEqual(3);
    expect(masked(after, pair.pairId), `${where}: nothing else changed`).toEqual(masked(before, pair.pairId));
    outcome += `; pair LOCKED after ${s.streak} S4 attempts in a row, PAIR_LOCKED until the operator unlocked it`;
    await assertLockedThenUnlock(s, where);
  } else {
    expect(after, `${where}: the custodian's wallet view is unchanged`).toEqual(before);
  }
  tally.add({ harness: 'hostile client', operation: s.name, target, attack, outcome });
}

async function assertLockedThenUnlock(s: Suite, where: string): Promise<void> {
  const refused = await drive(s.attacker, startFrame(s, s.attacker), () => {
    throw new Error('a locked pair must refuse before ready');
  }, honestPlan);
  expect(refused.error?.code, `${where}: a locked pair answers`).toBe('PAIR_LOCKED');
  expect(refused.ready, where).toBe(false);
  await unlockPair(server, s.attacker.walletId, s.attacker.pairId!);
  expect((await operatorView(server, s.attacker.walletId)).signingPairs.find((p) => p.pairId === s.attacker.pairId)?.status).toBe('STORED_CLIENT');
  s.streak = 0;
  s.locks++;
}

/** An honest session by another client, then by the attacker itself: the custodian keeps serving both. */
async function stillServes(s: Suite, why: string): Promise<void> {
  await honest(s, s.bystander, `another client, after ${why}`);
  await honest(s, s.attacker, `the same client, after ${why}`);
}

// ---- setup: wallets in the state each operation starts from ----------------------------------------------

async function confirmPair(a: ClientKey, pairId: string): Promise<void> {
  const r = await call(server, 'POST', `/v1/wallet/signing-pairs/${pairId}/confirm`, { key: a.apiKey, headers: { 'idempotency-key': `confirm-${pairId.slice(0, 24)}` } });
  expect(r.body).toMatchObject({ status: 'STORED_CLIENT' });
}

async function completeBackup(a: ClientKey, backupPairId: string): Promise<void> {
  const key = (step: string) => ({ key: a.apiKey, headers: { 'idempotency-key': `${step}-${backupPairId.slice(0, 24)}` } });
  await call(server, 'POST', `/v1/wallet/backup-pairs/${backupPairId}/key-confirm`, key('key'));
  await call(server, 'PUT', `/v1/wallet/backup-pairs/${backupPairId}/ciphertext`, { ...key('ct'), raw: new Uint8Array([1, 2, 3]) });
  const r = await call(server, 'POST', `/v1/wallet/backup-pairs/${backupPairId}/confirm`, key('done'));
  expect(r.body).toMatchObject({ status: 'STORED_CLIENT_BACKUP_SHARE' });
}

/** A client whose wallet holds a confirmed signing pair of `curve` (and, with `backedUp`, a completed GDRIVE backup of it). */
async function prepared(curve: Curve, need: 'nothing' | 'signing' | 'backup'): Promise<Actor> {
  const a: Actor = await newClient(server);
  if (need === 'nothing') return a;
  const scratch = { op: 'generate', curve, name: 'setup', attacker: a, bystander: a, streak: 0, locks: 0 } as Suite;
  const gen = await honest(scratch, a, 'setup');
  const result = gen.result as { share: Uint8Array; publicKey: string };
  const pairId = gen.outcome!['pair'].pairId as string;
  await confirmPair(a, pairId);
  Object.assign(a, { share: result.share, pairId, publicKey: result.publicKey });
  if (need === 'signing') return a;
  const bkp = await honest({ ...scratch, op: 'backup' }, a, 'setup');
  const backupPairId = bkp.outcome!['backupPair'].backupPairId as string;
  await completeBackup(a, backupPairId);
  return Object.assign(a, { share: (bkp.result as { share: Uint8Array }).share, backupPairId });
}

// ---- the sweep -----------------------------------------------------------------------------------------

/** Every field of every message the client sends, each whole message damaged, then the sequence attacks. */
async function sweep(op: Op, curve: Curve): Promise<void> {
  const need = op === 'generate' ? 'nothing' : op === 'recover' ? 'backup' : 'signing';
  const [attacker, bystander] = await Promise.all([prepared(curve, need), prepared(curve, need)]);
  const s: Suite = { op, curve, name: `${op} ${curve}`, attacker, bystander, streak: 0, locks: 0 };

  // Recordings to replay: an earlier session of the same client, and a session of another client.
  const own = await honest(s, attacker, 'recording');
  const other = await honest(s, bystander, 'recording');
  const count = own.messages.length;
  if (curve === 'SECP256K1' && (op === 'generate' || op === 'recover')) s.pin = decodeClientShare((own.result as { share: Uint8Array }).share).icPin;

  for (let k = 0; k < count; k++) {
    const name = messageName(own.messages[k]!);
    const labels = mutationsOf(own.messages[k]!).map((m) => m.label);
    const chosen = CLIENT_CHOSEN[name] ?? [];
    for (const label of labels) {
      const group = label.slice(0, label.lastIndexOf(':'));
      if (DEPTH === 'quick' && label.endsWith(': last byte')) continue;
      await attempt(s, name, label, (n, m) => (n === k ? [mutate(m, label)] : [m]), { clientChosen: chosen.includes(group) });
    }
  }
  await stillServes(s, 'every field of every message');

  // Sequence: rounds skipped, repeated, out of order; messages replayed from other sessions.
  const first = messageName(own.messages[0]!);
  const last = own.messages.length - 1;
  if (count > 1) {
    await attempt(s, 'sequence', `skip: ${messageName(own.messages[1]!)} sent where ${first} is due`, (n, m) => (n === 0 ? [own.messages[1]!] : [m]));
    let sent0: Uint8Array | undefined;
    await attempt(s, 'sequence', `out of order: ${first} sent again where ${messageName(own.messages[1]!)} is due`, (n, m) => {
      if (n === 0) sent0 = m;
      return n === 1 ? [sent0!] : [m];
    });
  }
  await attempt(s, 'sequence', `repeat: ${first} sent twice`, (n, m) => (n === 0 ? [m, m] : [m]), { completes: count === 1 });
  const replayable = REPLAYABLE_AS_CHOICE.includes(first);
  await attempt(s, 'sequence', `replay: ${first} from an earlier session of this client`, (n, m) => (n === 0 ? [own.messages[0]!] : [m]), { clientChosen: replayable });
  await attempt(s, 'sequence', `replay: ${first} from another client's session`, (n, m) => (n === 0 ? [other.messages[0]!] : [m]), { clientChosen: replayable });
  if (count > 1) {
    const lastName = messageName(own.messages[last]!);
    await attempt(s, 'sequence', `replay: ${lastName} from an earlier session of this client`, (n, m) => (n === last ? [own.messages[last]!] : [m]));
    await attempt(s, 'sequence', `replay: ${lastName} from another client's session`, (n, m) => (n === last ? [other.messages[last]!] : [m]));
  }
  await stillServes(s, 'the sequence attacks');
  if (op === 'sign' && curve === 'SECP256K1') expect(s.locks, 'rejected Π_sign proofs in a row locked the pair at least once').toBeGreaterThan(0);
}

describe.concurrent('a hostile client against the real custodian', () => {
  for (const op of ['generate', 'backup', 'recover', 'sign'] as const) {
    for (const curve of ['SECP256K1', 'ED25519'] as const) {
      it(`${op} ${curve}`, { timeout: 600_000 }, () => sweep(op, curve));
    }
  }
});
