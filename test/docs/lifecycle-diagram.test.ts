/**
 * docs/lifecycle.md carries diagrams generated from the machines; this keeps them true. A change to a
 * machine that is not followed by `npm run docs:lifecycle` fails here, and the Mermaid the script writes
 * is checked for the mistakes Mermaid rejects or mis-draws (shared ids, dots in ids, `:` in labels).
 */
import { readFileSync } from 'node:fs';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  LIFECYCLE_DOC,
  LIFECYCLE_MACHINES,
  extractGenerated,
  mermaidId,
  renderLifecycleDiagrams,
  renderMachineDiagram,
} from '../../scripts/lifecycle-diagram.js';
import { walletMachine } from '../../src/machines/wallet-machine.js';

/** Every state id below the root (the root is the diagram itself), walked independently of the script. */
function stateIds(machine: AnyStateMachine): string[] {
  const ids: string[] = [];
  const walk = (node: AnyStateNode) => {
    for (const child of Object.values(node.states)) {
      ids.push(child.id);
      walk(child);
    }
  };
  walk(machine.root);
  return ids;
}

const DECLARATION = /^\s*state "([^"]*)" as ([A-Za-z_][A-Za-z0-9_]*)( \{)?$/;
const EDGE = /^\s*(\[\*\]|[A-Za-z_][A-Za-z0-9_]*) --> (\[\*\]|[A-Za-z_][A-Za-z0-9_]*)(?: : ([^:;#"]+))?$/;

interface Parsed {
  readonly labels: Map<string, string>;
  readonly edges: { readonly from: string; readonly to: string; readonly label: string | null }[];
}

/** A strict reading of the subset of `stateDiagram-v2` the script writes; throws on anything else. */
function parseDiagram(source: string): Parsed {
  const [header, ...lines] = source.split('\n');
  expect(header).toBe('stateDiagram-v2');
  const labels = new Map<string, string>();
  const edges: Parsed['edges'] = [];
  let depth = 0;
  for (const line of lines) {
    const decl = DECLARATION.exec(line);
    const edge = EDGE.exec(line);
    if (decl) {
      const [, label, id, open] = decl;
      expect(labels.has(id!), `${id} is declared twice`).toBe(false);
      labels.set(id!, label!);
      if (open) depth++;
    } else if (edge) {
      edges.push({ from: edge[1]!, to: edge[2]!, label: edge[3] ?? null });
    } else if (line.trim() === '}') {
      depth--;
      expect(depth, 'a closing brace without an opening one').toBeGreaterThanOrEqual(0);
    } else if (line.trim() !== '--') {
      throw new Error(`Unexpected Mermaid line: ${JSON.stringify(line)}`);
    }
  }
  expect(depth, 'unbalanced braces').toBe(0);
  for (const { from, to } of edges) {
    for (const end of [from, to]) if (end !== '[*]') expect(labels.has(end), `edge end ${end} is not declared`).toBe(true);
  }
  return { labels, edges };
}

describe('docs/lifecycle.md', () => {
  it('carries the diagrams the machines generate now', () => {
    const doc = readFileSync(LIFECYCLE_DOC, 'utf8');
    const committed = extractGenerated(doc);
    expect(committed, 'docs/lifecycle.md lost its <!-- BEGIN/END GENERATED: lifecycle --> markers').not.toBeNull();
    expect(committed, 'docs/lifecycle.md is stale: run `npm run docs:lifecycle` and commit the result').toBe(renderLifecycleDiagrams());
  });

  it('renders the same text every time', () => {
    expect(renderLifecycleDiagrams()).toBe(renderLifecycleDiagrams());
  });

  it('lists the refusals with their guards in order and their error codes', () => {
    const rows = renderLifecycleDiagrams()
      .split('\n')
      .filter((l) => l.startsWith('| `wallet.active.signingShares` | `recover.start`') || /^\|\s+\|\s+\|/.test(l));
    const recover = rows.slice(rows.findIndex((l) => l.includes('`recover.start`')));
    expect(recover.slice(0, 4).map((l) => l.split(' | ').slice(2).join(' | '))).toEqual([
      '`operationRunning` | refuse `OPERATION_IN_PROGRESS` |',
      '`not isMethodConfigured` | refuse `BACKUP_METHOD_UNAVAILABLE` |',
      '`hasCompletedBackup` | → `wallet.active.signingShares.recovering` |',
      'else | refuse `NO_VALID_BACKUP` |',
    ]);
  });
});

describe('the generated Mermaid', () => {
  it.each(LIFECYCLE_MACHINES.map((m) => [m.name, m.machine] as const))('%s: has a node for every state, labelled with its key', (_, machine) => {
    const { labels } = parseDiagram(renderMachineDiagram(machine));
    for (const id of stateIds(machine)) {
      const key = id.slice(id.lastIndexOf('.') + 1);
      expect(labels.get(mermaidId(id)), `no node for ${id}`).toMatch(new RegExp(`^${key}( \\(.+\\))?$`));
    }
  });

  it('keeps the two regions’ same-named states apart', () => {
    const { labels, edges } = parseDiagram(renderMachineDiagram(walletMachine));
    for (const key of ['route', 'none']) {
      const signing = mermaidId(`wallet.active.signingShares.${key}`);
      const backup = mermaidId(`wallet.active.backupShares.${key}`);
      expect(signing).not.toBe(backup);
      expect(labels.get(signing)).toBe(key);
      expect(labels.get(backup)).toBe(key);
    }
    // Each region's route falls through to its own `none`.
    for (const region of ['signingShares', 'backupShares']) {
      const route = mermaidId(`wallet.active.${region}.route`);
      expect(edges).toContainEqual({ from: route, to: mermaidId(`wallet.active.${region}.none`), label: '[else]' });
    }
  });

  it('labels events with their guards, and invoked actors’ outcomes with onDone/onError', () => {
    const { edges } = parseDiagram(renderMachineDiagram(walletMachine));
    const labels = edges.map((e) => e.label);
    expect(labels).toContain('recover.start [hasCompletedBackup]');
    expect(labels).toContain('sync.refresh [not operationRunning]');
    expect(labels).toContain('[walletIsArchived]');
    expect(labels).toContain('onDone generate');
    expect(labels).toContain('onError generate');
  });
});
