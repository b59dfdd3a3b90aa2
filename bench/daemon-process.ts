import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/afilnet-sync.mjs', import.meta.url));

/** A daemon run as users run it (`afilnet-sync start`), in its own process and event loop. */
export interface DaemonChild {
  stop(): Promise<void>;
  /** The last lines it logged (warnings and errors only): what to show when a run goes wrong. */
  output(): string;
  /** Whether it is still running (one that failed to start has exited). */
  running(): boolean;
}

export function spawnDaemon(env: Record<string, string>): DaemonChild {
  // Warnings only: rare, and they are what explains a run that does not drain.
  const child: ChildProcess = spawn(process.execPath, [BIN, 'start'], {
    env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', (code, signal) => {
    if (code !== 0) console.error(`daemon exited (${code ?? signal}): ${output}`);
  });
  return {
    output: () => output,
    running: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
