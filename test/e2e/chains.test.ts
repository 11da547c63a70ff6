/**
 * Chains for real (issue #11): a wallet with the real two-party protocols against a `tandem serve`
 * process signs EVM messages, typed data and every transaction type through the viem account, sends a
 * transaction through the EIP-1193 provider to a local Hardhat node and sees it mined, and signs Solana
 * messages and transactions — each signature checked by the chain library's own verification, and each
 * request recorded by the custodian under its kind.
 */
import {
  appendTransactionMessageInstruction,
  compileTransaction,
  createTransactionMessage,
  getPublicKeyFromAddress,
  getSignatureFromTransaction,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  verifySignature,
  type Address as SolanaAddress,
  type Blockhash,
} from '@solana/kit';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import {
  createPublicClient,
  createWalletClient,
  hashMessage,
  http,
  keccak256,
  parseEther,
  parseGwei,
  recoverAddress,
  recoverMessageAddress,
  recoverTransactionAddress,
  recoverTypedDataAddress,
  toHex,
  type Hex,
  type TransactionSerializable,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MemoryKeychain, remoteCustodian, type WebSocketConstructor } from '../../src/adapters/index.js';
import { createEip1193Provider, type ApprovalRequest, type Eip155ChainId } from '../../src/chains/eip1193.js';
import { rawSign, tandemAccount } from '../../src/chains/evm.js';
import { solanaSigner } from '../../src/chains/solana.js';
import { signRequest } from '../../src/chains/sign-request.js';
import { createTandemWallet, type TandemWallet } from '../../src/machines/index.js';
import { clientMpc } from '../../src/mpc/client.js';
import { startHardhatNode, type HardhatNode } from '../helpers/hardhat-node.js';
import { call, OPERATOR_KEY, startServerProcess, tempDir, type ServerProcess } from '../helpers/server-process.js';

const dir = tempDir();
let server: ServerProcess;
let node: HardhatNode;
let wallet: TandemWallet;
let walletId: string;

beforeAll(async () => {
  [server, node] = await Promise.all([startServerProcess(`${dir.path}/custodian.db`), startHardhatNode()]);
  let apiKey: string;
  ({ walletId, apiKey } = (await call(server, 'POST', '/v1/operator/clients', { key: OPERATOR_KEY, body: {} })).body);
  wallet = await createTandemWallet({
    custodian: remoteCustodian({ baseUrl: server.url, apiKey, WebSocket: WebSocket as unknown as WebSocketConstructor }),
    keychain: new MemoryKeychain(),
    mpc: clientMpc(),
  });
  await wallet.createWallet();
}, 120_000);

afterAll(async () => {
  wallet?.stop();
  await Promise.all([server?.stop(), node?.stop()]);
  dir.remove();
});

interface AuditEntry {
  readonly action: string;
  readonly details: Record<string, unknown>;
}
const signatures = async (): Promise<AuditEntry[]> =>
  ((await call(server, 'GET', `/v1/operator/clients/${walletId}/audit`, { key: OPERATOR_KEY })).body.entries as AuditEntry[]).filter((e) => e.action === 'session.sign');

const to = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

