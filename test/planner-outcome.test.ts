import { describe, expect, it } from 'vitest';
import {
  callOutcome,
  type CallOutcome,
  type CallResult,
  type MemberCall,
} from '../src/planner/call-outcome.ts';
import {
  groupCallOutcome,
  type GroupCall,
  type GroupOutcome,
} from '../src/planner/group-call-outcome.ts';

const nothing: CallOutcome = {
  member: 'unchanged',
  clearMark: false,
  retry: false,
  split: false,
  error: null,
  pauseAccount: null,
  failGroup: null,
};
const outcome = (over: Partial<CallOutcome>): CallOutcome => ({ ...nothing, ...over });

const api = (code: string, scope: 'account' | 'group' | 'call' = 'call'): CallResult => ({
  type: 'api',
  code,
  scope,
});
const okWithId: CallResult = { type: 'ok', remoteId: '42' };
const okWithoutId: CallResult = { type: 'ok', remoteId: null };
const skipped: CallResult = { type: 'skipped' };
const ambiguous: CallResult = { type: 'ambiguous' };
const retryable: CallResult = { type: 'retryable' };
const unencodable: CallResult = { type: 'unencodable', reason: 'field "name" holds ","' };

const paused = (method: string, code: string) =>
  outcome({ pauseAccount: `${method} answered ${code}: every call of the account is refused` });
const groupFailed = (method: string, code: string) =>
  outcome({
    failGroup: `${method} answered ${code}: the remote group is gone or not this account's; set groups.afilnet_id to a group the account can see (or clear it to create one), then run retry --group`,
  });

const methods: MemberCall[] = ['addcontactlist', 'modifycontact', 'deletecontact'];

