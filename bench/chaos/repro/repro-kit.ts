import { setTimeout as sleep } from 'node:timers/promises';
import { loadDaemonConfig } from '../../../src/config/config.ts';
import { startDaemon, type RunningDaemon } from '../../../src/daemon.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { startStack, type Stack } from '../stack.ts';

/** One scenario's private world: stores, emulator, and a daemon that can be stopped and restarted. */
export interface Kit {
  stack: Stack;
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  startDaemon(): Promise<void>;
  stopDaemon(): Promise<void>;
  /** Until nothing is left to sync (bounded: 20 s). */
  drained(): Promise<void>;
  /** Until the emulator has answered `method` more than `before` times (bounded: 10 s). */
  calledMore(method: string, before: number): Promise<void>;
  calls(method: string): Promise<number>;
  /** The remote group's contacts as [idcontact, fields]. */
  remote(): Promise<[string, Record<string, string>][]>;
}

export async function withKit(fn: (kit: Kit) => Promise<boolean>): Promise<boolean> {
  const stack = await startStack({ aof: false });
  const config = loadDaemonConfig({
    ...stack.daemonEnv,
    LOG_LEVEL: 'silent',
    BATCH_WINDOW_MS: '50',
    RELAY_POLL_MS: '100',
  });
  let daemon: RunningDaemon | null = null;
  const sql = async (text: string, params: unknown[] = []) =>
    (await stack.pool.query<Record<string, unknown>>(text, params)).rows;
  const calls = async (method: string) => (await stack.emulator.calls()).byMethod[method] ?? 0;
  const kit: Kit = {
    stack,
    sql,
    calls,
    async startDaemon() {
      daemon = await startDaemon(config, createLogger({ level: 'silent' }));
    },
    async stopDaemon() {
      await daemon?.stop();
      daemon = null;
    },
    async drained() {
      await sleep(300);
      for (let i = 0; i < 200; i++) {
        const [row] = await sql(`SELECT (SELECT count(*) FROM sync_outbox) + (SELECT count(*)
          FROM sync_dirty) + (SELECT count(*) FROM sync_group_state WHERE dirty) AS n`);
        if (Number(row?.n) === 0) return;
        await sleep(100);
      }
    },
    async calledMore(method, before) {
      for (let i = 0; i < 500 && (await calls(method)) <= before; i++) await sleep(20);
    },
    async remote() {
      const [group] = await stack.emulator.state();
      return (group?.contacts ?? []).map((c) => [String(c.idcontact), c.fields]);
    },
  };
  try {
    await kit.startDaemon();
    await sql(
      `INSERT INTO groups (id, name, type, fields) VALUES ('g', 'G', 'mobile', '{mobile,name}')`,
    );
    // The group exists remotely before any scenario turns a fault on.
    await kit.drained();
    return await fn(kit);
  } finally {
    await kit.stopDaemon().catch(() => undefined);
    await stack.destroy(false);
  }
}

/** Inserts contacts (id, mobile, name) and makes them members of group g, in one transaction. */
export async function addMembers(kit: Kit, rows: [string, string, string][]): Promise<void> {
  await kit.sql(
    `WITH c AS (INSERT INTO contacts (id, mobile, attributes)
       SELECT x.id, x.m, jsonb_build_object('name', x.n)
       FROM unnest($1::text[], $2::text[], $3::text[]) AS x(id, m, n) RETURNING id)
     INSERT INTO group_members SELECT 'g', id FROM c`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
  );
}
