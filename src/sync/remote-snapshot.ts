import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { AfilnetClient, RemoteContact, UnreadableContact } from '../afilnet/index.ts';
import { copyContactLines, copyText } from '../db/copy-contact-lines.ts';
import type { ApiCaller } from '../gateway/api-caller.ts';
import type { Priority } from '../gateway/rate-budget.ts';
import type { LookupMatches, RemoteRow } from '../planner/settle-member.ts';
import type { FieldValues } from '../planner/project-fields.ts';
import { learnRemoteIds } from '../state/member-state.ts';

/** One member to look up: the id it may have, its main value now and when last sent. */
export interface LookupKey {
  contactId: string;
  remoteId: string | null;
  main: string | null;
  previousMain: string | null;
}

export interface RemoteSnapshotDeps {
  pool: pg.Pool;
  client: AfilnetClient;
  caller: ApiCaller;
}

/**
 * A run's read of one remote group, staged in Postgres (`sync_remote_snapshot`) and looked up
 * with SQL, so a run never holds a remote group in memory. Read at most once per run, and read
 * again only when a look-up concerns a member this run has sent a call for since the read: such a
 * member's remote copy may have changed (an add without an id, a removal), so the old read would
 * miss it or show it as it was.
 */
export class RemoteSnapshot {
  private read = false;
  private readonly touched = new Set<string>();

  constructor(
    private readonly deps: RemoteSnapshotDeps,
    private readonly groupId: string,
    private readonly remoteId: string,
    private readonly mainField: string,
    private readonly fields: readonly string[],
  ) {}

  /** Notes calls about to change these members' remote copies. */
  touch(contactIds: Iterable<string>): void {
    if (!this.read) return;
    for (const id of contactIds) this.touched.add(id);
  }

  /** What the remote group holds for each member, read (again) when needed. */
  async lookup(
    keys: readonly LookupKey[],
    priority: Priority,
  ): Promise<Map<string, LookupMatches>> {
    const out = new Map<string, LookupMatches>();
    if (keys.length === 0) return out;
    if (!this.read || keys.some((k) => this.touched.has(k.contactId))) await this.load(priority);
    const res = await this.deps.pool.query<{
      contact_id: string;
      how: 'id' | 'main' | 'previous';
      idcontact: string;
      fields: FieldValues;
      owner: string | null;
    }>(
      `WITH k AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
                  AS k(contact_id, remote_id, main, previous)),
       hits AS MATERIALIZED (
         SELECT k.contact_id, 'id' AS how, r.* FROM k
         JOIN sync_remote_snapshot r ON r.group_id = $1 AND r.idcontact = k.remote_id
         UNION ALL
         SELECT k.contact_id, 'main', r.* FROM k
         JOIN sync_remote_snapshot r ON r.group_id = $1 AND r.main = k.main
         UNION ALL
         SELECT k.contact_id, 'previous', r.* FROM k
         JOIN sync_remote_snapshot r ON r.group_id = $1 AND r.main = k.previous),
       -- Members holding a hit's id. remote_id has no index: one pass over the group with the
       -- ids hashed, not one pass per hit (a million-member group ran past the statement timeout).
       held AS MATERIALIZED (
         SELECT o.remote_id, o.contact_id FROM sync_member_state o
         WHERE o.group_id = $1 AND o.remote_id = ANY(ARRAY(SELECT DISTINCT idcontact FROM hits)))
       SELECT h.contact_id, h.how, h.idcontact, h.fields,
              COALESCE(
                (SELECT d.contact_id FROM held d
                 WHERE d.remote_id = h.idcontact AND d.contact_id <> h.contact_id LIMIT 1),
                (SELECT o.contact_id FROM sync_member_state o
                 WHERE o.group_id = $1 AND o.contact_id <> h.contact_id AND o.remote_id IS NULL
                   AND o.main_value = h.main AND (o.synced_fields IS NOT NULL OR o.uncertain)
                 LIMIT 1)) AS owner
       FROM hits h ORDER BY length(h.idcontact), h.idcontact`,
      [
        this.groupId,
        keys.map((k) => k.contactId),
        keys.map((k) => k.remoteId),
        keys.map((k) => k.main),
        keys.map((k) => k.previousMain),
      ],
    );
    for (const k of keys) {
      out.set(k.contactId, { byId: null, byMain: [], byPrevious: [], heldByMember: null });
    }
    for (const r of res.rows) {
      const m = out.get(r.contact_id);
      if (!m) continue;
      const row: RemoteRow = { idcontact: r.idcontact, fields: r.fields };
      if (r.owner !== null) {
        // Another member's copy: never adopted, but its main value is not free.
        if (r.how === 'main') m.heldByMember ??= r.owner;
        continue;
      }
      if (r.how === 'id') m.byId = row;
      else if (r.how === 'main') (m.byMain as RemoteRow[]).push(row);
      else (m.byPrevious as RemoteRow[]).push(row);
    }
    return out;
  }

  /** Drops the staged rows (end of the run). */
  async release(): Promise<void> {
    if (!this.read) return;
    await this.deps.pool.query('DELETE FROM sync_remote_snapshot WHERE group_id = $1', [
      this.groupId,
    ]);
    this.read = false;
  }

  private async load(priority: Priority): Promise<void> {
    const { pool, client, caller } = this.deps;
    // Every try starts from an empty snapshot: a read cut short is not half-trusted.
    await caller.call('getcontacts', priority, async () => {
      const db = await pool.connect();
      // Contacts the client could not read whole (a field holding an object, say) still hold
      // their main value: staged with what could be read, so no look-up takes them for missing.
      const odd: RemoteContact[] = [];
      const onUnreadable = (c: UnreadableContact) => {
        if (c.idcontact !== null) odd.push({ idcontact: c.idcontact, fields: c.fields });
      };
      try {
        await db.query('DELETE FROM sync_remote_snapshot WHERE group_id = $1', [this.groupId]);
        // The COPY lasts as long as the download (minutes for a million contacts): the pool's
        // statement_timeout, meant for queries, must not cut it. Reset before the connection
        // goes back.
        await db.query('SET statement_timeout = 0');
        const copy = db.query(
          copyFrom('COPY sync_remote_snapshot (group_id, idcontact, main, fields) FROM STDIN'),
        );
        const lines = copyContactLines(
          withTail(client.streamContacts(this.remoteId, { onUnreadable }), odd),
          { mainField: this.mainField, fields: this.fields, leading: [copyText(this.groupId)] },
          { read: 0 },
        );
        await pipeline(Readable.from(lines), copy);
      } finally {
        await db.query('RESET statement_timeout').then(
          () => db.release(),
          (err: Error) => db.release(err),
        );
      }
    });
    this.read = true;
    this.touched.clear();
    await learnRemoteIds(pool, this.groupId);
  }
}

/** The stream's contacts, then those gathered in `tail` while it ran. */
async function* withTail(
  head: AsyncIterable<RemoteContact>,
  tail: readonly RemoteContact[],
): AsyncGenerator<RemoteContact, void, undefined> {
  yield* head;
  yield* tail;
}