describe('callOutcome', () => {
  it.each<[string, MemberCall, CallResult, number, CallOutcome]>([
    // answered
    [
      'records an added contact with the id the provider gave',
      'addcontactlist',
      okWithId,
      1,
      outcome({ member: 'synced', clearMark: true }),
    ],
    [
      'records an added contact the provider gave no id for (strict docs)',
      'addcontactlist',
      okWithoutId,
      50,
      outcome({ member: 'synced', clearMark: true }),
    ],
    [
      'records a modified contact',
      'modifycontact',
      okWithoutId,
      1,
      outcome({ member: 'synced', clearMark: true }),
    ],
    [
      'records a modified contact whatever id the answer carries',
      'modifycontact',
      okWithId,
      1,
      outcome({ member: 'synced', clearMark: true }),
    ],
    [
      'records a deleted contact as gone',
      'deletecontact',
      okWithoutId,
      1,
      outcome({ member: 'gone', clearMark: true }),
    ],
    [
      'records a deleted contact as gone whatever id the answer carries',
      'deletecontact',
      okWithId,
      1,
      outcome({ member: 'gone', clearMark: true }),
    ],
    // skipped: an earlier try reached the provider
    [
      'settles a skipped add by a look-up, keeping the mark',
      'addcontactlist',
      skipped,
      50,
      outcome({ member: 'uncertain' }),
    ],
    [
      'settles a skipped modify by a look-up',
      'modifycontact',
      skipped,
      1,
      outcome({ member: 'uncertain' }),
    ],
    [
      'settles a skipped delete by a look-up',
      'deletecontact',
      skipped,
      1,
      outcome({ member: 'uncertain' }),
    ],
    // maybe applied
    [
      'settles an ambiguous add by a look-up before re-sending it, never failing it',
      'addcontactlist',
      ambiguous,
      50,
      outcome({ member: 'uncertain', retry: true }),
    ],
    [
      'settles an ambiguous single add the same way',
      'addcontactlist',
      ambiguous,
      1,
      outcome({ member: 'uncertain', retry: true }),
    ],
    [
      'settles an ambiguous modify by a look-up',
      'modifycontact',
      ambiguous,
      1,
      outcome({ member: 'uncertain', retry: true }),
    ],
    [
      'settles an ambiguous delete by a look-up',
      'deletecontact',
      ambiguous,
      1,
      outcome({ member: 'uncertain', retry: true }),
    ],
    // not applied, try later
    ...methods.map((m): [string, MemberCall, CallResult, number, CallOutcome] => [
      `retries a ${m} that was not applied, keeping what was known`,
      m,
      retryable,
      m === 'addcontactlist' ? 50 : 1,
      outcome({ member: 'unchanged', retry: true }),
    ]),
    // values the call's form cannot carry
    ...methods.map((m): [string, MemberCall, CallResult, number, CallOutcome] => [
      `fails a ${m} whose values cannot be encoded, and is done with its mark`,
      m,
      unencodable,
      m === 'addcontactlist' ? 50 : 1,
      outcome({
        member: 'failed',
        clearMark: true,
        error: 'UNENCODABLE_VALUE: field "name" holds ","',
      }),
    ]),
    // the account: pause, never fail a member, never split
    ...methods.flatMap((m) =>
      ['INCORRECT_USER_PASSWORD', 'NO_CREDITS'].map(
        (code): [string, MemberCall, CallResult, number, CallOutcome] => [
          `pauses the account on ${code} to a single ${m}, failing no member`,
          m,
          api(code, 'account'),
          1,
          paused(m, code),
        ],
      ),
    ),
    [
      'pauses the account on a batch of adds without splitting it (a rotated password)',
      'addcontactlist',
      api('INCORRECT_USER_PASSWORD', 'account'),
      500,
      paused('addcontactlist', 'INCORRECT_USER_PASSWORD'),
    ],
    // the group: stop the group, keep every mark
    ...methods.map((m): [string, MemberCall, CallResult, number, CallOutcome] => [
      `fails the group, not the member, on NOT_ACCESS_TO_GROUP to ${m}`,
      m,
      api('NOT_ACCESS_TO_GROUP', 'group'),
      1,
      groupFailed(m, 'NOT_ACCESS_TO_GROUP'),
    ]),
    [
      'fails the group on a batch of adds without splitting it',
      'addcontactlist',
      api('NOT_ACCESS_TO_GROUP', 'group'),
      500,
      groupFailed('addcontactlist', 'NOT_ACCESS_TO_GROUP'),
    ],
    // this call's own answer
    [
      'takes a delete of a contact deleted remotely as done',
      'deletecontact',
      api('NOT_ACCESS_TO_CONTACT'),
      1,
      outcome({ member: 'gone', clearMark: true }),
    ],
    [
      'turns a modify of a contact deleted remotely into an add next pass (mark kept)',
      'modifycontact',
      api('NOT_ACCESS_TO_CONTACT'),
      1,
      outcome({ member: 'gone' }),
    ],
    [
      'reads NOT_ACCESS_TO_CONTACT to an add as the contact not being there (mark kept)',
      'addcontactlist',
      api('NOT_ACCESS_TO_CONTACT'),
      50,
      outcome({ member: 'gone' }),
    ],
    [
      'settles a modify refused with CONTACT_EXISTS by a look-up instead of failing it (number handed over)',
      'modifycontact',
      api('CONTACT_EXISTS'),
      1,
      outcome({ member: 'uncertain' }),
    ],
    [
      'settles an add refused with CONTACT_EXISTS by a look-up, without splitting its batch',
      'addcontactlist',
      api('CONTACT_EXISTS'),
      50,
      outcome({ member: 'uncertain' }),
    ],
    [
      'settles a delete answered CONTACT_EXISTS by a look-up',
      'deletecontact',
      api('CONTACT_EXISTS'),
      1,
      outcome({ member: 'uncertain' }),
    ],
    [
      'splits a batch of adds to find the record the provider refuses',
      'addcontactlist',
      api('INCORRECT_MOBILE'),
      2,
      outcome({ split: true }),
    ],
    [
      'fails the one record of a batch of one the provider refuses, with its code',
      'addcontactlist',
      api('INCORRECT_MOBILE'),
      1,
      outcome({ member: 'failed', clearMark: true, error: 'INCORRECT_MOBILE' }),
    ],
    [
      'fails a refused modify with its code (modifies are never split)',
      'modifycontact',
      api('INCORRECT_MOBILE'),
      7,
      outcome({ member: 'failed', clearMark: true, error: 'INCORRECT_MOBILE' }),
    ],
    [
      'fails a refused delete with its code (deletes are never split)',
      'deletecontact',
      api('SOMETHING_ELSE'),
      7,
      outcome({ member: 'failed', clearMark: true, error: 'SOMETHING_ELSE' }),
    ],
  ])('%s', (_name, method, result, batchSize, expected) => {
    expect(callOutcome(method, result, batchSize)).toEqual(expected);
  });

  it('takes a batch of one when no batch size is given', () => {
    expect(callOutcome('addcontactlist', api('INCORRECT_MOBILE'))).toEqual(
      outcome({ member: 'failed', clearMark: true, error: 'INCORRECT_MOBILE' }),
    );
  });

  const everyResult: CallResult[] = [
    okWithId,
    okWithoutId,
    skipped,
    ambiguous,
    retryable,
    unencodable,
    api('INCORRECT_USER_PASSWORD', 'account'),
    api('NO_CREDITS', 'account'),
    api('NOT_ACCESS_TO_GROUP', 'group'),
    api('NOT_ACCESS_TO_CONTACT'),
    api('CONTACT_EXISTS'),
    api('INCORRECT_MOBILE'),
  ];
  const everyCase = methods.flatMap((m) =>
    everyResult.flatMap((r) => [1, 2, 500].map((n): [MemberCall, CallResult, number] => [m, r, n])),
  );

  it.each(everyCase)(
    'keeps the guarantees for %s answered %j in a batch of %i',
    (method, result, batchSize) => {
      const o = callOutcome(method, result, batchSize);
      const stopping = result.type === 'api' && result.scope !== 'call';
      // An account- or group-wide refusal stops the work and keeps every member as it was.
      if (stopping) {
        expect([o.member, o.clearMark, o.split, o.retry, o.error]).toEqual([
          'unchanged',
          false,
          false,
          false,
          null,
        ]);
      }
      expect(o.pauseAccount !== null).toBe(result.type === 'api' && result.scope === 'account');
      expect(o.failGroup !== null).toBe(result.type === 'api' && result.scope === 'group');
      // A maybe-applied call is never a failure: a look-up settles it.
      if (result.type === 'ambiguous') expect(o.member).toBe('uncertain');
      // Only a call-scoped refusal or unencodable values fail a member, and then with a reason.
      expect(o.member === 'failed').toBe(o.error !== null);
      if (o.member === 'failed') {
        expect(
          result.type === 'unencodable' || (result.type === 'api' && result.scope === 'call'),
        ).toBe(true);
        expect(o.clearMark).toBe(true);
      }
      // Only an add batch of several records is ever split, and a split decides nothing else.
      if (o.split) {
        expect(method).toBe('addcontactlist');
        expect(batchSize).toBeGreaterThan(1);
        expect(o).toEqual(outcome({ split: true }));
      }
      // The mark is done with only when the member's fate is known.
      if (o.clearMark) expect(['synced', 'gone', 'failed']).toContain(o.member);
    },
  );
});

