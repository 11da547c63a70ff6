/**
 * Generates the diagrams and tables of docs/lifecycle.md from the machines themselves, read as data
 * through xstate's StateNode API (`root`, `states`, `always`, `transitions`, `invoke`), so the document
 * cannot drift from src/machines without test/docs/lifecycle-diagram.test.ts noticing.
 *
 *   tsx scripts/lifecycle-diagram.ts           prints the generated section
 *   tsx scripts/lifecycle-diagram.ts --write   rewrites it between the markers (`npm run docs:lifecycle`)
 *
 * The output is shaped by what Mermaid's `stateDiagram-v2` accepts and lays out:
 * - Node ids are state ids with `.` → `__` (labels show the state's key), so the two regions' `route`
 *   and `none` stay distinct nodes.
 * - An edge label ends at `:` or `;`, so done and error edges read `onDone <actor>` / `onError <actor>`.
 * - Mermaid cannot lay out an edge that ends on a composite state inside a parallel region
 *   (mermaid-js/mermaid#4052). Such a target is drawn to the state the composite enters first, and
 *   such a source (a region handling an event in any of its states) from an "any state" node inside it.
 * - Older Mermaid moves a node into the last block that mentions it, so an edge is written inside a
 *   block only when both its ends are direct children of that block, and at the top level otherwise.
 * Everything is emitted in the machines' own document order, so the output is deterministic.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { and, not, or, stateIn, type AnyStateMachine, type AnyStateNode, type AnyTransitionDefinition } from 'xstate';
import { backupMachine, generateMachine, recoverMachine, signMachine } from '../src/machines/operations.js';
import { walletMachine } from '../src/machines/wallet-machine.js';

export const BEGIN_MARKER = '<!-- BEGIN GENERATED: lifecycle -->';
export const END_MARKER = '<!-- END GENERATED: lifecycle -->';

/** The machines the document shows, in the order it shows them. */
export const LIFECYCLE_MACHINES: readonly { readonly title: string; readonly name: string; readonly machine: AnyStateMachine }[] = [
  { title: 'Wallet', name: 'walletMachine', machine: walletMachine },
  { title: 'Generate', name: 'generateMachine', machine: generateMachine },
  { title: 'Backup', name: 'backupMachine', machine: backupMachine },
  { title: 'Recover', name: 'recoverMachine', machine: recoverMachine },
  { title: 'Sign', name: 'signMachine', machine: signMachine },
];

const ANY_SUFFIX = '___any';

/** The Mermaid node id of a state id: `wallet.active.signingShares.none` → `wallet__active__signingShares__none`. */
export function mermaidId(stateId: string): string {
  return stateId.replace(/\./g, '__').replace(/[^A-Za-z0-9_]/g, '_');
}

// ---- reading the machine ------------------------------------------------------------------------------

/** Every state node below the root, parents before children, in document order. */
export function stateNodes(machine: AnyStateMachine): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  const walk = (node: AnyStateNode) => {
    for (const child of children(node)) {
      out.push(child);
      walk(child);
    }
  };
  walk(machine.root);
  return out;
}

const children = (node: AnyStateNode): AnyStateNode[] => Object.values(node.states);

/** A node's transitions in a fixed order: eventless ones, then by event in the order xstate keeps them. */
const transitionsOf = (node: AnyStateNode): AnyTransitionDefinition[] => [...(node.always ?? []), ...[...node.transitions.values()].flat()];

interface Combinator {
  readonly check?: unknown;
  readonly guards?: readonly unknown[];
  readonly stateValue?: unknown;
}
// xstate's higher-order guards are functions tagged with their checker; compare checkers by identity.
const checkOf = (g: unknown): unknown => (g as Combinator).check;
const NOT = checkOf(not('_'));
const AND = checkOf(and(['_']));
const OR = checkOf(or(['_']));
const STATE_IN = checkOf(stateIn('_'));

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function formatParams(params: unknown): string {
  if (params === undefined) return '';
  if (typeof params === 'function') return '(…)';
  if (!isRecord(params)) return `(${String(params)})`;
  const entries = Object.entries(params);
  const value = (v: unknown) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
  if (entries.length === 1) return `(${value(entries[0]![1])})`;
  return `(${entries.map(([k, v]) => `${k}=${value(v)}`).join(', ')})`;
}

