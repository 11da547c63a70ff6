/**
 * The PASSKEY backup method: the data key is wrapped under a key derived from a passkey's WebAuthn PRF
 * output (the `prf` extension, CTAP2 `hmac-secret` underneath), and the wrapped key travels inside the
 * backup envelope that the custodian stores. The PRF output never leaves the device and cannot be
 * computed without the authenticator and a user verification, so the custodian alone cannot open the
 * client backup share; whoever runs script on the relying party's origin while the user approves a
 * ceremony can. Nothing is kept on the device, so `deleteKey` has nothing to do.
 *
 * The wrapped key is versioned and self-describing, integers big-endian:
 *
 *   version (1) | credential id length (u16) | credential id (1..1023) | PRF salt (32) | nonce (12) | AES-256-GCM ciphertext + tag (48)
 *
 * The PRF salt is random per wrap, so no two backups share a key-encryption key even under one passkey.
 * The KEK is HKDF-SHA256 of the PRF output with info binding a domain string, the version and the backup
 * pair id; the associated data binds the domain, the version, the credential id and the pair id, so a
 * blob cannot be moved to another pair or told to use another credential. `loadKey` parses before any
 * ceremony: a malformed blob fails with DECRYPT_FAILED without prompting the user.
 *
 * WebAuthn is injected (`credentials`), so the logic is tested here against a fake authenticator and in a
 * real browser through a CDP virtual authenticator; no Node built-ins, so it runs in the client bundle.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { equalBytes, randomBytes } from '@noble/ciphers/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { TandemError } from '../errors.js';
import type { BackupMethod, BackupMethodOptions } from './ports.js';

/** The part of `navigator.credentials` this method uses; inject a fake in tests. */
export type WebAuthnCredentials = Pick<CredentialsContainer, 'create' | 'get'>;

export interface PasskeyBackupMethodOptions {
  /** The WebAuthn API. Default: `globalThis.navigator?.credentials`, looked up at each call. */
  readonly credentials?: WebAuthnCredentials;
  /** Relying-party id (a registrable domain, not an IP address). Default: the page's effective domain. */
  readonly rpId?: string;
  /**
   * The passkey that new wraps use (from `createCredential`). A `credentialId` in the call's options
   * wins over it; with neither, the user picks any passkey of the relying party (a discoverable one).
   */
  readonly credentialId?: Uint8Array;
  /** Ceremony timeout in milliseconds, passed to WebAuthn as a hint. */
  readonly timeout?: number;
}

export interface PasskeyRegistration {
  /** Relying party name shown by the authenticator; its id is the method's `rpId`. */
  readonly rp: { readonly name: string };
  /** `id` is the app's opaque user handle (at most 64 bytes, no personal data). */
  readonly user: { readonly id: Uint8Array; readonly name: string; readonly displayName?: string };
  /** Credentials the user already has, so the authenticator does not register a second one. */
  readonly excludeCredentialIds?: readonly Uint8Array[];
}

export interface PasskeyCredential {
  /** The credential id: public, to be passed back as `credentialId` for new wraps. */
  readonly credentialId: Uint8Array;
}

const VERSION = 1;
const ID_LENGTH = 2;
const MAX_CREDENTIAL_ID = 1023; // WebAuthn Level 3 caps credential ids at 1023 bytes.
const SALT = 32;
const NONCE = 12;
const DATA_KEY = 32;
const TAG = 16;
const PRF_OUTPUT = 32;
const FIXED_LENGTH = 1 + ID_LENGTH + SALT + NONCE + DATA_KEY + TAG;
const DOMAIN = utf8ToBytes('tandem/backup-key/passkey\0');
/** ES256, EdDSA, RS256: what platform authenticators and security keys offer between them. */
const PUB_KEY_CRED_PARAMS: PublicKeyCredentialParameters[] = [-7, -8, -257].map((alg) => ({ type: 'public-key', alg }));

interface ParsedBlob {
  readonly header: Uint8Array;
  readonly credentialId: Uint8Array<ArrayBuffer>;
  readonly salt: Uint8Array<ArrayBuffer>;
  readonly nonce: Uint8Array;
  readonly sealed: Uint8Array;
}

const encodeHeader = (credentialId: Uint8Array) => concatBytes(Uint8Array.of(VERSION, credentialId.length >>> 8, credentialId.length & 0xff), credentialId);
const info = (backupPairId: string) => concatBytes(DOMAIN, Uint8Array.of(VERSION), utf8ToBytes(backupPairId));
const aad = (header: Uint8Array, backupPairId: string) => concatBytes(DOMAIN, header, utf8ToBytes(backupPairId));

