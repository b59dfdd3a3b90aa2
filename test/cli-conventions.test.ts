import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useOperatorFixture } from './support/operator-fixture.ts';
import { parseJson, runCli } from './support/run-cli.ts';

const fx = useOperatorFixture();
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

interface JsonFailure {
  error: { kind: string; message: string; exitCode: number };
}

describe('the command line', () => {
  it('prints its version with --version and -V, and exits 0', async () => {
    const [long, short] = await Promise.all([runCli(['--version'], {}), runCli(['-V'], {})]);
    for (const r of [long, short]) {
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('exits 2 for a usage error: an unknown command, an unknown option, a missing argument', async () => {
    const results = await Promise.all([
      runCli(['frobnicate'], fx.env),
      runCli(['status', '--colour'], fx.env),
      runCli(['approve-deletes'], fx.env),
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
    }
  });

  it('with --json reports a failure as one JSON document on stdout, with the exit code', async () => {
    const noDb = { ...fx.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' };
    const [unreachable, config, usage] = await Promise.all([
      runCli(['errors', '--json'], noDb),
      runCli(['status', '--json'], { REDIS_URL: fx.env.REDIS_URL ?? '' }),
      runCli(['errors', '--limit', 'many', '--json'], fx.env),
    ]);
    expect(unreachable.code).toBe(1);
    expect(parseJson<JsonFailure>(unreachable).error).toMatchObject({
      kind: 'failure',
      exitCode: 1,
      message: expect.stringMatching(/Cannot connect to the database/) as string,
    });
    expect(config.code).toBe(2);
    expect(parseJson<JsonFailure>(config).error).toMatchObject({
      kind: 'config',
      exitCode: 2,
      message: expect.stringMatching(/DATABASE_URL: missing/) as string,
    });
    expect(usage.code).toBe(2);
    expect(parseJson<JsonFailure>(usage).error).toMatchObject({
      kind: 'usage',
      exitCode: 2,
      message: expect.stringMatching(/--limit must be a positive integer/) as string,
    });
    for (const r of [unreachable, config, usage]) expect(r.stderr).toBe('');
  });

  it('shows each default once in the help texts', async () => {
    const commands = ['emulator', 'errors', 'import', 'resync', 'retry', 'status'];
    const results = await Promise.all(commands.map((c) => runCli([c, '--help'], {})));
    for (const [i, r] of results.entries()) {
      expect(r.code).toBe(0);
      const text = r.stdout.replace(/\s+/g, ' ');
      expect(text, commands[i]).not.toMatch(/\(default[^)]*\) \(default/);
      expect(text, commands[i]).not.toContain('(default: [])');
    }
  });
});

describe('import exit codes', () => {
  it('exits 1 when rows were rejected, unless --max-rejects allows that many', async () => {
    const file = join(fx.dir, 'rejects.csv');
    await writeFile(file, 'id,mobile\nmr-1,34690000011\nmr-2,bad\nmr-3,worse\n');
    const strict = await runCli(['import', file, '--json'], fx.env);
    expect(strict.code).toBe(1);
    expect(parseJson<{ rejected: number }>(strict).rejected).toBe(2);
    const [tooFew, enough] = await Promise.all([
      runCli(['import', file, '--max-rejects', '1'], fx.env),
      runCli(['import', file, '--max-rejects', '2'], fx.env),
    ]);
    expect(tooFew.code).toBe(1);
    expect(tooFew.stderr).toContain('2 rows rejected, more than --max-rejects 1');
    expect(enough.code).toBe(0);
    const bad = await runCli(['import', file, '--max-rejects', '-1'], fx.env);
    expect(bad.code).toBe(2);
  });
});
