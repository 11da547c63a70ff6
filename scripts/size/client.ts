/**
 * The client entry as `npm run size` measures it: exactly what a browser app imports to run a wallet —
 * the facade and its machine, the IndexedDB keychain, the password and passkey backup methods, the
 * custodian client and both protocols' client sides — imported through the public barrels, so the
 * number is what tree-shaking leaves of them in a real app, and no chains.
 */
export { createTandemWallet, walletMachine, IdbKeychain, PasswordBackupMethod, PasskeyBackupMethod, remoteCustodian } from '../../src/index.js';
export { clientMpc } from '../../src/mpc/index.js';