/**
 * @example
 * const passkey = new PasskeyBackupMethod({ rpId: 'wallet.example' });
 * const { credentialId } = await passkey.createCredential({ rp: { name: 'Example Wallet' }, user: { id: userHandle, name: 'ada' } });
 * const wrapped = await passkey.storeKey(backupPairId, dataKey, { credentialId });
 * const same = await passkey.loadKey(backupPairId, wrapped, {});
 */
export class PasskeyBackupMethod implements BackupMethod {
  readonly name = 'PASSKEY' as const;
  readonly rpId: string | undefined;
  readonly credentialId: Uint8Array | undefined;
  private readonly credentials: WebAuthnCredentials | undefined;
  private readonly timeout: number | undefined;

  constructor(options: PasskeyBackupMethodOptions = {}) {
    if (options.rpId !== undefined && (typeof options.rpId !== 'string' || options.rpId.length === 0)) {
      throw new TandemError('INVALID_INPUT', { message: `Expected a relying-party id, got ${typeof options.rpId}.`, details: { method: this.name } });
    }
    if (options.timeout !== undefined && !(Number.isSafeInteger(options.timeout) && options.timeout > 0)) {
      throw new TandemError('INVALID_INPUT', { message: 'Expected a positive integer timeout in milliseconds.', details: { method: this.name } });
    }
    if (options.credentialId !== undefined) assertCredentialId(options.credentialId);
    this.rpId = options.rpId;
    this.credentialId = options.credentialId?.slice();
    this.credentials = options.credentials;
    this.timeout = options.timeout;
  }

  /**
   * Registers a passkey with the PRF extension and returns its id. Fails with BACKUP_METHOD_UNAVAILABLE
   * (`reason: 'prf-unsupported'`) when the authenticator or browser cannot evaluate the PRF, so the app can
   * offer another method before any backup is attempted.
   *
   * @example
   * const { credentialId } = await passkey.createCredential({ rp: { name: 'Example Wallet' }, user: { id: userHandle, name: 'ada' } });
   */
  async createCredential(registration: PasskeyRegistration): Promise<PasskeyCredential> {
    const { rp, user, excludeCredentialIds = [] } = registration;
    if (typeof rp?.name !== 'string' || typeof user?.name !== 'string' || !(user.id instanceof Uint8Array) || user.id.length < 1 || user.id.length > 64) {
      throw new TandemError('INVALID_INPUT', { message: 'Expected rp.name, user.name and a 1..64-byte user.id.', details: { method: this.name } });
    }
    excludeCredentialIds.forEach(assertCredentialId);
    const credentials = this.api();
    const publicKey: PublicKeyCredentialCreationOptions = {
      // The ceremony is local: no server checks the challenge or the attestation, because what this
      // method relies on is the PRF, which only the authenticator can evaluate. Random all the same.
      challenge: randomBytes(32),
      rp: this.rpId === undefined ? { name: rp.name } : { name: rp.name, id: this.rpId },
      user: { id: user.id.slice(), name: user.name, displayName: user.displayName ?? user.name },
      pubKeyCredParams: PUB_KEY_CRED_PARAMS,
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      excludeCredentials: excludeCredentialIds.map((id) => ({ type: 'public-key', id: id.slice() })),
      extensions: { prf: {} },
      ...(this.timeout === undefined ? {} : { timeout: this.timeout }),
    };
    const credential = await this.ceremony(() => credentials.create({ publicKey }), {});
    if (credential.getClientExtensionResults().prf?.enabled !== true) {
      throw new TandemError('BACKUP_METHOD_UNAVAILABLE', {
        message: 'This passkey does not support the PRF extension, so it cannot protect a backup.',
        details: { method: this.name, reason: 'prf-unsupported' },
      });
    }
    return { credentialId: new Uint8Array(credential.rawId).slice() };
  }

  /** A `credentialId` option must be a credential id; WebAuthn must exist before anything is created at the custodian. */
  checkOptions(options: BackupMethodOptions, _purpose: 'backup' | 'recover'): void {
    const credentialId = options?.['credentialId'];
    if (credentialId !== undefined) assertCredentialId(credentialId);
    this.api();
  }

