import {
  address,
  appendTransactionMessageInstruction,
  compileTransactionMessage,
  createTransactionMessage,
  getBase64Decoder,
  getCompiledTransactionMessageEncoder,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  type Blockhash,
} from '@solana/kit';
import fc from 'fast-check';
import { hashMessage, hashTypedData, keccak256, parseGwei, serializeTransaction, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { checkSignRequest, digestOf, signRequest, type SignRequest } from '../../src/chains/sign-request.js';

const TYPED = {
  domain: { name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
  types: {
    Person: [
      { name: 'name', type: 'string' },
      { name: 'wallet', type: 'address' },
    ],
    Mail: [
      { name: 'from', type: 'Person' },
      { name: 'to', type: 'Person' },
      { name: 'contents', type: 'string' },
    ],
  },
  primaryType: 'Mail',
  message: {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
    contents: 'Hello, Bob!',
  },
} as const;

const unsignedTx = serializeTransaction({
  chainId: 1,
  nonce: 7,
  to: '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf',
  value: 10n ** 15n,
  gas: 21000n,
  maxFeePerGas: parseGwei('30'),
  maxPriorityFeePerGas: parseGwei('1'),
});

function solanaTransactionMessage(): string {
  const payer = address('9AVHvueEsYeVKv9sf64DPpPVqV4E8nJkrPFNECe1ZiuX');
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayer(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: '4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi' as Blockhash, lastValidBlockHeight: 100n }, m),
    (m) => appendTransactionMessageInstruction({ programAddress: address('11111111111111111111111111111111'), data: new Uint8Array([2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]) }, m),
  );
  const bytes = getCompiledTransactionMessageEncoder().encode(compileTransactionMessage(message));
  return getBase64Decoder().decode(bytes);
}

const hex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`;

describe('sign requests', () => {
  it('recompute the digest of each EVM kind as viem does', () => {
    expect(hex(digestOf('SECP256K1', signRequest('SECP256K1', 'eip191', { message: 'hello' })))).toBe(hashMessage('hello'));
    expect(hex(digestOf('SECP256K1', signRequest('SECP256K1', 'eip191', { raw: '0xdeadbeef' })))).toBe(hashMessage({ raw: '0xdeadbeef' }));
    expect(hex(digestOf('SECP256K1', signRequest('SECP256K1', 'eip712', TYPED)))).toBe(hashTypedData(TYPED));
    // EIP-712's own example digest.
    expect(hashTypedData(TYPED)).toBe('0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2');
    expect(hex(digestOf('SECP256K1', signRequest('SECP256K1', 'evmTransaction', { serialized: unsignedTx })))).toBe(keccak256(unsignedTx));
  });

  it('check the bytes an ed25519 key signs against the Solana payload', () => {
    const message = solanaTransactionMessage();
    const req = signRequest('ED25519', 'solanaTransaction', { message });
    expect(checkSignRequest('ED25519', req)).toEqual(new Uint8Array(Buffer.from(message, 'base64')));
    const off = signRequest('ED25519', 'solanaMessage', { message: Buffer.from('sign in to example.com').toString('base64') });
    expect(Buffer.from(checkSignRequest('ED25519', off)).toString()).toBe('sign in to example.com');
    expect(() => checkSignRequest('ED25519', { kind: 'solanaTransaction', payload: { message: Buffer.from('not a transaction').toString('base64') }, digest: '0x00' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it('refuse a digest that does not match its payload (SIGN_FAILED), whatever byte differs', () => {
    const reqs: SignRequest[] = [
      signRequest('SECP256K1', 'eip191', { message: 'pay 1 ETH' }),
      signRequest('SECP256K1', 'eip712', TYPED),
      signRequest('SECP256K1', 'evmTransaction', { serialized: unsignedTx }),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...reqs), fc.integer({ min: 0, max: 31 }), fc.integer({ min: 1, max: 255 }), (req, i, x) => {
        const d = Buffer.from(req.digest.slice(2), 'hex');
        d[i] = d[i]! ^ x;
        expect(() => checkSignRequest('SECP256K1', { ...req, digest: hex(d) })).toThrow(expect.objectContaining({ code: 'SIGN_FAILED' }));
      }),
      { numRuns: 100 },
    );
    const swapped = { ...signRequest('SECP256K1', 'eip191', { message: 'pay 1 ETH' }), payload: { message: 'pay 100 ETH' } };
    expect(() => checkSignRequest('SECP256K1', swapped as SignRequest)).toThrow(expect.objectContaining({ code: 'SIGN_FAILED' }));
  });

  it('refuse kinds on the wrong curve, signed transactions and malformed payloads (INVALID_INPUT)', () => {
    const bad: [Parameters<typeof digestOf>[0], unknown][] = [
      ['ED25519', signRequest('SECP256K1', 'eip191', { message: 'x' })],
      ['SECP256K1', { kind: 'solanaMessage', payload: { message: 'AA==' }, digest: '0x00' }],
      ['SECP256K1', { kind: 'evmTransaction', payload: { serialized: serializeTransaction({ chainId: 1, to: '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf', gas: 21000n, maxFeePerGas: 1n }, { r: `0x${'11'.repeat(32)}`, s: `0x${'22'.repeat(32)}`, yParity: 1 }) }, digest: '0x00' }],
      ['SECP256K1', { kind: 'evmTransaction', payload: { serialized: '0x1234' }, digest: '0x00' }],
      ['SECP256K1', { kind: 'eip712', payload: { ...TYPED, primaryType: 'Nope' }, digest: '0x00' }],
      ['SECP256K1', { kind: 'eip191', payload: { message: 'x', raw: '0x00' }, digest: '0x00' }],
      ['SECP256K1', { kind: 'raw', digest: `0x${'11'.repeat(31)}` }],
      ['SECP256K1', { kind: 'raw', digest: 'not hex' }],
      ['ED25519', { kind: 'raw', digest: `0x${'11'.repeat(1233)}` }],
      ['ED25519', { kind: 'solanaMessage', payload: { message: 'not base64!' }, digest: '0x00' }],
      // A transaction under a message's name: the policy would see a message and the chain a transaction.
      ['ED25519', { kind: 'solanaMessage', payload: { message: solanaTransactionMessage() }, digest: `0x${Buffer.from(solanaTransactionMessage(), 'base64').toString('hex')}` }],
      ['SECP256K1', { kind: 'mystery', digest: '0x00' }],
    ];
    for (const [curve, req] of bad) expect(() => checkSignRequest(curve, req as SignRequest), JSON.stringify(req).slice(0, 80)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(checkSignRequest('SECP256K1', { kind: 'raw', digest: `0x${'ab'.repeat(32)}` })).toHaveLength(32);
  });
});
