import { describe, expect, it } from 'vitest';
import type { Admission } from '../src/planner/admit-main-values.ts';
import { admitMainValues } from '../src/planner/admit-main-values.ts';
import { callOutcome, type CallOutcome, type CallResult } from '../src/planner/call-outcome.ts';
import {
  actionAfterCall,
  actionUnsent,
  methodOf,
  stepAfterAdmission,
  stepAfterPlan,
  stepAfterSettle,
  type AddCall,
  type Call,
  type Claimant,
  type DeleteCall,
  type LedgerAction,
  type Lookup,
  type ModifyCall,
  type Step,
} from '../src/planner/member-steps.ts';
import {
  planMemberSync,
  type MemberOp,
  type MemberSnapshot,
} from '../src/planner/plan-member-sync.ts';
import type { GroupShape } from '../src/planner/project-fields.ts';
import type { Settlement } from '../src/planner/settle-member.ts';

const mark = { contactId: 'c', seq: '7' };
const fields = { mobile: '600', name: 'Ana' };

type PlannedMember = MemberSnapshot & { seq: string; bulk: boolean; status: string | null };
const member = (over: Partial<PlannedMember> = {}): PlannedMember => ({
  contactId: 'c',
  seq: '7',
  bulk: false,
  status: 'synced',
  contact: null,
  remoteId: null,
  syncedFields: null,
  uncertain: false,
  ...over,
});

type ClaimOp = Claimant['op'];
const addOp: ClaimOp = { kind: 'add', contactId: 'c', fields, main: '600' };
const resolveOp = (remoteId: string | null, previousMain: string | null = '500'): ClaimOp => ({
  kind: 'resolve',
  contactId: 'c',
  fields,
  main: '600',
  remoteId,
  previousMain,
});
const modifyOp = (remoteId: string | null, previousMain: string | null = '500'): ClaimOp => ({
  kind: 'modify',
  contactId: 'c',
  remoteId,
  main: '600',
  previousMain,
  fields,
  changed: previousMain === '600' ? { name: 'Ana' } : { mobile: '600' },
});

const write = (action: LedgerAction): Step => ({ kind: 'write', action });
const call = (c: Call): Step => ({ kind: 'call', call: c });
const lookup = (l: Lookup): Step => ({ kind: 'lookup', lookup: l });

