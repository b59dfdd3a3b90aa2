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
];
