/**
 * An EIP-1193 provider over the wallet, for dapps and libraries that talk to `window.ethereum`-style
 * providers. It is a thin router: accounts and the chain id are answered here; signing goes through
 * `tandemAccount` (so the custodian always gets a typed request it can recompute); a short allowlist of
 * read methods goes to the current chain's RPC, unchanged; everything else is refused with 4200, so a
 * node's admin or debug methods (`hardhat_setBalance`, `debug_*`, `personal_*`) never pass through.
 *
 * Every signing request is shown to the app's approval hook before anything reaches the wallet, with
 * exactly what will be signed — for a transaction, after its nonce, gas and fees are filled — and a copy,
 * so the hook cannot change what is signed. Sends are sequenced per chain from fill to broadcast, so
 * concurrent sends never share a nonce.
 *
 * Browser-safe: no Node built-ins; the network is the global `fetch` (or the one given), through viem's
 * HTTP JSON-RPC client. Chains are named in CAIP-2 (`eip155:1`), and each RPC must answer `eth_chainId`
 * with its configured id before the provider uses it: a URL that points at another chain is not that
 * chain (4901).
 */
import {
  BaseError,
  createClient,
  custom,
  defineChain,
  getAddress,
  hashTypedData,
  HttpRequestError,
  isAddress,
  numberToHex,
  RpcRequestError,
  serializeTransaction,
  type AccessList,
  type Address,
  type Chain,
  type Client,
  type Hex,
  type TransactionSerializable,
  type TypedDataDefinition,
} from 'viem';
import { prepareTransactionRequest } from 'viem/actions';
import { getHttpRpcClient, type HttpRpcClient } from 'viem/utils';
import { eip1193Code, isTandemError, TandemError, toTandemError } from '../errors.js';
import { tandemAccount, type TandemAccount } from './evm.js';
import type { WalletSigner } from './signer.js';

/** A chain named in CAIP-2: `eip155:` and the decimal chain id. */
export type Eip155ChainId = `eip155:${number}`;

export interface Eip1193ChainConfig {
  readonly id: Eip155ChainId;
  /** An HTTP(S) JSON-RPC endpoint. It may hold an API key: the provider never puts it in an error. */
  readonly rpcUrl: string;
  readonly name?: string;
}

export const SIGNING_METHODS = ['personal_sign', 'eth_signTypedData_v4', 'eth_signTransaction', 'eth_sendTransaction', 'eth_sign'] as const;
export type SigningMethod = (typeof SIGNING_METHODS)[number];

/** Forwarded to the current chain's RPC as they are; nothing else is. */
export const READ_METHODS = [
  'eth_blockNumber',
  'eth_call',
  'eth_estimateGas',
  'eth_feeHistory',
  'eth_gasPrice',
  'eth_maxPriorityFeePerGas',
  'eth_blobBaseFee',
  'eth_getBalance',
  'eth_getBlockByHash',
  'eth_getBlockByNumber',
  'eth_getBlockReceipts',
  'eth_getBlockTransactionCountByHash',
  'eth_getBlockTransactionCountByNumber',
  'eth_getCode',
  'eth_getLogs',
  'eth_getProof',
  'eth_getStorageAt',
  'eth_getTransactionByBlockHashAndIndex',
  'eth_getTransactionByBlockNumberAndIndex',
  'eth_getTransactionByHash',
  'eth_getTransactionCount',
  'eth_getTransactionReceipt',
  'eth_createAccessList',
  'eth_newFilter',
  'eth_newBlockFilter',
  'eth_getFilterChanges',
  'eth_getFilterLogs',
  'eth_uninstallFilter',
  'eth_syncing',
  'eth_sendRawTransaction',
  'net_version',
  'web3_clientVersion',
] as const;

interface ApprovalBase<M extends SigningMethod> {
  /** Unique per provider; the same id as the request's `approval` events. */
  readonly id: number;
  readonly method: M;
  readonly chainId: Eip155ChainId;
  readonly address: Address;
}