describe('stepAfterPlan', () => {
  it.each<[string, Partial<PlannedMember>, MemberOp, Step]>([
    [
      'forgets a member that never reached Afilnet',
      {},
      { kind: 'none', contactId: 'c', forget: true },
      write({ do: 'forget', mark }),
    ],
    [
      'settles the mark of a synced member that needs nothing',
      { syncedFields: fields, remoteId: '5' },
      { kind: 'none', contactId: 'c', forget: false },
      write({ do: 'settled', mark }),
    ],
    [
      'records a failed member that now needs nothing as synced again (fixed remotely)',
      { status: 'failed', syncedFields: fields, remoteId: '5' },
      { kind: 'none', contactId: 'c', forget: false },
      write({
        do: 'synced',
        mark,
        remoteId: '5',
        fields,
        main: '600',
        method: null,
        result: null,
      }),
    ],
    [
      'records a member without a status as synced, even with no id known',
      { status: null, syncedFields: fields },
      { kind: 'none', contactId: 'c', forget: false },
      write({
        do: 'synced',
        mark,
        remoteId: null,
        fields,
        main: '600',
        method: null,
        result: null,
      }),
    ],
    [
      "records '' as the main value when the synced fields lack it",
      { status: 'failed', syncedFields: { name: 'Ana' } },
      { kind: 'none', contactId: 'c', forget: false },
      write({
        do: 'synced',
        mark,
        remoteId: null,
        fields: { name: 'Ana' },
        main: '',
        method: null,
        result: null,
      }),
    ],
    [
      'only settles a failed member when nothing is known to record',
      { status: 'failed' },
      { kind: 'none', contactId: 'c', forget: false },
      write({ do: 'settled', mark }),
    ],
    [
      'fails an invalid member with its code and reason, before any call',
      {},
      { kind: 'invalid', contactId: 'c', code: 'MISSING_MAIN_FIELD', reason: 'no mobile' },
      write({ do: 'failed', mark, method: null, error: 'MISSING_MAIN_FIELD: no mobile' }),
    ],
    [
      'deletes a departed member by its id',
      { bulk: true },
      { kind: 'delete', contactId: 'c', remoteId: '5', main: '600' },
      call({ kind: 'delete', mark, bulk: true, remoteId: '5', release: false }),
    ],
    [
      'looks a departed member up by its main value when its id is unknown (never just forgets it)',
      {},
      { kind: 'delete', contactId: 'c', remoteId: null, main: '600' },
      lookup({ mark, bulk: false, remoteId: null, need: { kind: 'absent', main: '600' } }),
    ],
    [
      'forgets a departed member with neither id nor main value known (nothing to look for)',
      {},
      { kind: 'delete', contactId: 'c', remoteId: null, main: null },
      write({ do: 'forget', mark }),
    ],
    [
      'sends an add through admission of its main value',
      { bulk: true },
      addOp,
      { kind: 'claim', claimant: { mark, bulk: true, op: addOp } },
    ],
    [
      'sends a resolve through admission of its main value',
      {},
      resolveOp('5'),
      { kind: 'claim', claimant: { mark, bulk: false, op: resolveOp('5') } },
    ],
    [
      'sends a modify that changes the main value through admission (a number handed over)',
      {},
      modifyOp('5', '500'),
      { kind: 'claim', claimant: { mark, bulk: false, op: modifyOp('5', '500') } },
    ],
    [
      'sends a modify whose previous main value is unknown through admission',
      {},
      modifyOp('5', null),
      { kind: 'claim', claimant: { mark, bulk: false, op: modifyOp('5', null) } },
    ],
    [
      'modifies by id when the main value stays',
      {},
      modifyOp('5', '600'),
      call({
        kind: 'modify',
        mark,
        bulk: false,
        remoteId: '5',
        fields,
        main: '600',
        changed: { name: 'Ana' },
        drop: null,
      }),
    ],
    [
      'looks a modify without an id up first (an id never learnt must not lose the change)',
      {},
      modifyOp(null, '600'),
      lookup({
        mark,
        bulk: false,
        remoteId: null,
        need: { kind: 'present', fields, main: '600', previousMain: '600' },
      }),
    ],
  ])('%s', (_name, over, op, expected) => {
    expect(stepAfterPlan(member(over), op, 'mobile')).toStrictEqual(expected);
  });
});

