/**
 * One load client: a real wallet as an app on a device would hold it — its own client API key from the
 * operator API, `remoteCustodian` over HTTP and WebSocket (ws), the real client MPC and a MemoryKeychain
 * — that generates its keys once and then signs, alternating curves, until the window closes.
 *
 * Why it is shaped so:
 * - "generate" is one `createWallet`, both curves (ECDSA-2PC on SECP256K1, then FROST on ED25519), as an
 *   app calls it; "sign" is one signature on one curve. Every wallet that generated signs at least once
 *   per curve, even if its generation outlasted the window, so a short run still measures signing. Latency is the app's view: client compute, the
 *   round trips and the custodian's work together.
 * - SECP256K1 signs typed EIP-191 requests (the custodian recomputes the digest from the payload, the
 *   path real apps take); ED25519 signs raw messages. Every signature is checked again here with noble
 *   under the key the device holds, so a wrong signature is an error even if the SDK let it through.
 * - An error is counted by its code and the client carries on (a failed generation is retried: a wallet
 *   with no keys cannot sign), so one failure does not hide the rest of the run.
 * - The lost-wallet check at the end trusts neither side alone: the custodian's view (operator API) must
 *   agree with the device's (addresses, keychain entries for every STORED_CLIENT pair), and a fresh
 *   signature must verify under the custodian's key.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import WebSocket from 'ws';
import { MemoryKeychain, remoteCustodian, type WebSocketConstructor } from '../../src/adapters/index.js';
import { signRequest } from '../../src/chains/sign-request.js';
import { isTandemError } from '../../src/errors.js';
import { addressOf, createTandemWallet, keychainKey, type Addresses, type TandemWallet } from '../../src/machines/index.js';
import { clientMpc } from '../../src/mpc/client.js';
import { CURVES, type Curve, type WalletView } from '../../src/types.js';

export type Operator = (method: string, path: string, body?: unknown) => Promise<any>;

/** Errors by code (a TandemError's code, or the name of anything else thrown), with one message each. */
export class ErrorTally {
  readonly counts = new Map<string, number>();
  readonly samples = new Map<string, string>();

  add(where: string, err: unknown): void {
    const code = isTandemError(err) ? err.code : err instanceof SignatureInvalid ? 'SIGNATURE_INVALID' : `OTHER_${err instanceof Error ? err.name : typeof err}`;
    this.count(code, `${where}: ${err instanceof Error ? err.message : String(err)}`);
  }

  /** A failure that is not an exception of one operation (the custodian process died, say). */
  count(code: string, message: string): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
    if (!this.samples.has(code)) this.samples.set(code, message);
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }
}

class SignatureInvalid extends Error {
  override readonly name = 'SignatureInvalid';
}

export interface Latencies {
  readonly generate: number[];
  readonly sign: Record<Curve, number[]>;
}

export interface LoadRun {
  readonly url: string;
  readonly operator: Operator;
  /** performance.now() after which no new operation starts. */
  readonly endAt: number;
  /** Set when the store's run is cut short (the custodian died, the deadline passed). */
  readonly aborted: () => boolean;
  readonly latencies: Latencies;
  readonly errors: ErrorTally;
}