/** What the approval hook is asked about: the request, decoded, exactly as it will be signed. */
export type ApprovalRequest =
  /** EIP-191: `message` is text, or `{ raw }` bytes when the dapp sent hex. */
  | (ApprovalBase<'personal_sign'> & { readonly message: string | { readonly raw: Hex } })
  | (ApprovalBase<'eth_signTypedData_v4'> & { readonly typedData: TypedDataDefinition })
  /** The transaction after filling: nonce, gas and fees are the ones that will be signed. */
  | (ApprovalBase<'eth_signTransaction' | 'eth_sendTransaction'> & { readonly transaction: TransactionSerializable })
  /** A bare 32-byte digest (only with `allowEthSign`). */
  | (ApprovalBase<'eth_sign'> & { readonly hash: Hex });

export interface ApprovalEvent {
  readonly id: number;
  readonly method: SigningMethod;
  readonly status: 'requested' | 'approved' | 'rejected';
}

export interface Eip1193ProviderOptions {
  readonly wallet: WalletSigner;
  readonly chains: readonly Eip1193ChainConfig[];
  /** The chain to start on; the first of `chains` by default. */
  readonly chain?: Eip155ChainId;
  /**
   * Asked before each signing request reaches the wallet; only `true` approves, anything else (or a
   * throw) rejects with 4001. Without it every request is approved: the app itself holds the provider.
   */
  readonly approve?: (request: ApprovalRequest) => boolean | Promise<boolean>;
  /** `eth_sign` signs a bare digest the custodian cannot check (it records it as `raw`); off by default. */
  readonly allowEthSign?: boolean;
  /** The fetch used for every RPC call; the global one by default. */
  readonly fetch?: typeof fetch;
}

export interface RequestArguments {
  readonly method: string;
  readonly params?: readonly unknown[] | object;
}

export interface Eip1193EventMap {
  /** When the provider first reaches the current chain's RPC, and again after a `disconnect`. */
  connect(info: { chainId: Hex }): void;
  /** When the current chain's RPC stops answering (a 4900 error: the provider reaches no chain now). */
  disconnect(error: Eip1193Error): void;
  chainChanged(chainId: Hex): void;
  /** Never emitted: the provider has one account, fixed when it is created. */
  accountsChanged(accounts: Address[]): void;
  approval(event: ApprovalEvent): void;
}

export interface TandemEip1193Provider {
  request(args: RequestArguments): Promise<unknown>;
  on<E extends keyof Eip1193EventMap>(event: E, listener: Eip1193EventMap[E]): void;
  removeListener<E extends keyof Eip1193EventMap>(event: E, listener: Eip1193EventMap[E]): void;
}

/** EIP-1193's ProviderRpcError: what `request` rejects with. */
export class Eip1193Error extends Error {
  override readonly name = 'Eip1193Error';
  readonly code: number;
  readonly data?: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    if (data !== undefined) this.data = data;
  }
}

export const PROVIDER_ERROR_CODES = {
  userRejected: 4001,
  unauthorized: 4100,
  unsupportedMethod: 4200,
  disconnected: 4900,
  chainDisconnected: 4901,
  unrecognizedChain: 4902,
  invalidRequest: -32600,
  invalidParams: -32602,
  internal: -32603,
} as const;
const E = PROVIDER_ERROR_CODES;

interface ChainEntry {
  readonly caip2: Eip155ChainId;
  readonly id: number;
  readonly hex: Hex;
  readonly viemChain: Chain;
  readonly http: HttpRpcClient;
  /** Set once its RPC has answered `eth_chainId` with `id`. */
  verified: boolean;
  client?: Client;
  sends: Promise<unknown>;
}

type Listeners = { [K in keyof Eip1193EventMap]: Set<Eip1193EventMap[K]> };

/**
 * @example
 * const provider = createEip1193Provider({
 *   wallet,
 *   chains: [{ id: 'eip155:1', rpcUrl: 'https://eth.example/rpc' }, { id: 'eip155:8453', rpcUrl: 'https://base.example/rpc' }],
 *   approve: (req) => confirm(`${req.method} on ${req.chainId}?`),
 * });
 * const [address] = (await provider.request({ method: 'eth_requestAccounts' })) as string[];
 * const client = createWalletClient({ account: address, chain: mainnet, transport: custom(provider) });
 */
