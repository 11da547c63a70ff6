/**
 * Solana on a Tandem wallet: the ED25519 key's address, messages and transactions, with @solana/kit for
 * every encoding. The signer sends typed requests (`solanaMessage`, `solanaTransaction`) so the custodian
 * sees — and its policy can judge — what it signs; it never sends `raw`.
 *
 * It is shaped as kit's own signers are (`MessagePartialSigner` and `TransactionPartialSigner`), so it
 * drops into `signTransactionMessageWithSigners`, `signOffchainMessageWithSigners` and the rest, with two
 * plain methods beside them for apps that hold bytes or a `Transaction`. The address is read from the
 * wallet each time it is needed, so a signer made before the wallet's keys exist works once they do.
 */
import {
  getBase64Decoder,
  getCompiledTransactionMessageDecoder,
  isAddress,
  isSignatureBytes,
  type Address,
  type MessagePartialSigner,
  type MessagePartialSignerConfig,
  type SignableMessage,
  type SignatureBytes,
  type SignatureDictionary,
  type Transaction,
  type TransactionPartialSigner,
  type TransactionPartialSignerConfig,
} from '@solana/kit';
import { TandemError } from '../errors.js';
import { signRequest, type SignRequest } from './sign-request.js';
import type { WalletSigner } from './signer.js';

export interface SolanaSigner extends MessagePartialSigner, TransactionPartialSigner {
  /** The wallet's ED25519 address (base58 of the public key), read from the wallet on every access. */
  readonly address: Address;
  /**
   * Signs the bytes as they are (as wallet-standard `solana:signMessage` does): 1 to 1232 bytes that do
   * not decode as a transaction message. Resolves to the 64-byte signature.
   */
  signMessage(message: Uint8Array): Promise<SignatureBytes>;
  /**
   * Signs the transaction's message bytes and returns a new transaction with this wallet's signature in
   * its slot; every other slot is kept as it was.
   */
  signTransaction<T extends Transaction>(transaction: T): Promise<T>;
  /** kit's `TransactionPartialSigner`, taking any `Transaction`: the size limit is checked here. */
  signTransactions(transactions: readonly Transaction[], config?: TransactionPartialSignerConfig): Promise<readonly SignatureDictionary[]>;
}

const base64 = getBase64Decoder();
const invalid = (message: string, details: Record<string, string> = {}) => new TandemError('INVALID_INPUT', { message, details });

/**
 * A Solana signer over a Tandem wallet's ED25519 key: a kit `MessagePartialSigner` and
 * `TransactionPartialSigner`, plus `signMessage` and `signTransaction`.
 *
 * @example
 * const signer = solanaSigner(wallet);
 * const signature = await signer.signMessage(new TextEncoder().encode('Sign in to example.com'));
 * const message = pipe(
 *   createTransactionMessage({ version: 0 }),
 *   (m) => setTransactionMessageFeePayerSigner(signer, m),
 *   (m) => setTransactionMessageLifetimeUsingBlockhash(latestBlockhash, m),
 *   (m) => appendTransactionMessageInstruction(instruction, m),
 * );
 * const transaction = await signTransactionMessageWithSigners(message);
 */
export function solanaSigner(wallet: WalletSigner): SolanaSigner {
  const current = (): Address => addressOf(wallet);

  async function signMessage(message: Uint8Array): Promise<SignatureBytes> {
    if (!(message instanceof Uint8Array)) throw invalid(`The message must be a Uint8Array, got ${describe(message)}.`);
    // signRequest refuses bytes that are also a transaction message, as the custodian does: those go
    // through signTransaction or not at all.
    const request = signRequest('ED25519', 'solanaMessage', { message: base64.decode(message) });
    current(); // a wallet without an ED25519 key fails here, before anything is sent
    return signWith(wallet, request);
  }

  async function signatureOf(transaction: Transaction): Promise<[Address, SignatureBytes]> {
    const { messageBytes, signatures } = checkTransaction(transaction);
    const request = signRequest('ED25519', 'solanaTransaction', { message: base64.decode(messageBytes) });
    const self = current();
    if (!requiredSigners(messageBytes).includes(self)) {
      throw invalid("The transaction does not need this wallet's signature.", { address: self });
    }
    // kit encodes the signatures in the order of this map, so a slot missing here cannot be added later.
    if (!(self in signatures)) throw invalid("The transaction's signatures do not list this wallet, though its message does.", { address: self });
    return [self, await signWith(wallet, request)];
  }

  const signer: SolanaSigner = {
    get address() {
      return current();
    },
    signMessage,
    async signTransaction<T extends Transaction>(transaction: T): Promise<T> {
      const [self, signature] = await signatureOf(transaction);
      return Object.freeze({ ...transaction, signatures: Object.freeze({ ...transaction.signatures, [self]: signature }) }) as T;
    },
    // One at a time, in order: a refusal (the operator's policy, say) stops the rest from being asked.
    async signMessages(messages: readonly SignableMessage[], config?: MessagePartialSignerConfig): Promise<readonly SignatureDictionary[]> {
      const out: SignatureDictionary[] = [];
      for (const m of messages) {
        config?.abortSignal?.throwIfAborted();
        const self = current();
        out.push(Object.freeze({ [self]: await signMessage(m.content) }));
      }
      return out;
    },
    async signTransactions(transactions: readonly Transaction[], config?: TransactionPartialSignerConfig): Promise<readonly SignatureDictionary[]> {
      const out: SignatureDictionary[] = [];
      for (const t of transactions) {
        config?.abortSignal?.throwIfAborted();
        const [self, signature] = await signatureOf(t);
        out.push(Object.freeze({ [self]: signature }));
      }
      return out;
    },
  };
  return Object.freeze(signer);
}

function addressOf(wallet: WalletSigner): Address {
  const a = wallet.getAddresses().ED25519;
  if (a === undefined) throw new TandemError('STATE_INVALID', { message: 'The wallet has no confirmed ED25519 key: create or recover it first.', details: { curve: 'ED25519' } });
  if (!isAddress(a)) throw new TandemError('INTERNAL', { message: "The wallet's ED25519 address is not a Solana address.", details: { curve: 'ED25519' } });
  return a;
}

async function signWith(wallet: WalletSigner, request: SignRequest): Promise<SignatureBytes> {
  const signature = await wallet.sign('ED25519', request);
  if (!isSignatureBytes(signature)) throw new TandemError('SIGN_FAILED', { message: 'The wallet returned a signature that is not 64 bytes.', details: { curve: 'ED25519' } });
  return signature;
}

function checkTransaction(t: Transaction): Transaction {
  if (typeof t !== 'object' || t === null || !(t.messageBytes instanceof Uint8Array) || typeof t.signatures !== 'object' || t.signatures === null) {
    throw invalid(`The transaction must be a kit Transaction { messageBytes, signatures }, got ${describe(t)}.`);
  }
  return t;
}

/** The addresses that must sign: the first `numSignerAccounts` static accounts (signRequest has checked that it decodes). */
function requiredSigners(messageBytes: Transaction['messageBytes']): readonly Address[] {
  const compiled = getCompiledTransactionMessageDecoder().decode(messageBytes);
  return compiled.staticAccounts.slice(0, compiled.header.numSignerAccounts);
}

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v);
