import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'mpc');

describe('src/mpc dependencies (DESIGN §2, ECDSA-2PC §1.3)', () => {
  it('imports only @noble/*, its own files, and ../errors.js / ../types.js: no Node built-in', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    const builtins = new Set(builtinModules);
    for (const f of files) {
      const src = readFileSync(join(dir, f), 'utf8');
      const specs = [...src.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
        (m) => m[1] ?? m[2] ?? '',
      );
      for (const s of specs) {
        expect(s.startsWith('node:') || builtins.has(s), `${f} imports the Node built-in ${s}`).toBe(false);
        const ok = s.startsWith('@noble/') || s.startsWith('./') || s === '../errors.js' || s === '../types.js';
        expect(ok, `${f} imports ${s}`).toBe(true);
      }
      expect(/\brequire\(|\bprocess\.|\bBuffer\b/.test(src), `${f} uses a Node global`).toBe(false);
    }
  });
});
