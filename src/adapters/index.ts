/** Ports and their in-memory implementations; safe for the client bundle (no Node built-ins). */
export * from './ports.js';
export { MemoryKeychain } from './memory-keychain.js';
export { MemoryBackupMethod, type MemoryBackupMethodOptions } from './memory-backup-method.js';
export { IdbKeychain, type IdbKeychainOptions } from './idb-keychain.js';
export { PasswordBackupMethod, ARGON2_FLOOR, ARGON2_CEILING, type Argon2Params, type PasswordBackupMethodOptions } from './password-backup-method.js';
export {
  checkPasswordStrength,
  normalizePassword,
  MIN_PASSWORD_LENGTH,
  MIN_PASSWORD_BITS,
  type PasswordStrength,
  type PasswordWeakness,
} from './password-strength.js';
export {
  createCustodianClient,
  type CustodianClient,
  type CustodianClientOptions,
  type SessionReady,
  type SessionEnd,
  type StartFrame,
  type WebSocketConstructor,
} from './custodian-client.js';
export { remoteCustodian } from './remote-custodian.js';
export { GDriveBackupMethod, type GDriveBackupMethodOptions, type GDriveAccessTokenRequest } from './gdrive-backup-method.js';
export { CustomBackupMethod, type CustomBackupCallbacks } from './custom-backup-method.js';
export {
  PasskeyBackupMethod,
  type PasskeyBackupMethodOptions,
  type PasskeyRegistration,
  type PasskeyCredential,
  type WebAuthnCredentials,
} from './passkey-backup-method.js';
