/**
 * The sign-request schema (DESIGN §4): what the client asks the custodian to sign, for every kind, and how
 * the custodian recomputes the digest from the payload so that it signs what it was told — never a
 * different transaction behind a familiar message. The client builds requests with `signRequest`, the
 * custodian checks them with `checkSignRequest`; both use the same code (viem for EVM encoding,
 * @solana/kit for Solana).
 *
 * ED25519 signs the message itself (no digest): for the Solana kinds `digest` carries the exact bytes to
 * be signed, and the custodian checks those bytes against the payload. `raw` digests are accepted as they
 * are and marked as such, so the custodian can log them.
 */
import { getBase64Codec, getCompiledTransactionMessageDecoder } from '@solana/kit';
import { hashMessage, hashTypedData, keccak256, parseTransaction, type Hex, type TypedDataDefinition } from 'viem';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { TandemError } from '../errors.js';
import { SIGN_REQUEST_KINDS, type Curve, type SignRequestKind } from '../types.js';

export { SIGN_REQUEST_KINDS, type SignRequestKind };

export type SignRequestPayload = {
  readonly raw: undefined;
  /** EIP-191 personal message: UTF-8 text, or bytes as hex. */
  readonly eip191: { readonly message: string } | { readonly raw: Hex };
  /** EIP-712 typed data, as viem's `TypedDataDefinition` (domain, types, primaryType, message). */
  readonly eip712: TypedDataDefinition;
  /** An unsigned serialized EVM transaction (legacy, EIP-2930 or EIP-1559), hex. */
  readonly evmTransaction: { readonly serialized: Hex };
  /** The bytes of a Solana off-chain message, base64. */
  readonly solanaMessage: { readonly message: string };
  /** A compiled Solana transaction message (what a transaction's signatures sign), base64. */
  readonly solanaTransaction: { readonly message: string };
};

export type SignRequest = {
  [K in SignRequestKind]: K extends 'raw'
    ? { readonly kind: 'raw'; readonly digest: Hex }
    : { readonly kind: K; readonly payload: SignRequestPayload[K]; readonly digest: Hex };
}[SignRequestKind];

/** Which curve each kind belongs to (raw goes with either). */
export const KIND_CURVES: Readonly<Record<SignRequestKind, readonly Curve[]>> = {
  raw: ['SECP256K1', 'ED25519'],
  eip191: ['SECP256K1'],
  eip712: ['SECP256K1'],
  evmTransaction: ['SECP256K1'],
  solanaMessage: ['ED25519'],
  solanaTransaction: ['ED25519'],
};

/** Solana's packet limit bounds anything an ed25519 wallet signs. */
export const MAX_ED25519_MESSAGE_BYTES = 1232;

const invalid = (message: string, details: Record<string, string> = {}) => new TandemError('INVALID_INPUT', { message, details });
const base64 = getBase64Codec();

function bytesOfBase64(s: unknown, field: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw invalid(`${field} must be base64.`, { field });
  return new Uint8Array(base64.encode(s));
}

const toHex = (b: Uint8Array): Hex => `0x${bytesToHex(b)}`;

