import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonFleet } from './daemon-fleet.ts';

export interface PlannedEvent {
  /** Share of the planned drive after which it runs. */
  at: number;
  name: string;
  run: () => Promise<unknown>;
}

export interface EventRecord {
  at: number;
  event: string;
  ms: number;
  ok: boolean;
  detail?: unknown;
}

/**
 * The faults over time: a SIGKILL of a random daemon every ~`killEveryMs` (±25 %), and one-shot
 * events (store restarts, group changes) at set points of the drive. One event at a time, so a
 * restart's duration is its own.
 */
export class Timeline {
  readonly log: EventRecord[] = [];
  private pending: PlannedEvent[];
  private stopping = false;
  private loop: Promise<void> | null = null;

  constructor(
    events: PlannedEvent[],
    private readonly fleet: DaemonFleet,
    private readonly opts: { driveMs: number; killEveryMs: number; t0: number },
    private readonly say: (line: string) => void,
  ) {
    this.pending = [...events].sort((a, b) => a.at - b.at);
  }

  /** One-shot events not run yet. */
  get remaining(): number {
    return this.pending.length;
  }

  start(): void {
    const started = Date.now();
    this.loop = this.run(started);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private nextKillDelay(): number {
    return this.opts.killEveryMs * (0.75 + Math.random() * 0.5);
  }

  private async run(started: number): Promise<void> {
    let nextKill = Date.now() + this.nextKillDelay();
    // Ends with stop(); the drive itself is bounded by the orchestrator's hard deadline.
    while (!this.stopping) {
      const due = this.pending[0];
      if (due && Date.now() - started >= due.at * this.opts.driveMs) {
        this.pending.shift();
        await this.record(due.name, due.run);
      } else if (Date.now() >= nextKill) {
        await this.record('kill', async () => ({ daemon: await this.fleet.killRandom() }));
        nextKill = Date.now() + this.nextKillDelay();
      } else {
        await sleep(100);
      }
    }
  }

  private async record(event: string, run: () => Promise<unknown>): Promise<void> {
    const began = Date.now();
    try {
      const detail = await run();
      this.log.push({ at: began - this.opts.t0, event, ms: Date.now() - began, ok: true, detail });
      if (event !== 'kill') this.say(`${event}: done in ${Date.now() - began} ms`);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      this.log.push({ at: began - this.opts.t0, event, ms: Date.now() - began, ok: false, detail });
      this.say(`${event}: FAILED (${detail})`);
    }
  }
}