  async storeKey(backupPairId: string, dataKey: Uint8Array, options: BackupMethodOptions): Promise<Uint8Array> {
    assertPairId(backupPairId);
    if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY) {
      throw new TandemError('INVALID_INPUT', { message: `Expected a ${DATA_KEY}-byte data key.`, details: { method: this.name, backupPairId } });
    }
    const requested = options?.['credentialId'] ?? this.credentialId;
    if (requested !== undefined) assertCredentialId(requested);
    const salt = randomBytes(SALT);
    const { credentialId, prf } = await this.evaluate(backupPairId, salt, requested?.slice());
    if (requested !== undefined && !equalBytes(credentialId, requested)) {
      prf.fill(0);
      throw new TandemError('BACKUP_METHOD_FAILED', {
        message: 'The authenticator answered with another passkey than the one asked for.',
        details: { method: this.name, backupPairId, reason: 'credential-mismatch' },
      });
    }
    if (credentialId.length < 1 || credentialId.length > MAX_CREDENTIAL_ID) {
      prf.fill(0);
      throw new TandemError('BACKUP_METHOD_FAILED', { details: { method: this.name, backupPairId, reason: 'credential-id-length' } });
    }
    const header = encodeHeader(credentialId);
    const nonce = randomBytes(NONCE);
    const kek = deriveKek(prf, backupPairId);
    try {
      return concatBytes(header, salt, nonce, gcm(kek, nonce, aad(header, backupPairId)).encrypt(dataKey));
    } finally {
      kek.fill(0);
    }
  }

  async loadKey(backupPairId: string, wrappedKey: Uint8Array | null, _options: BackupMethodOptions): Promise<Uint8Array> {
    assertPairId(backupPairId);
    const failed = (reason: string, cause?: unknown) =>
      new TandemError('DECRYPT_FAILED', { details: { method: this.name, backupPairId, reason }, cause });
    const blob = parse(wrappedKey);
    if (typeof blob === 'string') throw failed(blob);
    const { credentialId, prf } = await this.evaluate(backupPairId, blob.salt, blob.credentialId);
    if (!equalBytes(credentialId, blob.credentialId)) {
      prf.fill(0);
      throw failed('CREDENTIAL_MISMATCH');
    }
    const kek = deriveKek(prf, backupPairId);
    try {
      return gcm(kek, blob.nonce, aad(blob.header, backupPairId)).decrypt(blob.sealed);
    } catch (cause) {
      // Another passkey's secret, another pair's blob, or tampering: AES-GCM cannot tell them apart.
      throw failed('AUTHENTICATION', cause);
    } finally {
      kek.fill(0);
    }
  }

  /** Nothing is stored on the device: the wrapped key lives in the envelope, which the custodian deletes. */
  async deleteKey(_backupPairId: string): Promise<void> {}

  /**
   * One assertion ceremony evaluating the PRF at `salt`. User verification is required in every ceremony:
   * CTAP2 hmac-secret keeps separate secrets for verified and unverified evaluations, so a wrap made with
   * one could not be opened with the other. Returns the credential that answered and a view of the PRF
   * output, which the caller zeroes.
   */
  private async evaluate(backupPairId: string, salt: Uint8Array<ArrayBuffer>, credentialId: Uint8Array<ArrayBuffer> | undefined) {
    const credentials = this.api();
    const publicKey: PublicKeyCredentialRequestOptions = {
      // Not verified by any server: the ceremony is local and what matters is the PRF output.
      challenge: randomBytes(32),
      userVerification: 'required',
      extensions: { prf: { eval: { first: salt } } },
      ...(this.rpId === undefined ? {} : { rpId: this.rpId }),
      ...(credentialId === undefined ? {} : { allowCredentials: [{ type: 'public-key', id: credentialId }] }),
      ...(this.timeout === undefined ? {} : { timeout: this.timeout }),
    };
    const credential = await this.ceremony(() => credentials.get({ publicKey }), { backupPairId });
    const first = credential.getClientExtensionResults().prf?.results?.first;
    if (first === undefined) {
      throw new TandemError('BACKUP_METHOD_UNAVAILABLE', {
        message: 'The browser or the passkey did not evaluate the PRF extension.',
        details: { method: this.name, backupPairId, reason: 'prf-unsupported' },
      });
    }
    const prf = ArrayBuffer.isView(first) ? new Uint8Array(first.buffer, first.byteOffset, first.byteLength) : new Uint8Array(first);
    if (prf.length !== PRF_OUTPUT) {
      prf.fill(0);
      throw new TandemError('BACKUP_METHOD_FAILED', {
        message: `Expected a ${PRF_OUTPUT}-byte PRF output.`,
        details: { method: this.name, backupPairId, reason: 'prf-malformed' },
      });
    }
    return { credentialId: new Uint8Array(credential.rawId).slice(), prf };
  }

  /** Runs a WebAuthn call and turns what it throws, or a non-credential answer, into typed errors. */
  private async ceremony(call: () => Promise<Credential | null>, details: { backupPairId?: string }): Promise<PublicKeyCredential> {
    let credential: Credential | null;
    try {
      credential = await call();
    } catch (cause) {
      const name = (cause as { name?: unknown } | null)?.name;
      const errorName = typeof name === 'string' ? name : typeof cause;
      // NotAllowedError is what browsers throw when the user dismisses the prompt, and also on a timeout
      // or when no allowed passkey is present: they deliberately do not say which.
      const cancelled = errorName === 'NotAllowedError';
      throw new TandemError('BACKUP_METHOD_FAILED', {
        message: cancelled ? 'The passkey prompt was cancelled or timed out.' : 'The passkey ceremony failed.',
        details: { method: this.name, ...details, reason: cancelled ? 'cancelled' : 'webauthn-error', errorName },
        cause,
      });
    }
    if (!isPublicKeyCredential(credential)) {
      throw new TandemError('BACKUP_METHOD_FAILED', {
        message: 'The passkey ceremony returned no public-key credential.',
        details: { method: this.name, ...details, reason: 'no-credential' },
      });
    }
    return credential;
  }

  private api(): WebAuthnCredentials {
    const credentials = this.credentials ?? globalThis.navigator?.credentials;
    if (typeof credentials?.get !== 'function' || typeof credentials.create !== 'function') {
      throw new TandemError('BACKUP_METHOD_UNAVAILABLE', {
        message: 'WebAuthn is not available here, so passkey backups cannot be used.',
        details: { method: this.name, reason: 'webauthn-unavailable' },
      });
    }
    return credentials;
  }
}

