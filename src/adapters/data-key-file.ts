/**
 * The file a storing backup method (GDRIVE, LOCAL_FILE) keeps a data key in: versioned, naming its backup
 * pair, and checksummed under a domain string per method, so a damaged file, a file of another pair or
 * another method's file is refused (DECRYPT_FAILED with a public reason) instead of yielding a wrong key.
 * Browser-safe.
 *
 *   "TBK" | version (1) | pair id length (1) | pair id (ASCII) | data key (32) | SHA-256(domain ‖ all before)[0..16]
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { TandemError } from '../errors.js';
import type { BackupMethodName } from '../types.js';
import { equalBytes } from './memory-keychain.js';

const MAGIC = Uint8Array.of(0x54, 0x42, 0x4b); // "TBK"
const VERSION = 1;
const HEADER = MAGIC.length + 2;
const DATA_KEY = 32;
const CHECK = 16;
/** The longest data key file (a 128-character pair id). */
export const MAX_DATA_KEY_FILE = HEADER + 128 + DATA_KEY + CHECK;

const checksum = (method: BackupMethodName, bytes: Uint8Array): Uint8Array =>
  sha256(concatBytes(utf8ToBytes(`tandem/data-key/${method}\0`), bytes)).subarray(0, CHECK);

/** The file for `dataKey`; the pair id must already have been checked (ASCII, 1–128 characters). */
export function encodeDataKeyFile(method: BackupMethodName, backupPairId: string, dataKey: Uint8Array): Uint8Array {
  const id = utf8ToBytes(backupPairId);
  const body = HEADER + id.length + DATA_KEY;
  const out = new Uint8Array(body + CHECK);
  out.set(MAGIC);
  out[MAGIC.length] = VERSION;
  out[MAGIC.length + 1] = id.length;
  out.set(id, HEADER);
  out.set(dataKey, HEADER + id.length);
  out.set(checksum(method, out.subarray(0, body)), body);
  return out;
}

/** Parses a data key file and returns a copy of its data key; DECRYPT_FAILED (with a public reason) otherwise. */
export function decodeDataKeyFile(method: BackupMethodName, backupPairId: string, file: Uint8Array): Uint8Array {
  const fail = (reason: string) =>
    new TandemError('DECRYPT_FAILED', { message: 'The data key file is damaged or was not written by Tandem.', details: { method, backupPairId, reason } });
  if (file.length > MAX_DATA_KEY_FILE || file.length < HEADER || !MAGIC.every((b, i) => file[i] === b)) throw fail('malformed');
  if (file[MAGIC.length] !== VERSION) throw fail('version');
  const idLength = file[MAGIC.length + 1]!;
  const body = HEADER + idLength + DATA_KEY;
  if (file.length !== body + CHECK) throw fail('malformed');
  if (!equalBytes(checksum(method, file.subarray(0, body)), file.subarray(body))) throw fail('checksum');
  if (new TextDecoder().decode(file.subarray(HEADER, HEADER + idLength)) !== backupPairId) throw fail('other_pair');
  return file.slice(HEADER + idLength, body);
}
