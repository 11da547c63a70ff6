/**
 * `npm run size`: builds the client entry and the chains entry the way a browser app's bundler would
 * (vite's JS API: rolldown, platform browser, es2022, minified, tree-shaken, ES modules, nothing
 * written to disk), prints their raw and gzipped sizes and where the client's bytes go, and ends stdout
 * with one JSON line, `{"client_gzip_bytes": N, "chains_gzip_bytes": M}`. docs/bundle.md says why.
 *
 *   tsx scripts/size.ts                  both entries; exit 1 over the client budget or on any Node leak
 *   tsx scripts/size.ts --entry <file>   that file alone, no budget (`{"<name>_gzip_bytes": N}`)
 *
 * Why it is shaped so:
 * - A browser build left to itself hides Node: vite maps a Node built-in to an empty "externalized for
 *   browser compatibility" module with a warning, and replaces `process.env` with `{}`. So a `pre`
 *   plugin sees every import specifier before vite's resolver does and refuses each built-in (naming
 *   the importer and the import chain from the entry), and `keepProcessEnv` leaves `process.env` for the
 *   output check below; only `process.env.NODE_ENV` is defined, as every bundler does.
 * - The output is then parsed, and every reference to a Node global (`Buffer`, `process`, `global`, …)
 *   is found. One the chunk never tests with `typeof` would throw in a browser without a polyfill and
 *   fails the run; one it does test is feature detection and is only reported.
 * - A built-in that a package's own `browser` field replaces is that package's browser build, not a
 *   polyfill the app must add: it is reported, not refused.
 * - Sizes are the sum over every JS chunk an entry emits (a lazily loaded chunk is still shipped),
 *   each gzipped on its own at level 9, as a server would send it.
 * - Where the bytes go comes from each module's rendered length (after tree-shaking, before
 *   minification), so it gives shares, not exact gzip bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, createLogger, parseSync, version as viteVersion, type Plugin, type Rolldown } from 'vite';

/** CI fails above this: 150 KB of gzipped JS for everything an app needs to run a wallet. */
export const CLIENT_BUDGET_BYTES = 150 * 1024;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface EntrySpec {
  readonly name: string;
  /** Path from the repository root, or absolute. */
  readonly file: string;
  /** Gzip bytes this entry may not exceed, if it has a budget. */
  readonly budget?: number;
}

/** The client entry (scripts/size/client.ts) and `tandem-wallet/chains`, each a standalone bundle. */
export const ENTRIES: readonly EntrySpec[] = [
  { name: 'client', file: 'scripts/size/client.ts', budget: CLIENT_BUDGET_BYTES },
  { name: 'chains', file: 'src/chains/index.ts' },
];

/** Globals that exist in Node and not in browsers; a bundle that needs one needs a polyfill. */
const NODE_GLOBALS = new Set(['Buffer', 'process', 'global', 'require', '__dirname', '__filename', 'setImmediate']);

export interface NodeImport {
  readonly specifier: string;
  readonly importer: string;
  /** From the entry to the importer, repository-relative. */
  readonly chain: readonly string[];
}

export interface GlobalUse {
  readonly name: string;
  /** The chunk tests it with `typeof` somewhere, so the use is feature detection. */
  readonly guarded: boolean;
  readonly count: number;
  readonly snippet: string;
  /** Modules whose rendered code mentions the name: where to look. */
  readonly likelyIn: readonly string[];
}

export interface ModuleShare {
  readonly id: string;
  readonly renderedLength: number;
}

export interface EntryReport {
  readonly name: string;
  readonly file: string;
  readonly budget?: number;
  readonly rawBytes: number;
  readonly gzipBytes: number;
  readonly chunks: number;
  /** Every bundled module, largest first. */
  readonly modules: readonly ModuleShare[];
  readonly nodeImports: readonly NodeImport[];
  readonly browserFieldImports: readonly NodeImport[];
  /** Imports left external in the output: the app would have to provide them. */
  readonly externalImports: readonly string[];
  readonly globals: readonly GlobalUse[];
}

/** Repository-relative for files in the repository; node_modules paths start at the package. */
export function displayId(id: string): string {
  if (id.startsWith('\0')) return id.slice(1);
  const nm = id.lastIndexOf('/node_modules/');
  if (nm >= 0) return id.slice(nm + '/node_modules/'.length);
  if (!path.isAbsolute(id)) return id;
  const relative = path.relative(ROOT, id);
  return relative.startsWith('..') ? id : relative;
}

