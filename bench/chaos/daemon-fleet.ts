import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, stopChild } from './emulator-process.ts';

/** A daemon process that ended without being killed by the soak (a crash is a finding). */
export interface UnexpectedExit {
  daemon: number;
  at: number;
  code: number | null;
  signal: string | null;
}

interface Slot {
  child: ChildProcess | null;
  /** The soak is killing or stopping it: its exit is expected. */
  expectingExit: boolean;
  log: WriteStream;
}

/**
 * Several `afilnet-sync start` processes sharing one database, Redis and queue prefix, as
 * replicas would. Each one's output goes to its own log file. A daemon that exits on its own is
 * recorded and started again a second later, so the soak keeps its replicas.
 */
export class DaemonFleet {
  private readonly slots: Slot[];
  private stopped = false;
  readonly unexpectedExits: UnexpectedExit[] = [];
  kills = 0;
  starts = 0;

  constructor(
    count: number,
    private readonly env: Record<string, string>,
    logDir: string,
    private readonly t0: number,
  ) {
    this.slots = Array.from({ length: count }, (_, i) => ({
      child: null,
      expectingExit: false,
      log: createWriteStream(join(logDir, `daemon-${i}.log`), { flags: 'a' }),
    }));
  }

  startAll(): void {
    this.slots.forEach((_, i) => this.start(i));
  }

  /** SIGKILLs one running daemon at random and starts it again at once; returns its index. */
  async killRandom(): Promise<number | null> {
    const running = this.slots.flatMap((s, i) => (s.child ? [i] : []));
    const i = running[Math.floor(Math.random() * running.length)];
    if (i === undefined) return null;
    const slot = this.slots[i] as Slot;
    const child = slot.child;
    if (!child) return null;
    slot.expectingExit = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    slot.log.write(`\n=== chaos: SIGKILL at +${Date.now() - this.t0} ms ===\n`);
    child.kill('SIGKILL');
    await exited;
    this.kills++;
    this.start(i);
    return i;
  }

  /** SIGTERM every daemon (a drain), SIGKILL those still running after `graceMs`. */
  async stopAll(graceMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.expectingExit = true;
        if (slot.child) await stopChild(slot.child, graceMs);
        slot.child = null;
      }),
    );
    await Promise.all(this.slots.map((s) => new Promise<void>((r) => s.log.end(() => r()))));
  }

  private start(i: number): void {
    // A kill may finish after stopAll began: no new process then.
    if (this.stopped) return;
    const slot = this.slots[i] as Slot;
    slot.expectingExit = false;
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: { PATH: process.env.PATH ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(slot.log, { end: false });
    child.stderr.pipe(slot.log, { end: false });
    slot.child = child;
    this.starts++;
    child.once('exit', (code, signal) => {
      if (slot.child === child) slot.child = null;
      if (slot.expectingExit || this.stopped) return;
      this.unexpectedExits.push({ daemon: i, at: Date.now() - this.t0, code, signal });
      slot.log.write(`\n=== chaos: exited on its own (code ${code}, signal ${signal}) ===\n`);
      // E.g. started while Postgres was restarting (the migration check failed): start again.
      void sleep(1_000).then(() => {
        if (!this.stopped && slot.child === null) this.start(i);
      });
    });
  }
}