/** Parses a wrapped key strictly; returns the reason when it is malformed. */
function parse(wrappedKey: unknown): ParsedBlob | string {
  if (!(wrappedKey instanceof Uint8Array) || wrappedKey.length < FIXED_LENGTH + 1) return 'MALFORMED';
  if (wrappedKey[0] !== VERSION) return 'UNKNOWN_VERSION';
  const idLength = (wrappedKey[1]! << 8) | wrappedKey[2]!;
  if (idLength < 1 || idLength > MAX_CREDENTIAL_ID || wrappedKey.length !== FIXED_LENGTH + idLength) return 'MALFORMED';
  const idEnd = 1 + ID_LENGTH + idLength;
  return {
    header: wrappedKey.subarray(0, idEnd),
    credentialId: wrappedKey.slice(1 + ID_LENGTH, idEnd),
    salt: wrappedKey.slice(idEnd, idEnd + SALT),
    nonce: wrappedKey.subarray(idEnd + SALT, idEnd + SALT + NONCE),
    sealed: wrappedKey.subarray(idEnd + SALT + NONCE),
  };
}

/** Derives the key-encryption key and zeroes the PRF output, whatever happens. */
function deriveKek(prf: Uint8Array, backupPairId: string): Uint8Array {
  try {
    return hkdf(sha256, prf, undefined, info(backupPairId), 32);
  } finally {
    prf.fill(0);
  }
}

function isPublicKeyCredential(credential: unknown): credential is PublicKeyCredential {
  const c = credential as Partial<PublicKeyCredential> | null;
  return typeof c === 'object' && c !== null && c.type === 'public-key' && c.rawId instanceof ArrayBuffer && typeof c.getClientExtensionResults === 'function';
}

function assertCredentialId(credentialId: unknown): asserts credentialId is Uint8Array {
  if (!(credentialId instanceof Uint8Array) || credentialId.length < 1 || credentialId.length > MAX_CREDENTIAL_ID) {
    throw new TandemError('INVALID_INPUT', {
      message: `Expected a credential id of 1..${MAX_CREDENTIAL_ID} bytes.`,
      details: { method: 'PASSKEY' },
    });
  }
}

function assertPairId(backupPairId: unknown): asserts backupPairId is string {
  if (typeof backupPairId !== 'string' || backupPairId.length === 0) {
    throw new TandemError('INVALID_INPUT', { message: `Expected a backup pair id, got ${typeof backupPairId}.` });
  }
}