/** `hasCompletedBackup`, `signingIs(locked)`, `not operationRunning`, `a or b`. */
function describeGuard(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const c = guard as Combinator;
    const inner = (g: unknown) => {
      const text = describeGuard(g);
      return checkOf(g) === AND || checkOf(g) === OR ? `(${text})` : text;
    };
    if (c.check === NOT) return `not ${inner(c.guards?.[0])}`;
    if (c.check === AND) return (c.guards ?? []).map(inner).join(' and ');
    if (c.check === OR) return (c.guards ?? []).map(inner).join(' or ');
    if (c.check === STATE_IN) return `in ${typeof c.stateValue === 'string' ? c.stateValue.replace(/^#/, '') : JSON.stringify(c.stateValue)}`;
    return guard.name || 'inline guard';
  }
  if (isRecord(guard) && typeof guard['type'] === 'string') return `${guard['type']}${formatParams(guard['params'])}`;
  return 'inline guard';
}

function describeAction(action: unknown): string {
  if (typeof action === 'string') return action;
  if (isRecord(action) && typeof action['type'] === 'string') return action['type'];
  if (typeof action === 'function') return action.name || 'inline action';
  return 'inline action';
}

const actorPrefixes = [
  ['xstate.done.actor.', 'onDone'],
  ['xstate.error.actor.', 'onError'],
  ['xstate.snapshot.', 'onSnapshot'],
] as const;

/** The event part of an edge label: the event type, or `onDone <actor>` for an invoked actor's outcome. */
function describeEvent(t: AnyTransitionDefinition): string {
  const type = String(t.eventType);
  for (const [prefix, word] of actorPrefixes) {
    if (!type.startsWith(prefix)) continue;
    const id = type.slice(prefix.length);
    const inv = t.source.invoke.find((i) => i.id === id);
    return `${word} ${inv && typeof inv.src === 'string' ? inv.src : id}`;
  }
  if (type.startsWith('xstate.done.state.')) return 'onDone';
  if (type.startsWith('xstate.after.')) return `after ${type.slice('xstate.after.'.length)}`;
  return type;
}

interface Refusal {
  readonly code: string;
  readonly message: string | null;
  readonly fromLastError: boolean;
}

/** The `refuse` action of a transition, if it has one (`{ type: 'refuse', params: { code } }`). */
function refusalOf(t: AnyTransitionDefinition): Refusal | null {
  for (const a of t.actions) {
    if (!isRecord(a) || a['type'] !== 'refuse') continue;
    const p = isRecord(a['params']) ? a['params'] : {};
    return {
      code: typeof p['code'] === 'string' ? p['code'] : '(computed)',
      message: typeof p['message'] === 'string' ? p['message'] : null,
      fromLastError: p['fromLastError'] === true,
    };
  }
  return null;
}

const hasTarget = (t: AnyTransitionDefinition) => (t.target?.length ?? 0) > 0;

/** Transitions grouped by (source, event) in order; the position matters, since xstate takes the first whose guard passes. */
function transitionGroups(node: AnyStateNode): AnyTransitionDefinition[][] {
  const groups = new Map<string, AnyTransitionDefinition[]>();
  for (const t of transitionsOf(node)) {
    const key = String(t.eventType);
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups.values()];
}

/** A guard label; an unguarded transition tried after guarded ones is the group's `else`. */
function guardLabel(group: readonly AnyTransitionDefinition[], index: number): string | null {
  const t = group[index]!;
  if (t.guard !== undefined) return describeGuard(t.guard);
  return group.slice(0, index).some((p) => p.guard !== undefined) ? 'else' : null;
}

function progressStatusOf(node: AnyStateNode): string | null {
  for (const a of node.entry) {
    if (isRecord(a) && a['type'] === 'report' && isRecord(a['params']) && typeof a['params']['status'] === 'string') {
      return a['params']['status'];
    }
  }
  return null;
}

const invokedActors = (node: AnyStateNode): string[] => node.invoke.map((i) => (typeof i.src === 'string' ? i.src : i.id));

// ---- Mermaid ------------------------------------------------------------------------------------------

const insideParallel = (node: AnyStateNode): boolean => {
  for (let p = node.parent; p; p = p.parent) if (p.type === 'parallel') return true;
  return false;
};
const isComposite = (node: AnyStateNode) => node.type === 'compound' || node.type === 'parallel';
/** Composite states Mermaid can draw an edge to or from (#4052), and never the root, which is the diagram. */
const drawable = (node: AnyStateNode) => node.parent !== undefined && !(isComposite(node) && insideParallel(node));

/** The atomic state an edge into `node` lands on when the composite itself cannot be drawn. */
function entryPoint(node: AnyStateNode): AnyStateNode {
  let n = node;
  while (!drawable(n) && isComposite(n)) {
    const next = n.type === 'compound' ? n.initial.target[0] : children(n)[0];
    if (!next) break;
    n = next;
  }
  return n;
}

