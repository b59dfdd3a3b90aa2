import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { RunningEmulator } from '../src/emulator/index.ts';

const BIN = fileURLToPath(new URL('../bin/afilnet-sync.mjs', import.meta.url));

/**
 * The emulator in a process of its own (`afilnet-sync emulator`), as the real provider is
 * remote: sharing the daemon's event loop, its arrival stamps and rolling-window rate limit
 * would see the daemon's own pauses as bursts.
 */
export async function startEmulatorProcess(
  opts: { strictDocs?: boolean } = {},
): Promise<RunningEmulator> {
  const args = [BIN, 'emulator', '--port', '0', ...(opts.strictDocs ? ['--strict-docs'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const found = /listening on (http:\/\/\S+)/.exec(output);
      if (found?.[1]) {
        child.stdout.off('data', onData);
        resolve(found[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => reject(new Error(`emulator exited (${code}): ${output}`)));
  });
  child.stdout.resume();
  return {
    url,
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
