/**
 * The `Custodian` port over the network: the wallet machine's calls become the custodian service's REST
 * requests and WebSocket sessions (custodian-client.ts), bound to one wallet by its client API key.
 * Browser-safe: pass `ws`'s WebSocket class in Node 20, which has no global one.
 *
 * Every state-changing call carries the idempotency key the machine chose, so the transport's retries
 * and the machine's re-runs after a crash never apply a step twice (DESIGN §3 rule 2). A protocol
 * session is never retried here: a new session with a new key is the machine's decision.
 *
 * @example
 * import WebSocket from 'ws';
 * const custodian = remoteCustodian({ baseUrl: 'https://custodian.example.com', apiKey, WebSocket });
 * const wallet = await createTandemWallet({ custodian, keychain, mpc: clientMpc(), backupMethods });
 */
import type { BackupPairView, SigningPairView, WalletView } from '../types.js';
import { createCustodianClient, type CustodianClient, type CustodianClientOptions, type StartFrame } from './custodian-client.js';
import type { Custodian, PartyFactory, ProtocolOutcome, ProtocolRequest } from './ports.js';

export function remoteCustodian(options: CustodianClientOptions | { readonly client: CustodianClient }): Custodian {
  const client = 'client' in options ? options.client : createCustodianClient(options);
  return {
    getWallet: (): Promise<WalletView> => client.getWallet(),

    async runProtocol<Result>(request: ProtocolRequest, makeParty: PartyFactory<Result>): Promise<{ outcome: ProtocolOutcome; result: Result }> {
      const session = (ready: { pid1: Uint8Array; pid2: Uint8Array; challenge?: Uint8Array; replaces?: string }) => ({
        pid1: ready.pid1,
        pid2: ready.pid2,
        ...(ready.challenge ? { challenge: ready.challenge } : {}),
        ...(ready.replaces ? { replaces: ready.replaces } : {}),
      });
      const prove = request.op === 'backup' ? request.proveCurrent : undefined;
      const { outcome, result } = await client.runSession(startFrame(request), (ready) => makeParty(session(ready)), prove ? { proof: (ready) => prove(session(ready)) } : {});
      return { outcome, result };
    },

    confirmSigningPair: (pairId: string, idempotencyKey: string): Promise<SigningPairView> => client.confirmSigningPair(pairId, idempotencyKey),
    confirmBackupKey: (backupPairId: string, idempotencyKey: string): Promise<BackupPairView> => client.confirmBackupKey(backupPairId, idempotencyKey),
    storeBackupCiphertext: (backupPairId: string, ciphertext: Uint8Array, idempotencyKey: string): Promise<BackupPairView> =>
      client.storeBackupCiphertext(backupPairId, ciphertext, idempotencyKey),
    storeBackupCiphertextDigest: (backupPairId: string, digest: string, idempotencyKey: string): Promise<BackupPairView> =>
      client.storeBackupCiphertextDigest(backupPairId, digest, idempotencyKey),
    fetchBackupCiphertext: (backupPairId: string): Promise<Uint8Array> => client.fetchBackupCiphertext(backupPairId),
    confirmBackup: (backupPairId: string, idempotencyKey: string): Promise<BackupPairView> => client.confirmBackup(backupPairId, idempotencyKey),
    ejectShares: () => client.eject(),
  };
}

/** The session's start frame; the sign request's digest travels as 0x-hex, as the custodian's schema has it. */
function startFrame(request: ProtocolRequest): StartFrame {
  switch (request.op) {
    case 'generate':
      return { op: 'generate', curve: request.curve, idempotencyKey: request.idempotencyKey };
    case 'backup':
      return { op: 'backup', curve: request.curve, idempotencyKey: request.idempotencyKey, method: request.method, ...(request.proveCurrent ? { proveCurrent: true } : {}) };
    case 'recover':
      return { op: 'recover', curve: request.curve, idempotencyKey: request.idempotencyKey, backupPairId: request.backupPairId };
    case 'sign': {
      const { kind, digest, payload } = request.request;
      const hex = digest.startsWith('0x') ? digest : `0x${digest}`;
      return {
        op: 'sign',
        curve: request.curve,
        idempotencyKey: request.idempotencyKey,
        pairId: request.pairId,
        request: (kind === 'raw' ? { kind, digest: hex } : { kind, payload, digest: hex }) as Extract<StartFrame, { op: 'sign' }>['request'],
      };
    }
  }
}
