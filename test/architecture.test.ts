import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

/** src's top-level folders (root files count as "."), and which import which. */
function folderGraph(): Map<string, Set<string>> {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory() && e.name !== 'generated') walk(p);
      else if (e.isFile() && p.endsWith('.ts')) files.push(p);
    }
  };
  walk(SRC);
  const folderOf = (file: string): string => {
    const parts = relative(SRC, file).split(sep);
    return parts.length > 1 ? (parts[0] as string) : '.';
  };
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const from = folderOf(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const to = folderOf(resolve(dirname(file), m[1] as string));
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)?.add(to);
    }
  }
  return graph;
}

/** A cycle in the graph as a path (first = last), or null. */
function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

describe('the folders of src', () => {
  it('import each other without a cycle (arrows point down)', () => {
    expect(findCycle(folderGraph())).toBeNull();
  });

  it('finds a cycle when there is one (the check itself can fail)', () => {
    const graph = new Map([
      ['sync', new Set(['resync'])],
      ['resync', new Set(['state', 'sync'])],
    ]);
    expect(findCycle(graph)).toEqual(['sync', 'resync', 'sync']);
  });

  it('keep the member-sync decisions in the pure planner, and state writes in src/state', () => {
    const graph = folderGraph();
    expect([...(graph.get('planner') ?? [])]).toEqual([]);
    expect([...(graph.get('state') ?? [])].sort()).toEqual(['planner']);
  });
});