describe('stepAfterAdmission', () => {
  const claimant = (op: ClaimOp, bulk = false): Claimant => ({ mark, bulk, op });
  it.each<[string, ClaimOp, Admission, Step]>([
    ['waits for a departing holder (add)', addOp, { kind: 'wait', holder: 'b' }, { kind: 'wait' }],
    [
      'waits for a departing holder (resolve)',
      resolveOp('5'),
      { kind: 'wait', holder: 'b' },
      { kind: 'wait' },
    ],
    [
      'waits for a departing holder (modify: a number handed over)',
      modifyOp('5'),
      { kind: 'wait', holder: 'b' },
      { kind: 'wait' },
    ],
    ...[addOp, resolveOp('5'), modifyOp('5')].map((op): [string, ClaimOp, Admission, Step] => [
      `fails a duplicate ${op.kind} naming the member that holds the value${op.kind === 'modify' ? ', keeping its confirmed copy' : ', giving up an unconfirmed copy'}`,
      op,
      { kind: 'duplicate', holder: 'b' },
      write({
        do: 'failed',
        mark,
        method: null,
        error: 'DUPLICATE_MAIN_FIELD: contact b of this group already has mobile 600',
        ...(op.kind === 'modify' ? {} : { clearCopy: true }),
      }),
    ]),
    [
      'releases a modify by deleting its copy by id, keeping the member',
      modifyOp('5'),
      { kind: 'release' },
      call({ kind: 'delete', mark, bulk: false, remoteId: '5', release: true }),
    ],
    [
      'releases a resolve by deleting its copy by id',
      resolveOp('5'),
      { kind: 'release' },
      call({ kind: 'delete', mark, bulk: false, remoteId: '5', release: true }),
    ],
    [
      'releases a modify without an id by looking its copy up by the previous main value',
      modifyOp(null, '500'),
      { kind: 'release' },
      lookup({
        mark,
        bulk: false,
        remoteId: null,
        release: true,
        need: { kind: 'absent', main: '500' },
      }),
    ],
    [
      'releases a resolve without an id by looking its copy up by the previous main value',
      resolveOp(null, '500'),
      { kind: 'release' },
      lookup({
        mark,
        bulk: false,
        remoteId: null,
        release: true,
        need: { kind: 'absent', main: '500' },
      }),
    ],
    [
      'releases an add (no copy known) through a look-up that can only find nothing',
      addOp,
      { kind: 'release' },
      lookup({
        mark,
        bulk: false,
        remoteId: null,
        release: true,
        need: { kind: 'absent', main: null },
      }),
    ],
    [
      'sends an admitted add',
      addOp,
      { kind: 'go' },
      call({ kind: 'add', mark, bulk: false, fields, main: '600' }),
    ],
    [
      'sends an admitted modify by id',
      modifyOp('5'),
      { kind: 'go' },
      call({
        kind: 'modify',
        mark,
        bulk: false,
        remoteId: '5',
        fields,
        main: '600',
        changed: { mobile: '600' },
        drop: null,
      }),
    ],
    [
      'looks an admitted modify without an id up, by its previous main value too',
      modifyOp(null, '500'),
      { kind: 'go' },
      lookup({
        mark,
        bulk: false,
        remoteId: null,
        need: { kind: 'present', fields, main: '600', previousMain: '500' },
      }),
    ],
    [
      'looks an admitted resolve up before re-sending it, by id and both main values',
      resolveOp('5', '500'),
      { kind: 'go' },
      lookup({
        mark,
        bulk: false,
        remoteId: '5',
        need: { kind: 'present', fields, main: '600', previousMain: '500' },
      }),
    ],
  ])('%s', (_name, op, admission, expected) => {
    expect(stepAfterAdmission(claimant(op), admission, 'mobile')).toStrictEqual(expected);
  });

  it('keeps the bulk flag on the call it makes', () => {
    expect(stepAfterAdmission(claimant(addOp, true), { kind: 'go' }, 'mobile')).toStrictEqual(
      call({ kind: 'add', mark, bulk: true, fields, main: '600' }),
    );
  });
});

