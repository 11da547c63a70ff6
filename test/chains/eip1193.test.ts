/**
 * The EIP-1193 provider end to end against real Hardhat nodes: a funded wallet sends through
 * `eth_sendTransaction` and the receipt says success; every signature is recovered by viem; the
 * "custodian" (key-signer, which checks each request as the custodian does) records what reached it, so
 * "nothing was signed" is checked, not assumed. Two nodes with different chain ids make switching honest.
 */
import {
  createPublicClient,
  createWalletClient,
  custom,
  getAddress,
  http,
  parseEther,
  parseGwei,
  parseTransaction,
  recoverAddress,
  recoverMessageAddress,
  recoverTransactionAddress,
  recoverTypedDataAddress,
  keccak256,
  toHex,
  verifyMessage,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { hardhat } from 'viem/chains';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEip1193Provider,
  type ApprovalEvent,
  type ApprovalRequest,
  type Eip1193ProviderOptions,
  type TandemEip1193Provider,
} from '../../src/chains/eip1193.js';
import { TandemError } from '../../src/errors.js';
import { freePort, startHardhatNode, type HardhatNode } from '../helpers/hardhat-node.js';
import { keySigner, type KeySigner } from '../helpers/key-signer.js';

let a: HardhatNode; // eip155:31337, where the wallet is funded
let b: HardhatNode; // eip155:1337
let deadUrl: string; // nothing listens there
let chainA: PublicClient;

const signer = keySigner(21);
const address = signer.getAddresses().SECP256K1 as Address;
const recipient = '0x000000000000000000000000000000000000bEEF' as const;

