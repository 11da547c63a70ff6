/**
 * A viem account backed by the wallet: every signature is a two-party signature, and every request the
 * custodian sees is typed (EIP-191 message, EIP-712 typed data, EVM transaction), so it recomputes the
 * digest from the payload before it signs. Use it wherever viem takes an account:
 *
 * @example
 * const account = tandemAccount(wallet);
 * const client = createWalletClient({ account, chain: mainnet, transport: http(rpcUrl) });
 * const hash = await client.sendTransaction({ to, value: parseEther('0.01') });
 *
 * The account's `sign({ hash })` signs a bare digest; the custodian records it as `raw` (it cannot know
 * what it signed), so prefer the typed methods.
 */
import {
  BaseError,
  getAddress,
  hashTypedData,
  keccak256,
  recoverAddress,
  serializeSignature,
  serializeTransaction,
  toHex,
  type Address,
  type Hex,
  type LocalAccount,
  type SerializeTransactionFn,
  type SignableMessage,
  type TransactionSerializable,
  type TypedDataDefinition,
} from 'viem';
import { toAccount } from 'viem/accounts';
import { bytesToHex } from '@noble/hashes/utils.js';
import { isTandemError, TandemError, toTandemError, type ErrorCode } from '../errors.js';
import type { Curve } from '../types.js';
import { signRequest, type SignRequest } from './sign-request.js';
import type { WalletSigner } from './signer.js';

export type TandemAccount = LocalAccount<'tandem'>;

/** The wallet's EVM address, checksummed; STATE_INVALID while the wallet has no confirmed SECP256K1 key. */
export function evmAddressOf(wallet: WalletSigner): Address {
  const address = wallet.getAddresses().SECP256K1;
  if (address === undefined) throw new TandemError('STATE_INVALID', { message: 'The wallet has no confirmed SECP256K1 key yet; create or recover it first.' });
  return getAddress(address);
}

/**
 * Signs anything else: a 32-byte digest (SECP256K1) or message bytes (ED25519), sent to the custodian as a
 * `raw` request, which it signs blind and records in its audit log with the digest.
 */
export function rawSign(wallet: WalletSigner, curve: Curve, digest: Uint8Array): Promise<Uint8Array> {
  if (!(digest instanceof Uint8Array)) throw new TandemError('INVALID_INPUT', { message: 'The digest must be a Uint8Array.' });
  return wallet.sign(curve, { kind: 'raw', digest: `0x${bytesToHex(digest)}` });
}

/**
 * The viem account of the wallet's SECP256K1 key. The address is read once, here: create the account
 * after the wallet has its keys (a recovery keeps the address, so an account stays valid across one).
 */