/** Characters that end or break a Mermaid label. */
const label = (text: string) => text.replace(/[:;#"\n]/g, ' ').replace(/\s+/g, ' ').trim();

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

/**
 * The machine as a Mermaid `stateDiagram-v2`.
 *
 * @example
 * renderMachineDiagram(walletMachine).split('\n')[0] // 'stateDiagram-v2'
 */
export function renderMachineDiagram(machine: AnyStateMachine): string {
  const root = machine.root;
  const nodes = stateNodes(machine);
  const seen = new Map<string, string>();
  const claim = (mid: string, owner: string) => {
    const prior = seen.get(mid);
    if (prior !== undefined) throw new Error(`Mermaid id ${mid} is shared by ${prior} and ${owner}; change mermaidId().`);
    seen.set(mid, owner);
  };
  for (const n of nodes) claim(mermaidId(n.id), n.id);

  // Edges, each kept with the block it is written in (see the module comment).
  const anchors = new Set<AnyStateNode>();
  const edgesIn = new Map<AnyStateNode, Edge[]>();
  const addEdge = (scope: AnyStateNode, edge: Edge) => {
    const list = edgesIn.get(scope) ?? [];
    if (!list.some((e) => e.from === edge.from && e.to === edge.to && e.label === edge.label)) list.push(edge);
    edgesIn.set(scope, list);
  };
  for (const node of [root, ...nodes]) {
    for (const group of transitionGroups(node)) {
      group.forEach((t, i) => {
        if (!hasTarget(t)) return; // refusals and context updates: see the tables
        const guard = guardLabel(group, i);
        const event = String(t.eventType) === '' ? '' : describeEvent(t);
        const text = label([event, guard === null ? '' : `[${guard}]`].filter((s) => s !== '').join(' '));
        const fromAnchor = !drawable(node);
        if (fromAnchor) anchors.add(node);
        const fromParent = fromAnchor ? node : node.parent!;
        const from = fromAnchor ? mermaidId(node.id) + ANY_SUFFIX : mermaidId(node.id);
        for (const target of t.target ?? []) {
          const to = entryPoint(target);
          const sameBlock = fromParent === to.parent && fromParent.type !== 'parallel';
          addEdge(sameBlock ? fromParent : root, { from, to: mermaidId(to.id), label: text });
        }
      });
    }
  }
  for (const a of anchors) claim(mermaidId(a.id) + ANY_SUFFIX, `the "any state" node of ${a.id}`);

  const lines: string[] = ['stateDiagram-v2'];
  const block = (node: AnyStateNode, depth: number) => {
    const pad = '    '.repeat(depth);
    if (node.type === 'compound') {
      const first = node.initial.target[0];
      if (first) lines.push(`${pad}[*] --> ${mermaidId(entryPoint(first).id)}`);
    }
    children(node).forEach((child, i) => {
      if (node.type === 'parallel' && i > 0) lines.push(`${pad}--`);
      const status = progressStatusOf(child);
      const name = label(status === null ? child.key : `${child.key} (${status})`);
      if (isComposite(child)) {
        lines.push(`${pad}state "${name}" as ${mermaidId(child.id)} {`);
        block(child, depth + 1);
        lines.push(`${pad}}`);
      } else {
        lines.push(`${pad}state "${name}" as ${mermaidId(child.id)}`);
      }
    });
    if (anchors.has(node)) lines.push(`${pad}state "any state" as ${mermaidId(node.id)}${ANY_SUFFIX}`);
    for (const child of children(node)) if (child.type === 'final') lines.push(`${pad}${mermaidId(child.id)} --> [*]`);
    for (const e of edgesIn.get(node) ?? []) lines.push(`${pad}${e.from} --> ${e.to}${e.label === '' ? '' : ` : ${e.label}`}`);
  };
  block(root, 1);
  return lines.join('\n');
}

// ---- tables -------------------------------------------------------------------------------------------

const code = (s: string) => `\`${s}\``;
const cell = (s: string) => s.replace(/\|/g, '\\|');

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // Columns that are empty in every row say nothing; leave them out.
  const keep = header.map((_, i) => rows.some((r) => (r[i] ?? '') !== ''));
  const pick = <T>(r: readonly T[]) => r.filter((_, i) => keep[i]);
  const row = (r: readonly string[]) => `| ${pick(r).map(cell).join(' | ')} |`;
  return [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
}

function statesTable(machine: AnyStateMachine): string {
  const rows = stateNodes(machine).map((n) => [
    code(n.id),
    n.type,
    n.tags.map(code).join(', '),
    progressStatusOf(n) ?? '',
    invokedActors(n).map(code).join(', '),
  ]);
  return table(['State', 'Kind', 'Tags', 'Reports on entry', 'Invokes'], rows);
}

function describeRefusal(r: Refusal): string {
  const what = r.fromLastError ? `refuse with the last sync error's code (${code(r.code)} if none)` : `refuse ${code(r.code)}`;
  return r.message === null ? what : `${what}: “${r.message}”`;
}

/** Every (state, event) that can refuse, with all its transitions in the order they are tried. */
function refusalsTable(machine: AnyStateMachine): string | null {
  const rows: string[][] = [];
  for (const node of [machine.root, ...stateNodes(machine)]) {
    for (const group of transitionGroups(node)) {
      if (!group.some((t) => refusalOf(t) !== null)) continue;
      group.forEach((t, i) => {
        const refusal = refusalOf(t);
        const outcome = refusal
          ? describeRefusal(refusal)
          : hasTarget(t)
            ? `→ ${(t.target ?? []).map((s) => code(s.id)).join(', ')}`
            : `no state change (${t.actions.map(describeAction).join(', ')})`;
        const guard = guardLabel(group, i);
        rows.push([
          i === 0 ? code(node.id) : '',
          i === 0 ? code(String(t.eventType) || '(eventless)') : '',
          guard === null ? '—' : guard === 'else' ? 'else' : code(guard),
          outcome,
        ]);
      });
    }
  }
  return rows.length === 0 ? null : table(['State', 'Event', 'Guard', 'Outcome'], rows);
}

/** Targetless transitions that are not refusals: they only update context. */
function actionsOnlyTable(machine: AnyStateMachine): string | null {
  const rows: string[][] = [];
  for (const node of [machine.root, ...stateNodes(machine)]) {
    for (const group of transitionGroups(node)) {
      if (group.some((t) => refusalOf(t) !== null)) continue;
      group.forEach((t, i) => {
        if (hasTarget(t)) return;
        const guard = guardLabel(group, i);
        rows.push([code(node.id), code(String(t.eventType)), guard === null ? '—' : code(guard), t.actions.map((a) => code(describeAction(a))).join(', ')]);
      });
    }
  }
  return rows.length === 0 ? null : table(['State', 'Event', 'Guard', 'Actions'], rows);
}

// ---- the document -------------------------------------------------------------------------------------

/**
 * The generated section of docs/lifecycle.md (what goes between the markers).
 *
 * @example
 * const doc = readFileSync('docs/lifecycle.md', 'utf8');
 * extractGenerated(doc) === renderLifecycleDiagrams(); // false means the doc is stale
 */
export function renderLifecycleDiagrams(): string {
  const parts: string[] = [
    '<!-- Generated by scripts/lifecycle-diagram.ts from src/machines. Do not edit by hand: run `npm run docs:lifecycle`. -->',
  ];
  for (const { title, name, machine } of LIFECYCLE_MACHINES) {
    parts.push(`### ${title} (${code(name)})`);
    parts.push(['```mermaid', renderMachineDiagram(machine), '```'].join('\n'));
    parts.push(`**States of ${code(name)}**\n\n${statesTable(machine)}`);
    const refusals = refusalsTable(machine);
    if (refusals) {
      parts.push(
        `**Requests ${code(name)} can refuse**, with every transition of the event in the order its guards are tried. ` +
          'A refusal changes no state; it records the typed error in `context.outcome`.\n\n' +
          refusals,
      );
    }
    const actionsOnly = actionsOnlyTable(machine);
    if (actionsOnly) parts.push(`**Transitions of ${code(name)} that only update context**\n\n${actionsOnly}`);
  }
  return `${parts.join('\n\n')}\n`;
}

/** The text between the markers, or null when the markers are missing. */
export function extractGenerated(doc: string): string | null {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin) return null;
  return doc.slice(begin + BEGIN_MARKER.length, end).replace(/^\n/, '');
}

/** `doc` with the text between the markers replaced by `generated`. */
export function spliceGenerated(doc: string, generated: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`docs/lifecycle.md needs the markers ${BEGIN_MARKER} and ${END_MARKER}, in that order.`);
  return `${doc.slice(0, begin + BEGIN_MARKER.length)}\n${generated}${doc.slice(end)}`;
}

export const LIFECYCLE_DOC = fileURLToPath(new URL('../docs/lifecycle.md', import.meta.url));

function main(argv: readonly string[]): void {
  const generated = renderLifecycleDiagrams();
  if (!argv.includes('--write')) {
    process.stdout.write(generated);
    return;
  }
  const before = readFileSync(LIFECYCLE_DOC, 'utf8');
  const after = spliceGenerated(before, generated);
  if (after !== before) writeFileSync(LIFECYCLE_DOC, after);
  process.stdout.write(after === before ? 'docs/lifecycle.md is up to date.\n' : 'docs/lifecycle.md updated.\n');
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) main(process.argv.slice(2));
