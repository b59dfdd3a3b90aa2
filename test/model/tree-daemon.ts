import { spawn, type ChildProcess } from 'node:child_process';

/**
 * `afilnet-sync start` of a given source tree in a child process, so it can be SIGKILLed.
 * (test/support/daemon-process.ts runs this checkout's bin only; the model test may run a
 * snapshot of HEAD while the checkout is being edited.)
 */
export class TreeDaemon {
  private child: ChildProcess | null = null;
  output = '';

  constructor(
    private readonly tree: string,
    private readonly env: Record<string, string>,
  ) {}

  start(): void {
    const child = spawn(process.execPath, [`${this.tree}bin/afilnet-sync.mjs`, 'start'], {
      env: { PATH: process.env.PATH ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-20_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.child = child;
  }

  /** Sends a signal and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }
}
