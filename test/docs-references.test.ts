import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Sources and docs whose comments and text may cite files. */
const ROOTS = ['src', 'test', 'bench', 'docs', 'bin', 'prisma/schema.prisma'];
const FILES = ['README.md', 'Dockerfile', 'docker-compose.yml', '.ci/run', '.env.example'];
const SKIP = /(^|\/)(generated|results|node_modules)(\/|$)/;

function walk(path: string): string[] {
  if (SKIP.test(path) || !existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => walk(join(path, name)));
}

// Notes that live outside the repository, and repository paths (`src/…`, `docs/…`) by name.
const OUTSIDE =
  /(?:\.\.\/)?\bshared\/[\w./-]+|\b(?:design-notes|machine-notes|known-defects)(?:\.md)?\b/g;
const IN_REPO =
  /(?<![\w/.-])(?:src|test|bench|docs|prisma|bin)\/[\w./-]*\w\.(?:ts|mjs|md|sql|prisma|json|yml)\b/g;

function citations(): string[] {
  const found: string[] = [];
  for (const file of [...ROOTS.flatMap(walk), ...FILES.filter((f) => existsSync(f))]) {
    if (file === 'test/docs-references.test.ts') continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(OUTSIDE)) found.push(`${file}: ${m[0]}`);
    for (const m of text.matchAll(IN_REPO)) {
      // Paths of files a run writes (reports, results) are not citations.
      if (!existsSync(m[0]) && !/results\/|\.errors\.ndjson/.test(m[0]))
        found.push(`${file}: ${m[0]}`);
    }
  }
  return found.sort();
}

/**
 * Citations in other areas' files, still to be rewritten by their owners (the list may only
 * shrink: an entry that no longer occurs fails the test, so it is taken off).
 */
const KNOWN: string[] = [];

describe('docs and comments', () => {
  it('cite no file that is not in the repository', () => {
    const found = citations();
    expect(found.filter((c) => !KNOWN.includes(c))).toEqual([]);
    expect(KNOWN.filter((c) => !found.includes(c))).toEqual([]);
  });
});
