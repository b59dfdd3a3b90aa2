import { badRecord } from './bad-records.ts';
import { mainReuse, reimport } from './recycle.ts';
import { rowCount, type Tx, type WorkloadContext } from './workload-context.ts';
import {
  attributeEdit,
  attributesFor,
  CREATE_GROUP_SQL,
  emailOf,
  groupName,
  mobileOf,
  newEmailOf,
  newMobileOf,
  pick,
  randInt,
  type GroupSpec,
} from './workload-sql.ts';

export type OpKind =
  | 'add'
  | 'join'
  | 'update'
  | 'mainChange'
  | 'remove'
  | 'rejoin'
  | 'deleteContact'
  | 'reimport'
  | 'mainReuse'
  | 'bad';

/** Share of transactions per kind; adds are the bulk, as in a CRM that mostly grows. */
export const OP_WEIGHTS: Record<OpKind, number> = {
  add: 30,
  join: 8,
  update: 30,
  mainChange: 4,
  remove: 14,
  rejoin: 5,
  deleteContact: 6,
  reimport: 3,
  mainReuse: 2,
  bad: 2,
};

/**
 * The writes a CRM makes with plain SQL, one transaction per call. It keeps no model of the
 * data beyond counters: the checker reads the truth from the database at the end.
 */
export class Workload implements WorkloadContext {
  private nextContact = 1;
  private nextMain = 1;
  private nextBad = 1;
  private readonly removed: [string, string][] = [];
  /** Groups the drivers may write to (a group is taken out just before it is deleted). */
  readonly groups: GroupSpec[];

  constructor(
    initial: GroupSpec[],
    /** Contacts at the low end of the id range are edited far more often ("several times"). */
    private readonly hotSize: number,
  ) {
    this.groups = initial.map((g) => ({ ...g, fields: [...g.fields] }));
  }

  /** Runs one operation of `kind`; returns how many changes (rows written) it made. */
  async run(kind: OpKind, tx: Tx, step: number): Promise<number> {
    switch (kind) {
      case 'add':
        return this.add(tx, randInt(20, 120));
      case 'join': {
        const group = pick(this.groups).id;
        const ids = this.someIds(randInt(20, 60), false);
        return this.insertMembers(
          tx,
          ids.map((c) => [group, c]),
        );
      }
      case 'update':
        return this.update(tx, step);
      case 'mainChange':
        return this.mainChange(tx);
      case 'remove':
        return this.remove(tx);
      case 'rejoin':
        return this.insertMembers(tx, this.removed.splice(0, randInt(10, 40)));
      case 'deleteContact': {
        const ids = this.someIds(randInt(5, 25), false);
        return rowCount(tx('DELETE FROM contacts WHERE id = ANY($1)', [ids]));
      }
      case 'reimport':
        return reimport(this, tx);
      case 'mainReuse':
        return mainReuse(this, tx);
      case 'bad':
        return badRecord(this, tx);
    }
  }

  async createGroup(tx: Tx, spec: GroupSpec): Promise<void> {
    await tx(CREATE_GROUP_SQL, [spec.id, groupName(spec.id), spec.type, spec.fields]);
    if (!this.groups.some((g) => g.id === spec.id)) this.groups.push({ ...spec });
  }

  /** Stops writing to the group, then deletes it (its memberships cascade). */
  async deleteGroup(tx: Tx, id: string): Promise<void> {
    const at = this.groups.findIndex((g) => g.id === id);
    if (at >= 0) this.groups.splice(at, 1);
    await tx('DELETE FROM groups WHERE id = $1', [id]);
  }

  /** Idempotent `change` of a group's fields (it may be retried after a lost COMMIT answer). */
  async setFields(tx: Tx, id: string, change: (fields: string[]) => string[]): Promise<void> {
    const spec = this.groups.find((g) => g.id === id);
    if (!spec) return;
    const fields = change(spec.fields);
    await tx('UPDATE groups SET fields = $2 WHERE id = $1', [id, fields]);
    spec.fields = fields;
  }

  allocateContacts(n: number): number {
    const first = this.nextContact;
    this.nextContact += n;
    return first;
  }

  nextMainNumber(): number {
    return this.nextMain++;
  }

  nextBadId(): string {
    return `bad${this.nextBad++}`;
  }

  someIds(n: number, hot: boolean): string[] {
    const top = Math.max(1, this.nextContact - 1);
    return Array.from({ length: n }, () => {
      const limit = hot && Math.random() < 0.7 ? Math.min(top, this.hotSize) : top;
      return `c${randInt(1, limit)}`;
    });
  }

  insertMembers(tx: Tx, pairs: [string, string][]): Promise<number> {
    // Joined to both tables: a contact or group deleted meanwhile is skipped, not an error.
    return rowCount(
      tx(
        `INSERT INTO group_members (group_id, contact_id)
         SELECT x.g, x.c FROM unnest($1::text[], $2::text[]) AS x(g, c)
         JOIN groups g ON g.id = x.g JOIN contacts c ON c.id = x.c
         ON CONFLICT DO NOTHING`,
        [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
      ),
    );
  }

  private async add(tx: Tx, n: number): Promise<number> {
    const first = this.allocateContacts(n);
    const ids = Array.from({ length: n }, (_, i) => first + i);
    await tx(
      `INSERT INTO contacts (id, mobile, email, attributes)
       SELECT 'c' || x.n, x.m, x.e, x.a
       FROM unnest($1::int[], $2::text[], $3::text[], $4::jsonb[]) AS x(n, m, e, a)`,
      [ids, ids.map(mobileOf), ids.map(emailOf), ids.map((i) => JSON.stringify(attributesFor(i)))],
    );
    // Each new contact joins one or two groups.
    const pairs: [string, string][] = [];
    for (const i of ids) {
      const one = pick(this.groups);
      const two = pick(this.groups);
      pairs.push([one.id, `c${i}`]);
      if (Math.random() < 0.5 && two.id !== one.id) pairs.push([two.id, `c${i}`]);
    }
    return this.insertMembers(tx, pairs);
  }

  private update(tx: Tx, step: number): Promise<number> {
    const { set, drop } = attributeEdit(step);
    return rowCount(
      tx(
        `UPDATE contacts SET attributes = (attributes || $2::jsonb) - $3::text[] WHERE id = ANY($1)`,
        [this.someIds(randInt(20, 80), true), JSON.stringify(set), drop ? [drop] : []],
      ),
    );
  }

  private async mainChange(tx: Tx): Promise<number> {
    let changes = 0;
    for (const id of this.someIds(randInt(3, 10), true)) {
      const n = this.nextMainNumber();
      const [column, value] =
        Math.random() < 0.5 ? ['mobile', newMobileOf(n)] : ['email', newEmailOf(n)];
      const sql = `UPDATE contacts SET ${column} = $2 WHERE id = $1`;
      changes += await rowCount(tx(sql, [id, value]));
    }
    return changes;
  }

  private async remove(tx: Tx): Promise<number> {
    const res = await tx(
      `DELETE FROM group_members WHERE group_id = $1 AND contact_id = ANY($2)
       RETURNING group_id, contact_id`,
      [pick(this.groups).id, this.someIds(randInt(60, 160), false)],
    );
    const rows = res.rows as { group_id: string; contact_id: string }[];
    // Kept for a later rejoin: a member deleted and added back must end up remote once.
    for (const r of rows) this.removed.push([r.group_id, r.contact_id]);
    if (this.removed.length > 5_000) this.removed.splice(0, this.removed.length - 5_000);
    return rows.length;
  }
}
