/**
 * The chain guides' runnable example (`npm run example:chains`) runs as documented: every check it prints
 * is "ok" and it exits 0.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('npm run example:chains', () => {
  it('verifies every signature, mines the transaction, and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/chains.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out).toBe(0);
    const checks = out.split('\n').filter((l) => /^(ok|FAILED) /.test(l));
    expect(checks, out).toEqual([
      'ok viem verifies an EIP-191 message',
      'ok viem verifies EIP-712 typed data',
      'ok eth_sendTransaction mined',
      'ok kit verifies a Solana message',
      'ok kit verifies a Solana transaction',
      'ok rawSign on ED25519 verifies',
    ]);
    expect(out).toContain('chains example: all verified');
  });
});
