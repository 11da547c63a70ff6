import {
  AccountRole,
  address,
  appendTransactionMessageInstruction,
  assertIsFullySignedTransaction,
  compileTransaction,
  createKeyPairSignerFromPrivateKeyBytes,
  createTransactionMessage,
  generateKeyPairSigner,
  getAddressDecoder,
  getBase64Encoder,
  getPublicKeyFromAddress,
  getSignatureFromTransaction,
  getStructEncoder,
  getTransactionEncoder,
  getU32Encoder,
  getU64Encoder,
  offchainMessageApplicationDomain,
  offchainMessageContentRestrictedAsciiOf1232BytesMax,
  partiallySignTransaction,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signOffchainMessageWithSigners,
  signTransactionMessageWithSigners,
  verifyOffchainMessageEnvelope,
  verifySignature,
  type Address,
  type Blockhash,
  type Instruction,
  type ReadonlyUint8Array,
  type SignatureBytes,
  type Transaction,
  type TransactionSigner,
} from '@solana/kit';
import { describe, expect, it } from 'vitest';
import { solanaSigner } from '../../src/chains/solana.js';
import { keySigner } from '../helpers/key-signer.js';

const SYSTEM_PROGRAM = address('11111111111111111111111111111111');
const RECIPIENT = address('9AVHvueEsYeVKv9sf64DPpPVqV4E8nJkrPFNECe1ZiuX');
const LIFETIME = { blockhash: '4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi' as Blockhash, lastValidBlockHeight: 100n };

/** The system program's Transfer (instruction 2, lamports as u64), `from` signing. */
function transfer(from: Address | TransactionSigner, to: Address, lamports: bigint): Instruction {
  const data = getStructEncoder([
    ['instruction', getU32Encoder()],
    ['lamports', getU64Encoder()],
  ]).encode({ instruction: 2, lamports });
  const source = typeof from === 'string' ? { address: from, role: AccountRole.WRITABLE_SIGNER } : { address: from.address, role: AccountRole.WRITABLE_SIGNER, signer: from };
  return { programAddress: SYSTEM_PROGRAM, accounts: [source, { address: to, role: AccountRole.WRITABLE }], data };
}

