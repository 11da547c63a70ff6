/**
 * `npm run demo:web`: the web demo with everything it needs on this machine — a custodian process
 * (`tandem serve`, SQLite in a temporary directory, CORS open to the demo's origin only), the demo built by
 * Vite, and a small server that serves it along with the part an app's backend plays: it holds the
 * custodian's operator key and hands each new device (a browser with no API key yet) a client API key for
 * the demo user's wallet.
 *
 * Open the printed `http://localhost:PORT` (not 127.0.0.1: WebAuthn refuses an IP address as relying
 * party). `--port N` picks the port (0: any free one); the custodian and the data go away on exit.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { build } from 'vite';
import { operatorApi, startCustodian } from '../../src/cli/custodian-process.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const portArg = process.argv.indexOf('--port');
const port = portArg >= 0 ? Number(process.argv[portArg + 1]) : 5173;
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port takes a port number (0 for any free one).');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

const outDir = join(here, 'dist');
await build({ configFile: join(here, 'vite.config.ts'), logLevel: 'warn' });

// The web server listens first: the custodian's CORS origin is the demo's own.
const web = createServer();
await new Promise<void>((done) => web.listen(port, '127.0.0.1', done));
const origin = `http://localhost:${(web.address() as AddressInfo).port}`;

const dir = mkdtempSync(join(tmpdir(), 'tandem-demo-'));
const operatorKey = `op_${bytesToHex(randomBytes(24))}`;
const custodian = await startCustodian(dir, operatorKey, { TANDEM_CORS_ORIGINS: origin });
const operator = operatorApi(custodian.url, operatorKey);
// The demo has one user, whose wallet the first device creates at the custodian.
let walletId: string | null = null;

web.on('request', (req, res) => {
  handle(req, res).catch((err: unknown) => {
    console.error('demo server:', err instanceof Error ? err.message : err);
    if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: 'internal' }));
  });
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', origin);
  if (url.pathname === '/api/config' && req.method === 'GET') {
    return send(res, 200, 'application/json', JSON.stringify({ custodianUrl: custodian.url }));
  }
  if (url.pathname === '/api/device-key' && req.method === 'POST') {
    // What an app's backend does once its user has signed in: a client API key for the user's wallet.
    if (walletId === null) {
      const created = (await operator('POST', '/v1/operator/clients', {})) as { walletId: string; apiKey: string };
      walletId = created.walletId;
      return send(res, 200, 'application/json', JSON.stringify(created));
    }
    const issued = (await operator('POST', `/v1/operator/clients/${walletId}/keys`)) as { apiKey: string };
    return send(res, 200, 'application/json', JSON.stringify({ walletId, apiKey: issued.apiKey }));
  }
  if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed');
  const file = resolve(outDir, normalize(`.${url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname)}`));
  if (!file.startsWith(outDir + sep)) return send(res, 404, 'text/plain', 'not found');
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
  } catch {
    return send(res, 404, 'text/plain', 'not found');
  }
  return send(res, 200, MIME[extname(file)] ?? 'application/octet-stream', readFileSync(file));
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  web.close();
  const exited = new Promise((done) => custodian.child.once('exit', done));
  custodian.child.kill('SIGTERM');
  await exited;
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
custodian.child.once('exit', (code) => {
  if (!stopping) {
    console.error(`the custodian exited (${code}); stopping the demo`);
    process.exit(1);
  }
});

console.log(`custodian listening on ${custodian.url}`);
console.log(`demo ready on ${origin}`);
