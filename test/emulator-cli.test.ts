import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';

// `afilnet-sync emulator`: prints where it listens, never the password, and stops on SIGTERM.

const BIN = new URL('../bin/afilnet-sync.mjs', import.meta.url).pathname;
const SECRET = 'cli-S3cret:with-colon';

interface Run {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, 'emulator', ...args]);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return { child, output: () => output };
}

async function urlOf(cli: Run): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const match = /listening on (http:\/\/\S+)/.exec(cli.output());
    if (match?.[1]) return match[1];
    if (cli.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the emulator did not start:\n${cli.output()}`);
}

describe('afilnet-sync emulator', () => {
  it('serves the given accounts, never prints the password, and stops on SIGTERM', async () => {
    const cli = run(['--port', '0', '--account', `alice:${SECRET}`, '--strict-docs']);
    const url = await urlOf(cli);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const body = new URLSearchParams({ class: 'group', method: 'creategroup', user: 'alice' });
    for (const [key, value] of Object.entries({ name: 'G', type: 'mobile', fields: 'mobile' })) {
      body.set(key, value);
    }
    body.set('password', SECRET);
    const res = await fetch(`${url}/api/http/`, { method: 'POST', body });
    // --strict-docs: the creating method answers with no id.
    expect(await res.json()).toEqual({ status: 'SUCCESS' });
    const exited = once(cli.child, 'exit');
    cli.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(cli.output()).toContain('alice');
    expect(cli.output()).toContain('stopped');
    expect(cli.output()).not.toContain('S3cret');
  }, 30_000);

  it('refuses an --account without a colon, without repeating the value', async () => {
    const cli = run(['--port', '0', '--account', 'NoColonS3cret']);
    const [code] = (await once(cli.child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(cli.output()).toContain('--account');
    expect(cli.output()).not.toContain('NoColonS3cret');
  }, 30_000);
});
