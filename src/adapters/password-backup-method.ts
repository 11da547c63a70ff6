/**
 * The PASSWORD backup method: the data key is wrapped under a key derived from the user's password with
 * Argon2id, and the wrapped key travels inside the backup envelope that the custodian stores. So the
 * custodian (or whoever steals its database) holds the custodian backup share and everything needed to
 * guess the password offline; what stands in the way is the strength floor (password-strength.ts) and
 * the Argon2id cost, which is why the cost has a floor here that neither the constructor nor a stored
 * blob can lower. Nothing is kept on the device, so `deleteKey` has nothing to do.
 *
 * The wrapped key is versioned and self-describing, all integers big-endian and fixed-width:
 *
 *   version (1) | m KiB (u32) | t (u32) | p (u32) | salt (16) | nonce (12) | AES-256-GCM ciphertext + tag (48)
 *
 * The associated data binds a domain string, the version and cost header, and the backup pair id, so a
 * blob cannot be moved to another pair or have its parameters rewritten. `loadKey` parses before it
 * derives anything: a malformed blob, or parameters outside [floor, ceiling] (a hostile store lowering
 * the cost, or raising it to exhaust the device's memory), fail with DECRYPT_FAILED without running
 * Argon2id.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { TandemError } from '../errors.js';
import { checkPasswordStrength, MIN_PASSWORD_BITS, MIN_PASSWORD_LENGTH, normalizePassword } from './password-strength.js';
import type { BackupMethod, BackupMethodOptions } from './ports.js';

export interface Argon2Params {
  /** Memory in KiB. */
  readonly m: number;
  /** Passes. */
  readonly t: number;
  /** Lanes. */
  readonly p: number;
}

/** The least cost accepted anywhere (OWASP's Argon2id minimum): 19 MiB, two passes, one lane. */
export const ARGON2_FLOOR: Argon2Params = Object.freeze({ m: 19_456, t: 2, p: 1 });
/** The most a stored blob may ask of a device: 256 MiB, 16 passes, 4 lanes (a phone browser tab must survive it). */
export const ARGON2_CEILING: Argon2Params = Object.freeze({ m: 256 * 1024, t: 16, p: 4 });

export interface PasswordBackupMethodOptions {
  /** Argon2id cost for new wraps; each at least ARGON2_FLOOR and at most ARGON2_CEILING. Default: the floor. */
  readonly argon2?: Partial<Argon2Params>;
}

const VERSION = 1;
const HEADER = 13;
const SALT = 16;
const NONCE = 12;
const DATA_KEY = 32;
const TAG = 16;
const WRAPPED_LENGTH = HEADER + SALT + NONCE + DATA_KEY + TAG;
const DOMAIN = utf8ToBytes('tandem/backup-key/password\0');

const aad = (header: Uint8Array, backupPairId: string) => concatBytes(DOMAIN, header, utf8ToBytes(backupPairId));

function encodeHeader({ m, t, p }: Argon2Params): Uint8Array {
  const header = new Uint8Array(HEADER);
  const view = new DataView(header.buffer);
  view.setUint8(0, VERSION);
  view.setUint32(1, m);
  view.setUint32(5, t);
  view.setUint32(9, p);
  return header;
}

const inRange = (params: Argon2Params) =>
  (['m', 't', 'p'] as const).every(
    (k) => Number.isSafeInteger(params[k]) && params[k] >= ARGON2_FLOOR[k] && params[k] <= ARGON2_CEILING[k],
  );

/**
 * @example
 * const password = new PasswordBackupMethod();
 * const wrapped = await password.storeKey(backupPairId, dataKey, { password: 'a long passphrase of mine' });
 * const same = await password.loadKey(backupPairId, wrapped, { password: 'a long passphrase of mine' });
 */
export class PasswordBackupMethod implements BackupMethod {
  readonly name = 'PASSWORD' as const;
  readonly argon2: Argon2Params;

  constructor(options: PasswordBackupMethodOptions = {}) {
    const argon2 = { ...ARGON2_FLOOR, ...options.argon2 };
    if (!inRange(argon2)) {
      throw new TandemError('INVALID_INPUT', {
        message: `Argon2id parameters must be integers within m ${ARGON2_FLOOR.m}..${ARGON2_CEILING.m} KiB, t ${ARGON2_FLOOR.t}..${ARGON2_CEILING.t}, p ${ARGON2_FLOOR.p}..${ARGON2_CEILING.p}.`,
        details: { method: this.name, m: String(argon2.m), t: String(argon2.t), p: String(argon2.p) },
      });
    }
    this.argon2 = Object.freeze(argon2);
  }

