/**
 * `tandem-wallet/chains`: EVM and Solana signing on top of the wallet. Kept out of the client entry so an
 * app that needs neither pays for neither (viem, @solana/kit).
 */
export * from './sign-request.js';
export type { WalletSigner } from './signer.js';
export { evmAddressOf, rawSign, tandemAccount, toJsonTypedData, type TandemAccount } from './evm.js';
export { solanaSigner, type SolanaSigner } from './solana.js';
export * from './eip1193.js';