export function createEip1193Provider(options: Eip1193ProviderOptions): TandemEip1193Provider {
  const chains = checkOptions(options);
  const account: TandemAccount = tandemAccount(options.wallet);
  const address = account.address;
  const approve = options.approve;
  const allowEthSign = options.allowEthSign === true;

  let current = chains.find((c) => c.caip2 === (options.chain ?? chains[0]!.caip2))!;
  let connected = false;
  let nextApprovalId = 1;
  const listeners: Listeners = { connect: new Set(), disconnect: new Set(), chainChanged: new Set(), accountsChanged: new Set(), approval: new Set() };

  function emit<K extends keyof Eip1193EventMap>(event: K, ...args: Parameters<Eip1193EventMap[K]>): void {
    for (const listener of [...listeners[event]]) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (err) {
        // A listener's failure is the app's bug: report it as a browser does, without breaking the request.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  const reached = (chain: ChainEntry) => {
    if (chain !== current || connected) return;
    connected = true;
    emit('connect', { chainId: chain.hex });
  };
  const lost = (chain: ChainEntry) => {
    if (chain !== current || !connected) return;
    connected = false;
    emit('disconnect', new Eip1193Error(E.disconnected, 'The provider lost its connection to the RPC of the current chain.', { chainId: chain.caip2 }));
  };

  /** One JSON-RPC exchange; a transport failure is 4901 (the chain's RPC cannot be reached). */
  async function exchange(chain: ChainEntry, method: string, params: unknown): Promise<{ result?: unknown; error?: unknown }> {
    try {
      const response = (await chain.http.request({ body: { method, params } as never })) as unknown;
      if (typeof response !== 'object' || response === null) throw new Error('not a JSON-RPC response');
      return response as { result?: unknown; error?: unknown };
    } catch (err) {
      // A JSON-RPC error on a non-2xx response is still an answer.
      if (err instanceof RpcRequestError) return { error: { code: err.code, message: err.details, data: err.data } };
      lost(chain);
      const httpStatus = err instanceof HttpRequestError ? err.status : undefined;
      throw new Eip1193Error(E.chainDisconnected, `The RPC of ${chain.caip2} cannot be reached.`, { chainId: chain.caip2, ...(httpStatus ? { httpStatus } : {}) });
    }
  }

  async function verify(chain: ChainEntry): Promise<void> {
    const { result } = await exchange(chain, 'eth_chainId', []);
    const answered = typeof result === 'string' && /^0x[0-9a-fA-F]{1,16}$/.test(result) ? Number(BigInt(result)) : null;
    if (answered !== chain.id) {
      throw new Eip1193Error(E.chainDisconnected, `The RPC configured for ${chain.caip2} does not serve it (it answers chain ${answered ?? 'unknown'}).`, {
        chainId: chain.caip2,
      });
    }
    chain.verified = true;
  }

  /** A call to a chain's RPC: its result, or its JSON-RPC error passed through with code, message and data. */
  async function rpc(chain: ChainEntry, method: string, params: unknown = []): Promise<unknown> {
    if (!chain.verified) await verify(chain);
    const response = await exchange(chain, method, params);
    reached(chain);
    if ('error' in response && response.error !== undefined) {
      const e = response.error as { code?: unknown; message?: unknown; data?: unknown };
      if (typeof e.code === 'number' && typeof e.message === 'string') throw new Eip1193Error(e.code, e.message, e.data);
      throw new Eip1193Error(E.internal, 'The RPC answered with a malformed error.');
    }
    if (!('result' in response)) throw new Eip1193Error(E.internal, 'The RPC answered without a result.');
    return response.result;
  }

  /** viem's client over `rpc`, for `prepareTransactionRequest`: no retries, no transport of its own. */
  const clientOf = (chain: ChainEntry): Client =>
    (chain.client ??= createClient({
      chain: chain.viemChain,
      transport: custom({ request: ({ method, params }: { method: string; params?: unknown }) => rpc(chain, method, params ?? []) }, { retryCount: 0 }),
    }));

  async function approval(request: DistributiveOmit<ApprovalRequest, 'id' | 'chainId' | 'address'>, chain: ChainEntry): Promise<void> {
    const id = nextApprovalId++;
    const method = request.method;
    emit('approval', { id, method, status: 'requested' });
    let approved = true;
    if (approve !== undefined) {
      // A copy: whatever the hook does with it, the wallet signs what was decided here.
      const shown = structuredClone({ ...request, id, chainId: chain.caip2, address }) as ApprovalRequest;
      approved = await Promise.resolve()
        .then(() => approve(shown))
        .then(
          (answer) => answer === true,
          () => false,
        );
    }
    emit('approval', { id, method, status: approved ? 'approved' : 'rejected' });
    if (!approved) throw new Eip1193Error(E.userRejected, 'The request was rejected.', { method });
  }

  /** Fills what the dapp left out (nonce, gas, fees, type) from the chain's RPC, as viem does. */
  async function fill(chain: ChainEntry, tx: RpcTransaction): Promise<TransactionSerializable> {
    let prepared: Record<string, unknown>;
    try {
      prepared = (await prepareTransactionRequest(clientOf(chain), {
        ...tx,
        account,
        chain: chain.viemChain,
        chainId: chain.id,
        parameters: ['nonce', 'type', 'fees', 'gas'],
      } as never)) as Record<string, unknown>;
    } catch (err) {
      throw providerError(err, 'The transaction could not be prepared');
    }
    return serializable(prepared, chain);
  }

  const handlers: Record<string, (params: readonly unknown[]) => Promise<unknown>> = {
    eth_accounts: async () => [address],
    eth_requestAccounts: async () => [address],
    eth_chainId: async () => current.hex,

    async wallet_switchEthereumChain(params) {
      const [arg] = params;
      const hex = (arg as { chainId?: unknown } | undefined)?.chainId;
      if (typeof hex !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(hex)) throw invalidParams('Expected [{ chainId }] with a hex chain id.');
      const target = chains.find((c) => BigInt(c.id) === BigInt(hex));
      if (target === undefined) throw new Eip1193Error(E.unrecognizedChain, `Unrecognized chain ${hex}: the app has not configured it.`, { chainId: hex });
      if (target === current) return null;
      // Switch only to a chain whose RPC answers as that chain: a dapp must not end up on a dead chain.
      if (!target.verified) await verify(target);
      current = target;
      emit('chainChanged', target.hex);
      reached(target);
      return null;
    },

    async personal_sign(params) {
      const [data, from] = params;
      if (typeof data !== 'string') throw invalidParams('Expected [data, address]: data is hex bytes or text.');
      checkFrom(from, address);
      // As MetaMask does: hex is the message's bytes, any other string is its UTF-8 text.
      const message = /^0x([0-9a-fA-F]{2})*$/.test(data) ? { raw: data.toLowerCase() as Hex } : data;
      const chain = current;
      await approval({ method: 'personal_sign', message }, chain);
      return account.signMessage({ message });
    },

    async eth_signTypedData_v4(params) {
      const [from, data] = params;
      checkFrom(from, address);
      const chain = current;
      const typedData = parseTypedData(data, chain);
      await approval({ method: 'eth_signTypedData_v4', typedData }, chain);
      return account.signTypedData(typedData);
    },

    async eth_sign(params) {
      if (!allowEthSign) throw new Eip1193Error(E.unsupportedMethod, 'eth_sign is disabled: it signs a bare digest. Use personal_sign or eth_signTypedData_v4.');
      const [from, hash] = params;
      checkFrom(from, address);
      if (typeof hash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(hash)) throw invalidParams('Expected [address, hash]: hash is 32 bytes of hex.');
      const digest = hash.toLowerCase() as Hex;
      await approval({ method: 'eth_sign', hash: digest }, current);
      return account.sign!({ hash: digest });
    },

    async eth_signTransaction(params) {
      const chain = current;
      const tx = parseTransactionParams(params, address, chain);
      const transaction = await fill(chain, tx);
      await approval({ method: 'eth_signTransaction', transaction }, chain);
      return account.signTransaction(transaction);
    },

    async eth_sendTransaction(params) {
      const chain = current;
      const tx = parseTransactionParams(params, address, chain);
      // From fill to broadcast one at a time per chain: the next fill sees this nonce as pending.
      const send = chain.sends.then(async () => {
        const transaction = await fill(chain, tx);
        await approval({ method: 'eth_sendTransaction', transaction }, chain);
        const signed = await account.signTransaction(transaction);
        const hash = await rpc(chain, 'eth_sendRawTransaction', [signed]);
        if (typeof hash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(hash)) throw new Eip1193Error(E.internal, 'The RPC did not return a transaction hash.');
        return hash;
      });
      chain.sends = send.catch(() => undefined);
      return send;
    },
  };

  return {
    async request(args) {
      if (typeof args !== 'object' || args === null || typeof args.method !== 'string') {
        throw new Eip1193Error(E.invalidRequest, 'Expected { method, params? }.');
      }
      const { method } = args;
      const params = args.params ?? [];
      if (!Array.isArray(params)) throw invalidParams(`${method} takes its params as an array.`);
      const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
      try {
        if (handler !== undefined) return await handler(params);
        if ((READ_METHODS as readonly string[]).includes(method)) return await rpc(current, method, params);
      } catch (err) {
        throw providerError(err, 'The request failed');
      }
      throw new Eip1193Error(E.unsupportedMethod, `The provider does not support ${method}.`, { method });
    },
    on(event, listener) {
      listeners[event]?.add(listener);
    },
    removeListener(event, listener) {
      listeners[event]?.delete(listener);
    },
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An error as the provider reports it: ours and the RPC's as they are, the wallet's by `eip1193Code`. */
function providerError(err: unknown, context: string): Eip1193Error {
  for (let e: unknown = err; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    if (e instanceof Eip1193Error) return e;
    if (isTandemError(e)) return fromTandem(e);
  }
  // viem refusing the request's values while preparing it (fee caps, addresses): the caller's to fix.
  if (err instanceof BaseError) return new Eip1193Error(E.invalidParams, `${context}: ${err.shortMessage}`);
  return fromTandem(toTandemError(err));
}

function fromTandem(err: TandemError): Eip1193Error {
  return new Eip1193Error(eip1193Code(err), err.shortMessage, { tandemCode: err.code });
}

const invalidParams = (message: string) => new Eip1193Error(E.invalidParams, message);

function checkFrom(from: unknown, address: Address): void {
  if (typeof from !== 'string' || !isAddress(from, { strict: false })) throw invalidParams('Expected the account address among the params.');
  if (from.toLowerCase() !== address.toLowerCase()) throw new Eip1193Error(E.unauthorized, 'The address is not an account of this provider.');
}

const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;

function quantity(v: unknown, field: string): bigint {
  if (typeof v !== 'string' || !QUANTITY.test(v)) throw invalidParams(`Transaction ${field} must be a hex quantity.`);
  return BigInt(v);
}

function smallQuantity(v: unknown, field: string): number {
  const n = quantity(v, field);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidParams(`Transaction ${field} is too large.`);
  return Number(n);
}

/** A JSON-RPC transaction object, decoded: what the dapp set, ready for viem to fill the rest. */
type RpcTransaction = {
  to?: Address;
  value?: bigint;
  data?: Hex;
  gas?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  nonce?: number;
  type?: 'legacy' | 'eip2930' | 'eip1559';
  accessList?: AccessList;
};

const TX_FIELDS = ['from', 'to', 'gas', 'gasPrice', 'maxFeePerGas', 'maxPriorityFeePerGas', 'value', 'data', 'input', 'nonce', 'chainId', 'type', 'accessList'];
const TX_TYPES: Record<string, RpcTransaction['type']> = { '0x0': 'legacy', '0x1': 'eip2930', '0x2': 'eip1559' };

function parseTransactionParams(params: readonly unknown[], address: Address, chain: ChainEntry): RpcTransaction {
  const [raw] = params;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidParams('Expected [transaction]: a JSON-RPC transaction object.');
  const t = raw as Record<string, unknown>;
  const unknown = Object.keys(t).filter((k) => t[k] !== undefined && !TX_FIELDS.includes(k));
  // Blob and authorization fields included: a field we would drop is one the dapp meant to be signed.
  if (unknown.length > 0) throw invalidParams(`Unsupported transaction fields: ${unknown.join(', ')}.`);
  if (t['from'] !== undefined) checkFrom(t['from'], address);
  if (t['chainId'] !== undefined && BigInt(smallQuantity(t['chainId'], 'chainId')) !== BigInt(chain.id)) {
    throw invalidParams(`The transaction's chainId ${String(t['chainId'])} is not the current chain (${chain.hex}).`);
  }
  const tx: RpcTransaction = {};
  if (t['to'] !== undefined && t['to'] !== null) {
    if (typeof t['to'] !== 'string' || !isAddress(t['to'], { strict: false })) throw invalidParams('Transaction to must be an address.');
    tx.to = getAddress(t['to']);
  }
  for (const field of ['value', 'gas', 'gasPrice', 'maxFeePerGas', 'maxPriorityFeePerGas'] as const) {
    if (t[field] !== undefined) tx[field] = quantity(t[field], field);
  }
  if (t['nonce'] !== undefined) tx.nonce = smallQuantity(t['nonce'], 'nonce');
  const data = t['data'] ?? t['input'];
  if (data !== undefined) {
    if (typeof data !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(data)) throw invalidParams('Transaction data must be hex bytes.');
    if (t['data'] !== undefined && t['input'] !== undefined && String(t['input']).toLowerCase() !== data.toLowerCase()) {
      throw invalidParams('Transaction data and input differ.');
    }
    tx.data = data.toLowerCase() as Hex;
  }
  if (t['type'] !== undefined) {
    const type = typeof t['type'] === 'string' ? TX_TYPES[t['type'].toLowerCase()] : undefined;
    if (type === undefined) throw invalidParams('Transaction type must be 0x0 (legacy), 0x1 (EIP-2930) or 0x2 (EIP-1559).');
    tx.type = type;
  }
  if (t['accessList'] !== undefined) {
    if (tx.type === 'legacy') throw invalidParams('A legacy transaction has no access list.');
    tx.accessList = accessList(t['accessList']);
  }
  return tx;
}

function accessList(v: unknown): AccessList {
  const bad = () => invalidParams('Transaction accessList must be [{ address, storageKeys: [32-byte hex] }].');
  if (!Array.isArray(v)) throw bad();
  return v.map((item: unknown) => {
    const { address, storageKeys } = (item ?? {}) as { address?: unknown; storageKeys?: unknown };
    if (typeof address !== 'string' || !isAddress(address, { strict: false }) || !Array.isArray(storageKeys)) throw bad();
    if (!storageKeys.every((k): k is string => typeof k === 'string' && /^0x[0-9a-fA-F]{64}$/.test(k))) throw bad();
    return { address: getAddress(address), storageKeys: storageKeys.map((k) => k.toLowerCase() as Hex) };
  });
}

/** The filled request as the exact transaction to sign, for this chain and nothing more. */
function serializable(p: Record<string, unknown>, chain: ChainEntry): TransactionSerializable {
  if (p['chainId'] !== chain.id || typeof p['nonce'] !== 'number' || typeof p['gas'] !== 'bigint') {
    throw new Eip1193Error(E.internal, 'The transaction could not be filled.');
  }
  const base = {
    chainId: chain.id,
    nonce: p['nonce'],
    gas: p['gas'],
    ...(p['to'] !== undefined ? { to: p['to'] as Address } : {}),
    ...(p['value'] !== undefined ? { value: p['value'] as bigint } : {}),
    ...(p['data'] !== undefined ? { data: p['data'] as Hex } : {}),
  };
  const accessList = (p['accessList'] as AccessList | undefined) ?? [];
  let tx: TransactionSerializable;
  switch (p['type']) {
    case 'legacy':
      tx = { ...base, type: 'legacy', gasPrice: p['gasPrice'] as bigint };
      break;
    case 'eip2930':
      tx = { ...base, type: 'eip2930', gasPrice: p['gasPrice'] as bigint, accessList };
      break;
    case 'eip1559':
      tx = { ...base, type: 'eip1559', maxFeePerGas: p['maxFeePerGas'] as bigint, maxPriorityFeePerGas: p['maxPriorityFeePerGas'] as bigint, accessList };
      break;
    default:
      throw new Eip1193Error(E.invalidParams, `Transactions of type ${String(p['type'])} are not supported.`);
  }
  try {
    serializeTransaction(tx);
  } catch (err) {
    throw new Eip1193Error(E.invalidParams, `The transaction is invalid: ${err instanceof BaseError ? err.shortMessage : 'it does not serialize'}`);
  }
  return tx;
}

/** `eth_signTypedData_v4`'s typed data (JSON text or an object), checked to hash, on this chain only. */
function parseTypedData(data: unknown, chain: ChainEntry): TypedDataDefinition {
  let typedData: unknown;
  try {
    // Our own copy: the caller's object could change between approval and signing.
    typedData = typeof data === 'string' ? JSON.parse(data) : structuredClone(data);
  } catch {
    throw invalidParams('The typed data is not JSON.');
  }
  const t = typedData as Record<string, unknown> | null;
  if (typeof t !== 'object' || t === null || typeof t['types'] !== 'object' || t['types'] === null || typeof t['primaryType'] !== 'string' || typeof t['message'] !== 'object') {
    throw invalidParams('Expected [address, typedData]: typed data is { types, primaryType, domain, message }.');
  }
  const domain = (t['domain'] ?? {}) as Record<string, unknown>;
  if (typeof domain !== 'object') throw invalidParams('The typed data domain must be an object.');
  if (domain['chainId'] !== undefined) {
    const id = chainIdOf(domain['chainId']);
    if (id === null) throw invalidParams('The typed data domain chainId is not a chain id.');
    if (id !== BigInt(chain.id)) throw invalidParams(`The typed data is for chain ${id}, not the current chain (${chain.id}).`);
  }
  try {
    hashTypedData(t as unknown as TypedDataDefinition);
  } catch (err) {
    throw invalidParams(`The typed data is invalid: ${err instanceof BaseError ? err.shortMessage : 'it does not hash'}`);
  }
  return t as unknown as TypedDataDefinition;
}

function chainIdOf(v: unknown): bigint | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : null;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && (/^0x[0-9a-fA-F]{1,64}$/.test(v) || /^[0-9]{1,78}$/.test(v))) return BigInt(v);
  return null;
}

/** Options checked at the boundary; a bad one is INVALID_INPUT naming the field (never an RPC URL). */
function checkOptions(options: Eip1193ProviderOptions): ChainEntry[] {
  const invalid = (message: string, field: string) => new TandemError('INVALID_INPUT', { message, details: { field } });
  if (typeof options !== 'object' || options === null) throw invalid('Expected the provider options.', 'options');
  const { wallet, chains, chain, approve, allowEthSign, fetch: fetchFn } = options;
  if (typeof wallet?.getAddresses !== 'function' || typeof wallet?.sign !== 'function') throw invalid('Expected a wallet with getAddresses and sign.', 'wallet');
  if (!Array.isArray(chains) || chains.length === 0) throw invalid('Expected at least one chain.', 'chains');
  if (approve !== undefined && typeof approve !== 'function') throw invalid('approve must be a function.', 'approve');
  if (allowEthSign !== undefined && typeof allowEthSign !== 'boolean') throw invalid('allowEthSign must be a boolean.', 'allowEthSign');
  if (fetchFn !== undefined && typeof fetchFn !== 'function') throw invalid('fetch must be a function.', 'fetch');
  const entries = chains.map((c, i): ChainEntry => {
    const field = `chains[${i}]`;
    const id = typeof c?.id === 'string' && /^eip155:[1-9][0-9]{0,15}$/.test(c.id) ? Number(c.id.slice('eip155:'.length)) : NaN;
    if (!Number.isSafeInteger(id)) throw invalid(`Expected a CAIP-2 chain id like eip155:1, got ${typeof c?.id === 'string' ? JSON.stringify(c.id.slice(0, 40)) : typeof c?.id}.`, `${field}.id`);
    let url: URL | null = null;
    try {
      url = typeof c.rpcUrl === 'string' ? new URL(c.rpcUrl) : null;
    } catch {
      url = null;
    }
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw invalid('Expected an http(s) RPC URL.', `${field}.rpcUrl`);
    if (c.name !== undefined && typeof c.name !== 'string') throw invalid('A chain name must be a string.', `${field}.name`);
    const name = c.name ?? c.id;
    return {
      caip2: c.id,
      id,
      hex: numberToHex(id),
      viemChain: defineChain({ id, name, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } }),
      http: getHttpRpcClient(c.rpcUrl, fetchFn === undefined ? {} : { fetchFn }),
      verified: false,
      sends: Promise.resolve(),
    };
  });
  const seen = new Set<number>();
  for (const [i, e] of entries.entries()) {
    if (seen.has(e.id)) throw invalid(`${e.caip2} is configured twice.`, `chains[${i}].id`);
    seen.add(e.id);
  }
  if (chain !== undefined && !entries.some((e) => e.caip2 === chain)) throw invalid('The starting chain is not among the chains.', 'chain');
  return entries;
}
