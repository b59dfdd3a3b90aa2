import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonFleet } from '../daemon-fleet.ts';
import { addMembers, type Kit } from './repro-kit.ts';

/**
 * Minimal, deterministic reproductions of what the chaos soak found. Each returns true when the
 * defect shows (the database and the emulator disagree after convergence) and prints why.
 */
export interface Scenario {
  name: string;
  what: string;
  run(kit: Kit, say: (line: string) => void): Promise<boolean>;
}

const LOST_ANSWER = { appliedThenResetRate: 1 };
const NO_FAULTS = { appliedThenResetRate: 0 };

export const SCENARIOS: Scenario[] = [
  {
    name: 'ambiguous-delete-then-rejoin',
    what: 'deletecontact applied but its answer lost; the member is added back before the retry',
    async run(kit, say) {
      await addMembers(kit, [['c1', '34600000001', 'Ann']]);
      await kit.drained();
      await kit.stack.emulator.setFaults(LOST_ANSWER);
      const before = await kit.calls('deletecontact');
      await kit.sql(`DELETE FROM group_members WHERE contact_id = 'c1'`);
      await kit.calledMore('deletecontact', before);
      await kit.stopDaemon(); // or a SIGKILL between the call and the state write: same state
      await kit.stack.emulator.setFaults(NO_FAULTS);
      await kit.sql(`INSERT INTO group_members VALUES ('g', 'c1')`);
      await kit.startDaemon();
      await kit.drained();
      const remote = await kit.remote();
      const [state] = await kit.sql(`SELECT status, remote_id, last_method, last_result
        FROM sync_member_state WHERE contact_id = 'c1'`);
      say(`remote: ${JSON.stringify(remote)}; state of c1: ${JSON.stringify(state)}`);
      return !remote.some(([, f]) => f.mobile === '34600000001');
    },
  },
  {
    name: 'ambiguous-modify-then-revert',
    what: 'modifycontact applied but its answer lost; the CRM reverts the value before the retry',
    async run(kit, say) {
      await addMembers(kit, [['c2', '34600000002', 'Bob']]);
      await kit.drained();
      await kit.stack.emulator.setFaults(LOST_ANSWER);
      const before = await kit.calls('modifycontact');
      await kit.sql(`UPDATE contacts SET attributes = '{"name":"Robert"}' WHERE id = 'c2'`);
      await kit.calledMore('modifycontact', before);
      await kit.stopDaemon();
      await kit.stack.emulator.setFaults(NO_FAULTS);
      await kit.sql(`UPDATE contacts SET attributes = '{"name":"Bob"}' WHERE id = 'c2'`);
      await kit.startDaemon();
      await kit.drained();
      const remote = await kit.remote();
      say(`database name: Bob; remote: ${JSON.stringify(remote)}`);
      return remote.some(([, f]) => f.name !== 'Bob');
    },
  },
  {
    name: 'uncertain-add-then-main-change',
    what: 'addcontactlist applied but its answer lost; the mobile changes before the look-up',
    async run(kit, say) {
      await kit.stack.emulator.setFaults(LOST_ANSWER);
      const before = await kit.calls('addcontactlist');
      await addMembers(kit, [['c3', '34600000003', 'Cy']]);
      await kit.calledMore('addcontactlist', before);
      await kit.stopDaemon();
      await kit.stack.emulator.setFaults(NO_FAULTS);
      await kit.sql(`UPDATE contacts SET mobile = '34699999999' WHERE id = 'c3'`);
      await kit.startDaemon();
      await kit.drained();
      const remote = await kit.remote();
      say(`database: c3 has 34699999999 only; remote: ${JSON.stringify(remote)}`);
      return remote.length !== 1;
    },
  },
  {
    name: 'reimport-same-mobile',
    what: 'a contact deleted and created again under a new id with the same mobile, one transaction',
    async run(kit, say) {
      await addMembers(kit, [['c5', '34600000005', 'Eve']]);
      await kit.drained();
      await kit.sql(`BEGIN; DELETE FROM contacts WHERE id = 'c5';
        INSERT INTO contacts (id, mobile, attributes) VALUES ('c99', '34600000005', '{"name":"Eve"}');
        INSERT INTO group_members VALUES ('g', 'c99'); COMMIT;`);
      await kit.drained();
      const remote = await kit.remote();
      const [state] = await kit.sql(`SELECT status, last_error FROM sync_member_state
        WHERE contact_id = 'c99'`);
      say(`remote: ${JSON.stringify(remote)}; state of c99: ${JSON.stringify(state)}`);
      return remote.length !== 1;
    },
  },
  {
    name: 'number-moves-to-new-contact',
    what: 'a contact takes a new mobile and a new contact gets its old one, one transaction',
    async run(kit, say) {
      await addMembers(kit, [['c6', '34600000006', 'Fay']]);
      await kit.drained();
      await kit.sql(`BEGIN; UPDATE contacts SET mobile = '34600000066' WHERE id = 'c6';
        INSERT INTO contacts (id, mobile, attributes) VALUES ('c7', '34600000006', '{"name":"Gus"}');
        INSERT INTO group_members VALUES ('g', 'c7'); COMMIT;`);
      await kit.drained();
      const remote = await kit.remote();
      say(`database: c6 34600000066 Fay, c7 34600000006 Gus; remote: ${JSON.stringify(remote)}`);
      const has = (m: string, n: string) => remote.some(([, f]) => f.mobile === m && f.name === n);
      return !(remote.length === 2 && has('34600000066', 'Fay') && has('34600000006', 'Gus'));
    },
  },
  {
    name: 'column-added-before-group-marked',
    what: 'a member syncs after a column was added to the row but before the relay marked the group',
    async run(kit, say) {
      await addMembers(kit, [['c8', '34600000008', 'Hal']]);
      await kit.drained();
      await kit.stopDaemon();
      await kit.sql(`UPDATE groups SET fields = '{mobile,name,tier}' WHERE id = 'g'`);
      // Widens the window the relay normally closes in milliseconds: its claim of the group row.
      const held = await kit.sql(`DELETE FROM sync_outbox WHERE kind = 'group' RETURNING group_id`);
      await kit.sql(
        `UPDATE contacts SET attributes = '{"name":"Hal","tier":"gold"}' WHERE id = 'c8'`,
      );
      await kit.startDaemon();
      await kit.drained();
      await kit.sql(`INSERT INTO sync_outbox (kind, group_id) SELECT 'group', unnest($1::text[])`, [
        held.map((r) => r.group_id),
      ]);
      await kit.drained();
      const remote = await kit.remote();
      const [state] = await kit.sql(
        `SELECT synced_fields FROM sync_member_state WHERE contact_id = 'c8'`,
      );
      say(
        `database tier: gold; remote: ${JSON.stringify(remote)}; memory: ${JSON.stringify(state)}`,
      );
      return remote[0]?.[1].tier !== 'gold';
    },
  },
  {
    name: 'sigkill-mid-chunk-then-rejoin',
    what: 'a daemon SIGKILLed while deleting a chunk of members; they are added back before the retry',
    async run(kit, say) {
      await kit.stopDaemon();
      const dir = await mkdtemp(join(tmpdir(), 'afilnet-repro-logs-'));
      const fleet = new DaemonFleet(1, kit.stack.daemonEnv, dir, Date.now());
      try {
        fleet.startAll();
        const rows = Array.from({ length: 200 }, (_, i): [string, string, string] => [
          `k${i}`,
          `3462${String(i).padStart(7, '0')}`,
          `K ${i}`,
        ]);
        await addMembers(kit, rows);
        await kit.drained();
        // Slow answers: the chunk's 200 deletes take seconds, its state is written at the end.
        await kit.stack.emulator.setFaults({ latencyMs: 100 });
        const before = await kit.calls('deletecontact');
        await kit.sql(`DELETE FROM group_members WHERE contact_id LIKE 'k%'`);
        await kit.calledMore('deletecontact', before + 60);
        await fleet.killRandom(); // started again at once
        await kit.stack.emulator.setFaults({ latencyMs: 0 });
        await kit.sql(`INSERT INTO group_members SELECT 'g', id FROM contacts WHERE id LIKE 'k%'`);
        await kit.drained();
        const remote = await kit.remote();
        say(`deletes applied before the kill: ${(await kit.calls('deletecontact')) - before}`);
        say(`members in the database: 200; remote: ${remote.length}`);
        return remote.length !== 200;
      } finally {
        await fleet.stopAll(5_000);
        await rm(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'postgres-restart-during-run',
    what: 'pg_ctl restart -m fast while a daemon process is syncing a group',
    async run(kit, say) {
      await kit.stopDaemon();
      const dir = await mkdtemp(join(tmpdir(), 'afilnet-repro-logs-'));
      const fleet = new DaemonFleet(1, kit.stack.daemonEnv, dir, Date.now());
      try {
        // Slow answers keep the group's run (and its advisory-lock connection) busy.
        await kit.stack.emulator.setFaults({ latencyMs: 300 });
        fleet.startAll();
        const rows = Array.from({ length: 3_000 }, (_, i): [string, string, string] => [
          `p${i}`,
          `3461${String(i).padStart(7, '0')}`,
          `P ${i}`,
        ]);
        await addMembers(kit, rows);
        // Once the adds are through, 3,000 modifies at 300 ms each keep the run going for minutes.
        for (let i = 0; i < 300; i++) {
          const [row] = await kit.sql(`SELECT count(*)::int AS n FROM sync_member_state`);
          if (Number(row?.n) >= rows.length) break;
          await sleep(100);
        }
        await kit.sql(`UPDATE contacts SET attributes = '{"name":"Changed"}' WHERE id LIKE 'p%'`);
        await sleep(3_000);
        await kit.stack.postgres.restart();
        await sleep(3_000);
        say(`daemon exits on their own: ${JSON.stringify(fleet.unexpectedExits)}`);
        const log = await readFile(join(dir, 'daemon-0.log'), 'utf8');
        const cause = log
          .split('\n')
          .filter((l) => /Unhandled 'error'|^error: |at Client\./.test(l));
        say(`daemon log: ${cause.slice(0, 3).join(' | ')}`);
        return fleet.unexpectedExits.length > 0;
      } finally {
        await fleet.stopAll(5_000);
        await rm(dir, { recursive: true, force: true });
      }
    },
  },
];
