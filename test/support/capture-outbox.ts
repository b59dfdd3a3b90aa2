import type pg from 'pg';

/** One sync_outbox row's identity: kind, group id, contact id. */
export type Identity = [kind: string, groupId: string | null, contactId: string | null];

/** Reading what the capture triggers wrote, through one connection. */
export interface OutboxProbe {
  /** The newest outbox id visible to `client` (0 when empty). */
  lastId(): Promise<number>;
  /** Identities after `before`, as `client` sees them, sorted so cascade order does not matter. */
  since(before: number, client?: pg.Client): Promise<Identity[]>;
  /** What the outbox records for `sql` (run on its own, after emptying the outbox). */
  captured(sql: string): Promise<Identity[]>;
  /** Creates group `g` (type mobile) with `members` as its contacts, created when missing. */
  groupWith(g: string, members: string[]): Promise<void>;
}

export function outboxProbe(db: pg.Client): OutboxProbe {
  const probe: OutboxProbe = {
    async lastId() {
      const res = await db.query<{ id: string | null }>('SELECT max(id) AS id FROM sync_outbox');
      return Number(res.rows[0]?.id ?? 0);
    },
    async since(before, client = db) {
      const res = await client.query<{
        kind: string;
        group_id: string | null;
        contact_id: string | null;
      }>('SELECT kind, group_id, contact_id FROM sync_outbox WHERE id > $1', [before]);
      return res.rows
        .map((r): Identity => [r.kind, r.group_id, r.contact_id])
        .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    },
    async captured(sql) {
      // Emptied first: capture coalesces, so an identity already waiting would not show as new.
      await db.query('DELETE FROM sync_outbox');
      await db.query(sql);
      return probe.since(0);
    },
    async groupWith(g, members) {
      await db.query(
        `INSERT INTO groups (id, name, type, fields) VALUES ($1, $1, 'mobile', '{mobile}')`,
        [g],
      );
      for (const c of members) {
        await db.query(`INSERT INTO contacts (id, mobile) VALUES ($1, $1) ON CONFLICT DO NOTHING`, [
          c,
        ]);
        await db.query('INSERT INTO group_members (group_id, contact_id) VALUES ($1, $2)', [g, c]);
      }
    },
  };
  return probe;
}