describe('EVM through the viem account', () => {
  it('signs a message, typed data and each transaction type; viem recovers the wallet address from each', async () => {
    const account = tandemAccount(wallet);
    expect(account.address).toBe(wallet.getAddresses().SECP256K1);
    const before = (await signatures()).length;

    const message = 'Sign in to example.com';
    expect(await recoverMessageAddress({ message, signature: await account.signMessage({ message }) })).toBe(account.address);

    const typedData = {
      domain: { name: 'Tandem', version: '1', chainId: 31337n },
      types: { Transfer: [{ name: 'to', type: 'address' }, { name: 'amount', type: 'uint256' }] },
      primaryType: 'Transfer',
      message: { to, amount: 10n ** 24n },
    } as const;
    expect(await recoverTypedDataAddress({ ...typedData, signature: await account.signTypedData(typedData) })).toBe(account.address);

    const txs: TransactionSerializable[] = [
      { type: 'legacy', chainId: 31337, nonce: 0, gasPrice: parseGwei('2'), gas: 21000n, to, value: 1n },
      { type: 'eip2930', chainId: 31337, nonce: 0, gasPrice: parseGwei('2'), gas: 30000n, to, value: 1n, accessList: [{ address: to, storageKeys: [] }] },
      { type: 'eip1559', chainId: 31337, nonce: 0, maxFeePerGas: parseGwei('3'), maxPriorityFeePerGas: parseGwei('1'), gas: 21000n, to, value: 1n },
    ];
    for (const tx of txs) {
      const signed = await account.signTransaction(tx);
      expect(await recoverTransactionAddress({ serializedTransaction: signed as never }), tx.type).toBe(account.address);
    }

    const hash = keccak256(toHex('anything else'));
    expect(await recoverAddress({ hash, signature: await account.sign!({ hash }) })).toBe(account.address);

    const added = (await signatures()).slice(before).map((e) => e.details);
    expect(added.map((d) => d['kind'])).toEqual(['eip191', 'eip712', 'evmTransaction', 'evmTransaction', 'evmTransaction', 'raw']);
    // Only a raw request's digest is in the log: the custodian could not see what it was.
    expect(added[5]).toMatchObject({ curve: 'SECP256K1', digest: hash });
    expect(added[0]).not.toHaveProperty('digest');
  });

  it('the custodian refuses a request whose digest is not its payload, and signs nothing', async () => {
    const before = (await signatures()).length;
    const lie = { kind: 'eip191' as const, payload: { message: 'pay 1' }, digest: hashMessage('pay 1000') };
    await expect(wallet.sign('SECP256K1', lie)).rejects.toMatchObject({ code: 'SIGN_FAILED' });
    expect((await signatures()).length).toBe(before);
    // The wallet still signs afterwards.
    const request = signRequest('SECP256K1', 'eip191', { message: 'pay 1' });
    expect(await wallet.sign('SECP256K1', request)).toHaveLength(64);
  });
});

