/**
 * Custodian secrets encrypted at rest (DESIGN §4): a Store decorator that seals every custodian share,
 * backup share and presignature secret with AES-256-GCM under the master key before it reaches the
 * database, and opens it on the way back. Each sealed value names its key id (for rotation: old ids stay
 * readable while new writes use the current key) and is bound, as associated data, to the record and
 * field it belongs to, so a value copied into another row does not decrypt.
 *
 *   sealed = "tdm1" | key id length (1) | key id | nonce (12) | ciphertext + tag
 */
import { gcm } from '@noble/ciphers/aes.js';
import { randomBytes } from '@noble/ciphers/utils.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import type { BackupPairRecord, PresignatureRecord, SigningPairRecord, Store, StoreTx } from '../custodian/store.js';
import { TandemError } from '../errors.js';

const MAGIC = utf8ToBytes('tdm1');

export interface MasterKeys {
  /** The id new values are sealed under. */
  readonly current: string;
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

export function sealValue(keys: MasterKeys, aad: string, plain: Uint8Array): Uint8Array {
  const key = keys.keys.get(keys.current);
  if (!key || key.length !== 32) throw new TandemError('INTERNAL', { message: 'The current master key is missing.' });
  const id = utf8ToBytes(keys.current);
  const nonce = randomBytes(12);
  const ct = gcm(key, nonce, utf8ToBytes(aad)).encrypt(plain);
  return concatBytes(MAGIC, Uint8Array.of(id.length), id, nonce, ct);
}

export function openValue(keys: MasterKeys, aad: string, sealed: Uint8Array): Uint8Array {
  const fail = (why: string) => new TandemError('INTERNAL', { message: `A sealed value could not be opened: ${why}.` });
  if (sealed.length < MAGIC.length + 2 + 12 + 16 || !MAGIC.every((b, i) => sealed[i] === b)) throw fail('not sealed');
  const idLen = sealed[MAGIC.length]!;
  const idStart = MAGIC.length + 1;
  const id = new TextDecoder().decode(sealed.subarray(idStart, idStart + idLen));
  const key = keys.keys.get(id);
  if (!key) throw fail(`unknown key id ${JSON.stringify(id)}`);
  const nonce = sealed.subarray(idStart + idLen, idStart + idLen + 12);
  try {
    return gcm(key, nonce, utf8ToBytes(aad)).decrypt(sealed.subarray(idStart + idLen + 12));
  } catch {
    throw fail('authentication failed');
  }
}

/** Wraps a Store so that every secret field is sealed on write and opened on read. */
export function encryptedStore(inner: Store, keys: MasterKeys): Store {
  const seal = (aad: string, v: Uint8Array | null) => (v === null ? null : sealValue(keys, aad, v));
  const open = (aad: string, v: Uint8Array | null) => (v === null ? null : openValue(keys, aad, v));
  const sp = (p: SigningPairRecord, f: typeof seal): SigningPairRecord => ({ ...p, custodianShare: f(`signing/${p.pairId}/share`, p.custodianShare) });
  const bp = (b: BackupPairRecord, f: typeof seal): BackupPairRecord => ({
    ...b,
    custodianBackupShare: f(`backup/${b.backupPairId}/share`, b.custodianBackupShare),
  });
  const ps = (r: PresignatureRecord, f: typeof seal): PresignatureRecord => ({ ...r, secret: f(`presignature/${r.sid}/secret`, r.secret) });
  const maybe = <T>(v: T | undefined, f: (v: T) => T) => (v === undefined ? undefined : f(v));
  const wrap = (tx: StoreTx): StoreTx => ({
    ...tx,
    getSigningPair: async (id) => maybe(await tx.getSigningPair(id), (p) => sp(p, open)),
    listSigningPairs: async (w) => (await tx.listSigningPairs(w)).map((p) => sp(p, open)),
    putSigningPair: (p) => tx.putSigningPair(sp(p, seal)),
    getBackupPair: async (id) => maybe(await tx.getBackupPair(id), (b) => bp(b, open)),
    listBackupPairs: async (w) => (await tx.listBackupPairs(w)).map((b) => bp(b, open)),
    putBackupPair: (b) => tx.putBackupPair(bp(b, seal)),
    getPresignature: async (sid) => maybe(await tx.getPresignature(sid), (r) => ps(r, open)),
    listPresignatures: async (w, p) => (await tx.listPresignatures(w, p)).map((r) => ps(r, open)),
    putPresignature: (r) => tx.putPresignature(ps(r, seal)),
  });
  return { transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))) };
}
