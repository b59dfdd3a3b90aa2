#!/usr/bin/env node
// The `afilnet-sync` command. Runs the compiled CLI (dist/, from `npm run build`; what the image
// ships) when it is there and not older than the sources; otherwise the TypeScript sources through
// tsx, so a checkout needs no build step and an edit is never shadowed by a stale build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';
import { URL } from 'node:url';

// Node >= 22.1 keeps compiled bytecode between runs (in the OS temp dir): faster start-up.
module.enableCompileCache?.();

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const sources = new URL('../src/', import.meta.url);

/** Newest modification time under `dir` (ms), skipping generated code. */
function newest(dir) {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'generated') continue;
    const path = new URL(entry.name + (entry.isDirectory() ? '/' : ''), dir);
    max = Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return max;
}

const useCompiled =
  existsSync(compiled) && (!existsSync(sources) || statSync(compiled).mtimeMs >= newest(sources));
if (useCompiled) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
