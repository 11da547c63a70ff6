/**
 * `npm run size` as CI runs it: both entries build for browsers, the last line of stdout is the JSON
 * summary and the client is within its budget; and an entry that reaches Node (a built-in import two
 * modules deep, an unguarded `Buffer`) is refused with the module, its importer and the import chain.
 * Each run is a real vite build (about a second), so this file stays to these three runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIENT_BUDGET_BYTES } from '../../scripts/size.js';

const ROOT = new URL('../..', import.meta.url).pathname;

async function runSize(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/size.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

function lastLine(stdout: string): unknown {
  return JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '');
}

const scratch = mkdtempSync(path.join(tmpdir(), 'tandem-size-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('npm run size', () => {
  it('measures the client and chains entries and ends with the JSON summary', async () => {
    const { code, stdout, stderr } = await runSize([]);
    expect(code, stdout + stderr).toBe(0);
    const summary = lastLine(stdout) as Record<string, unknown>;
    expect(Object.keys(summary)).toEqual(['client_gzip_bytes', 'chains_gzip_bytes']);
    expect(summary['client_gzip_bytes']).toBeGreaterThan(0);
    expect(summary['chains_gzip_bytes']).toBeGreaterThan(0);
    expect(summary['client_gzip_bytes']).toBeLessThanOrEqual(CLIENT_BUDGET_BYTES);
    expect(stdout).toContain('client: Node built-ins: none');
    expect(stdout).toContain('chains: Node built-ins: none');
  });

  it('refuses a Node built-in anywhere in the graph, naming the importer and the chain', async () => {
    writeFileSync(path.join(scratch, 'hasher.ts'), "import { createHash } from 'node:crypto';\nexport const digest = (s: string) => createHash('sha256').update(s).digest();\n");
    writeFileSync(path.join(scratch, 'leaky.ts'), "export { digest } from './hasher.ts';\n");
    const { code, stdout, stderr } = await runSize(['--entry', path.join(scratch, 'leaky.ts')]);
    expect(code, stdout + stderr).toBe(1);
    expect(stderr).toContain(`Node built-in "node:crypto" imported by ${path.join(scratch, 'hasher.ts')} (${path.join(scratch, 'leaky.ts')} → ${path.join(scratch, 'hasher.ts')})`);
    expect(lastLine(stdout)).toEqual({ leaky_gzip_bytes: expect.any(Number) });
  });

  it('refuses an unguarded Node global and lets a typeof-guarded one through', async () => {
    writeFileSync(path.join(scratch, 'globals.ts'), "export const guarded = () => (typeof global < 'u' ? global : globalThis);\nexport const encode = (s: string) => Buffer.from(s).toString('base64');\n");
    const { code, stdout, stderr } = await runSize(['--entry', path.join(scratch, 'globals.ts')]);
    expect(code, stdout + stderr).toBe(1);
    expect(stderr).toContain('Node global `Buffer` is used without a typeof test');
    expect(stderr).not.toContain('Node global `global`');
    expect(stdout).toContain('global ×1 guarded by typeof');
  });
});
