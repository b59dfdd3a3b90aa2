import type pg from 'pg';
import { AfilnetApiError, ContactEncodingError, type AfilnetClient } from '../src/afilnet/index.ts';
import type { GroupDef } from './bench-daemon.ts';

/**
 * The baseline the daemon is compared with: a naive sync that turns every change event into one
 * API call, as a first hand-written CRM → Afilnet bridge would. Row triggers record each event
 * with the contact as it was then; the loop replays them in order: a membership added →
 * addcontact, a contact updated → modifycontact (all the group's fields) for each of its groups,
 * a membership removed (or its contact deleted) → deletecontact. No coalescing, no batching, no
 * diffing. It is honest, not sabotaged: calls run 8 at a time, and where the provider answers
 * without ids (strict-docs) it reads a group's contacts only when an id it needs is unknown.
 */
export const NAIVE_CAPTURE_SQL = `
CREATE TABLE naive_events (
  id bigserial PRIMARY KEY, op text NOT NULL, group_id text NOT NULL, contact_id text NOT NULL,
  contact jsonb
);
CREATE FUNCTION naive_capture_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO naive_events (op, group_id, contact_id, contact)
      SELECT 'add', NEW.group_id, NEW.contact_id, to_jsonb(c) FROM contacts c WHERE c.id = NEW.contact_id;
  ELSE
    INSERT INTO naive_events (op, group_id, contact_id) VALUES ('delete', OLD.group_id, OLD.contact_id);
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION naive_capture_contact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO naive_events (op, group_id, contact_id, contact)
    SELECT 'modify', gm.group_id, NEW.id, to_jsonb(NEW) FROM group_members gm WHERE gm.contact_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER naive_member AFTER INSERT OR DELETE ON group_members
  FOR EACH ROW EXECUTE FUNCTION naive_capture_member();
CREATE TRIGGER naive_contact AFTER UPDATE ON contacts
  FOR EACH ROW WHEN ((OLD.mobile, OLD.email, OLD.attributes) IS DISTINCT FROM (NEW.mobile, NEW.email, NEW.attributes))
  EXECUTE FUNCTION naive_capture_contact();`;

interface NaiveEvent {
  id: string;
  op: 'add' | 'modify' | 'delete';
  group_id: string;
  contact_id: string;
  contact: {
    mobile: string | null;
    email: string | null;
    attributes: Record<string, unknown>;
  } | null;
}

export interface NaiveSyncDeps {
  db: pg.Pool;
  client: AfilnetClient;
  groups: readonly GroupDef[];
  /** Local group id → remote idgroup. */
  remoteIds: Map<string, string>;
}

const CONCURRENCY = 8;

