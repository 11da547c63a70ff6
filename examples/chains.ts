/**
 * `npm run example:chains`: the chain guides' code (docs/chains-evm.md, docs/chains-solana.md) as one
 * program against real parts — a custodian process (`tandem serve`, SQLite in a temporary directory), a
 * local Hardhat node, and a wallet with the real two-party protocols. Between "the app" markers is what
 * an app writes; around them, the repository's test harness starts the custodian and the chain.
 *
 * Prints one line per check and exits 0 when every signature verified and the transaction was mined.
 */
import {
  appendTransactionMessageInstruction,
  compileTransaction,
  createTransactionMessage,
  getPublicKeyFromAddress,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  verifySignature,
  type Address as SolanaAddress,
  type Blockhash,
  type SignatureBytes,
} from '@solana/kit';
import { createPublicClient, createWalletClient, http, parseEther, verifyMessage, verifyTypedData, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { hardhat } from 'viem/chains';
import WebSocket from 'ws';
import { MemoryKeychain, remoteCustodian, type WebSocketConstructor } from '../src/adapters/index.js';
import { createEip1193Provider, rawSign, solanaSigner, tandemAccount } from '../src/chains/index.js';
import { createTandemWallet } from '../src/machines/index.js';
import { clientMpc } from '../src/mpc/client.js';
import { startHardhatNode } from '../test/helpers/hardhat-node.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir } from '../test/helpers/server-process.js';

const dir = tempDir();
const [custodian, node] = await Promise.all([startServerProcess(`${dir.path}/custodian.db`), startHardhatNode()]);
const { apiKey } = (await call(custodian, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body as { apiKey: string };
const check = (what: string, ok: boolean) => {
  console.log(`${ok ? 'ok' : 'FAILED'} ${what}`);
  if (!ok) process.exitCode = 1;
};

try {
  // ---- the app --------------------------------------------------------------------------------------
  const wallet = await createTandemWallet({
    custodian: remoteCustodian({ baseUrl: custodian.url, apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor }),
    keychain: new MemoryKeychain(),
    mpc: clientMpc(),
  });
  const { SECP256K1: evmAddress, ED25519: solanaAddress } = await wallet.createWallet();
  console.log(`wallet evm=${evmAddress} solana=${solanaAddress}`);

  // EVM with viem: the account signs through the wallet; the custodian gets typed requests.
  const account = tandemAccount(wallet);
  const message = 'Sign in to example.com';
  check('viem verifies an EIP-191 message', await verifyMessage({ address: account.address, message, signature: await account.signMessage({ message }) }));
  const typedData = {
    domain: { name: 'Example', version: '1', chainId: hardhat.id },
    types: { Order: [{ name: 'amount', type: 'uint256' }] },
    primaryType: 'Order',
    message: { amount: 10n ** 20n },
  } as const;
  check('viem verifies EIP-712 typed data', await verifyTypedData({ address: account.address, ...typedData, signature: await account.signTypedData(typedData) }));

  // Fund the wallet from the node's first dev account (the harness's), then send through the provider.
  const chain = { ...hardhat, rpcUrls: { default: { http: [node.rpcUrl] } } };
  const dev = createWalletClient({ account: privateKeyToAccount(node.devAccounts[0]!), chain, transport: http() });
  const publicClient = createPublicClient({ chain, transport: http() });
  await publicClient.waitForTransactionReceipt({ hash: await dev.sendTransaction({ to: account.address, value: parseEther('1') }) });

  const provider = createEip1193Provider({
    wallet,
    chains: [{ id: `eip155:${hardhat.id}`, rpcUrl: node.rpcUrl, name: 'Hardhat' }],
    approve: (request) => {
      console.log(`approve ${request.method} on ${request.chainId}`);
      return true;
    },
  });
  const hash = (await provider.request({
    method: 'eth_sendTransaction',
    params: [{ from: account.address, to: '0x000000000000000000000000000000000000bEEF', value: '0x2386f26fc10000' }], // 0.01 ETH
  })) as Hex;
  check('eth_sendTransaction mined', (await publicClient.waitForTransactionReceipt({ hash })).status === 'success');

  // Solana with @solana/kit.
  const signer = solanaSigner(wallet);
  const publicKey = await getPublicKeyFromAddress(signer.address);
  const bytes = new TextEncoder().encode(message);
  check('kit verifies a Solana message', await verifySignature(publicKey, await signer.signMessage(bytes), bytes));
  const transaction = compileTransaction(
    pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayer(signer.address, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N' as Blockhash, lastValidBlockHeight: 1000n }, m),
      (m) => appendTransactionMessageInstruction({ programAddress: 'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr' as SolanaAddress, data: bytes }, m),
    ),
  );
  const signed = await signer.signTransaction(transaction);
  check('kit verifies a Solana transaction', await verifySignature(publicKey, signed.signatures[signer.address]!, signed.messageBytes));

  // Anything else: a raw request, which the custodian signs blind and records with its digest.
  const other = new TextEncoder().encode('some other protocol');
  check('rawSign on ED25519 verifies', await verifySignature(publicKey, (await rawSign(wallet, 'ED25519', other)) as SignatureBytes, other));
  wallet.stop();
  // ---- end of the app -------------------------------------------------------------------------------
} finally {
  await Promise.all([custodian.stop(), node.stop()]);
  dir.remove();
}
console.log(process.exitCode ? 'chains example: FAILED' : 'chains example: all verified');
