/**
 * One MPC session against a custodian process, driven by a real client party made once the custodian said
 * `ready` (the party ids come from it). An optional `tamper` rewrites the client's n-th outgoing message.
 */
import { hexToBytes } from '@noble/hashes/utils.js';
import WebSocket from 'ws';
import type { ServerProcess } from './server-process.js';

export interface ClientParty {
  start(): Uint8Array[];
  receive(m: Uint8Array): { messages: Uint8Array[]; result?: unknown };
}

export interface Ready {
  pid1: Uint8Array;
  pid2: Uint8Array;
}

export interface SessionEnd {
  outcome?: Record<string, any>;
  error?: { code: string; message: string };
  result?: unknown;
}

/** One session, driven by a client party made once the server said `ready`. */
export function session(server: Pick<ServerProcess, 'url'>, apiKey: string, start: Record<string, unknown>, makeParty: (ready: Ready) => ClientParty, tamper?: (n: number, m: Uint8Array) => Uint8Array | string): Promise<SessionEnd> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/wallet/sessions`, { headers: { authorization: `Bearer ${apiKey}` } });
    let party: ClientParty | null = null;
    let result: unknown;
    let sent = 0;
    const out: SessionEnd = {};
    const send = (m: Uint8Array) => {
      const t = tamper ? tamper(sent, m) : m;
      sent++;
      ws.send(t);
    };
    ws.on('open', () => ws.send(JSON.stringify(start)));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      try {
        if (!isBinary) {
          const frame = JSON.parse(data.toString());
          if (frame.type === 'ready') {
            party = makeParty({ pid1: hexToBytes(frame.pid1), pid2: hexToBytes(frame.pid2) });
            for (const m of party.start()) send(m);
          } else if (frame.type === 'done') out.outcome = frame.outcome;
          else if (frame.type === 'error') out.error = frame.error;
          return;
        }
        const r = party!.receive(new Uint8Array(data));
        if (r.result !== undefined) result = r.result;
        for (const m of r.messages) send(m);
      } catch (e) {
        out.error = { code: 'CLIENT', message: String(e) };
        ws.close();
      }
    });
    ws.on('close', () => resolve({ ...out, result }));
    ws.on('error', reject);
  });
}

