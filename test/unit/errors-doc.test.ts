import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eip1193Code, ERROR_CODES, TandemError, type ErrorCode } from '../../src/errors.js';

describe('docs/errors.md', () => {
  it('lists every error code once, with its EIP-1193 mapping', () => {
    const rows = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
      .split('\n')
      .map((l) => /^\| `([A-Z0-9_]+)` \| .+ \| (-?\d+) \|$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    expect(rows.map((m) => m[1]).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const m of rows) expect([m[1], Number(m[2])]).toEqual([m[1], eip1193Code(new TandemError(m[1] as ErrorCode))]);
  });
});