  /** A backup needs a password above the strength floor; a recovery needs one. */
  checkOptions(options: BackupMethodOptions, purpose: 'backup' | 'recover'): void {
    const password = this.password(options);
    if (purpose === 'backup') this.assertStrong(password);
  }

  async storeKey(backupPairId: string, dataKey: Uint8Array, options: BackupMethodOptions): Promise<Uint8Array> {
    const password = this.password(options);
    assertPairId(backupPairId);
    if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY) {
      throw new TandemError('INVALID_INPUT', { message: `Expected a ${DATA_KEY}-byte data key.`, details: { method: this.name, backupPairId } });
    }
    this.assertStrong(password);
    const header = encodeHeader(this.argon2);
    const salt = randomBytes(SALT);
    const nonce = randomBytes(NONCE);
    const kek = await this.deriveKek(password, salt, this.argon2, backupPairId);
    try {
      return concatBytes(header, salt, nonce, gcm(kek, nonce, aad(header, backupPairId)).encrypt(dataKey));
    } finally {
      kek.fill(0);
    }
  }

  async loadKey(backupPairId: string, wrappedKey: Uint8Array | null, options: BackupMethodOptions): Promise<Uint8Array> {
    const password = this.password(options);
    assertPairId(backupPairId);
    const failed = (reason: string, cause?: unknown) =>
      new TandemError('DECRYPT_FAILED', { details: { method: this.name, backupPairId, reason }, cause });
    if (!(wrappedKey instanceof Uint8Array) || wrappedKey.length !== WRAPPED_LENGTH) throw failed('MALFORMED');
    const view = new DataView(wrappedKey.buffer, wrappedKey.byteOffset, wrappedKey.byteLength);
    if (view.getUint8(0) !== VERSION) throw failed('UNKNOWN_VERSION');
    const params = { m: view.getUint32(1), t: view.getUint32(5), p: view.getUint32(9) };
    if (!inRange(params)) throw failed('PARAMETERS_OUT_OF_RANGE');
    const header = wrappedKey.subarray(0, HEADER);
    const salt = wrappedKey.subarray(HEADER, HEADER + SALT);
    const nonce = wrappedKey.subarray(HEADER + SALT, HEADER + SALT + NONCE);
    const sealed = wrappedKey.subarray(HEADER + SALT + NONCE);
    const kek = await this.deriveKek(password, salt, params, backupPairId);
    try {
      return gcm(kek, nonce, aad(header, backupPairId)).decrypt(sealed);
    } catch (cause) {
      // Wrong password, another pair's blob, or tampering: AES-GCM cannot tell them apart, nor should we.
      throw failed('AUTHENTICATION', cause);
    } finally {
      kek.fill(0);
    }
  }

  /** Nothing is stored on the device: the wrapped key lives in the envelope, which the custodian deletes. */
  async deleteKey(_backupPairId: string): Promise<void> {}

  private assertStrong(password: string): void {
    const strength = checkPasswordStrength(password);
    if (!strength.ok) {
      throw new TandemError('PASSWORD_TOO_WEAK', {
        details: { method: this.name, reason: strength.reason, minLength: MIN_PASSWORD_LENGTH, minBits: MIN_PASSWORD_BITS },
      });
    }
  }

  private password(options: BackupMethodOptions): string {
    const password = options?.password;
    if (typeof password !== 'string' || password.length === 0) {
      throw new TandemError('PASSWORD_REQUIRED', { details: { method: this.name } });
    }
    return normalizePassword(password);
  }

  private async deriveKek(password: string, salt: Uint8Array, params: Argon2Params, backupPairId: string): Promise<Uint8Array> {
    const bytes = utf8ToBytes(password);
    try {
      return await argon2idAsync(bytes, salt, { ...params, dkLen: 32, maxmem: ARGON2_CEILING.m * 1024 });
    } catch (cause) {
      // Not a wrong password: the device could not run the derivation (memory, most likely).
      throw new TandemError('BACKUP_METHOD_FAILED', {
        message: 'The password key derivation failed.',
        details: { method: this.name, backupPairId, m: params.m, t: params.t, p: params.p },
        cause,
      });
    } finally {
      bytes.fill(0);
    }
  }
}

function assertPairId(backupPairId: unknown): asserts backupPairId is string {
  if (typeof backupPairId !== 'string' || backupPairId.length === 0) {
    throw new TandemError('INVALID_INPUT', { message: `Expected a backup pair id, got ${typeof backupPairId}.` });
  }
}
