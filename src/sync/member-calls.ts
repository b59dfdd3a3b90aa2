import type { AfilnetClient } from '../afilnet/index.ts';
import type { ApiCaller } from '../gateway/api-caller.ts';
import type { Priority } from '../gateway/rate-budget.ts';
import type { CallResult } from '../planner/call-outcome.ts';
import type { FieldValues } from '../planner/project-fields.ts';
import { callResultOf } from './call-result.ts';

/** The calls of one chunk, sent through the account's budget; answers come back as data. */
export class MemberCalls {
  constructor(
    private readonly client: AfilnetClient,
    private readonly caller: ApiCaller,
    private readonly remoteGroupId: string,
  ) {}

  /** One addcontactlist: per contact, its answer (an id when the provider gave one). */
  async add(batch: readonly FieldValues[], mainField: string, priority: Priority) {
    try {
      const answer = await this.caller.call('addcontactlist', priority, () =>
        this.client.addcontactlist(this.remoteGroupId, [...batch]),
      );
      const idByMain = new Map((answer.added ?? []).map((a) => [a.main, a.idcontact]));
      const skipped = new Set(answer.skipped.map((s) => s.index));
      return batch.map((fields, i): CallResult => {
        if (skipped.has(i)) return { type: 'skipped' };
        const main = fields[mainField];
        return { type: 'ok', remoteId: (main !== undefined && idByMain.get(main)) || null };
      });
    } catch (err) {
      const result = callResultOf(err);
      if (result === null) throw err;
      return batch.map(() => result);
    }
  }

  async modify(remoteId: string, changed: FieldValues, priority: Priority): Promise<CallResult> {
    return this.one('modifycontact', priority, () =>
      this.client.modifycontact(this.remoteGroupId, remoteId, changed),
    );
  }

  async delete(remoteId: string, priority: Priority): Promise<CallResult> {
    return this.one('deletecontact', priority, () =>
      this.client.deletecontact(this.remoteGroupId, remoteId),
    );
  }

  private async one(
    method: 'modifycontact' | 'deletecontact',
    priority: Priority,
    fn: () => Promise<unknown>,
  ): Promise<CallResult> {
    try {
      await this.caller.call(method, priority, fn);
      return { type: 'ok', remoteId: null };
    } catch (err) {
      const result = callResultOf(err);
      if (result === null) throw err;
      return result;
    }
  }
}
