/**
 * The load run's arithmetic and its samplers, kept apart from the run so they can be tested on plain
 * numbers: latency percentiles (nearest rank, so p99 of four samples is the slowest one, never an
 * interpolation between samples that did not happen), a least-squares slope for "is memory flat", and
 * the custodian process's resident memory and CPU read from /proc (Linux) once a second.
 */
import { readFileSync } from 'node:fs';

export interface LatencySummary {
  readonly count: number;
  readonly p50_ms: number;
  readonly p95_ms: number;
  readonly p99_ms: number;
}

/** Nearest-rank percentile of `sorted` (ascending); 0 for no samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50_ms: round1(percentile(sorted, 50)),
    p95_ms: round1(percentile(sorted, 95)),
    p99_ms: round1(percentile(sorted, 99)),
  };
}

/** Least-squares slope of y over x; 0 with fewer than two distinct x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface RssSample {
  /** Seconds since the load window opened (negative during start-up). */
  readonly t: number;
  readonly mb: number;
}

export interface MemoryTrend {
  /** Mean RSS over the last quarter of the load window against the second quarter, in percent. */
  readonly growth_pct: number;
  /** Linear fit over the last three quarters of the load window (the first is warm-up: wallets being generated). */
  readonly slope_mb_per_min: number;
  readonly start_mb: number;
  readonly end_mb: number;
  /** RSS every `stepS` seconds over the window (the sample nearest each mark), to see the shape. */
  readonly trace_mb: readonly number[];
}

/** How the custodian's memory moved over the load window `[0, windowS]`. */
export function memoryTrend(samples: readonly RssSample[], windowS: number, stepS = 10): MemoryTrend {
  const inWindow = samples.filter((s) => s.t >= 0 && s.t <= windowS);
  const quarter = (q: number) => inWindow.filter((s) => s.t >= (q * windowS) / 4 && s.t < ((q + 1) * windowS) / 4 + (q === 3 ? 1e-9 : 0));
  const mean = (xs: readonly RssSample[]) => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x.mb, 0) / xs.length);
  const q2 = mean(quarter(1));
  const q4 = mean(quarter(3));
  const steady = inWindow.filter((s) => s.t >= windowS / 4);
  return {
    growth_pct: q2 === 0 ? 0 : round1(((q4 - q2) / q2) * 100),
    slope_mb_per_min: round1(slope(steady.map((s) => [s.t / 60, s.mb] as const))),
    start_mb: round1(inWindow[0]?.mb ?? 0),
    end_mb: round1(inWindow.at(-1)?.mb ?? 0),
    trace_mb: inWindow.length === 0 ? [] : Array.from({ length: Math.floor(windowS / stepS) + 1 }, (_, i) => round1(nearest(inWindow, i * stepS).mb)),
  };
}

const nearest = (samples: readonly RssSample[], t: number): RssSample =>
  samples.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best));

/** VmRSS and VmHWM (the kernel's own peak) of a process, in MB; null once it is gone. */
export function readRss(pid: number): { rssMb: number; peakMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** User + system CPU seconds a process has used (from /proc/<pid>/stat; clock ticks at the usual 100 Hz). */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