/** What a module is counted under: its npm package, or its folder in this repository. */
export function ownerOf(id: string): string {
  const shown = displayId(id);
  if (id.includes('/node_modules/')) {
    const parts = shown.split('/');
    return shown.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? shown);
  }
  if (id.startsWith('\0')) return shown.split('/')[0] ?? shown;
  if (path.isAbsolute(shown)) return path.dirname(shown);
  const parts = shown.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : shown;
}

function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || isBuiltin(specifier);
}

/** True when the importer's package replaces the built-in in its `browser` field (its own browser build). */
function browserFieldReplaces(importer: string, specifier: string): boolean {
  if (!path.isAbsolute(importer)) return false;
  for (let dir = path.dirname(importer); ; dir = path.dirname(dir)) {
    const pkgFile = path.join(dir, 'package.json');
    if (existsSync(pkgFile)) {
      const browser: unknown = JSON.parse(readFileSync(pkgFile, 'utf8')).browser;
      if (typeof browser !== 'object' || browser === null) return false;
      const bare = specifier.replace(/^node:/, '');
      return specifier in browser || bare in browser;
    }
    if (path.dirname(dir) === dir) return false;
  }
}

/**
 * Records every Node built-in imported anywhere in the graph, before vite can quietly replace it. The
 * chains are walked back from the importer through `importers` once the graph is complete.
 */
function nodeBuiltinGuard(refused: NodeImport[], replaced: NodeImport[]): Plugin {
  const seen = new Map<string, { specifier: string; importer: string; replacedByPackage: boolean }>();
  return {
    name: 'tandem:no-node-builtins',
    enforce: 'pre',
    resolveId(specifier, importer) {
      if (importer !== undefined && isNodeBuiltin(specifier)) {
        seen.set(`${specifier}\0${importer}`, { specifier, importer, replacedByPackage: browserFieldReplaces(importer, specifier) });
      }
      return null;
    },
    buildEnd() {
      for (const { specifier, importer, replacedByPackage } of seen.values()) {
        const chain = importChain((id) => this.getModuleInfo(id), importer).map(displayId);
        (replacedByPackage ? replaced : refused).push({ specifier, importer: displayId(importer), chain });
      }
    },
  };
}

/** The shortest import path from an entry to `id` (breadth-first over importers). */
function importChain(info: (id: string) => { readonly isEntry: boolean; readonly importers: readonly string[]; readonly dynamicImporters: readonly string[] } | null, id: string): string[] {
  const cameFrom = new Map<string, string | null>([[id, null]]);
  const queue = [id];
  for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
    const module = info(current);
    if (module === null) continue;
    if (module.isEntry) {
      const chain: string[] = [];
      for (let at: string | null | undefined = current; at != null; at = cameFrom.get(at)) chain.push(at);
      return chain;
    }
    for (const importer of [...module.importers, ...module.dynamicImporters]) {
      if (!cameFrom.has(importer)) {
        cameFrom.set(importer, current);
        queue.push(importer);
      }
    }
  }
  return [id];
}

type AstNode = { readonly type: string; readonly start: number; readonly end: number } & Record<string, unknown>;

function isAstNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** False where an identifier is a name, not a reference: `a.process`, `{ Buffer: 1 }`, `process() {}`. */
function isReference(parent: AstNode | null, key: string): boolean {
  if (parent === null) return true;
  switch (parent.type) {
    case 'MemberExpression':
      return key !== 'property' || parent['computed'] === true;
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
    case 'AccessorProperty':
      return key !== 'key' || parent['computed'] === true;
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return key !== 'label';
    case 'ExportSpecifier':
      return key !== 'exported';
    case 'ImportSpecifier':
      return key !== 'imported';
    default:
      return true;
  }
}

/**
 * Node globals referenced by minified code. Minification renames every binding it declares, so an
 * identifier still spelled `Buffer` in a reference position is the global.
 */
