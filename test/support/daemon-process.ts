import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/afilnet-sync.mjs', import.meta.url));

/** A daemon in a child process (`afilnet-sync start`), so tests can SIGKILL it. */
export class DaemonProcess {
  private child: ChildProcess | null = null;
  output = '';

  constructor(private readonly env: Record<string, string>) {}

  start(): void {
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: { PATH: process.env.PATH ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on(
      'data',
      (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000)),
    );
    child.stderr?.on(
      'data',
      (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000)),
    );
    this.child = child;
  }

  /** Sends a signal and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill(signal);
    const code = await exited;
    if (this.child === child) this.child = null;
    return code;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null;
  }
}
