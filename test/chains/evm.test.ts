/**
 * The viem account: each kind of signature is checked by viem's own recovery, and each request the
 * "custodian" received is the typed kind with a payload it could recompute (key-signer checks it exactly
 * as the custodian does).
 */
import { describe, expect, it } from 'vitest';
import {
  BaseError,
  createWalletClient,
  custom,
  hashTypedData,
  keccak256,
  parseGwei,
  parseTransaction,
  recoverAddress,
  recoverMessageAddress,
  recoverTransactionAddress,
  recoverTypedDataAddress,
  toHex,
  type Hex,
  type TransactionSerializable,
  type TypedDataDefinition,
} from 'viem';
import { mainnet } from 'viem/chains';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { evmAddressOf, rawSign, TandemAccountError, tandemAccount, tandemErrorOf, toJsonTypedData } from '../../src/chains/evm.js';
import { TandemError } from '../../src/errors.js';
import { keySigner } from '../helpers/key-signer.js';

const to = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

const typedData = {
  domain: { name: 'Ether Mail', version: '1', chainId: 1n, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
  types: {
    Person: [
      { name: 'name', type: 'string' },
      { name: 'wallet', type: 'address' },
    ],
    Mail: [
      { name: 'from', type: 'Person' },
      { name: 'to', type: 'Person' },
      { name: 'contents', type: 'string' },
      { name: 'amount', type: 'uint256' },
      { name: 'tags', type: 'bytes32[]' },
    ],
  },
  primaryType: 'Mail',
  message: {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
    contents: 'Hello, Bob!',
    amount: 10n ** 30n + 7n,
    tags: [keccak256(toHex('a')), keccak256(toHex('b'))],
  },
} as const satisfies TypedDataDefinition;

const transactions: Record<string, TransactionSerializable> = {
  legacy: { type: 'legacy', chainId: 1, nonce: 3, gasPrice: parseGwei('20'), gas: 21000n, to, value: 10n ** 15n },
  'legacy without chain id (pre-EIP-155)': { type: 'legacy', nonce: 0, gasPrice: parseGwei('1'), gas: 21000n, to, value: 1n },
  eip2930: {
    type: 'eip2930',
    chainId: 10,
    nonce: 1,
    gasPrice: parseGwei('2'),
    gas: 50000n,
    to,
    value: 0n,
    data: '0xa9059cbb',
    accessList: [{ address: to, storageKeys: [keccak256(toHex('slot'))] }],
  },
  eip1559: { type: 'eip1559', chainId: 8453, nonce: 77, maxFeePerGas: parseGwei('3'), maxPriorityFeePerGas: parseGwei('1'), gas: 21000n, to, value: 5n },
};

describe('tandemAccount', () => {
  it('has the wallet address and refuses a wallet with no SECP256K1 key', () => {
    const signer = keySigner();
    expect(tandemAccount(signer).address).toBe(signer.getAddresses().SECP256K1);
    const empty = { ...signer, getAddresses: () => ({}) };
    expect(() => tandemAccount(empty)).toThrow(expect.objectContaining({ code: 'STATE_INVALID' }));
  });

  it('signs EIP-191 messages (text and bytes) that viem recovers to the wallet', async () => {
    const signer = keySigner(2);
    const account = tandemAccount(signer);
    for (const message of ['hello tandem', { raw: new Uint8Array([0, 1, 2, 255]) }, { raw: '0xdeadbeef' as const }]) {
      const signature = await account.signMessage({ message });
      expect(await recoverMessageAddress({ message, signature })).toBe(account.address);
    }
    expect(signer.requests.map((r) => r.request.kind)).toEqual(['eip191', 'eip191', 'eip191']);
    expect(signer.requests[0]!.request).toMatchObject({ payload: { message: 'hello tandem' } });
    expect(signer.requests[1]!.request).toMatchObject({ payload: { raw: '0x000102ff' } });
  });

  it('signs EIP-712 typed data with bigints that viem recovers; the custodian gets JSON', async () => {
    const signer = keySigner(3);
    const account = tandemAccount(signer);
    const signature = await account.signTypedData(typedData);
    expect(await recoverTypedDataAddress({ ...typedData, signature })).toBe(account.address);
    const sent = signer.requests[0]!.request;
    expect(sent.kind).toBe('eip712');
    expect(sent.digest).toBe(hashTypedData(typedData));
    expect(sent).toMatchObject({ payload: { domain: { chainId: '1' } } });
    expect(toJsonTypedData(typedData).message).toMatchObject({ amount: (10n ** 30n + 7n).toString() });
  });

  it.each(Object.entries(transactions))('signs a %s transaction that viem parses and recovers', async (_, tx) => {
    const signer = keySigner(4);
    const account = tandemAccount(signer);
    const signed = await account.signTransaction(tx);
    expect(await recoverTransactionAddress({ serializedTransaction: signed as never })).toBe(account.address);
    const parsed = parseTransaction(signed);
    expect(parsed.type).toBe(tx.type);
    expect(parsed.nonce ?? 0).toBe(tx.nonce);
    expect(parsed.to?.toLowerCase()).toBe(to.toLowerCase());
    if (tx.chainId !== undefined) expect(parsed.chainId).toBe(tx.chainId);
    expect(signer.requests).toHaveLength(1);
    expect(signer.requests[0]!.request.kind).toBe('evmTransaction');
  });

  it('works as the account of a viem wallet client', async () => {
    const signer = keySigner(5);
    const account = tandemAccount(signer);
    // Local signing needs no RPC but the chain id check; the transport answers nothing else.
    const rpc = async ({ method }: { method: string }) => (method === 'eth_chainId' ? '0x1' : Promise.reject(new Error(`no rpc for ${method}`)));
    const client = createWalletClient({ account, chain: mainnet, transport: custom({ request: rpc }) });
    const message = 'via the wallet client';
    expect(await recoverMessageAddress({ message, signature: await client.signMessage({ message }) })).toBe(account.address);
    const signed = await client.signTransaction({ ...transactions['eip1559']!, chainId: 1 } as never);
    expect(await recoverTransactionAddress({ serializedTransaction: signed as never })).toBe(account.address);
  });

  it("sends through viem's wallet client, and a wallet refusal reaches the app as a viem error around the TandemError", async () => {
    const signer = keySigner(11);
    const account = tandemAccount(signer);
    const sent: Hex[] = [];
    // Everything filled in: viem asks the node only for the chain id, then broadcasts.
    const rpc = async ({ method, params }: { method: string; params?: unknown }) => {
      if (method === 'eth_chainId') return '0x1';
      if (method === 'eth_sendRawTransaction') return keccak256(sent[sent.push((params as Hex[])[0]!) - 1]!);
      throw new Error(`no rpc for ${method}`);
    };
    const client = createWalletClient({ account, chain: mainnet, transport: custom({ request: rpc }, { retryCount: 0 }) });
    const tx = { to, value: 1n, nonce: 0, gas: 21000n, maxFeePerGas: parseGwei('3'), maxPriorityFeePerGas: parseGwei('1') } as const;
    const hash = await client.sendTransaction(tx);
    expect(hash).toBe(keccak256(sent[0]!));
    expect(await recoverTransactionAddress({ serializedTransaction: sent[0] as never })).toBe(account.address);

    const refusing = { ...signer, sign: async () => Promise.reject(new TandemError('POLICY_REFUSED')) };
    const refused = createWalletClient({ account: tandemAccount(refusing), chain: mainnet, transport: custom({ request: rpc }, { retryCount: 0 }) });
    const e = await refused.sendTransaction(tx).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(BaseError);
    expect(tandemErrorOf(e)?.code).toBe('POLICY_REFUSED');
    expect(sent).toHaveLength(1);
  });

  it('signs a bare digest as raw, for anything else', async () => {
    const signer = keySigner(6);
    const account = tandemAccount(signer);
    const hash = keccak256(toHex('anything else'));
    const signature = await account.sign!({ hash });
    expect(await recoverAddress({ hash, signature })).toBe(account.address);
    expect(signer.requests[0]!.request).toEqual({ kind: 'raw', digest: hash });

    const digest = new Uint8Array(32).fill(9);
    const sig = await rawSign(signer, 'SECP256K1', digest);
    expect(secp256k1.verify(sig, digest, secp256k1.getPublicKey(signer.secp256k1Key), { prehash: false })).toBe(true);
    expect(signer.requests[1]!.request).toEqual({ kind: 'raw', digest: `0x${bytesToHex(digest)}` });
  });

  it('refuses what it cannot sign honestly, before anything reaches the custodian', async () => {
    const signer = keySigner(7);
    const account = tandemAccount(signer);
    const refusals: Promise<unknown>[] = [
      account.signTransaction({ type: 'eip4844', chainId: 1, to, maxFeePerBlobGas: 1n, blobVersionedHashes: [keccak256('0x01')] } as never),
      account.signTransaction({ type: 'eip7702', chainId: 1, to, authorizationList: [] } as never),
      account.signMessage({ message: { raw: 'not hex' as never } }),
      account.sign!({ hash: '0x1234' }),
      account.signTypedData({ ...typedData, primaryType: 'Nope' } as never),
    ];
    for (const p of refusals) {
      const e = await p.then(() => null, (err: unknown) => err);
      expect(e).toBeInstanceOf(TandemAccountError);
      expect(tandemErrorOf(e)?.code).toBe('INVALID_INPUT');
    }
    expect(signer.requests).toEqual([]);
  });

  it('refuses a signature that does not recover to the wallet (a wallet answering with another key)', async () => {
    const signer = keySigner(8);
    const other = keySigner(9);
    const liar = { ...signer, sign: other.sign };
    const e = await tandemAccount(liar).signMessage({ message: 'x' }).then(() => null, (err: unknown) => err);
    expect(tandemErrorOf(e)?.code).toBe('SIGN_FAILED');
  });

  it('evmAddressOf checksums the address', () => {
    const signer = keySigner(10);
    const lower = { ...signer, getAddresses: () => ({ SECP256K1: signer.getAddresses().SECP256K1!.toLowerCase() }) };
    expect(evmAddressOf(lower)).toBe(signer.getAddresses().SECP256K1);
  });
});
