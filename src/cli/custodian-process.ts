/**
 * A custodian process for the repository's own programs (the main job, the web demo): `tandem serve` from
 * this same build on SQLite in a directory of the caller's, with a fresh master key, and the operator's
 * side of its API as an app's backend would call it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';

/** Runs `tandem serve` from this same build (tsx source or dist) and resolves once it listens. */
export async function startCustodian(
  dir: string,
  operatorKey: string,
  env: Record<string, string> = {},
  /** Told the process id as soon as the process exists, before it listens (start-up can take seconds). */
  onSpawn?: (pid: number) => void,
): Promise<{ url: string; child: ChildProcess }> {
  const here = fileURLToPath(import.meta.url);
  const cli = join(here, '..', `tandem${here.endsWith('.ts') ? '.ts' : '.js'}`);
  const child = spawn(process.execPath, [...process.execArgv, cli, 'serve'], {
    env: {
      ...process.env,
      TANDEM_MASTER_KEY: bytesToHex(randomBytes(32)),
      TANDEM_OPERATOR_KEY: operatorKey,
      TANDEM_DATABASE: join(dir, 'custodian.db'),
      TANDEM_PORT: '0',
      TANDEM_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) onSpawn?.(child.pid);
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the custodian exited (${code}) before listening:\n${out}`)));
  });
  return { url, child };
}

/** The operator's backend: what an app's server does with the custodian API key. */
export function operatorApi(url: string, key: string) {
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const answer = await res.json();
    if (!res.ok) throw new Error(`operator call ${path} failed: ${JSON.stringify(answer)}`);
    return answer;
  };
}
