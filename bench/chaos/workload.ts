import type pg from 'pg';
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
  | 'bad';

/** Share of transactions per kind; adds are the bulk, as in a CRM that mostly grows. */
export const OP_WEIGHTS: Record<OpKind, number> = {
  add: 30,
  join: 8,
  update: 30,
  mainChange: 4,
  remove: 14,
  rejoin: 5,
  deleteContact: 8,
  bad: 1,
};

type Tx = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/**
 * The writes a CRM makes with plain SQL, one transaction per call. It keeps no model of the
 * data beyond counters: the checker reads the truth from the database at the end.
 */
export class Workload {
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
    this.groups = [...initial];
  }

  /** Runs one operation of `kind`; returns how many changes (rows written) it made. */
  async run(kind: OpKind, tx: Tx, step: number): Promise<number> {
    switch (kind) {
      case 'add':
        return this.add(tx, randInt(20, 120));
      case 'join':
        return this.join(tx);
      case 'update':
        return this.update(tx, step);
      case 'mainChange':
        return this.mainChange(tx);
      case 'remove':
        return this.remove(tx);
      case 'rejoin':
        return this.rejoin(tx);
      case 'deleteContact':
        return this.count(tx('DELETE FROM contacts WHERE id = ANY($1)', [this.someIds(randInt(5, 25), false)]));
      case 'bad':
        return this.bad(tx);
    }
  }

  async createGroup(tx: Tx, spec: GroupSpec): Promise<void> {
    await tx(CREATE_GROUP_SQL, [spec.id, groupName(spec.id), spec.type, spec.fields]);
    this.groups.push(spec);
  }

  /** Stops writing to the group, then deletes it (its memberships cascade). */
  async deleteGroup(tx: Tx, id: string): Promise<void> {
    const at = this.groups.findIndex((g) => g.id === id);
    if (at >= 0) this.groups.splice(at, 1);
    await tx('DELETE FROM groups WHERE id = $1', [id]);
  }

  async setFields(tx: Tx, id: string, change: (fields: string[]) => string[]): Promise<void> {
    const spec = this.groups.find((g) => g.id === id);
    if (!spec) return;
    const fields = change(spec.fields);
    await tx('UPDATE groups SET fields = $2 WHERE id = $1', [id, fields]);
    spec.fields = fields;
  }

  private async count(result: Promise<pg.QueryResult>): Promise<number> {
    return (await result).rowCount ?? 0;
  }

  /** Ids of contacts that may exist; `hot` favours the small, often-edited range. */
  private someIds(n: number, hot: boolean): string[] {
    const top = Math.max(1, this.nextContact - 1);
    return Array.from({ length: n }, () => {
      const limit = hot && Math.random() < 0.7 ? Math.min(top, this.hotSize) : top;
      return `c${randInt(1, limit)}`;
    });
  }

  private async add(tx: Tx, n: number): Promise<number> {
    const first = this.nextContact;
    this.nextContact += n;
    const ids = Array.from({ length: n }, (_, i) => first + i);
    await tx(
      `INSERT INTO contacts (id, mobile, email, attributes)
       SELECT 'c' || x.n, x.m, x.e, x.a FROM unnest($1::int[], $2::text[], $3::text[], $4::jsonb[]) AS x(n, m, e, a)`,
      [
        ids,
        ids.map(mobileOf),
        ids.map(emailOf),
        ids.map((i) => JSON.stringify(attributesFor(i))),
      ],
    );
    // Each new contact joins one or two groups.
    const pairs: [string, string][] = [];
    for (const i of ids) {
      const first = pick(this.groups);
      pairs.push([first.id, `c${i}`]);
      const second = pick(this.groups);
      if (Math.random() < 0.5 && second.id !== first.id) pairs.push([second.id, `c${i}`]);
    }
    return this.insertMembers(tx, pairs);
  }

  private insertMembers(tx: Tx, pairs: [string, string][]): Promise<number> {
    // Joined to both tables: a contact or group deleted meanwhile is skipped, not an error.
    return this.count(
      tx(
        `INSERT INTO group_members (group_id, contact_id)
         SELECT x.g, x.c FROM unnest($1::text[], $2::text[]) AS x(g, c)
         JOIN groups g ON g.id = x.g JOIN contacts c ON c.id = x.c
         ON CONFLICT DO NOTHING`,
        [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
      ),
    );
  }

  private join(tx: Tx): Promise<number> {
    const group = pick(this.groups).id;
    return this.insertMembers(
      tx,
      this.someIds(randInt(20, 60), false).map((c) => [group, c]),
    );
  }

  private update(tx: Tx, step: number): Promise<number> {
    const { set, drop } = attributeEdit(step);
    return this.count(
      tx(
        `UPDATE contacts SET attributes = (attributes || $2::jsonb) - $3::text[] WHERE id = ANY($1)`,
        [this.someIds(randInt(20, 80), true), JSON.stringify(set), drop ? [drop] : []],
      ),
    );
  }

  private async mainChange(tx: Tx): Promise<number> {
    let changes = 0;
    for (const id of this.someIds(randInt(3, 10), true)) {
      const n = this.nextMain++;
      const [column, value] = Math.random() < 0.5 ? ['mobile', newMobileOf(n)] : ['email', newEmailOf(n)];
      changes += await this.count(tx(`UPDATE contacts SET ${column} = $2 WHERE id = $1`, [id, value]));
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

  private rejoin(tx: Tx): Promise<number> {
    const pairs = this.removed.splice(0, randInt(10, 40));
    return this.insertMembers(tx, pairs);
  }

  /** A record the provider cannot take: it must be recorded failed and block nothing else. */
  private async bad(tx: Tx): Promise<number> {
    const id = `bad${this.nextBad++}`;
    const group = pick(this.groups);
    const kind = pick(['no_main', 'too_long', 'duplicate', 'unencodable'] as const);
    if (kind === 'unencodable') {
      // Fine in an add (JSON), refused in a modify (field:value form): edits a live contact.
      const [target] = this.someIds(1, true);
      const set = JSON.stringify({ name: `Smith, John: ${id}` });
      return this.count(tx('UPDATE contacts SET attributes = attributes || $2::jsonb WHERE id = $1', [target, set]));
    }
    if (kind === 'duplicate') {
      // Shares the main value of a current member of the group.
      const holder = await tx(
        `SELECT c.mobile, c.email FROM group_members gm JOIN contacts c ON c.id = gm.contact_id
         WHERE gm.group_id = $1 LIMIT 1 OFFSET $2`,
        [group.id, randInt(0, 50)],
      );
      const row = holder.rows[0] as { mobile: string | null; email: string | null } | undefined;
      if (!row) return 0;
      await tx(`INSERT INTO contacts (id, mobile, email, attributes) VALUES ($1, $2, $3, $4)`, [
        id,
        row.mobile,
        row.email,
        { name: `Duplicate ${id}` },
      ]);
    } else {
      const n = 90_000_000 + this.nextBad;
      const name = kind === 'too_long' ? 'x'.repeat(300) : `Bad ${id}`;
      const main = kind === 'no_main' ? [null, null] : [mobileOf(n), emailOf(n)];
      await tx(`INSERT INTO contacts (id, mobile, email, attributes) VALUES ($1, $2, $3, $4)`, [
        id,
        ...main,
        { name },
      ]);
    }
    return this.insertMembers(tx, [[group.id, id]]);
  }
}
