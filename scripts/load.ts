/**
 * `npm run load`: N concurrent clients generate and then sign repeatedly for T seconds against one
 * custodian process per store (SQLite, then PostgreSQL), on loopback only. It prints a table per store
 * and, with `--json`, ends stdout with one JSON line:
 * `{"sqlite": {"throughput_ops_s", "ops": {"generate": {count, p50_ms, p95_ms, p99_ms}, "sign": {…}},
 * "peak_rss_mb", …}, "postgres": {…}, "errors": 0, "lost_wallets": 0}`. docs/load.md says how to read it.
 *
 *   tsx scripts/load.ts [--clients 4] [--seconds 60] [--stores sqlite,postgres] [--pg-url URL] [--deadline 240] [--json]
 *
 * Exit 0 only with no error and no lost wallet; 1 otherwise or when a store cannot start (PostgreSQL
 * unreachable is a failure, never a silent skip); 2 for bad arguments; 3 when the deadline passes.
 *
 * Why it is shaped so:
 * - Bounded: a fixed number of clients, a window per store, and a global deadline (4 minutes by default)
 *   that stops the custodians, drops the schema and exits 3 whatever is still running. Windows that alone
 *   exceed the deadline are refused up front; the defaults leave room for start-up and checks.
 * - The clients share this process's event loop, not worker threads: on the 2-core machine the
 *   custodian takes one core and the clients the other, so threads would add no CPU. The table shows
 *   both processes' CPU and this loop's delay, so a run limited by the clients rather than the custodian
 *   says so.
 * - Throughput is completed operations (generate + sign) over the window's wall time, which runs until
 *   the last in-flight operation ends.
 * - Memory is the custodian's resident set (/proc, each second): the kernel's peak, and whether it grows
 *   once the wallets exist (last quarter of the window against the second, and a linear fit over the
 *   last three quarters).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { CURVES, type Curve } from '../src/types.js';
import { ErrorTally, lostReason, runClient, type Latencies, type LoadRun, type LoadWallet } from './load/client.js';
import { abandonAll, checkPostgres, LOAD_RATE_LIMITS, startStoreCustodian, STORES, type StoreName } from './load/custodian.js';
import { memoryTrend, readCpuSeconds, readRss, summarize, type LatencySummary, type RssSample } from './load/measure.js';

/** Start-up, generation stragglers, the lost-wallet check and teardown, per store, on the 2-core machine. */
const OVERHEAD_PER_STORE_S = 30;

interface Options {
  readonly clients: number;
  readonly seconds: number;
  readonly stores: readonly StoreName[];
  readonly pgUrl: string;
  readonly deadlineS: number;
  readonly json: boolean;
}

class UsageError extends Error {}

function intOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

