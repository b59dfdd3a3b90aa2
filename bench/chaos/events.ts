import { setTimeout as sleep } from 'node:timers/promises';
import type { Driver } from './driver.ts';
import type { Stack } from './stack.ts';
import type { PlannedEvent } from './timeline.ts';
import type { Workload } from './workload.ts';
import {
  COLUMN_ADDED,
  COLUMN_REMOVED,
  DELETED_GROUP,
  LATE_GROUPS,
  type GroupSpec,
} from './workload-sql.ts';

/** The timed events: restarts of the stores and changes to groups, at shares of the drive. */
export function plannedEvents(
  stack: Stack,
  driver: Driver,
  workload: Workload,
  downMs: number,
): PlannedEvent[] {
  // A group change is retried until it commits: Postgres may be restarting.
  const persist = (what: string, fn: Parameters<Driver['transaction']>[0]) => async () => {
    for (let attempt = 0; attempt < 60; attempt++) {
      if (await driver.transaction(fn, 'group')) return;
      await sleep(500);
    }
    throw new Error(`${what}: could not commit`);
  };
  // Late groups are created while the drivers run: creation races with faults and kills.
  const creates = LATE_GROUPS.map((spec: GroupSpec, i) => ({
    at: [0.15, 0.35, 0.55][i] ?? 0.6,
    name: `create group ${spec.id}`,
    run: persist(`create ${spec.id}`, async (tx) => {
      await workload.createGroup(tx, spec);
      return 1;
    }),
  }));
  return [
    ...creates,
    { at: 0.3, name: 'restart redis #1', run: () => stack.redis.restart(downMs) },
    {
      at: 0.45,
      name: `add column ${COLUMN_ADDED.group}.${COLUMN_ADDED.field}`,
      run: persist('add column', async (tx) => {
        await workload.setFields(tx, COLUMN_ADDED.group, (f) =>
          f.includes(COLUMN_ADDED.field) ? f : [...f, COLUMN_ADDED.field],
        );
        return 1;
      }),
    },
    {
      at: 0.5,
      name: 'restart postgres',
      run: async () => ({ ms: await stack.postgres.restart() }),
    },
    { at: 0.7, name: 'restart redis #2', run: () => stack.redis.restart(downMs) },
    {
      at: 0.75,
      name: `remove column ${COLUMN_REMOVED.group}.${COLUMN_REMOVED.field}`,
      run: persist('remove column', async (tx) => {
        await workload.setFields(tx, COLUMN_REMOVED.group, (f) =>
          f.filter((x) => x !== COLUMN_REMOVED.field),
        );
        return 1;
      }),
    },
    {
      at: 0.85,
      name: `delete group ${DELETED_GROUP}`,
      run: persist('delete group', async (tx) => {
        await workload.deleteGroup(tx, DELETED_GROUP);
        return 1;
      }),
    },
  ];
}