function transaction(feePayer: Address, instruction: Instruction, version: 0 | 'legacy' = 0) {
  return compileTransaction(
    pipe(
      createTransactionMessage({ version }),
      (m) => setTransactionMessageFeePayer(feePayer, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(LIFETIME, m),
      (m) => appendTransactionMessageInstruction(instruction, m),
    ),
  );
}

const verify = async (signer: Address, signature: SignatureBytes, bytes: ReadonlyUint8Array) =>
  verifySignature(await getPublicKeyFromAddress(signer), signature, bytes);

describe('solanaSigner', () => {
  it("has the wallet's address: base58 of its ed25519 public key", async () => {
    const wallet = keySigner();
    // kit derives the address from the seed on its own (WebCrypto), not through the wallet's encoding.
    const expected = await createKeyPairSignerFromPrivateKeyBytes(wallet.ed25519Seed);
    expect(solanaSigner(wallet).address).toBe(expected.address);
    expect(solanaSigner(wallet).address).toBe(wallet.getAddresses().ED25519);
  });

  it('signs a message as its bytes, verified by kit under the address', async () => {
    const wallet = keySigner();
    const signer = solanaSigner(wallet);
    const message = new TextEncoder().encode('Sign in to example.com');
    const signature = await signer.signMessage(message);
    expect(signature).toHaveLength(64);
    expect(await verify(signer.address, signature, message)).toBe(true);
    expect(await verify(signer.address, signature, new TextEncoder().encode('Sign in to example.org'))).toBe(false);
    expect(wallet.requests).toHaveLength(1);
    expect(wallet.requests[0]!.curve).toBe('ED25519');
    expect(wallet.requests[0]!.request.kind).toBe('solanaMessage');
  });

  it.each([0, 'legacy'] as const)('signs a version %s transfer, verified by kit and fully signed', async (version) => {
    const wallet = keySigner();
    const signer = solanaSigner(wallet);
    const tx = transaction(signer.address, transfer(signer.address, RECIPIENT, 1_000_000n), version);
    expect(tx.signatures[signer.address]).toBeNull();

    const signed = await signer.signTransaction(tx);
    expect(tx.signatures[signer.address]).toBeNull(); // a new transaction; the given one is untouched
    expect(signed.messageBytes).toBe(tx.messageBytes);
    assertIsFullySignedTransaction(signed);
    expect(await verify(signer.address, signed.signatures[signer.address]!, signed.messageBytes)).toBe(true);
    // The transaction id is the fee payer's signature; the wire form starts with it.
    expect(getSignatureFromTransaction(signed)).toBeTypeOf('string');
    expect(getTransactionEncoder().encode(signed).slice(1, 65)).toEqual(signed.signatures[signer.address]);
  });

  it('sends a solanaTransaction request whose payload is the message bytes', async () => {
    const wallet = keySigner();
    const signer = solanaSigner(wallet);
    const tx = transaction(signer.address, transfer(signer.address, RECIPIENT, 5n));
    await signer.signTransaction(tx);
    expect(wallet.requests).toHaveLength(1);
    const { curve, request } = wallet.requests[0]!;
    expect(curve).toBe('ED25519');
    expect(request.kind).toBe('solanaTransaction');
    if (request.kind !== 'solanaTransaction') throw new Error('unreachable');
    expect(new Uint8Array(getBase64Encoder().encode(request.payload.message))).toEqual(new Uint8Array(tx.messageBytes));
  });

  it("keeps another signer's slot, whichever signs first", async () => {
    const wallet = keySigner();
    const signer = solanaSigner(wallet);
    const payer = await generateKeyPairSigner();
    const tx = transaction(payer.address, transfer(signer.address, RECIPIENT, 7n));
    expect(Object.keys(tx.signatures)).toEqual([payer.address, signer.address]);

    const payerFirst = await signer.signTransaction(await partiallySignTransaction([payer.keyPair], tx));
    const walletFirst = await partiallySignTransaction([payer.keyPair], await signer.signTransaction(tx));
    for (const signed of [payerFirst, walletFirst]) {
      assertIsFullySignedTransaction(signed);
      expect(Object.keys(signed.signatures)).toEqual([payer.address, signer.address]);
      expect(await verify(payer.address, signed.signatures[payer.address]!, signed.messageBytes)).toBe(true);
      expect(await verify(signer.address, signed.signatures[signer.address]!, signed.messageBytes)).toBe(true);
    }

    const walletOnly = await signer.signTransaction(tx);
    expect(walletOnly.signatures[payer.address]).toBeNull();
  });

  it("works as a kit signer in signTransactionMessageWithSigners, with another kit signer", async () => {
    const wallet = keySigner();
    const signer = solanaSigner(wallet);
    const payer = await generateKeyPairSigner();
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(payer, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(LIFETIME, m),
      (m) => appendTransactionMessageInstruction(transfer(signer, RECIPIENT, 42n), m),
    );
    const signed = await signTransactionMessageWithSigners(message);
    assertIsFullySignedTransaction(signed);
    expect(await verify(signer.address, signed.signatures[signer.address]!, signed.messageBytes)).toBe(true);
    expect(await verify(payer.address, signed.signatures[payer.address]!, signed.messageBytes)).toBe(true);
    expect(wallet.requests.map((r) => r.request.kind)).toEqual(['solanaTransaction']);
  });

  it('works as a kit signer for off-chain messages (signOffchainMessageWithSigners)', async () => {
    const signer = solanaSigner(keySigner());
    const message = {
      version: 0,
      applicationDomain: offchainMessageApplicationDomain(getAddressDecoder().decode(new Uint8Array(32).fill(7))),
      content: offchainMessageContentRestrictedAsciiOf1232BytesMax('Sign in to example.com'),
      requiredSignatories: [signer],
    } as const;
    const envelope = await signOffchainMessageWithSigners(message);
    await expect(verifyOffchainMessageEnvelope(envelope)).resolves.toBeUndefined();
    expect(await verify(signer.address, envelope.signatures[signer.address]!, envelope.content)).toBe(true);
  });

  it("refuses a transaction that does not need the wallet's signature, sending nothing", async () => {
    const wallet = keySigner();
    const signer = solanaSigner(wallet);
    const other = await generateKeyPairSigner();
    const tx = transaction(other.address, transfer(other.address, signer.address, 1n));
    await expect(signer.signTransaction(tx)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      shortMessage: "The transaction does not need this wallet's signature.",
      details: { address: signer.address },
    });
    await expect(signer.signTransactions([tx])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(wallet.requests).toEqual([]);
  });

  it("refuses a transaction whose signatures leave out a signer its message requires", async () => {
    const wallet = keySigner();
    const signer = solanaSigner(wallet);
    const tx = transaction(signer.address, transfer(signer.address, RECIPIENT, 1n));
    const tampered = { messageBytes: tx.messageBytes, signatures: {} } as Transaction;
    await expect(signer.signTransaction(tampered)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(wallet.requests).toEqual([]);
  });

  it('refuses, typed and before sending, what is too large or malformed', async () => {
    const wallet = keySigner();
    const signer = solanaSigner(wallet);
    await expect(signer.signMessage(new Uint8Array(1233).fill(1))).rejects.toMatchObject({ code: 'INVALID_INPUT', shortMessage: 'A Solana message is 1 to 1232 bytes.' });
    await expect(signer.signMessage(new Uint8Array(0))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(signer.signMessage('hello' as unknown as Uint8Array)).rejects.toMatchObject({ code: 'INVALID_INPUT', shortMessage: 'The message must be a Uint8Array, got string.' });

    // A transfer with an oversized memo-like payload: a valid message, too large for a packet.
    const big = transaction(signer.address, { ...transfer(signer.address, RECIPIENT, 1n), data: new Uint8Array(1300) });
    expect(big.messageBytes.length).toBeGreaterThan(1232);
    await expect(signer.signTransaction(big)).rejects.toMatchObject({ code: 'INVALID_INPUT', shortMessage: 'A Solana transaction message is 1 to 1232 bytes.' });

    const garbage = { messageBytes: new Uint8Array([1, 2, 3]), signatures: { [signer.address]: null } } as unknown as Transaction;
    await expect(signer.signTransaction(garbage)).rejects.toMatchObject({ code: 'INVALID_INPUT', shortMessage: 'The Solana transaction message does not decode.' });
    await expect(signer.signTransaction({} as Transaction)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(wallet.requests).toEqual([]);
  });

  it('refuses to sign a transaction message as a message', async () => {
    const wallet = keySigner();
    const signer = solanaSigner(wallet);
    const tx = transaction(signer.address, transfer(signer.address, RECIPIENT, 1_000_000_000n));
    const asMessage = new Uint8Array(tx.messageBytes);
    await expect(signer.signMessage(asMessage)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      shortMessage: 'The message is a Solana transaction message; sign it as a solanaTransaction.',
    });
    await expect(signer.signMessages([{ content: asMessage, signatures: {} }])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(wallet.requests).toEqual([]);
  });

  it('says STATE_INVALID when the wallet has no ED25519 key, sending nothing', async () => {
    const wallet = keySigner();
    const noKey = { ...wallet, getAddresses: () => ({ SECP256K1: wallet.getAddresses().SECP256K1! }) };
    const signer = solanaSigner(noKey); // made before the key exists: fine until it is used
    expect(() => signer.address).toThrow(expect.objectContaining({ code: 'STATE_INVALID', shortMessage: 'The wallet has no confirmed ED25519 key: create or recover it first.' }));
    await expect(signer.signMessage(new Uint8Array([1]))).rejects.toMatchObject({ code: 'STATE_INVALID' });
    const tx = transaction(wallet.getAddresses().ED25519 as Address, transfer(RECIPIENT, RECIPIENT, 1n));
    await expect(signer.signTransaction(tx)).rejects.toMatchObject({ code: 'STATE_INVALID' });
    expect(wallet.requests).toEqual([]);
  });

  it("signs several in order and stops when aborted, as kit's signers do", async () => {
    const wallet = keySigner();
    const signer = solanaSigner(wallet);
    const a = new TextEncoder().encode('a');
    const b = new TextEncoder().encode('b');
    const [da, db] = await signer.signMessages([
      { content: a, signatures: {} },
      { content: b, signatures: {} },
    ]);
    expect(await verify(signer.address, da![signer.address]!, a)).toBe(true);
    expect(await verify(signer.address, db![signer.address]!, b)).toBe(true);

    const controller = new AbortController();
    controller.abort(new Error('user closed the dialog'));
    const tx = transaction(signer.address, transfer(signer.address, RECIPIENT, 1n));
    await expect(signer.signTransactions([tx], { abortSignal: controller.signal })).rejects.toThrow('user closed the dialog');
    expect(wallet.requests).toHaveLength(2);
  });
});
