/**
 * A fake authenticator behind a fake `navigator.credentials`, for PasskeyBackupMethod's `credentials`
 * option: `create()` makes a credential with a random id and a random per-credential secret; `get()`
 * evaluates the PRF as a real one does — the client hashes the salt with the "WebAuthn PRF" context, the
 * authenticator takes HMAC-SHA256 under the credential's secret — so it is deterministic per credential and
 * salt, and a second instance of the method on "another device" opens what the first wrapped, as a synced
 * passkey would. Like a browser, it refuses an allow-list that names no credential it holds with
 * NotAllowedError. Switches make it lack PRF, be cancelled, answer with another credential, or answer for
 * the right id with the wrong secret (an impostor authenticator). It records every ceremony's options and
 * every PRF output it handed out, so tests can check what the method asked for and that it zeroed them.
 *
 * Shared by the PASSKEY unit tests and the end-to-end backup-method tests; it holds the passkeys, so one
 * instance is one user's (synced) authenticator.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import type { WebAuthnCredentials } from '../../src/adapters/passkey-backup-method.js';

export class FakeAuthenticator implements WebAuthnCredentials {
  readonly held: { id: Uint8Array; secret: Uint8Array }[] = [];
  readonly creates: PublicKeyCredentialCreationOptions[] = [];
  readonly gets: PublicKeyCredentialRequestOptions[] = [];
  /** Every PRF output handed out, as returned (to check that the method zeroes them) and as hex (secrets). */
  readonly prfBuffers: ArrayBuffer[] = [];
  readonly prfHex: string[] = [];
  /** Whether `create()` reports the PRF extension enabled. */
  prfAtCreate = true;
  /** What `get()` reports for the PRF: results, a `prf` entry without results, or no `prf` entry. */
  prfAtGet: 'results' | 'no-results' | 'no-prf' = 'results';
  /** Who answers `get()`: the allowed credential, another one, the right id with the wrong secret, or nobody. */
  answer: 'allowed' | 'other' | 'impostor' | 'null' = 'allowed';
  /** Thrown by the next ceremonies while set (a DOMException, as a browser would). */
  fail: unknown = undefined;

  /** Adds a credential as if created earlier (the vector test wants a fixed one). */
  hold(id: Uint8Array, secret: Uint8Array): void {
    this.held.push({ id, secret });
  }

  /** The PRF a real authenticator evaluates for this secret at this salt (WebAuthn §10.1.4, CTAP2 hmac-secret). */
  prf(secret: Uint8Array, salt: Uint8Array): Uint8Array {
    return hmac(sha256, secret, sha256(concatBytes(utf8ToBytes('WebAuthn PRF'), Uint8Array.of(0), salt)));
  }

  async create(options?: CredentialCreationOptions): Promise<Credential | null> {
    const publicKey = options!.publicKey!;
    this.creates.push(publicKey);
    if (this.fail !== undefined) throw this.fail;
    const id = crypto.getRandomValues(new Uint8Array(16));
    this.hold(id, crypto.getRandomValues(new Uint8Array(32)));
    return credentialOf(id, { prf: this.prfAtCreate ? { enabled: true } : { enabled: false } });
  }

  async get(options?: CredentialRequestOptions): Promise<Credential | null> {
    const publicKey = options!.publicKey!;
    this.gets.push(publicKey);
    if (this.fail !== undefined) throw this.fail;
    if (this.answer === 'null') return null;
    const allowed = publicKey.allowCredentials ?? [];
    let credential =
      allowed.length === 0 ? this.held.at(-1) : this.held.find((c) => allowed.some((a) => bytesToHex(bytes(a.id)) === bytesToHex(c.id)));
    if (!credential) throw new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError');
    if (this.answer === 'other') credential = { id: crypto.getRandomValues(new Uint8Array(16)), secret: crypto.getRandomValues(new Uint8Array(32)) };
    if (this.answer === 'impostor') credential = { id: credential.id, secret: crypto.getRandomValues(new Uint8Array(32)) };
    if (this.prfAtGet === 'no-prf') return credentialOf(credential.id, {});
    if (this.prfAtGet === 'no-results') return credentialOf(credential.id, { prf: {} });
    const output = this.prf(credential.secret, bytes(publicKey.extensions!.prf!.eval!.first));
    this.prfHex.push(bytesToHex(output));
    const first = output.slice().buffer;
    this.prfBuffers.push(first);
    return credentialOf(credential.id, { prf: { results: { first } } });
  }
}

/** A PublicKeyCredential as the method reads it: the raw id and the client extension results. */
export function credentialOf(id: Uint8Array, extensions: AuthenticationExtensionsClientOutputs): Credential {
  return { type: 'public-key', id: bytesToHex(id), rawId: id.slice().buffer, getClientExtensionResults: () => extensions } as unknown as Credential;
}

/** A view of a WebAuthn BufferSource as bytes. */
export const bytes = (source: BufferSource) =>
  ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
