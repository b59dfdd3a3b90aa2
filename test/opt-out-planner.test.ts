import { describe, expect, it } from 'vitest';
import { callOutcome } from '../src/planner/call-outcome.ts';
import { actionAfterCall, stepAfterPlan, type Call } from '../src/planner/member-steps.ts';
import { planMemberSync, type MemberSnapshot } from '../src/planner/plan-member-sync.ts';
import type { GroupShape } from '../src/planner/project-fields.ts';

/** The planner's part of REMOTE_REMOVALS, table-driven: pure functions, plain data. */
const group: GroupShape = { type: 'mobile', fields: ['mobile', 'name'] };
const limits = { maxFieldLength: 255 };
const contact = { mobile: '600', email: null, attributes: { name: 'Ana' } };
const snapshot = (over: Partial<MemberSnapshot>): MemberSnapshot => ({
  contactId: 'c',
  contact,
  remoteId: null,
  syncedFields: null,
  uncertain: false,
  ...over,
});

describe('an opted-out member', () => {
  it.each([
    ['never synced', snapshot({ optedOut: true })],
    ['whose values changed', snapshot({ optedOut: true, syncedFields: { mobile: '600' } })],
    ['whose add is uncertain', snapshot({ optedOut: true, uncertain: true })],
  ])('is planned "none" (mark settled, nothing sent) when %s', (_, member) => {
    const op = planMemberSync(group, member, limits);
    expect(op).toEqual({ kind: 'none', contactId: 'c', forget: false });
    const step = stepAfterPlan({ ...member, seq: '3', bulk: false, status: null }, op, 'mobile');
    expect(step).toEqual({
      kind: 'write',
      action: { do: 'settled', mark: { contactId: 'c', seq: '3' } },
    });
  });

  it('is still deleted remotely when removed locally while known remotely', () => {
    const member = snapshot({
      optedOut: true,
      contact: null,
      remoteId: '9',
      syncedFields: { mobile: '600' },
    });
    expect(planMemberSync(group, member, limits).kind).toBe('delete');
  });
});

describe('a modify answered NOT_ACCESS_TO_CONTACT', () => {
  const call: Call = {
    kind: 'modify',
    mark: { contactId: 'c', seq: '5' },
    bulk: false,
    remoteId: '9',
    fields: { mobile: '600', name: 'Ana' },
    main: '600',
    changed: { name: 'Ana' },
    drop: null,
  };
  const answer = { type: 'api', code: 'NOT_ACCESS_TO_CONTACT', scope: 'call' } as const;
  const outcome = callOutcome('modifycontact', answer);

  it.each([
    ['respect', { do: 'opted-out', mark: { contactId: 'c', seq: '5' }, main: '600' }],
    ['readd', { do: 'not-remote', contactId: 'c' }],
  ] as const)('under %s records %o', (removals, action) => {
    expect(actionAfterCall(call, answer, outcome, removals)).toEqual(action);
  });

  it('leaves a delete answered the same way a forget, whatever the setting', () => {
    const del: Call = {
      kind: 'delete',
      mark: call.mark,
      bulk: false,
      remoteId: '9',
      release: false,
    };
    const o = callOutcome('deletecontact', answer);
    expect(actionAfterCall(del, answer, o, 'respect')).toEqual({ do: 'forget', mark: call.mark });
  });
});