beforeAll(async () => {
  const [first, second] = await Promise.allSettled([startHardhatNode(), startHardhatNode({ chainId: 1337 })]);
  if (first.status === 'fulfilled') a = first.value;
  if (second.status === 'fulfilled') b = second.value;
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  deadUrl = `http://127.0.0.1:${await freePort()}`;
  chainA = createPublicClient({ chain: hardhat, transport: http(a.rpcUrl), pollingInterval: 50 });
  const dev = createWalletClient({ account: privateKeyToAccount(a.devAccounts[0]!), chain: hardhat, transport: http(a.rpcUrl) });
  const funding = await dev.sendTransaction({ to: address, value: parseEther('100') });
  expect((await chainA.waitForTransactionReceipt({ hash: funding })).status).toBe('success');
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

function chains(): Eip1193ProviderOptions['chains'] {
  return [
    { id: 'eip155:31337', rpcUrl: a.rpcUrl, name: 'Hardhat' },
    { id: 'eip155:1337', rpcUrl: b.rpcUrl, name: 'Hardhat 1337' },
    // Misconfigured: node A's URL, which answers 31337, not 1.
    { id: 'eip155:1', rpcUrl: a.rpcUrl, name: 'not mainnet' },
    { id: 'eip155:5', rpcUrl: deadUrl, name: 'unreachable' },
  ];
}

interface Harness {
  provider: TandemEip1193Provider;
  signer: KeySigner;
  events: { name: string; value: unknown }[];
  approvals: ApprovalEvent[];
  asked: ApprovalRequest[];
}

/**
 * A provider on a fresh key-signer, recording its events. With `approve` (or `approveAll`), the hook also
 * records what it was asked.
 */
function harness(options: Partial<Eip1193ProviderOptions> & { approveAll?: boolean } = {}): Harness {
  const { approveAll, approve, ...rest } = options;
  const wallet = keySigner(21);
  const asked: ApprovalRequest[] = [];
  const answer = approve ?? (approveAll ? () => true : undefined);
  const provider = createEip1193Provider({
    wallet,
    chains: chains(),
    ...rest,
    ...(answer ? { approve: (r: ApprovalRequest) => (asked.push(r), answer(r)) } : {}),
  });
  const events: Harness['events'] = [];
  const approvals: ApprovalEvent[] = [];
  for (const name of ['connect', 'disconnect', 'chainChanged', 'accountsChanged'] as const) {
    provider.on(name, (value: unknown) => events.push({ name, value }));
  }
  provider.on('approval', (e) => approvals.push(e));
  return { provider, signer: wallet, events, approvals, asked };
}

async function failure(p: Promise<unknown>): Promise<{ code: number; message: string; data?: unknown }> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(Error);
  expect(typeof (e as { code: unknown }).code).toBe('number');
  return e as { code: number; message: string; data?: unknown };
}

const typedData = (chainId: number | string) => ({
  types: {
    EIP712Domain: [
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'verifyingContract', type: 'address' },
    ],
    Person: [
      { name: 'name', type: 'string' },
      { name: 'wallet', type: 'address' },
    ],
    Mail: [
      { name: 'from', type: 'Person' },
      { name: 'to', type: 'Person' },
      { name: 'contents', type: 'string' },
      { name: 'amount', type: 'uint256' },
    ],
  },
  primaryType: 'Mail',
  domain: { name: 'Ether Mail', version: '1', chainId, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
  message: {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
    contents: 'Hello, Bob!',
    amount: '1000000000000000000000000000001',
  },
});

const recoverTyped = (data: object, signature: Hex) => recoverTypedDataAddress({ ...data, signature } as never);

const nonceOf = async (who: Address) => chainA.getTransactionCount({ address: who, blockTag: 'pending' });

describe('options', () => {
  it('refuses bad options up front, naming the field and never the RPC URL', () => {
    const wallet = keySigner(21);
    const url = 'http://127.0.0.1:1';
    const bad: [Partial<Eip1193ProviderOptions> | Record<string, unknown>, string][] = [
      [{ chains: [] }, 'chains'],
      [{ chains: [{ id: 'eip155:0x1', rpcUrl: url }] }, 'chains[0].id'],
      [{ chains: [{ id: 'cosmos:hub-4', rpcUrl: url }] }, 'chains[0].id'],
      [{ chains: [{ id: 'eip155:01', rpcUrl: url }] }, 'chains[0].id'],
      [{ chains: [{ id: 'eip155:1', rpcUrl: 'wss://secret-api-key@rpc.example' }] }, 'chains[0].rpcUrl'],
      [{ chains: [{ id: 'eip155:1', rpcUrl: url }, { id: 'eip155:1', rpcUrl: url }] }, 'chains[1].id'],
      [{ chains: [{ id: 'eip155:1', rpcUrl: url }], chain: 'eip155:2' }, 'chain'],
      [{ chains: [{ id: 'eip155:1', rpcUrl: url }], approve: 'yes' }, 'approve'],
      [{ chains: [{ id: 'eip155:1', rpcUrl: url }], allowEthSign: 'true' }, 'allowEthSign'],
    ];
    for (const [options, field] of bad) {
      let err: unknown;
      try {
        createEip1193Provider({ wallet, ...options } as Eip1193ProviderOptions);
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(TandemError);
      expect(err).toMatchObject({ code: 'INVALID_INPUT', details: { field } });
      expect((err as Error).message).not.toContain('secret-api-key');
    }
    expect(() => createEip1193Provider({ wallet: { ...wallet, getAddresses: () => ({}) }, chains: [{ id: 'eip155:1', rpcUrl: url }] })).toThrow(
      expect.objectContaining({ code: 'STATE_INVALID' }),
    );
  });
});

describe('accounts, chain id and methods', () => {
  it('answers accounts and the chain id itself, without the RPC', async () => {
    let fetched = 0;
    const { provider } = harness({ fetch: (...args: Parameters<typeof fetch>) => (fetched++, fetch(...args)) });
    expect(await provider.request({ method: 'eth_accounts' })).toEqual([address]);
    expect(await provider.request({ method: 'eth_requestAccounts' })).toEqual([address]);
    expect(await provider.request({ method: 'eth_chainId' })).toBe('0x7a69');
    expect(fetched).toBe(0);
    const other = createEip1193Provider({ wallet: signer, chains: chains(), chain: 'eip155:1337' });
    expect(await other.request({ method: 'eth_chainId' })).toBe('0x539');
  });

  it('refuses what it does not support with 4200 (a node\'s own methods never pass through), a malformed request with -32600/-32602', async () => {
    const { provider } = harness();
    for (const method of ['hardhat_setBalance', 'eth_coinbase', 'personal_unlockAccount', 'wallet_addEthereumChain', 'toString', '__proto__']) {
      expect((await failure(provider.request({ method, params: [] }))).code, method).toBe(4200);
    }
    expect((await failure(provider.request({} as never))).code).toBe(-32600);
    expect((await failure(provider.request({ method: 'eth_getBalance', params: { address } }))).code).toBe(-32602);
  });
});

describe('reads', () => {
  it('passes read methods to the current chain, emitting connect when it first reaches it', async () => {
    const { provider, events } = harness();
    expect(await provider.request({ method: 'eth_getBalance', params: [address, 'latest'] })).toBe(toHex(await chainA.getBalance({ address })));
    expect(await provider.request({ method: 'eth_blockNumber' })).toBe(toHex(await chainA.getBlockNumber()));
    expect(await provider.request({ method: 'net_version' })).toBe('31337');
    expect(events).toEqual([{ name: 'connect', value: { chainId: '0x7a69' } }]);
  });

  it("passes the RPC's own errors through with their code and message", async () => {
    const { provider } = harness();
    const direct = (await (
      await fetch(a.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: ['0xnot-an-address', 'latest'] }),
      })
    ).json()) as { error: { code: number; message: string } };
    const e = await failure(provider.request({ method: 'eth_getBalance', params: ['0xnot-an-address', 'latest'] }));
    expect({ code: e.code, message: e.message }).toEqual({ code: direct.error.code, message: direct.error.message });
  });
});