export function nodeGlobalUses(code: string, fileName: string, modules: Readonly<Record<string, { readonly code: string | null }>>): GlobalUse[] {
  const { program, errors } = parseSync(fileName, code);
  if (errors.length > 0) throw new Error(`could not parse the output chunk ${fileName}: ${errors[0]?.message ?? 'unknown error'}`);
  const uses = new Map<string, { count: number; start: number; end: number }>();
  const typeofTested = new Set<string>();
  const visit = (value: unknown, parent: AstNode | null, key: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item, parent, key);
      return;
    }
    if (!isAstNode(value)) return;
    const name = value['name'];
    if (value.type === 'Identifier' && typeof name === 'string' && NODE_GLOBALS.has(name) && isReference(parent, key)) {
      if (parent?.type === 'UnaryExpression' && parent['operator'] === 'typeof') typeofTested.add(name);
      else {
        const use = uses.get(name);
        if (use === undefined) uses.set(name, { count: 1, start: value.start, end: value.end });
        else use.count += 1;
      }
    }
    for (const [childKey, child] of Object.entries(value)) if (typeof child === 'object' && child !== null) visit(child, value, childKey);
  };
  visit(program, null, 'program');
  return [...uses].map(([name, { count, start, end }]) => {
    const mention = new RegExp(`(?<![\\w$.])${name}(?![\\w$])`);
    return {
      name,
      guarded: typeofTested.has(name),
      count,
      snippet: code.slice(Math.max(0, start - 40), end + 40).replace(/\s+/g, ' '),
      likelyIn: Object.entries(modules)
        .filter(([, m]) => m.code !== null && mention.test(m.code))
        .map(([id]) => displayId(id))
        .slice(0, 3),
    };
  });
}

/** Builds one entry for browsers, in memory, and measures and checks what comes out. */
export async function measureEntry(entry: EntrySpec): Promise<EntryReport> {
  const input = path.resolve(ROOT, entry.file);
  if (!existsSync(input)) throw new Error(`entry ${entry.name}: ${entry.file} does not exist`);
  const nodeImports: NodeImport[] = [];
  const browserFieldImports: NodeImport[] = [];
  const logger = createLogger('warn', { allowClearScreen: false });
  const warn = logger.warn.bind(logger);
  // The guard reports these with their import chain; vite's own line would only repeat it.
  logger.warn = (msg, options) => {
    if (!msg.includes('externalized for browser compatibility')) warn(`[${entry.name}] ${msg}`, options);
  };
  const result = await build({
    configFile: false,
    envDir: false,
    root: ROOT,
    mode: 'production',
    publicDir: false,
    customLogger: logger,
    logLevel: 'warn',
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    environments: { client: { keepProcessEnv: true } },
    plugins: [nodeBuiltinGuard(nodeImports, browserFieldImports)],
    build: {
      write: false,
      outDir: path.join(tmpdir(), 'tandem-size'),
      emptyOutDir: false,
      copyPublicDir: false,
      reportCompressedSize: false,
      target: 'es2022',
      minify: true,
      sourcemap: false,
      rolldownOptions: {
        input: { [entry.name]: input },
        platform: 'browser',
        // An app build keeps only what its entry exports; this entry's exports are what an app uses.
        preserveEntrySignatures: 'strict',
        treeshake: true,
        output: { format: 'es' },
      },
    },
  });
  if (Array.isArray(result) || !('output' in result)) throw new Error(`entry ${entry.name}: expected one build output`);
  const chunks = result.output.filter((item): item is Rolldown.OutputChunk => item.type === 'chunk');
  const fileNames = new Set(result.output.map((item) => item.fileName));
  let rawBytes = 0;
  let gzipBytes = 0;
  const modules: ModuleShare[] = [];
  const externalImports = new Set<string>();
  const globals: GlobalUse[] = [];
  for (const chunk of chunks) {
    rawBytes += Buffer.byteLength(chunk.code);
    gzipBytes += gzipSync(chunk.code, { level: 9 }).length;
    for (const [id, module] of Object.entries(chunk.modules)) if (module.renderedLength > 0) modules.push({ id, renderedLength: module.renderedLength });
    for (const imported of [...chunk.imports, ...chunk.dynamicImports]) if (!fileNames.has(imported)) externalImports.add(imported);
    globals.push(...nodeGlobalUses(chunk.code, chunk.fileName, chunk.modules));
  }
  modules.sort((a, b) => b.renderedLength - a.renderedLength);
  return {
    name: entry.name,
    file: entry.file,
    ...(entry.budget === undefined ? {} : { budget: entry.budget }),
    rawBytes,
    gzipBytes,
    chunks: chunks.length,
    modules,
    nodeImports,
    browserFieldImports,
    externalImports: [...externalImports],
    globals,
  };
}

/** Why the run fails, one line each; empty when it passes. */
export function failures(report: EntryReport): string[] {
  const lines: string[] = [];
  for (const found of report.nodeImports) {
    lines.push(`${report.name}: Node built-in "${found.specifier}" imported by ${found.importer} (${found.chain.join(' → ')})`);
  }
  for (const external of report.externalImports) lines.push(`${report.name}: import "${external}" is left external; a browser cannot load it`);
  for (const use of report.globals) {
    if (!use.guarded) lines.push(`${report.name}: Node global \`${use.name}\` is used without a typeof test (needs a polyfill): …${use.snippet}… (mentioned in ${use.likelyIn.join(', ') || 'no single module'})`);
  }
  if (report.budget !== undefined && report.gzipBytes > report.budget) {
    lines.push(`${report.name}: ${formatBytes(report.gzipBytes)} B gzip is over its budget of ${formatBytes(report.budget)} B (${report.budget / 1024} KB); the top modules above show where to cut`);
  }
  return lines;
}

