import type { AfilnetClient } from '../afilnet/index.ts';
import type { ApiCaller } from '../gateway/api-caller.ts';
import { groupCallOutcome, type GroupCall } from '../planner/group-call-outcome.ts';
import { callResultOf } from './call-result.ts';
import { GroupCallStop } from './group-calls.ts';

interface CountDeps {
  client: AfilnetClient;
  caller: ApiCaller;
}

/**
 * Streams the remote group once (one getcontacts, never held in memory), showing each contact's
 * fields to `see`, contacts the client could not read whole included. Returns how many there
 * were. The read stands for the group call `on`: its failure is that call's outcome (a group
 * already gone, when about to delete it, is simply empty).
 */
async function streamGroup(
  deps: CountDeps,
  remoteId: string,
  on: GroupCall,
  see: (fields: Record<string, unknown>) => void,
): Promise<number> {
  try {
    return await deps.caller.call('getcontacts', 'live', async () => {
      let n = 0;
      const onUnreadable = (c: { fields: Record<string, unknown> }) => {
        n++;
        see(c.fields);
      };
      for await (const c of deps.client.streamContacts(remoteId, { onUnreadable })) {
        n++;
        see(c.fields);
      }
      return n;
    });
  } catch (err) {
    const result = callResultOf(err);
    if (result === null) throw err;
    const outcome = groupCallOutcome(on, result);
    if (outcome.kind === 'done') return 0;
    throw new GroupCallStop(on, outcome);
  }
}

/** How many contacts the remote group holds (before deleting it). */
export async function countRemoteContacts(deps: CountDeps, remoteId: string): Promise<number> {
  return streamGroup(deps, remoteId, 'deletegroup', () => undefined);
}

/** Per column, how many remote contacts hold a value in it (before a link deletes columns). */
export async function countColumnValues(
  deps: CountDeps,
  remoteId: string,
  columns: readonly string[],
): Promise<Map<string, number>> {
  const counts = new Map(columns.map((c) => [c, 0]));
  await streamGroup(deps, remoteId, 'getgroupcolumns', (fields) => {
    for (const c of columns) {
      const v = fields[c];
      if (v !== undefined && v !== null && v !== '') counts.set(c, (counts.get(c) ?? 0) + 1);
    }
  });
  return counts;
}