describe('personal_sign', () => {
  it('signs text as text and hex as bytes, both recovered by viem', async () => {
    const h = harness();
    const { provider } = h;
    const text = await provider.request({ method: 'personal_sign', params: ['hello tandem', address] });
    expect(await recoverMessageAddress({ message: 'hello tandem', signature: text as Hex })).toBe(address);
    // The address param is case-insensitive.
    const bytes = await provider.request({ method: 'personal_sign', params: ['0xDEADbeef', address.toLowerCase()] });
    expect(await verifyMessage({ address, message: { raw: '0xdeadbeef' }, signature: bytes as Hex })).toBe(true);
    expect(h.signer.requests.map((r) => r.request)).toMatchObject([
      { kind: 'eip191', payload: { message: 'hello tandem' } },
      { kind: 'eip191', payload: { raw: '0xdeadbeef' } },
    ]);
  });

  it('refuses another address (4100) and malformed params (-32602) before anything is signed', async () => {
    const h = harness();
    expect((await failure(h.provider.request({ method: 'personal_sign', params: ['hi', recipient] }))).code).toBe(4100);
    expect((await failure(h.provider.request({ method: 'personal_sign', params: ['hi'] }))).code).toBe(-32602);
    expect((await failure(h.provider.request({ method: 'personal_sign', params: [42, address] }))).code).toBe(-32602);
    expect(h.signer.requests).toEqual([]);
    expect(h.approvals).toEqual([]);
  });
});

describe('eth_signTypedData_v4', () => {
  it('signs JSON typed data (text or object) that viem recovers; the custodian gets eip712', async () => {
    const h = harness();
    const asText = await h.provider.request({ method: 'eth_signTypedData_v4', params: [address, JSON.stringify(typedData(31337))] });
    expect(await recoverTyped(typedData(31337), asText as Hex)).toBe(address);
    const asObject = await h.provider.request({ method: 'eth_signTypedData_v4', params: [address, typedData('0x7a69')] });
    expect(await recoverTyped(typedData('0x7a69'), asObject as Hex)).toBe(address);
    expect(h.signer.requests.map((r) => r.request.kind)).toEqual(['eip712', 'eip712']);
  });

  it('refuses typed data for another chain, invalid typed data and another address, before asking', async () => {
    const h = harness();
    const other = await failure(h.provider.request({ method: 'eth_signTypedData_v4', params: [address, JSON.stringify(typedData(1))] }));
    expect(other.code).toBe(-32602);
    expect(other.message).toMatch(/chain 1/);
    const broken = { ...typedData(31337), primaryType: 'Letter' };
    expect((await failure(h.provider.request({ method: 'eth_signTypedData_v4', params: [address, broken] }))).code).toBe(-32602);
    expect((await failure(h.provider.request({ method: 'eth_signTypedData_v4', params: [address, '{not json'] }))).code).toBe(-32602);
    expect((await failure(h.provider.request({ method: 'eth_signTypedData_v4', params: [recipient, typedData(31337)] }))).code).toBe(4100);
    expect(h.signer.requests).toEqual([]);
    expect(h.approvals).toEqual([]);
  });
});

