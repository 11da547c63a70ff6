/** Ports and their in-memory implementations; safe for the client bundle (no Node built-ins). */
export * from './ports.js';
export { MemoryKeychain } from './memory-keychain.js';
export { MemoryBackupMethod, type MemoryBackupMethodOptions } from './memory-backup-method.js';
