/** The wallet lifecycle: the machine, its operations, the facade. Client-safe (no Node built-ins). */
export { walletMachine, implementWalletMachine, SNAPSHOT_VERSION, type WalletMachine, type WalletContext, type WalletEvent, type WalletInput, type Outcome, type Progress } from './wallet-machine.js';
export { generateMachine, backupMachine, recoverMachine, signMachine, type ProgressEvent } from './operations.js';
export { createTandemWallet, type TandemWallet, type TandemWalletOptions, type PersistedWallet, type Addresses, type BackupOptions, type ProgressCallback, type WalletActor, type EjectedWallet } from './wallet.js';
export { createSteps, type Steps, type WalletDeps } from './steps.js';
export { stepActors, STEP_NAMES } from './step-actors.js';
export * from './detail.js';
export { Vault } from './vault.js';
export { addressOf, evmAddress, solanaAddress } from './address.js';
export { sanitizingInspector, sanitizeInspectionEvent, redactSecrets, isSecretKey, REDACTED } from './inspect.js';