describe('stepAfterSettle', () => {
  const presentNeed = { kind: 'present', fields, main: '600', previousMain: '500' } as const;
  const present: Lookup = { mark, bulk: false, remoteId: null, need: presentNeed };
  const absent: Lookup = {
    mark,
    bulk: true,
    remoteId: null,
    need: { kind: 'absent', main: '600' },
  };
  const releasing: Lookup = {
    mark,
    bulk: false,
    remoteId: null,
    release: true,
    need: { kind: 'absent', main: '500' },
  };
  const synced = (remoteId: string): Step =>
    write({
      do: 'synced',
      mark,
      remoteId,
      fields,
      main: '600',
      method: 'getcontacts',
      result: 'adopted',
    });

  it.each<[string, Lookup, Settlement, Step]>([
    [
      'forgets a departed member found nowhere',
      absent,
      { kind: 'forget' },
      write({ do: 'forget', mark }),
    ],
    [
      'forgets a departed member whose look-up says release: false',
      { ...absent, release: false },
      { kind: 'forget' },
      write({ do: 'forget', mark }),
    ],
    [
      'keeps a releasing member that has no copy to release: not remote, never forgotten',
      releasing,
      { kind: 'forget' },
      write({ do: 'not-remote', contactId: 'c' }),
    ],
    [
      'deletes the copy found for a departed member',
      absent,
      { kind: 'delete', remoteId: '7' },
      call({ kind: 'delete', mark, bulk: true, remoteId: '7', release: false }),
    ],
    [
      'deletes the copy found for a releasing member as a release',
      releasing,
      { kind: 'delete', remoteId: '7' },
      call({ kind: 'delete', mark, bulk: false, remoteId: '7', release: true }),
    ],
    [
      'only settles the mark when a departed member settles in any other way',
      absent,
      { kind: 'adopt', remoteId: '7' },
      write({ do: 'settled', mark }),
    ],
    [
      'waits for the member owning its main value',
      present,
      { kind: 'wait', holder: 'b' },
      { kind: 'wait' },
    ],
    [
      'adds a member found nowhere, with the values wanted',
      present,
      { kind: 'add' },
      call({ kind: 'add', mark, bulk: false, fields, main: '600' }),
    ],
    [
      'records an adopted copy as synced without a call',
      present,
      { kind: 'adopt', remoteId: '7' },
      synced('7'),
    ],
    [
      'records a copy with nothing to change as adopted',
      present,
      { kind: 'modify', remoteId: '7', changed: {} },
      synced('7'),
    ],
    [
      'modifies the copy found, with only the changed fields',
      present,
      { kind: 'modify', remoteId: '7', changed: { name: 'Ana' } },
      call({
        kind: 'modify',
        mark,
        bulk: false,
        remoteId: '7',
        fields,
        main: '600',
        changed: { name: 'Ana' },
        drop: null,
      }),
    ],
    [
      'modifies the holder of the main value and drops the old copy (replace)',
      present,
      { kind: 'replace', remoteId: '7', changed: { name: 'Ana' }, drop: '5' },
      call({
        kind: 'modify',
        mark,
        bulk: false,
        remoteId: '7',
        fields,
        main: '600',
        changed: { name: 'Ana' },
        drop: '5',
      }),
    ],
  ])('%s', (_name, l, settlement, expected) => {
    expect(stepAfterSettle(l, settlement)).toStrictEqual(expected);
  });

  // Regression: a replace whose holder already has every wanted value (always the case in a group
  // whose only column is the main field) became a modifycontact with an empty `changed`, which the
  // provider refuses (MISSING_COMPULSORY_PARAM): the member failed and the stray stayed.
  it('never sends a modifycontact with nothing to change (replace by an identical holder)', () => {
    const step = stepAfterSettle(present, {
      kind: 'replace',
      remoteId: '7',
      changed: {},
      drop: '5',
    });
    const emptyModify =
      step.kind === 'call' &&
      step.call.kind === 'modify' &&
      Object.keys(step.call.changed).length === 0;
    expect(emptyModify).toBe(false);
  });
});

const add: AddCall = { kind: 'add', mark, bulk: false, fields, main: '600' };
const modify: ModifyCall = {
  kind: 'modify',
  mark,
  bulk: false,
  remoteId: '5',
  fields,
  main: '600',
  changed: { name: 'Ana' },
  drop: null,
};
const replacing: ModifyCall = { ...modify, remoteId: '7', drop: '5' };
const del: DeleteCall = { kind: 'delete', mark, bulk: false, remoteId: '5', release: false };
const release: DeleteCall = { ...del, release: true };

describe('methodOf', () => {
  it.each<[Call, string]>([
    [add, 'addcontactlist'],
    [modify, 'modifycontact'],
    [del, 'deletecontact'],
    [release, 'deletecontact'],
  ])('sends a %o with %s', (c, method) => {
    expect(methodOf(c)).toBe(method);
  });
});