function parseOptions(argv: readonly string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        clients: { type: 'string' },
        seconds: { type: 'string' },
        stores: { type: 'string' },
        'pg-url': { type: 'string' },
        deadline: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const stores = (values.stores ?? STORES.join(',')).split(',').map((s) => s.trim());
  for (const s of stores) if (!(STORES as readonly string[]).includes(s)) throw new UsageError(`--stores: expected a list of ${STORES.join(', ')}, got ${JSON.stringify(s)}`);
  if (new Set(stores).size !== stores.length) throw new UsageError(`--stores: expected each store once, got ${JSON.stringify(values.stores)}`);
  const options: Options = {
    clients: intOption('clients', values.clients, 4, 1, 64),
    seconds: intOption('seconds', values.seconds, 60, 1, 3600),
    stores: stores as StoreName[],
    pgUrl: values['pg-url'] ?? process.env['TANDEM_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
    deadlineS: intOption('deadline', values.deadline, 240, 10, 7200),
    json: values.json ?? false,
  };
  const windows = options.stores.length * options.seconds;
  if (windows >= options.deadlineS) throw new UsageError(`--seconds ${options.seconds} on ${options.stores.length} store(s) is ${windows} s of load alone; expected less than the deadline, ${options.deadlineS} s (raise --deadline or lower --seconds)`);
  const likely = options.stores.length * (options.seconds + OVERHEAD_PER_STORE_S);
  if (likely > options.deadlineS) process.stderr.write(`load: with start-up and checks this run likely needs about ${likely} s, more than the ${options.deadlineS} s deadline\n`);
  return options;
}

interface StoreResult {
  readonly throughput_ops_s: number;
  readonly ops: { readonly generate: LatencySummary; readonly sign: LatencySummary };
  readonly peak_rss_mb: number;
  readonly errors: number;
  readonly error_codes: Record<string, number>;
  readonly lost_wallets: number;
  readonly clients: number;
  readonly window_s: number;
  readonly startup_s: number;
  readonly sign_by_curve: Record<Curve, LatencySummary>;
  readonly rss_start_mb: number;
  readonly rss_end_mb: number;
  readonly rss_growth_pct: number;
  readonly rss_slope_mb_per_min: number;
  readonly rss_trace_mb: readonly number[];
  readonly custodian_cpu_pct: number;
  readonly load_peak_rss_mb: number;
  readonly load_cpu_pct: number;
  readonly load_event_loop_p99_ms: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
const mb = (bytes: number) => bytes / (1024 * 1024);

async function runStore(store: StoreName, options: Options): Promise<StoreResult> {
  const t0 = performance.now();
  // The pid is printed as soon as the process exists, so a deadline that passes during its start-up still
  // leaves a trace of what was started (and then SIGKILLed).
  const custodian = await startStoreCustodian(store, options.pgUrl, (pid) => console.log(`\n${store}: custodian pid ${pid} starting`));
  console.log(`${store}: custodian listening at ${custodian.url}`);
  try {
    const startup = (performance.now() - t0) / 1000;
    const errors = new ErrorTally();
    let aborted = false;
    void custodian.exited.then((code) => {
      aborted = true;
      errors.count('CUSTODIAN_EXITED', `the ${store} custodian exited (${code}) during the run`);
    });

    const windowStart = performance.now();
    const samples: RssSample[] = [];
    let peakMb = 0;
    let loadPeakMb = mb(process.memoryUsage.rss());
    const sample = () => {
      const rss = readRss(custodian.pid);
      if (rss) {
        samples.push({ t: (performance.now() - windowStart) / 1000, mb: rss.rssMb });
        peakMb = Math.max(peakMb, rss.peakMb, rss.rssMb);
      }
      loadPeakMb = Math.max(loadPeakMb, mb(process.memoryUsage.rss()));
    };
    sample();
    const sampler = setInterval(sample, 1000);
    const loop = monitorEventLoopDelay({ resolution: 20 });
    loop.enable();
    const cpu0 = readCpuSeconds(custodian.pid) ?? 0;
    const loadCpu0 = process.cpuUsage();

    const latencies: Latencies = { generate: [], sign: { SECP256K1: [], ED25519: [] } };
    const run: LoadRun = { url: custodian.url, operator: custodian.operator, endAt: windowStart + options.seconds * 1000, aborted: () => aborted, latencies, errors };
    const wallets = (await Promise.all(Array.from({ length: options.clients }, (_, i) => runClient(run, i)))).filter((w): w is LoadWallet => w !== null);

    const windowS = (performance.now() - windowStart) / 1000;
    sample();
    clearInterval(sampler);
    loop.disable();
    const custodianCpu = ((readCpuSeconds(custodian.pid) ?? cpu0) - cpu0) / windowS;
    const loadCpuUsed = process.cpuUsage(loadCpu0);
    const loadCpu = (loadCpuUsed.user + loadCpuUsed.system) / 1e6 / windowS;

    // All wallets at once: the check is one signature per curve each, and the deadline is shared.
    const reasons = await Promise.all(wallets.map(async (w) => (aborted ? 'the custodian exited' : await lostReason(custodian.operator, w))));
    let lost = 0;
    wallets.forEach((w, i) => {
      w.wallet.stop();
      if (reasons[i] !== null) {
        lost++;
        process.stderr.write(`${store}: wallet ${w.walletId} is lost: ${reasons[i]}\n`);
      }
    });
    for (const [code, message] of errors.samples) process.stderr.write(`${store}: ${errors.counts.get(code)} × ${code}, first: ${message}\n`);

    const signs = CURVES.flatMap((c) => latencies.sign[c]);
    const trend = memoryTrend(samples, windowS);
    return {
      throughput_ops_s: round2((latencies.generate.length + signs.length) / windowS),
      ops: { generate: summarize(latencies.generate), sign: summarize(signs) },
      peak_rss_mb: round1(peakMb),
      errors: errors.total,
      error_codes: Object.fromEntries(errors.counts),
      lost_wallets: lost,
      clients: options.clients,
      window_s: round1(windowS),
      startup_s: round1(startup),
      sign_by_curve: { SECP256K1: summarize(latencies.sign.SECP256K1), ED25519: summarize(latencies.sign.ED25519) },
      rss_start_mb: trend.start_mb,
      rss_end_mb: trend.end_mb,
      rss_growth_pct: trend.growth_pct,
      rss_slope_mb_per_min: trend.slope_mb_per_min,
      rss_trace_mb: trend.trace_mb,
      custodian_cpu_pct: Math.round(custodianCpu * 100),
      load_peak_rss_mb: round1(loadPeakMb),
      load_cpu_pct: Math.round(loadCpu * 100),
      load_event_loop_p99_ms: round1(loop.percentile(99) / 1e6),
    };
  } finally {
    await custodian.close();
  }
}

function printStore(store: StoreName, r: StoreResult): void {
  const row = (name: string, s: LatencySummary) =>
    console.log(`  ${name.padEnd(16)}${String(s.count).padStart(7)}${s.p50_ms.toFixed(0).padStart(10)}${s.p95_ms.toFixed(0).padStart(10)}${s.p99_ms.toFixed(0).padStart(10)}`);
  console.log(`\n${store}: ${r.clients} clients, ${r.window_s} s window (custodian ready in ${r.startup_s} s)`);
  console.log(`  ${'op'.padEnd(16)}${'count'.padStart(7)}${'p50 ms'.padStart(10)}${'p95 ms'.padStart(10)}${'p99 ms'.padStart(10)}`);
  row('generate', r.ops.generate);
  row('sign', r.ops.sign);
  for (const c of CURVES) row(`  sign ${c}`, r.sign_by_curve[c]);
  console.log(`  throughput      ${r.throughput_ops_s} ops/s (generate + sign over the window)`);
  const codes = Object.entries(r.error_codes).map(([c, n]) => `${c} ×${n}`).join(', ');
  console.log(`  errors          ${r.errors}${codes ? ` (${codes})` : ''}`);
  console.log(`  lost wallets    ${r.lost_wallets}`);
  const sign = (x: number) => (x >= 0 ? `+${x}` : String(x));
  console.log(`  custodian       peak RSS ${r.peak_rss_mb} MB; ${r.rss_start_mb} → ${r.rss_end_mb} MB over the window, last quarter vs second ${sign(r.rss_growth_pct)} %, slope ${sign(r.rss_slope_mb_per_min)} MB/min; CPU ${r.custodian_cpu_pct} %`);
  console.log(`  custodian RSS   every 10 s: ${r.rss_trace_mb.join(' ')} MB`);
  console.log(`  load process    peak RSS ${r.load_peak_rss_mb} MB; CPU ${r.load_cpu_pct} %; event-loop delay p99 ${r.load_event_loop_p99_ms} ms`);
}

async function main(options: Options): Promise<number> {
  console.log(
    `Tandem load (Node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} CPUs): ${options.clients} clients × ${options.seconds} s per store on ${options.stores.join(', ')}, loopback only, deadline ${options.deadlineS} s`,
  );
  console.log(
    `rate limits on at ${LOAD_RATE_LIMITS.TANDEM_RATE_LIMIT_KEY_PER_MIN}/min per key and per IP, ${LOAD_RATE_LIMITS.TANDEM_AUTH_FAILURE_LIMIT} auth failures: the limiter runs on every request but is far above this load's rate`,
  );
  console.log('generate = one createWallet (SECP256K1 ECDSA-2PC + ED25519 FROST); sign = one signature, curves alternating (SECP256K1 typed EIP-191, ED25519 raw)');
  if (options.stores.includes('postgres')) await checkPostgres(options.pgUrl);

  const results: Partial<Record<StoreName, StoreResult>> = {};
  for (const store of options.stores) {
    const r = await runStore(store, options);
    results[store] = r;
    printStore(store, r);
  }
  const all = Object.values(results);
  const errors = all.reduce((n, r) => n + r.errors, 0);
  const lost = all.reduce((n, r) => n + r.lost_wallets, 0);
  if (overran) return 3;
  console.log(`\n${errors === 0 && lost === 0 ? 'ok' : 'FAILED'}: ${errors} errors, ${lost} lost wallets`);
  if (options.json) console.log(JSON.stringify({ ...results, errors, lost_wallets: lost, clients: options.clients, seconds: options.seconds, rate_limits: LOAD_RATE_LIMITS }));
  return errors === 0 && lost === 0 ? 0 : 1;
}

/** Set once the deadline has passed: whatever the run still reports then is not a result, and it exits 3. */
let overran = false;

/** Past the deadline: whatever is still running, the custodians are stopped and their databases removed. */
async function overrun(deadlineS: number): Promise<never> {
  overran = true;
  process.stderr.write(`load: the ${deadlineS} s deadline passed; stopping the custodians\n`);
  await abandonAll();
  process.exit(3);
}

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`load: ${(err as Error).message}\n`);
  process.exit(2);
}
const deadline = setTimeout(() => void overrun(options.deadlineS), options.deadlineS * 1000);
// Once the deadline has passed, overrun() owns the exit (3): the checks it cut short (a custodian stopped
// under a wallet's final signature, say) are not lost wallets.
main(options).then(
  (code) => {
    clearTimeout(deadline);
    if (!overran) process.exit(code);
  },
  (err: unknown) => {
    clearTimeout(deadline);
    if (overran) return;
    process.stderr.write(`load failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