describe('EVM through the EIP-1193 provider on a local node', () => {
  const chain = (): Eip155ChainId => `eip155:${node.chainId}`;

  it('funds the wallet, sends a transaction with eth_sendTransaction, and the receipt says success', async () => {
    const address = wallet.getAddresses().SECP256K1 as Hex;
    const publicClient = createPublicClient({ transport: http(node.rpcUrl) });
    const dev = createWalletClient({ account: privateKeyToAccount(node.devAccounts[0]!), transport: http(node.rpcUrl) });
    const funding = await dev.sendTransaction({ to: address, value: parseEther('10'), chain: null });
    expect((await publicClient.waitForTransactionReceipt({ hash: funding })).status).toBe('success');

    const asked: ApprovalRequest[] = [];
    const provider = createEip1193Provider({ wallet, chains: [{ id: chain(), rpcUrl: node.rpcUrl }], approve: (r) => (asked.push(r), true) });
    expect(await provider.request({ method: 'eth_requestAccounts' })).toEqual([address]);
    expect(await provider.request({ method: 'eth_chainId' })).toBe(toHex(node.chainId));

    const hash = (await provider.request({ method: 'eth_sendTransaction', params: [{ from: address, to, value: toHex(parseEther('1')) }] })) as Hex;
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
    expect(receipt.from.toLowerCase()).toBe(address.toLowerCase());
    expect(await publicClient.getBalance({ address: to })).toBeGreaterThanOrEqual(parseEther('10001'));
    expect(asked.map((r) => r.method)).toEqual(['eth_sendTransaction']);
  });

  it("viem's wallet client sends with the account too", async () => {
    const client = createWalletClient({ account: tandemAccount(wallet), transport: http(node.rpcUrl) });
    const publicClient = createPublicClient({ transport: http(node.rpcUrl) });
    const hash = await client.sendTransaction({ to, value: 3n, chain: null });
    expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
  });

  it('a rejected approval gets 4001 and nothing reaches the custodian', async () => {
    const address = wallet.getAddresses().SECP256K1 as Hex;
    const provider = createEip1193Provider({ wallet, chains: [{ id: chain(), rpcUrl: node.rpcUrl }], approve: () => false });
    const before = (await signatures()).length;
    await expect(provider.request({ method: 'personal_sign', params: [toHex('hello'), address] })).rejects.toMatchObject({ code: 4001 });
    await expect(provider.request({ method: 'eth_sendTransaction', params: [{ from: address, to, value: '0x1' }] })).rejects.toMatchObject({ code: 4001 });
    expect((await signatures()).length).toBe(before);
  });

  it('several concurrent signing requests all complete: the wallet runs them one after another', async () => {
    const address = wallet.getAddresses().SECP256K1 as Hex;
    const provider = createEip1193Provider({ wallet, chains: [{ id: chain(), rpcUrl: node.rpcUrl }] });
    const publicClient = createPublicClient({ transport: http(node.rpcUrl) });
    const messages = ['one', 'two', 'three'];
    const [sends, signed] = await Promise.all([
      Promise.all([0, 1].map(() => provider.request({ method: 'eth_sendTransaction', params: [{ from: address, to, value: '0x2' }] }) as Promise<Hex>)),
      Promise.all(messages.map((m) => provider.request({ method: 'personal_sign', params: [toHex(m), address] }) as Promise<Hex>)),
    ]);
    for (const [i, m] of messages.entries()) expect(await recoverMessageAddress({ message: m, signature: signed[i]! })).toBe(address);
    const receipts = await Promise.all(sends.map((hash) => publicClient.waitForTransactionReceipt({ hash })));
    expect(receipts.map((r) => r.status)).toEqual(['success', 'success']);
  });
});

describe('Solana', () => {
  it('signs a message and a transaction; kit verifies both under the wallet address, and the custodian saw their kinds', async () => {
    const signer = solanaSigner(wallet);
    expect(signer.address).toBe(wallet.getAddresses().ED25519);
    const publicKey = await getPublicKeyFromAddress(signer.address);
    const before = (await signatures()).length;

    const message = utf8ToBytes('Sign in to example.com');
    expect(await verifySignature(publicKey, await signer.signMessage(message), message)).toBe(true);

    // A memo-like instruction to a made-up program, paid for by the wallet.
    const program = 'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr' as SolanaAddress;
    const blockhash = 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N' as Blockhash;
    const txMessage = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayer(signer.address, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash, lastValidBlockHeight: 100n }, m),
      (m) => appendTransactionMessageInstruction({ programAddress: program, data: utf8ToBytes('tandem') }, m),
    );
    const signed = await signer.signTransaction(compileTransaction(txMessage));
    expect(getSignatureFromTransaction(signed)).toBeTruthy();
    expect(await verifySignature(publicKey, signed.signatures[signer.address]!, signed.messageBytes)).toBe(true);

    const added = (await signatures()).slice(before).map((e) => e.details);
    expect(added.map((d) => [d['curve'], d['kind']])).toEqual([
      ['ED25519', 'solanaMessage'],
      ['ED25519', 'solanaTransaction'],
    ]);
  });

  it('rawSign signs anything else, marked raw', async () => {
    const before = (await signatures()).length;
    const digest = sha256(utf8ToBytes('something else'));
    const signature = await rawSign(wallet, 'ED25519', digest);
    expect(await verifySignature(await getPublicKeyFromAddress(wallet.getAddresses().ED25519 as SolanaAddress), signature as never, digest)).toBe(true);
    expect((await signatures()).slice(before).map((e) => e.details)).toEqual([expect.objectContaining({ curve: 'ED25519', kind: 'raw', digest: `0x${bytesToHex(digest)}` })]);
  });
});