function formatBytes(n: number): string {
  return n.toLocaleString('en-US');
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)}%`;
}

/** The human part of the output: the table, where the first entry's bytes go, and what was found. */
export function renderReport(reports: readonly EntryReport[], top = 12): string {
  const out: string[] = [];
  out.push(`vite ${viteVersion} (rolldown), platform browser, target es2022, minified ES modules; gzip level 9 per chunk`);
  out.push('');
  const rows = [['entry', 'file', 'chunks', 'raw bytes', 'gzip bytes', 'gzip budget']];
  for (const r of reports) {
    rows.push([
      r.name,
      r.file,
      String(r.chunks),
      formatBytes(r.rawBytes),
      formatBytes(r.gzipBytes),
      r.budget === undefined ? '-' : `${formatBytes(r.budget)} (${percent(r.gzipBytes, r.budget)} used)`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) out.push(row.map((cell, i) => (i >= 2 && i <= 4 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd());
  const first = reports[0];
  if (first !== undefined && first.modules.length > 0) {
    const total = first.modules.reduce((sum, m) => sum + m.renderedLength, 0);
    const owners = new Map<string, number>();
    for (const m of first.modules) owners.set(ownerOf(m.id), (owners.get(ownerOf(m.id)) ?? 0) + m.renderedLength);
    out.push('');
    out.push(`${first.name}: shares of ${formatBytes(total)} rendered bytes (tree-shaken, before minification)`);
    out.push(
      `  by package/folder: ${[...owners]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([owner, bytes]) => `${owner} ${percent(bytes, total)}`)
        .join(', ')}`,
    );
    out.push(`  top ${Math.min(top, first.modules.length)} modules:`);
    for (const m of first.modules.slice(0, top)) out.push(`  ${formatBytes(m.renderedLength).padStart(8)}  ${percent(m.renderedLength, total).padStart(6)}  ${displayId(m.id)}`);
  }
  out.push('');
  for (const r of reports) {
    out.push(`${r.name}: Node built-ins: ${r.nodeImports.length === 0 ? 'none' : r.nodeImports.map((n) => `"${n.specifier}" (${n.importer})`).join(', ')}`);
    for (const n of r.browserFieldImports) out.push(`${r.name}:   "${n.specifier}" in ${n.importer} is replaced by its package's browser field (allowed)`);
    const globals = r.globals.map((g) => `${g.name} ×${g.count} ${g.guarded ? 'guarded by typeof' : 'UNGUARDED'}${g.likelyIn.length > 0 ? ` (${g.likelyIn.join(', ')})` : ''}`);
    out.push(`${r.name}: Node globals in output: ${globals.length === 0 ? 'none' : globals.join('; ')}`);
  }
  return out.join('\n');
}

/** The machine-readable last line: `{"client_gzip_bytes": N, "chains_gzip_bytes": M}`. */
export function summaryLine(reports: readonly EntryReport[]): string {
  return `{${reports.map((r) => `${JSON.stringify(`${r.name}_gzip_bytes`)}: ${r.gzipBytes}`).join(', ')}}`;
}

function parseArgs(argv: readonly string[]): readonly EntrySpec[] {
  if (argv.length === 0) return ENTRIES;
  if (argv.length === 2 && argv[0] === '--entry' && argv[1] !== undefined) {
    return [{ name: path.basename(argv[1]).replace(/\.[cm]?[jt]sx?$/, ''), file: path.resolve(argv[1]) }];
  }
  throw new Error(`usage: tsx scripts/size.ts [--entry <file>]; got ${argv.join(' ')}`);
}

async function main(): Promise<number> {
  const entries = parseArgs(process.argv.slice(2));
  const reports: EntryReport[] = [];
  // One after the other: each build uses the machine's cores, and the numbers do not depend on order.
  for (const entry of entries) reports.push(await measureEntry(entry));
  const problems = reports.flatMap(failures);
  console.log(renderReport(reports));
  for (const problem of problems) console.error(`size: FAIL ${problem}`);
  console.log(summaryLine(reports));
  return problems.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`size: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
