/** Adapters for Node only (they use Node built-ins), kept out of the browser-safe `tandem-wallet/adapters` entry. */
export { FileKeychain } from './file-keychain.js';
export { LocalFileBackupMethod, type LocalFileBackupMethodOptions } from './local-file-backup-method.js';