describe('actionAfterCall', () => {
  const o = (over: Partial<CallOutcome>): CallOutcome => ({
    member: 'unchanged',
    clearMark: false,
    retry: false,
    split: false,
    error: null,
    pauseAccount: null,
    failGroup: null,
    ...over,
  });
  const ok = (remoteId: string | null): CallResult => ({ type: 'ok', remoteId });
  const notRemote: LedgerAction = { do: 'not-remote', contactId: 'c' };
  const unsent: LedgerAction = { do: 'unsent', contactId: 'c' };

  it.each<[string, Call, CallResult, CallOutcome, LedgerAction]>([
    [
      'records an add with the id it got',
      add,
      ok('42'),
      o({ member: 'synced', clearMark: true }),
      {
        do: 'synced',
        mark,
        remoteId: '42',
        fields,
        main: '600',
        method: 'addcontactlist',
        result: 'idcontact 42',
      },
    ],
    [
      'records an add answered without an id (strict docs)',
      add,
      ok(null),
      o({ member: 'synced', clearMark: true }),
      {
        do: 'synced',
        mark,
        remoteId: null,
        fields,
        main: '600',
        method: 'addcontactlist',
        result: 'SUCCESS',
      },
    ],
    [
      'records an add as synced without an id when the answer is not ok',
      add,
      { type: 'skipped' },
      o({ member: 'synced' }),
      {
        do: 'synced',
        mark,
        remoteId: null,
        fields,
        main: '600',
        method: 'addcontactlist',
        result: 'SUCCESS',
      },
    ],
    [
      'records a modify with the id it was sent to',
      modify,
      ok(null),
      o({ member: 'synced', clearMark: true }),
      {
        do: 'synced',
        mark,
        remoteId: '5',
        fields,
        main: '600',
        method: 'modifycontact',
        result: 'SUCCESS',
      },
    ],
    [
      'records a replace with the id of the holder it took over',
      replacing,
      ok('99'),
      o({ member: 'synced', clearMark: true }),
      {
        do: 'synced',
        mark,
        remoteId: '7',
        fields,
        main: '600',
        method: 'modifycontact',
        result: 'SUCCESS',
      },
    ],
    [
      'never records a delete as synced: the mark is kept',
      del,
      ok(null),
      o({ member: 'synced' }),
      { do: 'keep' },
    ],
    [
      'forgets a departed member whose copy is gone',
      del,
      ok(null),
      o({ member: 'gone', clearMark: true }),
      { do: 'forget', mark },
    ],
    [
      'keeps a releasing member whose copy is gone: it is added again next pass',
      release,
      ok(null),
      o({ member: 'gone', clearMark: true }),
      notRemote,
    ],
    [
      'takes a modify of a contact gone remotely as not remote (re-added next pass)',
      modify,
      { type: 'api', code: 'NOT_ACCESS_TO_CONTACT', scope: 'call' },
      o({ member: 'gone' }),
      notRemote,
    ],
    ['takes a gone add as not remote', add, ok(null), o({ member: 'gone' }), notRemote],
    [
      'fails a refused add with the outcome error',
      add,
      { type: 'api', code: 'INCORRECT_MOBILE', scope: 'call' },
      o({ member: 'failed', clearMark: true, error: 'INCORRECT_MOBILE' }),
      { do: 'failed', mark, method: 'addcontactlist', error: 'INCORRECT_MOBILE' },
    ],
    [
      'fails a refused delete with the outcome error',
      del,
      { type: 'api', code: 'X', scope: 'call' },
      o({ member: 'failed', clearMark: true, error: 'X' }),
      { do: 'failed', mark, method: 'deletecontact', error: 'X' },
    ],
    [
      "fails with 'refused' when the outcome has no error",
      modify,
      { type: 'api', code: 'X', scope: 'call' },
      o({ member: 'failed', clearMark: true }),
      { do: 'failed', mark, method: 'modifycontact', error: 'refused' },
    ],
    [
      'takes an unapplied add as not remote',
      add,
      { type: 'retryable' },
      o({ retry: true }),
      notRemote,
    ],
    [
      'takes an unapplied modify back (unsent)',
      modify,
      { type: 'retryable' },
      o({ retry: true }),
      unsent,
    ],
    [
      'takes an unapplied delete back (unsent)',
      del,
      { type: 'retryable' },
      o({ retry: true }),
      unsent,
    ],
    [
      'takes an unapplied release back (unsent)',
      release,
      { type: 'retryable' },
      o({ retry: true }),
      unsent,
    ],
    ...[add, modify, del, release].map(
      (c): [string, Call, CallResult, CallOutcome, LedgerAction] => [
        `keeps the write-ahead mark of an uncertain ${c.kind}${c.kind === 'delete' && c.release ? ' (release)' : ''} for a look-up`,
        c,
        { type: 'ambiguous' },
        o({ member: 'uncertain', retry: true }),
        { do: 'keep' },
      ],
    ),
  ])('%s', (_name, c, answer, outcome, expected) => {
    expect(actionAfterCall(c, answer, outcome)).toStrictEqual(expected);
  });

  it.each<[string, Call, LedgerAction]>([
    ['add', add, notRemote],
    ['modify', modify, unsent],
    ['delete', del, unsent],
    ['release', release, unsent],
  ])(
    'fails no member when the account is refused (a rotated password): %s',
    (_kind, c, expected) => {
      const answer: CallResult = { type: 'api', code: 'INCORRECT_USER_PASSWORD', scope: 'account' };
      expect(actionAfterCall(c, answer, callOutcome(methodOf(c), answer, 500))).toStrictEqual(
        expected,
      );
    },
  );

  it.each<[string, Call, LedgerAction]>([
    ['add', add, notRemote],
    ['modify', modify, unsent],
    ['delete', del, unsent],
  ])('fails no member when the group is gone: %s', (_kind, c, expected) => {
    const answer: CallResult = { type: 'api', code: 'NOT_ACCESS_TO_GROUP', scope: 'group' };
    expect(actionAfterCall(c, answer, callOutcome(methodOf(c), answer))).toStrictEqual(expected);
  });

  it('keeps a modify refused with CONTACT_EXISTS for a look-up instead of failing it', () => {
    const answer: CallResult = { type: 'api', code: 'CONTACT_EXISTS', scope: 'call' };
    expect(actionAfterCall(modify, answer, callOutcome('modifycontact', answer))).toStrictEqual({
      do: 'keep',
    });
  });
});

