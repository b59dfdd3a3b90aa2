import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/afilnet-sync.mjs', import.meta.url));

/** A daemon run as users run it (`afilnet-sync start`), in its own process and event loop. */
export interface DaemonChild {
  stop(): Promise<void>;
}

export function spawnDaemon(env: Record<string, string>): DaemonChild {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'start'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`daemon exited with ${code}: ${stderr}`);
  });
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
