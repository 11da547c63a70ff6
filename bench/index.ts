/**
 * `npm run bench`: prints Tandem's figures with their budgets beside them. A plain script, not a test:
 * nothing is asserted, and the numbers depend on the machine. `npm run bench -- --json` ends with one
 * line holding one JSON object, `{ "ecdsa": { "keygen_ms": …, … }, "eddsa": { … } }`, for tools to read (the figures the
 * issues name; the breakdowns are printed only).
 *
 * Repetitions are few on purpose (a run takes well under a minute on the 2-core machine): medians of
 * REPS key generations and of REPS signatures (each on a fresh presignature), and the one-time
 * integer-commitment setup once.
 */
import { benchEcdsa, type Figure } from './ecdsa.js';
import { benchEcdsaReshare } from './ecdsa-reshare.js';
import { benchEddsa } from './eddsa.js';

/** Figures from a `{ key: value }` record, under `group.key`; `_ms` keys are times, the rest bytes. */
function recordFigures(group: string, r: Record<string, number>): Figure[] {
  return Object.entries(r).map(([key, value]) => ({
    name: `${group}.${key}`,
    value,
    unit: key.endsWith('_ms') ? ('ms' as const) : ('bytes' as const),
    json: true,
  }));
}

const REPS = 5;
const json = process.argv.includes('--json');

const figures: Figure[] = [];
const t0 = performance.now();
figures.push(...benchEcdsa(REPS));
figures.push(...recordFigures('ecdsa', await benchEcdsaReshare(REPS)));
figures.push(...recordFigures('eddsa', await benchEddsa(REPS)));
const wall = performance.now() - t0;

const width = Math.max(...figures.map((f) => f.name.length));
console.log(`Tandem bench (Node ${process.version}, ${process.platform}/${process.arch}; custodian on OpenSSL arithmetic, client on BigInt)\n`);
for (const f of figures) {
  const value = f.unit === 'ms' ? `${f.value.toFixed(0)} ms` : `${f.value} bytes`;
  const budget = f.budget === undefined ? '' : `  budget ${f.budget}`;
  const note = f.note === undefined ? '' : `  (${f.note})`;
  console.log(`${f.name.padEnd(width)}  ${value.padStart(12)}${budget}${note}`);
}
console.log(`\nbench wall time ${(wall / 1000).toFixed(1)} s`);

if (json) {
  const out: Record<string, Record<string, number>> = {};
  for (const f of figures.filter((x) => x.json === true)) {
    const [group, ...rest] = f.name.split('.');
    if (group === undefined) continue;
    (out[group] ??= {})[rest.join('.')] = f.unit === 'ms' ? Math.round(f.value * 10) / 10 : f.value;
  }
  console.log(JSON.stringify(out));
}