describe('eth_signTransaction', () => {
  const kinds = {
    legacy: { type: '0x0', gasPrice: toHex(parseGwei('2')) },
    eip2930: { type: '0x1', accessList: [{ address: recipient, storageKeys: [keccak256(toHex('slot'))] }] },
    eip1559: { type: '0x2', maxPriorityFeePerGas: toHex(parseGwei('1')) },
  } as const;

  it.each(Object.entries(kinds))('fills and signs a %s transaction that viem recovers', async (type, fields) => {
    const h = harness({ approveAll: true });
    const signed = (await h.provider.request({
      method: 'eth_signTransaction',
      params: [{ from: address, to: recipient, value: '0x1', data: '0x', ...fields }],
    })) as Hex;
    expect(await recoverTransactionAddress({ serializedTransaction: signed as never })).toBe(address);
    const tx = parseTransaction(signed);
    expect(tx).toMatchObject({ type, chainId: 31337, to: recipient.toLowerCase(), value: 1n, nonce: await nonceOf(address) });
    expect(tx.gas).toBeGreaterThanOrEqual(21000n);
    // What the hook was shown is what was signed.
    expect(h.asked).toHaveLength(1);
    expect(h.asked[0]).toMatchObject({ method: 'eth_signTransaction', chainId: 'eip155:31337', address, transaction: { type, nonce: tx.nonce, gas: tx.gas } });
    expect(h.signer.requests.map((r) => r.request.kind)).toEqual(['evmTransaction']);
  });

  it('signs a fully specified transaction without the RPC (here: an unreachable one)', async () => {
    const h = harness({ chain: 'eip155:5' });
    const signed = (await h.provider.request({
      method: 'eth_signTransaction',
      params: [{ to: recipient, value: '0x10', nonce: '0x7', gas: '0x5208', maxFeePerGas: toHex(parseGwei('3')), maxPriorityFeePerGas: toHex(parseGwei('1')), chainId: '0x5' }],
    })) as Hex;
    expect(parseTransaction(signed)).toMatchObject({ type: 'eip1559', chainId: 5, nonce: 7, gas: 21000n });
    expect(await recoverTransactionAddress({ serializedTransaction: signed as never })).toBe(address);
    expect(h.events).toEqual([]);
  });

  it('refuses another chain id, another sender, unknown fields and unsupported types, before anything is signed', async () => {
    const h = harness();
    const refuse = async (tx: Record<string, unknown>, code: number) =>
      expect((await failure(h.provider.request({ method: 'eth_signTransaction', params: [tx] }))).code, JSON.stringify(tx)).toBe(code);
    await refuse({ to: recipient, chainId: '0x1' }, -32602);
    await refuse({ from: recipient, to: recipient }, 4100);
    await refuse({ to: recipient, gasLimit: '0x5208' }, -32602);
    await refuse({ to: recipient, type: '0x3' }, -32602);
    await refuse({ to: recipient, authorizationList: [] }, -32602);
    await refuse({ to: recipient, value: 1 }, -32602);
    await refuse({ to: recipient, type: '0x0', accessList: [] }, -32602);
    await refuse({ to: recipient, type: '0x0', maxFeePerGas: '0x1' }, -32602);
    expect(h.signer.requests).toEqual([]);
    expect(h.approvals).toEqual([]);
  });
});