describe('actionUnsent', () => {
  it.each<[string, Call, LedgerAction]>([
    ['an add is not remote', add, { do: 'not-remote', contactId: 'c' }],
    ['a modify goes back to what was known', modify, { do: 'unsent', contactId: 'c' }],
    ['a delete goes back to what was known', del, { do: 'unsent', contactId: 'c' }],
    ['a release goes back to what was known', release, { do: 'unsent', contactId: 'c' }],
  ])('for a call never sent, %s', (_name, c, expected) => {
    expect(actionUnsent(c)).toStrictEqual(expected);
  });
});

describe('the member pipeline (plan → admit → step)', () => {
  const group: GroupShape = { type: 'mobile', fields: ['mobile', 'name'] };
  const limits = { maxFieldLength: 50 };
  const contact = (mobile: string) => ({ mobile, email: null, attributes: { name: 'Ana' } });
  const snapshot = (
    contactId: string,
    now: string,
    was: string,
    remoteId: string | null,
  ): PlannedMember => ({
    contactId,
    seq: '1',
    bulk: false,
    status: 'synced',
    contact: contact(now),
    remoteId,
    syncedFields: { mobile: was, name: 'Ana' },
    uncertain: false,
  });
  const route = (
    members: PlannedMember[],
    claims: Map<string, { holder: string; departing: boolean }>,
  ) => {
    const steps = members.map((m) => stepAfterPlan(m, planMemberSync(group, m, limits), 'mobile'));
    const claimants = steps.flatMap((s) => (s.kind === 'claim' ? [s.claimant] : []));
    const admitted = admitMainValues(
      claimants.map((c) => ({ contactId: c.mark.contactId, main: c.op.main })),
      claims,
    );
    return claimants.map((c) => {
      const admission = admitted.get(c.mark.contactId);
      if (!admission) throw new Error(`no admission for ${c.mark.contactId}`);
      return stepAfterAdmission(c, admission, 'mobile');
    });
  };

  it('waits for a departing holder instead of failing (a number handed from one member to another)', () => {
    // b gives 600 up for 601; a takes 600 in the same transaction.
    const steps = route(
      [snapshot('a', '600', '500', '5'), snapshot('b', '601', '600', '6')],
      new Map([['a', { holder: 'b', departing: true }]]),
    );
    expect(steps.map((s) => s.kind)).toEqual(['wait', 'call']);
    expect(steps[1]).toMatchObject({
      call: { kind: 'modify', remoteId: '6', changed: { mobile: '601' } },
    });
  });

  it('swaps two numbers with one release and one wait, no failure', () => {
    const steps = route(
      [snapshot('a', '601', '600', '5'), snapshot('b', '600', '601', '6')],
      new Map([
        ['a', { holder: 'b', departing: true }],
        ['b', { holder: 'a', departing: true }],
      ]),
    );
    expect(steps).toStrictEqual([
      call({
        kind: 'delete',
        mark: { contactId: 'a', seq: '1' },
        bulk: false,
        remoteId: '5',
        release: true,
      }),
      { kind: 'wait' },
    ]);
  });
});
