import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type pg from 'pg';
import { BIN, type EmulatorProcess } from './emulator-process.ts';

const exec = promisify(execFile);

export interface OperatorAction {
  at: number;
  group: string;
  action: 'linked' | 'retried';
  reason: string;
}

/**
 * Does what the daemon asks a person to do when a creategroup's outcome is unknown (the
 * connection was cut after sending): look for the group in Afilnet and link it, or retry.
 * Anything else that fails a group is left alone, for the checker to report.
 */
export class SoakOperator {
  readonly actions: OperatorAction[] = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly emulator: EmulatorProcess,
    private readonly env: Record<string, string>,
    private readonly t0: number,
    private readonly groupName: (id: string) => string,
  ) {}

  /** One look; returns how many groups it acted on. Errors (a store restarting) skip the look. */
  async tend(): Promise<number> {
    try {
      return await this.tendOnce();
    } catch {
      return 0;
    }
  }

  private async tendOnce(): Promise<number> {
    const failed = await this.pool.query<{ group_id: string; last_error: string | null }>(
      `SELECT group_id, last_error FROM sync_group_state
       WHERE status = 'failed' AND NOT dirty AND last_error LIKE 'creategroup may have been applied%'`,
    );
    if (failed.rows.length === 0) return 0;
    const remote = await this.emulator.state();
    const linked = await this.pool.query<{ afilnet_id: string }>(
      'SELECT afilnet_id FROM groups WHERE afilnet_id IS NOT NULL',
    );
    const taken = new Set(linked.rows.map((r) => r.afilnet_id));
    for (const { group_id: group, last_error: reason } of failed.rows) {
      const candidates = remote.filter(
        (g) => g.name === this.groupName(group) && !taken.has(String(g.idgroup)),
      );
      const found = candidates[0];
      if (candidates.length === 1 && found) {
        await this.pool.query('UPDATE groups SET afilnet_id = $2 WHERE id = $1', [
          group,
          String(found.idgroup),
        ]);
        this.record(group, 'linked', reason);
      } else {
        // Not created (or ambiguous): the documented `retry --group` makes the daemon try again.
        await exec(process.execPath, [BIN, 'retry', '--group', group], {
          env: { PATH: process.env.PATH ?? '', ...this.env },
          timeout: 60_000,
        });
        this.record(group, 'retried', reason);
      }
    }
    return failed.rows.length;
  }

  private record(group: string, action: OperatorAction['action'], reason: string | null): void {
    this.actions.push({ at: Date.now() - this.t0, group, action, reason: reason ?? '' });
  }
}