describe('eth_sendTransaction on Hardhat', () => {
  it('fills, signs and broadcasts; the receipt says success', async () => {
    const h = harness({ approveAll: true });
    const to = '0x00000000000000000000000000000000000a11ce' as const;
    const nonce = await nonceOf(address);
    const hash = (await h.provider.request({ method: 'eth_sendTransaction', params: [{ from: address, to, value: toHex(parseEther('1.5')) }] })) as Hex;
    const receipt = await chainA.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
    expect(receipt.from.toLowerCase()).toBe(address.toLowerCase());
    expect(await chainA.getBalance({ address: to })).toBe(parseEther('1.5'));
    expect(h.asked[0]).toMatchObject({ method: 'eth_sendTransaction', transaction: { nonce, chainId: 31337, type: 'eip1559', to: getAddress(to) } });
  });

  it('sends five at once: all mined, with distinct consecutive nonces', async () => {
    const { provider } = harness();
    const start = await nonceOf(address);
    const hashes = (await Promise.all(
      [1, 2, 3, 4, 5].map((i) => provider.request({ method: 'eth_sendTransaction', params: [{ from: address, to: recipient, value: toHex(i) }] })),
    )) as Hex[];
    const receipts = await Promise.all(hashes.map((hash) => chainA.waitForTransactionReceipt({ hash })));
    expect(receipts.map((r) => r.status)).toEqual(Array(5).fill('success'));
    const nonces = await Promise.all(hashes.map(async (hash) => (await chainA.getTransaction({ hash })).nonce));
    expect([...nonces].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4].map((i) => start + i));
  });

  it('a rejected approval is 4001: nothing signed, nothing sent', async () => {
    const h = harness({ approve: () => false });
    const nonce = await nonceOf(address);
    const e = await failure(h.provider.request({ method: 'eth_sendTransaction', params: [{ to: recipient, value: '0x1' }] }));
    expect(e.code).toBe(4001);
    expect(h.signer.requests).toEqual([]);
    expect(await nonceOf(address)).toBe(nonce);
    expect(h.approvals.map((x) => x.status)).toEqual(['requested', 'rejected']);
  });
});

describe('approval', () => {
  it('emits requested then approved, and shows the hook the decoded request', async () => {
    const h = harness({ approveAll: true });
    const order: string[] = [];
    h.provider.on('approval', (e) => order.push(`${e.id}:${e.method}:${e.status}`));
    const inner = h.signer.sign;
    h.signer.sign = async (curve, request) => (order.push('wallet.sign'), inner(curve, request));
    await h.provider.request({ method: 'personal_sign', params: ['0x68656c6c6f', address] });
    await h.provider.request({ method: 'eth_signTypedData_v4', params: [address, typedData(31337)] });
    expect(order).toEqual([
      '1:personal_sign:requested',
      '1:personal_sign:approved',
      'wallet.sign',
      '2:eth_signTypedData_v4:requested',
      '2:eth_signTypedData_v4:approved',
      'wallet.sign',
    ]);
    expect(h.asked[0]).toEqual({ id: 1, method: 'personal_sign', chainId: 'eip155:31337', address, message: { raw: '0x68656c6c6f' } });
    expect(h.asked[1]).toMatchObject({ id: 2, method: 'eth_signTypedData_v4', typedData: { primaryType: 'Mail' } });
  });

  it('a hook that says no, throws or answers anything but true rejects with 4001; nothing is signed', async () => {
    for (const answer of [() => false, () => Promise.reject(new Error('closed the dialog')), () => 'yes' as never, () => Promise.resolve(1 as never)]) {
      const h = harness({ approve: answer });
      const e = await failure(h.provider.request({ method: 'personal_sign', params: ['hi', address] }));
      expect(e.code).toBe(4001);
      expect(h.signer.requests).toEqual([]);
      expect(h.approvals.map((x) => x.status)).toEqual(['requested', 'rejected']);
    }
  });

  it('signs what was decided, whatever the hook or the caller do to it meanwhile', async () => {
    const given = typedData(31337);
    const h = harness({
      approve: (r) => {
        if (r.method === 'eth_signTransaction') (r.transaction as { to?: string }).to = '0x0000000000000000000000000000000000000bad';
        if (r.method === 'eth_signTypedData_v4') {
          (r.typedData.message as { contents: string }).contents = 'Changed in the hook';
          given.message.contents = 'Changed by the caller';
        }
        return true;
      },
    });
    const signed = (await h.provider.request({ method: 'eth_signTransaction', params: [{ to: recipient, value: '0x1' }] })) as Hex;
    expect(parseTransaction(signed).to).toBe(recipient.toLowerCase());
    const signature = (await h.provider.request({ method: 'eth_signTypedData_v4', params: [address, given] })) as Hex;
    expect(await recoverTyped(typedData(31337), signature)).toBe(address);
    expect(h.asked[1]).toMatchObject({ typedData: { message: { contents: 'Changed in the hook' } } });
  });

  it('several concurrent signing requests all complete, each approved on its own', async () => {
    const pending: (() => void)[] = [];
    const h = harness({ approve: () => new Promise<boolean>((resolve) => pending.push(() => resolve(true))) });
    const messages = ['one', 'two', 'three', 'four'];
    const signatures = Promise.all([
      ...messages.map((m) => h.provider.request({ method: 'personal_sign', params: [m, address] })),
      h.provider.request({ method: 'eth_signTypedData_v4', params: [address, typedData(31337)] }),
    ]);
    await expect.poll(() => pending.length).toBe(5);
    for (const approveOne of pending.reverse()) approveOne();
    const results = (await signatures) as Hex[];
    for (const [i, m] of messages.entries()) expect(await recoverMessageAddress({ message: m, signature: results[i]! })).toBe(address);
    expect(await recoverTyped(typedData(31337), results[4]!)).toBe(address);
    expect(h.signer.requests).toHaveLength(5);
    expect(new Set(h.approvals.map((e) => e.id)).size).toBe(5);
  });
});

