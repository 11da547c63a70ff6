// CI: the built package imports by its own name through the exports map, and a wallet runs from it.
import { createTandemWallet } from 'tandem-wallet';
import { IdbKeychain, MemoryKeychain, PasswordBackupMethod } from 'tandem-wallet/adapters';
import { FileKeychain } from 'tandem-wallet/node';
import { CustodianRules, MemoryStore } from 'tandem-wallet/custodian';
import { TandemError } from 'tandem-wallet/errors';
import { walletMachine } from 'tandem-wallet/machines';
import { MemoryCustodian, simulatedClientMpc } from 'tandem-wallet/testing';
import * as mpc from 'tandem-wallet/mpc';
import { createEip1193Provider, solanaSigner, tandemAccount } from 'tandem-wallet/chains';
import { verifyMessage } from 'viem';

const rules = new CustodianRules({ store: new MemoryStore() });
const { walletId } = await rules.createWallet();
const wallet = await createTandemWallet({ custodian: new MemoryCustodian({ rules, walletId }), keychain: new MemoryKeychain(), mpc: simulatedClientMpc() });
const addresses = await wallet.createWallet();
// The chains entry signs through the wallet; viem checks the signature.
const account = tandemAccount(wallet);
const signature = await account.signMessage({ message: 'smoke' });
const chainsWork = (await verifyMessage({ address: account.address, message: 'smoke', signature })) && solanaSigner(wallet).address === addresses.ED25519 && typeof createEip1193Provider === 'function';
wallet.stop();
if (!chainsWork || !addresses.SECP256K1 || !addresses.ED25519 || walletMachine.id !== 'wallet' || typeof TandemError !== 'function' || typeof mpc.encode !== 'function' || typeof FileKeychain !== 'function' || typeof IdbKeychain !== 'function' || typeof PasswordBackupMethod !== 'function') {
  throw new Error('the built package does not work');
}
console.log('dist smoke test: ok');