/** The bytes the key signs for a request, computed from its payload alone. */
export function digestOf(curve: Curve, request: SignRequest): Uint8Array {
  if (!SIGN_REQUEST_KINDS.includes(request.kind)) throw invalid('Unknown sign request kind.', { kind: String(request.kind) });
  if (!KIND_CURVES[request.kind].includes(curve)) throw invalid(`A ${request.kind} request cannot be signed with ${curve}.`, { kind: request.kind, curve });
  switch (request.kind) {
    case 'raw': {
      const d = hexBytes(request.digest, 'digest');
      if (curve === 'SECP256K1' && d.length !== 32) throw invalid('A SECP256K1 digest is 32 bytes.');
      if (curve === 'ED25519' && (d.length === 0 || d.length > MAX_ED25519_MESSAGE_BYTES)) throw invalid(`An ED25519 message is 1 to ${MAX_ED25519_MESSAGE_BYTES} bytes.`);
      return d;
    }
    case 'eip191': {
      const p = request.payload as Record<string, unknown>;
      if (typeof p !== 'object' || p === null) throw invalid('An eip191 payload is { message } or { raw }.');
      const keys = Object.keys(p);
      if (keys.length === 1 && typeof p['message'] === 'string') return hexBytes(hashMessage(p['message']), 'digest');
      if (keys.length === 1 && typeof p['raw'] === 'string') return hexBytes(hashMessage({ raw: toHex(hexBytes(p['raw'], 'raw')) }), 'digest');
      throw invalid('An eip191 payload is { message } or { raw }.');
    }
    case 'eip712':
      try {
        return hexBytes(hashTypedData(request.payload), 'digest');
      } catch {
        throw invalid('The EIP-712 typed data is invalid.');
      }
    case 'evmTransaction': {
      const serialized = toHex(hexBytes((request.payload as { serialized?: unknown }).serialized, 'serialized'));
      let tx: ReturnType<typeof parseTransaction>;
      try {
        tx = parseTransaction(serialized);
      } catch {
        throw invalid('The EVM transaction does not parse.');
      }
      if (tx.r !== undefined || tx.s !== undefined || tx.yParity !== undefined) {
        throw invalid('The EVM transaction is already signed; send it unsigned.');
      }
      if (tx.type === 'eip4844' || tx.type === 'eip7702') throw invalid(`EVM transactions of type ${tx.type} are not supported.`);
      return hexBytes(keccak256(serialized), 'digest');
    }
    case 'solanaMessage': {
      const m = bytesOfBase64((request.payload as { message?: unknown }).message, 'message');
      if (m.length === 0 || m.length > MAX_ED25519_MESSAGE_BYTES) throw invalid(`A Solana message is 1 to ${MAX_ED25519_MESSAGE_BYTES} bytes.`);
      // Bytes that are also a transaction message would sign that transaction under a message's name,
      // past a policy that judges transactions: they are signed as a solanaTransaction or not at all.
      if (decodesAsTransactionMessage(m)) throw invalid('The message is a Solana transaction message; sign it as a solanaTransaction.');
      return m;
    }
    case 'solanaTransaction': {
      const m = bytesOfBase64((request.payload as { message?: unknown }).message, 'message');
      if (m.length === 0 || m.length > MAX_ED25519_MESSAGE_BYTES) throw invalid(`A Solana transaction message is 1 to ${MAX_ED25519_MESSAGE_BYTES} bytes.`);
      if (!decodesAsTransactionMessage(m)) throw invalid('The Solana transaction message does not decode.');
      return m;
    }
  }
}

/**
 * The custodian's check: recompute the bytes from the payload and refuse a request whose digest differs
 * (SIGN_FAILED: the client asked to sign something other than what it showed). Returns the bytes to sign.
 */
export function checkSignRequest(curve: Curve, request: SignRequest): Uint8Array {
  const recomputed = digestOf(curve, request);
  const claimed = hexBytes(request.digest, 'digest');
  if (claimed.length !== recomputed.length || !claimed.every((b, i) => b === recomputed[i])) {
    throw new TandemError('SIGN_FAILED', { message: 'The digest does not match the payload.', details: { kind: request.kind, curve } });
  }
  return recomputed;
}

/**
 * The client's side: a request with its digest filled in from the payload.
 *
 * @example
 * const req = signRequest('SECP256K1', 'eip191', { message: 'hello' });
 */
export function signRequest<K extends Exclude<SignRequestKind, 'raw'>>(curve: Curve, kind: K, payload: SignRequestPayload[K]): SignRequest {
  const draft = { kind, payload, digest: '0x' } as unknown as SignRequest;
  return { ...draft, digest: toHex(digestOf(curve, draft)) } as SignRequest;
}

/** Whether the bytes are exactly one compiled transaction message (no trailing bytes). */
export function decodesAsTransactionMessage(bytes: Uint8Array): boolean {
  try {
    const [, read] = getCompiledTransactionMessageDecoder().read(bytes, 0);
    return read === bytes.length;
  } catch {
    return false;
  }
}

function hexBytes(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(v)) throw invalid(`${field} must be 0x-prefixed hex of whole bytes.`, { field });
  return hexToBytes(v.slice(2));
}