describe('eth_sign', () => {
  const hash = keccak256(toHex('a bare digest'));

  it('is off unless the app turns it on (4200, nothing asked, nothing signed)', async () => {
    const h = harness();
    expect((await failure(h.provider.request({ method: 'eth_sign', params: [address, hash] }))).code).toBe(4200);
    expect(h.approvals).toEqual([]);
    expect(h.signer.requests).toEqual([]);
  });

  it('with allowEthSign, signs the digest as a raw request, after approval', async () => {
    const h = harness({ allowEthSign: true, approveAll: true });
    const signature = (await h.provider.request({ method: 'eth_sign', params: [address, hash] })) as Hex;
    expect(await recoverAddress({ hash, signature })).toBe(address);
    expect(h.signer.requests.map((r) => r.request)).toEqual([{ kind: 'raw', digest: hash }]);
    expect(h.asked[0]).toMatchObject({ method: 'eth_sign', hash });
    expect((await failure(h.provider.request({ method: 'eth_sign', params: [address, '0x1234'] }))).code).toBe(-32602);
  });
});

describe('chains', () => {
  it('switches to a configured chain: chainChanged, and reads and signing follow it', async () => {
    const h = harness();
    expect(await h.provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x539' }] })).toBeNull();
    expect(await h.provider.request({ method: 'eth_chainId' })).toBe('0x539');
    // Node B has never seen the wallet: the read went to the other chain.
    expect(await h.provider.request({ method: 'eth_getBalance', params: [address, 'latest'] })).toBe('0x0');
    expect((await failure(h.provider.request({ method: 'eth_signTypedData_v4', params: [address, typedData(31337)] }))).code).toBe(-32602);
    await h.provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x539' }] }); // already there: no event
    await h.provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x7a69' }] });
    expect(h.events).toEqual([
      { name: 'chainChanged', value: '0x539' },
      { name: 'connect', value: { chainId: '0x539' } },
      { name: 'chainChanged', value: '0x7a69' },
    ]);
  });

  it('an unknown chain is 4902, and nothing changes', async () => {
    const h = harness();
    const e = await failure(h.provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x999' }] }));
    expect(e).toMatchObject({ code: 4902, data: { chainId: '0x999' } });
    expect(await h.provider.request({ method: 'eth_chainId' })).toBe('0x7a69');
    expect((await failure(h.provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: 1337 }] }))).code).toBe(-32602);
    expect(h.events).toEqual([]);
  });

  it('a configured chain whose RPC is down or serves another chain is 4901, and nothing changes', async () => {
    const h = harness();
    const wrong = await failure(h.provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x1' }] }));
    expect(wrong).toMatchObject({ code: 4901, data: { chainId: 'eip155:1' } });
    expect(wrong.message).toMatch(/answers chain 31337/);
    const down = await failure(h.provider.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: '0x5' }] }));
    expect(down).toMatchObject({ code: 4901, data: { chainId: 'eip155:5' } });
    expect(down.message).not.toContain(deadUrl);
    expect(await h.provider.request({ method: 'eth_chainId' })).toBe('0x7a69');
    expect(h.events).toEqual([]);
    // Started on the misconfigured chain, it reads nothing from the wrong node.
    const misconfigured = createEip1193Provider({ wallet: signer, chains: chains(), chain: 'eip155:1' });
    expect((await failure(misconfigured.request({ method: 'eth_blockNumber' }))).code).toBe(4901);
  });
});

