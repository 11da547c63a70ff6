/**
 * Runs the custodian as a real process (`tandem serve`) on an ephemeral port, as an operator would,
 * and talks to it over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OPERATOR_KEY = 'operator-key-for-tests-0123456789abcdef';
export const MASTER_KEY = '42'.repeat(32);

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly databasePath: string;
  output(): string;
  /** SIGTERM, and the exit code once the process has exited and its output has been read to the end. */
  stop(): Promise<number | null>;
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'tandem-server-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function runCli(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/tandem.ts', ...args], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function serverEnv(databasePath: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TANDEM_MASTER_KEY: MASTER_KEY,
    TANDEM_OPERATOR_KEY: OPERATOR_KEY,
    TANDEM_DATABASE: databasePath,
    TANDEM_PORT: '0',
    TANDEM_LOG_LEVEL: 'warn',
    ...extra,
  };
}

export async function startServerProcess(databasePath: string, extra: Record<string, string> = {}): Promise<ServerProcess> {
  const child = runCli(['serve'], serverEnv(databasePath, extra));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${out}`)));
  });
  // 'close', not 'exit': by then the child's stdout and stderr have been read to the end, so output() is complete.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    url,
    child,
    databasePath,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function call(
  server: { url: string },
  method: string,
  path: string,
  options: { key?: string; body?: unknown; raw?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers['authorization'] = `Bearer ${options.key}`;
  let body: string | Buffer | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  } else if (options.raw !== undefined) {
    headers['content-type'] ??= typeof options.raw === 'string' ? 'application/json' : 'application/octet-stream';
    body = typeof options.raw === 'string' ? options.raw : Buffer.from(options.raw);
  }
  const res = await fetch(server.url + path, { method, headers, ...(body !== undefined ? { body: body as unknown as BodyInit } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}