export interface LoadWallet {
  readonly walletId: string;
  readonly wallet: TandemWallet;
  readonly keychain: MemoryKeychain;
  /** What `createWallet` returned; null if no generation completed. */
  readonly addresses: Addresses | null;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens a wallet for client `index`, generates, then signs until `run.endAt`. */
export async function runClient(run: LoadRun, index: number): Promise<LoadWallet | null> {
  let opened: { walletId: string; apiKey: string };
  let wallet: TandemWallet;
  const keychain = new MemoryKeychain();
  try {
    opened = await run.operator('POST', '/v1/operator/clients', {});
    const custodian = remoteCustodian({ baseUrl: run.url, apiKey: opened.apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor });
    wallet = await createTandemWallet({ custodian, keychain, mpc: clientMpc() });
  } catch (err) {
    run.errors.add('open', err);
    return null;
  }

  let addresses: Addresses | null = null;
  while (addresses === null && performance.now() < run.endAt && !run.aborted()) {
    const t0 = performance.now();
    try {
      addresses = await wallet.createWallet();
      run.latencies.generate.push(performance.now() - t0);
    } catch (err) {
      run.errors.add('generate', err);
      await pause(200);
    }
  }

  // At least one signature per curve, even when generation outlasted the window (a crowded machine).
  for (let i = 0; addresses !== null && (i < CURVES.length || performance.now() < run.endAt) && !run.aborted(); i++) {
    const curve = CURVES[i % CURVES.length]!;
    const t0 = performance.now();
    try {
      await signVerified(wallet, curve, devicePublicKey(wallet, curve), `Tandem load, client ${index}, signature ${i}`);
      run.latencies.sign[curve].push(performance.now() - t0);
    } catch (err) {
      run.errors.add(`sign ${curve}`, err);
      await pause(200);
    }
  }
  return { walletId: opened.walletId, wallet, keychain, addresses };
}

function devicePublicKey(wallet: TandemWallet, curve: Curve): string {
  const key = wallet.actor.getSnapshot().context.detail?.curves[curve].publicKey;
  if (!key) throw new Error(`The device shows no ${curve} key after its generation.`);
  return key;
}

/** Signs on `curve` and checks the signature with noble under `publicKey` (hex). */
async function signVerified(wallet: TandemWallet, curve: Curve, publicKey: string, text: string): Promise<void> {
  let ok: boolean;
  if (curve === 'SECP256K1') {
    const request = signRequest('SECP256K1', 'eip191', { message: text });
    const signature = await wallet.sign('SECP256K1', request);
    ok = secp256k1.verify(signature, hexToBytes(request.digest.slice(2)), hexToBytes(publicKey), { prehash: false, lowS: true });
  } else {
    const message = utf8ToBytes(text);
    const signature = await wallet.signRaw('ED25519', message);
    ok = ed25519.verify(signature, message, hexToBytes(publicKey), { zip215: false });
  }
  if (!ok) throw new SignatureInvalid(`A ${curve} signature does not verify under the wallet key.`);
}

/**
 * Why the wallet is lost, or null if it still works. Curves are checked where either side has a key:
 * both, once `createWallet` succeeded; otherwise whatever the custodian confirmed despite the failure.
 */
export async function lostReason(operator: Operator, w: LoadWallet): Promise<string | null> {
  let view: WalletView;
  try {
    view = (await operator('GET', `/v1/operator/clients/${w.walletId}`)).wallet as WalletView;
  } catch (err) {
    return `the custodian does not answer for it: ${err instanceof Error ? err.message : String(err)}`;
  }
  const shown = w.wallet.getAddresses();
  for (const curve of CURVES) {
    const publicKey = view.publicKeys[curve];
    if (w.addresses === null && publicKey === undefined) continue;
    if (publicKey === undefined) return `the custodian has no ${curve} key`;
    const address = addressOf(curve, publicKey);
    if (w.addresses?.[curve] !== address) return `${curve}: the address generated (${w.addresses?.[curve]}) is not the custodian's (${address})`;
    if (shown[curve] !== address) return `${curve}: the device shows ${shown[curve]}, the custodian's key gives ${address}`;
    const stored = view.signingPairs.filter((p) => p.curve === curve && p.status === 'STORED_CLIENT');
    if (stored.length !== 1) return `${curve}: ${stored.length} signing pairs are STORED_CLIENT, expected 1`;
    const pair = stored[0]!;
    if (pair.publicKey !== publicKey) return `${curve}: the STORED_CLIENT pair ${pair.pairId} is not under the wallet key`;
    if ((await w.keychain.get(keychainKey(w.walletId, curve, pair.pairId))) === undefined) return `${curve}: the keychain holds no share for pair ${pair.pairId}`;
    try {
      await signVerified(w.wallet, curve, publicKey, `Tandem load, final check of ${w.walletId}`);
    } catch (err) {
      return `${curve}: the final signature failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return null;
}