describe('an unreachable RPC', () => {
  it('is 4901 for what needs the chain; signing a message does not', async () => {
    const h = harness({ chain: 'eip155:5' });
    const read = await failure(h.provider.request({ method: 'eth_blockNumber' }));
    expect(read).toMatchObject({ code: 4901, data: { chainId: 'eip155:5' } });
    expect((await failure(h.provider.request({ method: 'eth_sendTransaction', params: [{ to: recipient, value: '0x1' }] }))).code).toBe(4901);
    expect(h.approvals).toEqual([]);
    expect(h.signer.requests).toEqual([]);
    const signature = await h.provider.request({ method: 'personal_sign', params: ['offline', address] });
    expect(await recoverMessageAddress({ message: 'offline', signature: signature as Hex })).toBe(address);
  });

  it('an RPC that answers with an HTTP error (a refused API key, say) is 4901 too, with the status', async () => {
    const { provider } = harness({ fetch: async () => new Response('invalid api key', { status: 401 }) });
    expect(await failure(provider.request({ method: 'eth_blockNumber' }))).toMatchObject({ code: 4901, data: { chainId: 'eip155:31337', httpStatus: 401 } });
  });

  it('disconnects (4900) when the current RPC stops answering, and connects again when it is back', async () => {
    let up = true;
    const h = harness({ fetch: (...args: Parameters<typeof fetch>) => (up ? fetch(...args) : Promise.reject(new TypeError('fetch failed'))) });
    await h.provider.request({ method: 'eth_blockNumber' });
    up = false;
    expect((await failure(h.provider.request({ method: 'eth_blockNumber' }))).code).toBe(4901);
    expect((await failure(h.provider.request({ method: 'eth_gasPrice' }))).code).toBe(4901);
    up = true;
    await h.provider.request({ method: 'eth_blockNumber' });
    expect(h.events.map((e) => e.name)).toEqual(['connect', 'disconnect', 'connect']);
    expect(h.events[1]!.value).toMatchObject({ code: 4900 });
  });
});

describe('wallet errors', () => {
  it('map by eip1193Code with the TandemError code in data; a foreign error says nothing of itself', async () => {
    const cases: [unknown, number, string][] = [
      [new TandemError('POLICY_REFUSED'), 4001, 'POLICY_REFUSED'],
      [new TandemError('NETWORK_ERROR'), 4900, 'NETWORK_ERROR'],
      [new TandemError('SHARE_REVOKED'), 4100, 'SHARE_REVOKED'],
      [new Error('secret share 0xdeadbeef leaked'), -32603, 'INTERNAL'],
    ];
    for (const [thrown, code, tandemCode] of cases) {
      const wallet = { ...keySigner(21), sign: () => Promise.reject(thrown) } as KeySigner;
      const provider = createEip1193Provider({ wallet, chains: chains() });
      const e = await failure(provider.request({ method: 'personal_sign', params: ['hi', address] }));
      expect(e).toMatchObject({ code, data: { tandemCode } });
      expect(e.message).not.toContain('secret');
    }
  });
});

describe('viem over the provider', () => {
  it('a wallet client and a public client on custom(provider) send, sign and switch', async () => {
    const provider = createEip1193Provider({ wallet: keySigner(21), chains: chains() });
    const walletClient = createWalletClient({ chain: hardhat, transport: custom(provider), pollingInterval: 50 });
    const publicClient = createPublicClient({ chain: hardhat, transport: custom(provider), pollingInterval: 50 });
    const [account] = await walletClient.requestAddresses();
    expect(account).toBe(address);
    expect(await walletClient.getChainId()).toBe(31337);

    const hash = await walletClient.sendTransaction({ account: account!, to: recipient, value: parseEther('0.25') });
    expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');

    const signature = await walletClient.signMessage({ account: account!, message: 'via viem' });
    expect(await verifyMessage({ address, message: 'via viem', signature })).toBe(true);
    const typed = typedData(31337);
    const { EIP712Domain: _, ...types } = typed.types;
    const typedSignature = await walletClient.signTypedData({ account: account!, ...typed, types, domain: { ...typed.domain, chainId: 31337 } } as never);
    expect(await recoverTyped(typed, typedSignature)).toBe(address);

    await walletClient.switchChain({ id: 1337 });
    expect(await publicClient.getChainId()).toBe(1337);
  });
});
