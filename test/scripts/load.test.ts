/**
 * `npm run load` as CI runs it, kept short: two clients for five seconds on each store must end with the
 * JSON line of the documented shape, no error and no lost wallet; and a run that outlives its deadline
 * stops by itself (exit 3) and leaves no custodian behind. PostgreSQL is used when it answers, as in
 * vitest.config.ts: with TANDEM_TEST_POSTGRES=required (CI) an unreachable server fails the test.
 * The percentile and memory-trend arithmetic is checked on plain numbers.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { memoryTrend, percentile, summarize } from '../../scripts/load/measure.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const PG_URL = process.env['TANDEM_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

async function runLoad(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/load.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

/** Whether a process exists and is not a zombie (an orphan's exit may wait for a reaper that never comes). */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function storesToRun(): Promise<string[]> {
  if (await postgresAnswers()) return ['sqlite', 'postgres'];
  if (process.env['TANDEM_TEST_POSTGRES'] === 'required') throw new Error(`TANDEM_TEST_POSTGRES=required but PostgreSQL at ${PG_URL} is unreachable`);
  console.warn(`PostgreSQL at ${PG_URL} is unreachable: the load test runs on SQLite only (set TANDEM_TEST_POSTGRES=required to fail instead).`);
  return ['sqlite'];
}

const latency = { count: expect.any(Number), p50_ms: expect.any(Number), p95_ms: expect.any(Number), p99_ms: expect.any(Number) };

describe('npm run load', () => {
  it('runs two clients on each store and ends with the JSON summary: no errors, no lost wallets', async () => {
    const stores = await storesToRun();
    const { code, stdout, stderr } = await runLoad(['--clients', '2', '--seconds', '5', '--stores', stores.join(','), '--pg-url', PG_URL, '--json']);
    expect(code, stdout + stderr).toBe(0);
    const summary = JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '') as Record<string, any>;
    expect(summary).toMatchObject({ errors: 0, lost_wallets: 0 });
    for (const store of stores) {
      const r = summary[store];
      expect(r, store).toMatchObject({ throughput_ops_s: expect.any(Number), ops: { generate: latency, sign: latency }, peak_rss_mb: expect.any(Number), errors: 0, lost_wallets: 0 });
      expect(r.ops.generate.count, store).toBe(2);
      expect(r.ops.sign.count, store).toBeGreaterThan(0);
      expect(r.throughput_ops_s, store).toBeGreaterThan(0);
      expect(r.peak_rss_mb, store).toBeGreaterThan(0);
      for (const op of ['generate', 'sign']) {
        const s = r.ops[op];
        expect(s.p50_ms <= s.p95_ms && s.p95_ms <= s.p99_ms, `${store} ${op} ${JSON.stringify(s)}`).toBe(true);
      }
      expect(stdout).toContain(`${store}: 2 clients`);
    }
    for (const store of ['sqlite', 'postgres'].filter((s) => !stores.includes(s))) expect(summary).not.toHaveProperty(store);
  }, 150_000);

  it('stops by itself at the deadline and leaves no custodian running', async () => {
    // 9 s of load plus the custodian's start (over a second) and the final checks cannot fit in 10 s.
    const { code, stdout, stderr } = await runLoad(['--clients', '1', '--seconds', '9', '--deadline', '10', '--stores', 'sqlite']);
    expect(code, stdout + stderr).toBe(3);
    expect(stderr).toContain('the 10 s deadline passed');
    // Printed when the process is spawned: found even when the deadline passes while it is still starting.
    const pid = /custodian pid (\d+)/.exec(stdout)?.[1];
    expect(pid, stdout).toBeDefined();
    expect(running(Number(pid))).toBe(false);
  }, 60_000);

  it('refuses bad arguments before starting anything', async () => {
    const { code, stderr } = await runLoad(['--seconds', '200', '--stores', 'sqlite,postgres']);
    expect(code).toBe(2);
    expect(stderr).toContain('expected less than the deadline, 240 s');
  });
});

describe('load arithmetic', () => {
  it('takes nearest-rank percentiles, never interpolating', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect([percentile(xs, 50), percentile(xs, 95), percentile(xs, 99)]).toEqual([5, 10, 10]);
    expect(percentile([], 50)).toBe(0);
    expect(summarize([40, 10, 30, 20])).toEqual({ count: 4, p50_ms: 20, p95_ms: 40, p99_ms: 40 });
  });

  it('calls flat memory flat and growing memory growing', () => {
    const flat = Array.from({ length: 61 }, (_, t) => ({ t, mb: 150 + (t % 2) }));
    const growing = Array.from({ length: 61 }, (_, t) => ({ t, mb: 150 + t }));
    expect(memoryTrend(flat, 60).start_mb).toBe(150);
    expect(Math.abs(memoryTrend(flat, 60).slope_mb_per_min)).toBeLessThan(0.5);
    expect(Math.abs(memoryTrend(flat, 60).growth_pct)).toBeLessThan(1);
    expect(memoryTrend(growing, 60)).toMatchObject({ slope_mb_per_min: 60, start_mb: 150, end_mb: 210 });
    expect(memoryTrend(growing, 60).growth_pct).toBeGreaterThan(15);
  });
});
