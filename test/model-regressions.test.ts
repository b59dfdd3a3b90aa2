import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Cmd } from './model/commands.ts';
import type { Mode } from './model/model.ts';
import { replay } from './model/runner.ts';
import { startWorld, type World } from './model/world.ts';

/**
 * Every counterexample the model-based test found, replayed as its exact command list (see
 * docs/chaos.md, "Model-based test"). `it.fails` marks those that still fail on the member-sync
 * code of today: when one starts passing, vitest says so and the mark comes off.
 */
let world: World;
beforeAll(async () => {
  world = await startWorld(inject('databaseUrl'), inject('redisUrl'));
});
afterAll(async () => {
  await world?.close();
});

async function expectClean(mode: Mode, cmds: Cmd[]): Promise<void> {
  const result = await replay(world, mode, cmds, { quiesceMs: 90_000 });
  expect(result.problems, JSON.stringify(result.executed)).toEqual([]);
}

const TIMEOUT = { timeout: 240_000 };

describe('model-based test counterexamples', () => {
  // Seed 7, strict-docs, found by `npm run model -- --mode strict --seed 7` (sequence 3, no shrink).
  // Timing-dependent: either g1 never settled (3 dirty marks left after the account errors) or
  // c3, which took c1's mobile in the hand-over, ended failed CONTACT_EXISTS (F5). Fixed by the
  // member pipeline (admission waits for departing holders; account refusals pause, never fail;
  // the stale copy of a member whose number was emptied is deleted, freeing it for the taker).
  it(
    'settles after account-level errors, a reinsert with a too long value and a main value emptied in a hand-over (strict, seed 7)',
    TIMEOUT,
    () =>
      expectClean('strict', [
        {
          k: 'createGroup',
          g: 'g1',
          type: 'mobile',
          attrs: ['name'],
          link: { columns: ['name'], foreign: [] },
        },
        {
          k: 'upsertContact',
          c: 'c1',
          mobile: '34600000001',
          email: null,
          name: 'Ana',
          city: null,
        },
        {
          k: 'upsertContact',
          c: 'c2',
          mobile: '34600000002',
          email: null,
          name: 'Ana',
          city: null,
        },
        {
          k: 'upsertContact',
          c: 'c3',
          mobile: '34600000003',
          email: null,
          name: 'Ana',
          city: null,
        },
        { k: 'addMember', g: 'g1', c: 'c1' },
        { k: 'addMember', g: 'g1', c: 'c2' },
        { k: 'addMember', g: 'g1', c: 'c3' },
        { k: 'wait', ms: 3000 },
        { k: 'remoteDeleteColumn', g: 'g1', field: 'city' },
        { k: 'accountError', code: 'INCORRECT_USER_PASSWORD', forMs: 1000 },
        { k: 'setField', c: 'c2', field: 'city', value: 'Vigo' },
        { k: 'wait', ms: 3000 },
        { k: 'accountError', code: 'NO_CREDITS', forMs: 1000 },
        { k: 'wait', ms: 100 },
        {
          k: 'reinsertContact',
          c: 'c2',
          mobile: '34600000002',
          email: 'a@x.es',
          name: 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
        },
        { k: 'wait', ms: 500 },
        { k: 'wait', ms: 1500 },
        { k: 'wait', ms: 500 },
        { k: 'wait', ms: 1500 },
        { k: 'wait', ms: 500 },
        { k: 'wait', ms: 500 },
        { k: 'handOver', taker: 'c3', giver: 'c1', field: 'mobile', giverNew: null },
        { k: 'setField', c: 'c1', field: 'name', value: 'Ana' },
      ]),
  );

  // Seed 20261207, strict-docs, the short budget's first sequence (test/model-sync.test.ts):
  // NO_CREDITS until cleared while two members leave and one comes back; once it is cleared,
  // g1 kept 3 dirty marks for 90 s (the account error left the group stalled, F11). Fixed by the
  // account pause: marks kept, the probe resumes every group with work.
  it(
    'resumes a group after an account-level error is cleared (strict, seed 20261207)',
    TIMEOUT,
    () =>
      expectClean('strict', [
        {
          k: 'createGroup',
          g: 'g1',
          type: 'mobile',
          attrs: ['name'],
          link: { columns: ['name'], foreign: [] },
        },
        {
          k: 'upsertContact',
          c: 'c1',
          mobile: '34600000001',
          email: null,
          name: 'Ana',
          city: null,
        },
        {
          k: 'upsertContact',
          c: 'c2',
          mobile: '34600000002',
          email: null,
          name: 'Ana',
          city: null,
        },
        {
          k: 'upsertContact',
          c: 'c3',
          mobile: '34600000003',
          email: null,
          name: 'Ana',
          city: null,
        },
        { k: 'addMember', g: 'g1', c: 'c1' },
        { k: 'addMember', g: 'g1', c: 'c2' },
        { k: 'addMember', g: 'g1', c: 'c3' },
        { k: 'wait', ms: 3000 },
        { k: 'accountError', code: 'NO_CREDITS', forMs: 0 },
        { k: 'remoteAddColumn', g: 'g1', field: 'note', withValue: false },
        { k: 'wait', ms: 100 },
        { k: 'removeMember', g: 'g1', c: 'c3' },
        { k: 'removeMember', g: 'g1', c: 'c2' },
        { k: 'wait', ms: 3000 },
        { k: 'wait', ms: 100 },
        { k: 'addMember', g: 'g1', c: 'c3' },
      ]),
  );

  // F2: a linked remote group's extra column with values was deleted, no hold. Fixed by the
  // link guard (a delete_column hold).
  it('keeps a linked remote column that holds values the database does not know', TIMEOUT, () =>
    expectClean('normal', [
      {
        k: 'createGroup',
        g: 'g2',
        type: 'mobile',
        attrs: ['name'],
        link: {
          columns: ['name', 'birthday'],
          foreign: [{ main: '34600000005', name: 'Pa', birthday: '1990' }],
        },
      },
      {
        k: 'upsertContact',
        c: 'c1',
        mobile: '34600000001',
        email: null,
        name: 'Ana',
        city: null,
      },
      { k: 'addMember', g: 'g2', c: 'c1' },
    ]),
  );

  // Found as "the remote group of a deleted linked row stays". It stays only when the row is
  // deleted before the daemon took the link up: a group it never synced is left alone (the check
  // accepts that); once linked, the delete goes through the guard.
  it('deletes (or holds) the remote group when the row of a linked group is deleted', TIMEOUT, () =>
    expectClean('normal', [
      {
        k: 'createGroup',
        g: 'g2',
        type: 'mobile',
        attrs: ['name'],
        link: { columns: ['name'], foreign: [] },
      },
      {
        k: 'upsertContact',
        c: 'c1',
        mobile: '34600000001',
        email: null,
        name: 'Ana',
        city: null,
      },
      { k: 'addMember', g: 'g2', c: 'c1' },
      { k: 'wait', ms: 1500 },
      { k: 'deleteGroup', g: 'g2' },
    ]),
  );

  // F3: deleting a linked group whose remote side holds more contacts than DELETE_GUARD_MIN.
  it(
    'holds the deletion of a linked group holding more remote contacts than the guard minimum',
    TIMEOUT,
    () =>
      expectClean('normal', [
        {
          k: 'createGroup',
          g: 'g2',
          type: 'mobile',
          attrs: ['name'],
          link: {
            columns: ['name'],
            foreign: [
              { main: '34600000004', name: 'Pa' },
              { main: '34600000005', name: 'Pa' },
              { main: '34600000006', name: 'Pa' },
              { main: '34600000007', name: 'Pa' },
            ],
          },
        },
        {
          k: 'upsertContact',
          c: 'c1',
          mobile: '34600000001',
          email: null,
          name: 'Ana',
          city: null,
        },
        { k: 'addMember', g: 'g2', c: 'c1' },
        { k: 'wait', ms: 1500 },
        { k: 'deleteGroup', g: 'g2' },
      ]),
  );

  // Seed 101, normal (`npm run model -- --runs 8 --seed 101 --no-shrink`, sequence 2): faults
  // with 503s while a group is created. Every 5xx is "maybe applied" and no method lists groups,
  // so the create stopped for an operator and its members never synced. Now the create is sent
  // once more (the possible orphan reported) and only a second unknown outcome waits for one.
  it('creates a group whose first creategroup answer was lost (normal, seed 101)', TIMEOUT, () =>
    expectClean('normal', [
      { k: 'createGroup', g: 'g1', type: 'mobile', attrs: ['name'], link: null },
      { k: 'upsertContact', c: 'c1', mobile: '34600000001', email: null, name: 'Ana', city: null },
      { k: 'upsertContact', c: 'c2', mobile: '34600000002', email: null, name: 'Ana', city: null },
      { k: 'upsertContact', c: 'c3', mobile: '34600000003', email: null, name: 'Ana', city: null },
      { k: 'addMember', g: 'g1', c: 'c1' },
      { k: 'addMember', g: 'g1', c: 'c2' },
      { k: 'addMember', g: 'g1', c: 'c3' },
      {
        k: 'faults',
        errorRate: 0.1,
        resetRate: 0.2,
        appliedThenResetRate: 0.3,
        appliedThenErrorRate: 0.1,
      },
      { k: 'wait', ms: 3000 },
      { k: 'remoteModify', g: 'g1', c: 'c1', field: 'name', value: 'Panel' },
      { k: 'wait', ms: 3000 },
      { k: 'remoteAddColumn', g: 'g1', field: 'note', withValue: false },
      { k: 'remoteDeleteColumn', g: 'g1', field: 'name' },
      { k: 'wait', ms: 3000 },
    ] as Cmd[]),
  );

  // Seed 101, strict-docs (sequence 3): the link of g1 was taken up after c2 had moved to c3's
  // number, so both were "maybe remote" with one value and each failed as the other's
  // duplicate; neither was remote. Now the smaller id keeps the value and adopts the copy.
  it(
    'keeps one of two members claiming one value before a link was looked up (strict, seed 101)',
    TIMEOUT,
    () =>
      expectClean('strict', [
        {
          k: 'createGroup',
          g: 'g1',
          type: 'mobile',
          attrs: ['name'],
          link: { columns: ['name'], foreign: [] },
        },
        {
          k: 'upsertContact',
          c: 'c1',
          mobile: '34600000001',
          email: null,
          name: 'Ana',
          city: null,
        },
        {
          k: 'upsertContact',
          c: 'c2',
          mobile: '34600000002',
          email: null,
          name: 'Ana',
          city: null,
        },
        {
          k: 'upsertContact',
          c: 'c3',
          mobile: '34600000003',
          email: null,
          name: 'Ana',
          city: null,
        },
        { k: 'addMember', g: 'g1', c: 'c1' },
        { k: 'addMember', g: 'g1', c: 'c2' },
        { k: 'addMember', g: 'g1', c: 'c3' },
        {
          k: 'upsertContact',
          c: 'c4',
          mobile: '34600000003',
          email: 'd@x.es',
          name: null,
          city: null,
        },
        { k: 'wait', ms: 500 },
        { k: 'kill', restartAfterMs: 0 },
        {
          k: 'createGroup',
          g: 'g2',
          type: 'mobile',
          attrs: ['name'],
          link: { columns: [], foreign: [{ main: '34600000005', birthday: '1990' }] },
        },
        {
          k: 'upsertContact',
          c: 'c2',
          mobile: '34600000003',
          email: null,
          name: 'Cy',
          city: 'Lugo',
        },
        { k: 'wait', ms: 1500 },
        {
          k: 'faults',
          errorRate: 0.05,
          resetRate: 0.2,
          appliedThenResetRate: 0,
          appliedThenErrorRate: 0.05,
        },
        { k: 'approve', g: 'g1' },
        { k: 'password', wrong: true },
        { k: 'wait', ms: 3000 },
        { k: 'addMember', g: 'g2', c: 'c3' },
      ] as Cmd[]),
  );
});