const groupMethods: GroupCall[] = [
  'creategroup',
  'getgroupcolumns',
  'addcolumntogroup',
  'deletecolumnfromgroup',
  'assigncountrytogroup',
  'deletegroup',
];

describe('groupCallOutcome', () => {
  const groupGone = (m: GroupCall, code: string): GroupOutcome => ({
    kind: 'fail',
    reason: `${m} answered ${code}: the remote group is gone or not this account's; set groups.afilnet_id to a group the account can see (or clear it to create a new one), then run retry --group`,
  });

  it.each(groupMethods)('answers every result to %s', (m) => {
    const table: [CallResult, GroupOutcome][] = [
      [okWithId, { kind: 'done' }],
      [okWithoutId, { kind: 'done' }],
      [skipped, { kind: 'done' }],
      [retryable, { kind: 'retry' }],
      [ambiguous, m === 'creategroup' ? { kind: 'maybe-created' } : { kind: 'retry' }],
      [
        unencodable,
        { kind: 'fail', reason: `${m} cannot carry the value: field "name" holds ","` },
      ],
      [
        api('INCORRECT_USER_PASSWORD', 'account'),
        {
          kind: 'pause',
          reason: `${m} answered INCORRECT_USER_PASSWORD: every call of the account is refused`,
        },
      ],
      [
        api('NO_CREDITS', 'account'),
        { kind: 'pause', reason: `${m} answered NO_CREDITS: every call of the account is refused` },
      ],
      [
        api('NOT_ACCESS_TO_GROUP', 'group'),
        m === 'deletegroup' ? { kind: 'done' } : groupGone(m, 'NOT_ACCESS_TO_GROUP'),
      ],
      [api('INVALID_FIELD'), { kind: 'fail', reason: `${m} failed: INVALID_FIELD` }],
      [
        api('COUNTRY_NOT_FOUND'),
        m === 'assigncountrytogroup'
          ? { kind: 'warn', reason: 'country was refused by Afilnet (COUNTRY_NOT_FOUND)' }
          : { kind: 'fail', reason: `${m} failed: COUNTRY_NOT_FOUND` },
      ],
    ];
    expect(table.map(([r]) => groupCallOutcome(m, r))).toEqual(table.map(([, o]) => o));
  });

  it.each<[string, GroupCall, CallResult, GroupOutcome]>([
    [
      'leaves at most one orphan: an ambiguous creategroup may have made the group',
      'creategroup',
      ambiguous,
      { kind: 'maybe-created' },
    ],
    [
      'retries an ambiguous deletegroup (deleting twice is harmless)',
      'deletegroup',
      ambiguous,
      { kind: 'retry' },
    ],
    [
      'takes deletegroup of a group already gone (NOT_ACCESS_TO_GROUP) as done',
      'deletegroup',
      api('NOT_ACCESS_TO_GROUP', 'group'),
      { kind: 'done' },
    ],
    [
      'fails the group with a reason an operator can act on when it is gone',
      'addcolumntogroup',
      api('NOT_ACCESS_TO_GROUP', 'group'),
      groupGone('addcolumntogroup', 'NOT_ACCESS_TO_GROUP'),
    ],
    [
      'pauses the account instead of taking a deletegroup refused for the account as done',
      'deletegroup',
      api('INCORRECT_USER_PASSWORD', 'account'),
      {
        kind: 'pause',
        reason:
          'deletegroup answered INCORRECT_USER_PASSWORD: every call of the account is refused',
      },
    ],
    [
      'only warns when the country is refused: the group can still sync',
      'assigncountrytogroup',
      api('COUNTRY_NOT_FOUND'),
      { kind: 'warn', reason: 'country was refused by Afilnet (COUNTRY_NOT_FOUND)' },
    ],
    [
      'fails assigncountrytogroup on any other refusal',
      'assigncountrytogroup',
      api('INCORRECT_COUNTRY'),
      { kind: 'fail', reason: 'assigncountrytogroup failed: INCORRECT_COUNTRY' },
    ],
  ])('%s', (_name, method, result, expected) => {
    expect(groupCallOutcome(method, result)).toEqual(expected);
  });
});
