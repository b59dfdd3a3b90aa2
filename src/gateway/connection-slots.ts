import type { Priority } from './rate-budget.ts';

/**
 * Caps the calls in flight at the HTTP pool's connections, so a call that has its budget slot is
 * sent at once instead of queueing inside undici. A freed slot goes to a waiting live call before
 * any bulk call: the budget already decided who may call; this only must not undo that order.
 */
export class ConnectionSlots {
  private inUse = 0;
  private readonly waiting: Record<Priority, (() => void)[]> = { live: [], bulk: [] };

  constructor(private readonly size: number) {}

  async enter(priority: Priority): Promise<void> {
    if (this.inUse < this.size) {
      this.inUse++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting[priority].push(resolve));
  }

  leave(): void {
    const next = this.waiting.live.shift() ?? this.waiting.bulk.shift();
    if (next) next();
    else this.inUse--;
  }
}