export function tandemAccount(wallet: WalletSigner): TandemAccount {
  const address = evmAddressOf(wallet);

  /** Sends the request and turns the 64-byte r ‖ s into viem's signature, finding the recovery bit. */
  const signDigest = async (request: SignRequest): Promise<{ r: Hex; s: Hex; yParity: number; v: bigint }> => {
    const bytes = await wallet.sign('SECP256K1', request);
    if (!(bytes instanceof Uint8Array) || bytes.length !== 64) throw new TandemError('SIGN_FAILED', { message: 'The wallet returned a signature of the wrong length.' });
    const r = toHex(bytes.subarray(0, 32));
    const s = toHex(bytes.subarray(32));
    for (const yParity of [0, 1]) {
      const recovered = await recoverAddress({ hash: request.digest, signature: { r, s, yParity } }).catch(() => null);
      if (recovered !== null && recovered.toLowerCase() === address.toLowerCase()) return { r, s, yParity, v: 27n + BigInt(yParity) };
    }
    throw new TandemError('SIGN_FAILED', { message: 'The signature does not recover to the wallet address.' });
  };

  const account = toAccount({
    address,
    sign: viemErrors(async ({ hash }: { hash: Hex }) => {
      const { r, s, yParity } = await signDigest({ kind: 'raw', digest: hexOf(hash, 32) });
      return serializeSignature({ r, s, yParity });
    }),
    signMessage: viemErrors(async ({ message }: { message: SignableMessage }) => {
      const payload = typeof message === 'string' ? { message } : { raw: typeof message.raw === 'string' ? hexOf(message.raw) : toHex(message.raw) };
      const { r, s, yParity } = await signDigest(request(() => signRequest('SECP256K1', 'eip191', payload)));
      return serializeSignature({ r, s, yParity });
    }),
    signTypedData: viemErrors(async (typedData: unknown) => {
      const payload = toJsonTypedData(typedData as TypedDataDefinition);
      const built = request(() => signRequest('SECP256K1', 'eip712', payload));
      // What the custodian hashes (the JSON form) must be what viem hashes for the caller.
      if (built.digest !== request(() => hashTypedData(typedData as TypedDataDefinition))) {
        throw new TandemError('INVALID_INPUT', { message: 'The typed data does not survive JSON unchanged.' });
      }
      const { r, s, yParity } = await signDigest(built);
      return serializeSignature({ r, s, yParity });
    }) as TandemAccount['signTypedData'],
    signTransaction: viemErrors(async (transaction: TransactionSerializable, options?: { serializer?: SerializeTransactionFn<TransactionSerializable> }) => {
      const serializer = (options?.serializer ?? serializeTransaction) as SerializeTransactionFn<TransactionSerializable>;
      const tx = transaction as TransactionSerializable;
      // viem's own send path passes these keys set to undefined: only a value counts.
      const extra = tx as { authorizationList?: unknown; blobVersionedHashes?: unknown; sidecars?: unknown };
      if (tx.type === 'eip4844' || tx.type === 'eip7702' || extra.authorizationList !== undefined || extra.blobVersionedHashes !== undefined || extra.sidecars !== undefined) {
        throw new TandemError('INVALID_INPUT', { message: 'Blob (EIP-4844) and authorization (EIP-7702) transactions are not supported.' });
      }
      const unsigned = request(() => serializer(tx)) as Hex;
      const built = request(() => signRequest('SECP256K1', 'evmTransaction', { serialized: unsigned }));
      if (built.digest !== keccak256(unsigned)) throw new TandemError('INVALID_INPUT', { message: 'The transaction is not an unsigned EVM transaction.' });
      const signature = await signDigest(built);
      return serializer(tx, signature) as Hex;
    }) as TandemAccount['signTransaction'],
  });
  // `toAccount` leaves the public key empty for custom sources; the source names the signer.
  return { ...account, source: 'tandem' } as TandemAccount;
}

/**
 * What the account's methods reject with: a viem error, as viem's own accounts throw (viem's send path
 * reads an error's `details` as text, and a TandemError's are an object), whose `cause` is the
 * TandemError with the stable code. `tandemErrorOf(err)` finds it inside anything viem wraps it in.
 */
export class TandemAccountError extends BaseError {
  override name = 'TandemAccountError';
  readonly tandemCode: ErrorCode;
  constructor(cause: TandemError) {
    super(cause.shortMessage, { cause });
    this.tandemCode = cause.code;
  }
}

/** The TandemError behind an error the account (or viem around it) threw, or null. */
export function tandemErrorOf(err: unknown): TandemError | null {
  for (let e = err, depth = 0; e !== null && e !== undefined && depth < 16; e = (e as { cause?: unknown }).cause, depth++) {
    if (isTandemError(e)) return e;
  }
  return null;
}

function viemErrors<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw new TandemAccountError(tandemErrorOf(err) ?? toTandemError(err));
    }
  };
}

/** Runs a builder, turning its exceptions (viem's, ours) into INVALID_INPUT unless already typed. */
function request<T>(build: () => T): T {
  try {
    return build();
  } catch (cause) {
    if (isTandemError(cause)) throw cause;
    throw new TandemError('INVALID_INPUT', { message: `The request could not be encoded: ${firstLine(cause)}`, cause });
  }
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? (e as { shortMessage?: string }).shortMessage ?? e.message : String(e);
  return m.split('\n')[0]!.slice(0, 200);
}

function hexOf(v: unknown, length?: number): Hex {
  if (typeof v !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(v) || (length !== undefined && v.length !== 2 + 2 * length)) {
    throw new TandemError('INVALID_INPUT', { message: length === undefined ? 'Expected 0x-prefixed hex.' : `Expected ${length} bytes of 0x-prefixed hex.` });
  }
  return v.toLowerCase() as Hex;
}

/**
 * EIP-712 typed data as plain JSON: bigints become decimal strings (viem hashes both the same), which is
 * how the request travels to the custodian and how `eth_signTypedData_v4` carries it anyway.
 */
export function toJsonTypedData(typedData: TypedDataDefinition): TypedDataDefinition {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'bigint') return v.toString(10);
    if (v instanceof Uint8Array) return toHex(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(typedData) as TypedDataDefinition;
}
