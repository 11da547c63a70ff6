/**
 * The encrypted client backup share as stored by the custodian (or the app, when self-managed):
 * AES-256-GCM under a fresh random data key, with the backup pair id in the associated data so a
 * ciphertext cannot be replayed under another pair. PASSWORD and PASSKEY wrap the data key and the
 * wrapped key travels inside the envelope; other methods keep the key themselves.
 *
 *   version (1) | wrapped-key length (u16 BE) | wrapped key | nonce (12) | ciphertext + tag
 */
import { gcm } from '@noble/ciphers/aes.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { TandemError } from '../errors.js';

const VERSION = 1;
const NONCE = 12;

const aad = (backupPairId: string) => utf8ToBytes(`tandem/backup-envelope/v1/${backupPairId}`);

export function newDataKey(): Uint8Array {
  return randomBytes(32);
}

export function sealBackupShare(args: {
  backupPairId: string;
  dataKey: Uint8Array;
  wrappedKey: Uint8Array | null;
  share: Uint8Array;
}): Uint8Array {
  const wrapped = args.wrappedKey ?? new Uint8Array(0);
  if (wrapped.length > 0xffff) throw new TandemError('INVALID_INPUT', { message: 'The wrapped key is too long.' });
  const nonce = randomBytes(NONCE);
  const ct = gcm(args.dataKey, nonce, aad(args.backupPairId)).encrypt(args.share);
  const len = Uint8Array.of(wrapped.length >> 8, wrapped.length & 0xff);
  return concatBytes(Uint8Array.of(VERSION), len, wrapped, nonce, ct);
}

export interface ParsedEnvelope {
  readonly wrappedKey: Uint8Array | null;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
}

export function parseEnvelope(bytes: Uint8Array): ParsedEnvelope {
  const bad = () => new TandemError('DECRYPT_FAILED', { message: 'The backup envelope is malformed.' });
  if (bytes.length < 3 || bytes[0] !== VERSION) throw bad();
  const wl = (bytes[1]! << 8) | bytes[2]!;
  const rest = 3 + wl;
  if (bytes.length < rest + NONCE + 16) throw bad();
  return {
    wrappedKey: wl === 0 ? null : bytes.slice(3, rest),
    nonce: bytes.slice(rest, rest + NONCE),
    ciphertext: bytes.slice(rest + NONCE),
  };
}

export function openBackupShare(args: { backupPairId: string; dataKey: Uint8Array; envelope: ParsedEnvelope }): Uint8Array {
  try {
    return gcm(args.dataKey, args.envelope.nonce, aad(args.backupPairId)).decrypt(args.envelope.ciphertext);
  } catch (cause) {
    throw new TandemError('DECRYPT_FAILED', { details: { backupPairId: args.backupPairId }, cause });
  }
}
