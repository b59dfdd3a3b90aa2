import type { AfilnetMethod } from '../afilnet/index.ts';
import type { ApiCaller } from '../gateway/api-caller.ts';
import {
  groupCallOutcome,
  type GroupCall,
  type GroupOutcome,
} from '../planner/group-call-outcome.ts';
import { callResultOf } from './call-result.ts';

/** A group call ended in something other than "done": the run acts on the outcome. */
export class GroupCallStop extends Error {
  override name = 'GroupCallStop';
  constructor(
    readonly method: GroupCall,
    readonly outcome: Exclude<GroupOutcome, { kind: 'done' }>,
  ) {
    super(`${method}: ${outcome.kind}`);
  }
}

/**
 * Makes one group call at live priority; a failure is turned into its outcome by the one table
 * and thrown as GroupCallStop (errors that are not about the call pass through unchanged).
 */
export async function groupCall<T>(
  caller: ApiCaller,
  method: GroupCall & AfilnetMethod,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await caller.call(method, 'live', fn);
  } catch (err) {
    const result = callResultOf(err);
    if (result === null) throw err;
    const outcome = groupCallOutcome(method, result);
    if (outcome.kind === 'done') return undefined as T;
    throw new GroupCallStop(method, outcome);
  }
}
