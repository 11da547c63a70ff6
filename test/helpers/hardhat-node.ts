/**
 * A real local EVM node for the chains tests: Hardhat 2's `hardhat node` from the npm package, offline,
 * on a free port. It runs in its own process group so that `stop()` ends it and anything it spawned.
 * Another chain id than the config's (31337) gets a config of its own in a temporary directory that
 * extends test/chains/hardhat.config.cjs, so a test can have two honest chains with different ids.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAddress } from 'viem/accounts';
import type { Hex } from 'viem';

const ROOT = new URL('../..', import.meta.url).pathname;
const CONFIG = join(ROOT, 'test/chains/hardhat.config.cjs');
const CONFIG_CHAIN_ID = 31337;

/** Hardhat's default accounts #0–#2 (the public "test test … junk" mnemonic), 10 000 ETH each. */
const DEV_KEYS: readonly Hex[] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
];

export interface HardhatNode {
  readonly rpcUrl: string;
  readonly chainId: number;
  /** Private keys of funded dev accounts. */
  readonly devAccounts: readonly Hex[];
  /** Everything the node printed so far. */
  output(): string;
  /** Ends the node's process group (SIGTERM, then SIGKILL); safe to call twice. */
  stop(): Promise<void>;
}

export async function startHardhatNode(options: { chainId?: number; startTimeoutMs?: number } = {}): Promise<HardhatNode> {
  // The free port is only free when it is picked; another process may take it before hardhat binds it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options.chainId ?? CONFIG_CHAIN_ID, options.startTimeoutMs ?? 30_000);
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(chainId: number, startTimeoutMs: number): Promise<HardhatNode> {
  const scratch = chainId === CONFIG_CHAIN_ID ? null : mkdtempSync(join(tmpdir(), 'tandem-hardhat-'));
  const config = scratch === null ? CONFIG : join(scratch, 'hardhat.config.cjs');
  if (scratch !== null) {
    writeFileSync(
      config,
      `const base = require(${JSON.stringify(CONFIG)});\n` +
        `module.exports = { ...base, networks: { ...base.networks, hardhat: { ...base.networks.hardhat, chainId: ${chainId} } } };\n`,
    );
  }
  const port = await freePort();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/.bin/hardhat'), '--config', config, 'node', '--hostname', '127.0.0.1', '--port', String(port)], {
    cwd: ROOT,
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, ended as a whole
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exitCode: number | string | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal;
      resolve();
    }),
  );

  const killGroup = (signal: NodeJS.Signals) => {
    if (exitCode !== undefined || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      /* already gone */
    }
  };
  // A worker that exits without stop() (a crash, a timeout) must not leave the node running.
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      process.removeListener('exit', onExit);
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
    })());

  try {
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (exitCode !== undefined) throw new Error(`hardhat node exited (${exitCode}) before answering.`);
      const answer = await rpc(rpcUrl, 'eth_chainId').catch(() => undefined);
      if (answer !== undefined) {
        if (answer !== `0x${chainId.toString(16)}`) throw new Error(`hardhat node answers chain ${String(answer)}, expected ${chainId}.`);
        break;
      }
      if (Date.now() > deadline) throw new Error(`hardhat node did not answer eth_chainId within ${startTimeoutMs} ms.`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const accounts = ((await rpc(rpcUrl, 'eth_accounts')) as string[]).map((a) => a.toLowerCase());
    for (const key of DEV_KEYS) {
      if (!accounts.includes(privateKeyToAddress(key).toLowerCase())) throw new Error('hardhat node does not hold the default dev accounts.');
    }
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- hardhat output (tail) ---\n${out.slice(-2_000)}`);
  }
  return { rpcUrl, chainId, devAccounts: DEV_KEYS, output: () => out, stop };
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(2_000),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

/** A port the OS just handed out and released; hardhat binds it a moment later. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