/** Replays every recorded event; answers how many it replayed. */
export async function runNaiveSync(deps: NaiveSyncDeps): Promise<number> {
  const groups = new Map(deps.groups.map((g) => [g.id, g]));
  /** Member → remote id (null: added, but the answer carried no id). */
  const ids = new Map<string, string | null>();
  const mains = new Map<string, string>();
  /** Per group: main value → id, from the last getcontacts. */
  const lookups = new Map<string, Promise<Map<string, string>>>();
  /** Groups that got an add without an id since their last getcontacts. */
  const stale = new Set<string>();

  const remoteOf = (groupId: string): string => {
    const id = deps.remoteIds.get(groupId);
    if (!id) throw new Error(`no remote group for ${groupId}`);
    return id;
  };
  const project = (g: GroupDef, c: NonNullable<NaiveEvent['contact']>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const f of g.fields) {
      const raw = f === 'mobile' ? c.mobile : f === 'email' ? c.email : c.attributes[f];
      if (raw === null || raw === undefined || raw === '') continue;
      out[f] = typeof raw === 'string' ? raw : JSON.stringify(raw);
    }
    return out;
  };
  /** A read in flight serves every lane that misses meanwhile. */
  const reading = new Map<string, Promise<Map<string, string>>>();
  const readGroup = (groupId: string): Promise<Map<string, string>> => {
    const pending = reading.get(groupId);
    if (pending) return pending;
    stale.delete(groupId);
    const main = groups.get(groupId)?.type ?? 'mobile';
    const lookup = deps.client
      .getcontacts(remoteOf(groupId))
      .then((list) => new Map(list.map((c) => [c.fields[main] ?? '', c.idcontact])))
      .finally(() => reading.delete(groupId));
    reading.set(groupId, lookup);
    lookups.set(groupId, lookup);
    return lookup;
  };
  // Reads the group only on a miss, and again only if an add without an id came since.
  const idOf = async (key: string, groupId: string): Promise<string | null> => {
    const known = ids.get(key);
    if (known) return known;
    const main = mains.get(key);
    if (known === undefined || main === undefined) return null;
    const cached = lookups.get(groupId);
    const found = cached ? (await cached).get(main) : undefined;
    if (found !== undefined) return found;
    if (cached && !stale.has(groupId)) return null;
    return (await readGroup(groupId)).get(main) ?? null;
  };

  const apply = async (e: NaiveEvent): Promise<void> => {
    const group = groups.get(e.group_id);
    if (!group) return;
    const key = `${e.group_id}/${e.contact_id}`;
    const remote = remoteOf(e.group_id);
    try {
      if (e.op === 'add' && e.contact) {
        const fields = project(group, e.contact);
        const { idcontact } = await deps.client.addcontact(remote, fields);
        ids.set(key, idcontact);
        mains.set(key, fields[group.type] ?? '');
        if (idcontact === null) stale.add(e.group_id);
      } else if (e.op === 'modify' && e.contact) {
        const id = await idOf(key, e.group_id);
        if (!id) return;
        const fields = project(group, e.contact);
        await deps.client.modifycontact(remote, id, fields);
        mains.set(key, fields[group.type] ?? '');
      } else if (e.op === 'delete') {
        const id = await idOf(key, e.group_id);
        if (!id) return;
        await deps.client.deletecontact(remote, id);
        ids.delete(key);
      }
    } catch (err) {
      // The provider refused the record, or it cannot be written in the field:value form: the
      // naive sync moves on, as the daemon does (its refusals are recorded, not retried).
      if (!(err instanceof AfilnetApiError || err instanceof ContactEncodingError)) throw err;
    }
  };

  let replayed = 0;
  for (;;) {
    const res = await deps.db.query<NaiveEvent>(
      `DELETE FROM naive_events WHERE id IN (SELECT id FROM naive_events ORDER BY id LIMIT 2000)
       RETURNING id::text, op, group_id, contact_id, contact`,
    );
    if (res.rows.length === 0) return replayed;
    const events = res.rows.sort((a, b) => Number(a.id) - Number(b.id));
    // Runs of adds and runs of other events take turns, so a look-up never races an earlier add;
    // inside a run, one lane per member keeps its events in order, members side by side.
    for (let i = 0; i < events.length;) {
      const isAdd = events[i]?.op === 'add';
      let j = i;
      while (j < events.length && (events[j]?.op === 'add') === isAdd) j++;
      await runLanes(events.slice(i, j), apply);
      i = j;
    }
    replayed += events.length;
  }
}

async function runLanes(
  events: NaiveEvent[],
  apply: (e: NaiveEvent) => Promise<void>,
): Promise<void> {
  const lanes = new Map<string, NaiveEvent[]>();
  for (const e of events) {
    const key = `${e.group_id}/${e.contact_id}`;
    const lane = lanes.get(key);
    if (lane) lane.push(e);
    else lanes.set(key, [e]);
  }
  const queue = [...lanes.values()];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let lane = queue.shift(); lane; lane = queue.shift()) {
        for (const e of lane) await apply(e);
      }
    }),
  );
}
