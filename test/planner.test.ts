import { describe, expect, it } from 'vitest';
import { planMemberSync, type MemberSnapshot } from '../src/planner/plan-member-sync.ts';
import { changedFields, projectFields, type GroupShape } from '../src/planner/project-fields.ts';

const group: GroupShape = { type: 'mobile', fields: ['mobile', 'name', 'age'] };
const limits = { maxFieldLength: 20 };
const contact = (
  over: Partial<{ mobile: string | null; email: string | null; attributes: unknown }> = {},
) => ({
  mobile: '34600000001',
  email: null,
  attributes: { name: 'Ana', age: 30, other: 'x' },
  ...over,
});
const member = (over: Partial<MemberSnapshot> = {}): MemberSnapshot => ({
  contactId: 'c',
  contact: contact(),
  remoteId: null,
  syncedFields: null,
  uncertain: false,
  ...over,
});

describe('projectFields', () => {
  it.each([
    [
      'takes mobile and email from their columns',
      { mobile: '1', email: 'a@b' },
      { type: 'email', fields: ['email', 'mobile'] },
      { email: 'a@b', mobile: '1' },
    ],
    [
      'reads other fields like attributes->>field',
      { attributes: { n: 5, b: true, o: { x: 1 } } },
      { type: 'mobile', fields: ['n', 'b', 'o'] },
      { mobile: '34600000001', n: '5', b: 'true', o: '{"x":1}' },
    ],
    [
      'leaves out empty and missing values',
      { attributes: { name: '' } },
      { type: 'mobile', fields: ['name', 'city'] },
      { mobile: '34600000001' },
    ],
    [
      'projects the main field even when fields forgot it',
      {},
      { type: 'mobile', fields: ['name'] },
      { mobile: '34600000001', name: 'Ana' },
    ],
  ] as const)('%s', (_name, over, shape, expected) => {
    expect(projectFields(shape as GroupShape, contact(over))).toEqual(expected);
  });
});

describe('changedFields', () => {
  it('lists changed and new values, and clears values that disappeared', () => {
    expect(changedFields({ a: '1', b: '2', c: '3' }, { a: '1', b: 'x', d: '4' })).toEqual({
      b: 'x',
      d: '4',
      c: '',
    });
  });
});

describe('planMemberSync', () => {
  const synced = { mobile: '34600000001', name: 'Ana', age: '30' };
  it.each<[string, Partial<MemberSnapshot>, Record<string, unknown>]>([
    ['adds a new member', {}, { kind: 'add', main: '34600000001', fields: synced }],
    [
      'does nothing when nothing visible changed',
      { syncedFields: synced, remoteId: '9' },
      { kind: 'none', forget: false },
    ],
    [
      'modifies only the changed fields',
      { syncedFields: { ...synced, name: 'Old' }, remoteId: '9' },
      { kind: 'modify', remoteId: '9', changed: { name: 'Ana' } },
    ],
    [
      'deletes a member that left',
      { contact: null, syncedFields: synced, remoteId: '9' },
      { kind: 'delete', remoteId: '9', main: '34600000001' },
    ],
    [
      'forgets an add-then-delete that never reached Afilnet',
      { contact: null },
      { kind: 'none', forget: true },
    ],
    [
      'deletes an uncertain add that left, after a look-up',
      { contact: null, uncertain: true },
      { kind: 'delete', remoteId: null, main: null },
    ],
    [
      'resolves an uncertain add before sending it again',
      { uncertain: true },
      { kind: 'resolve', main: '34600000001' },
    ],
    [
      'rejects a member without the main field',
      { contact: contact({ mobile: null }) },
      { kind: 'invalid', code: 'MISSING_MAIN_FIELD' },
    ],
    [
      'rejects an oversize value',
      { contact: contact({ attributes: { name: 'x'.repeat(21) } }) },
      { kind: 'invalid', code: 'VALUE_TOO_LONG' },
    ],
    [
      'adds a value with "," or ":" (addcontactlist carries JSON)',
      { contact: contact({ attributes: { name: 'a, b: c' } }) },
      { kind: 'add' },
    ],
    [
      'refuses a modify the field:value form cannot carry',
      {
        syncedFields: synced,
        remoteId: '9',
        contact: contact({ attributes: { name: 'a,b', age: 30 } }),
      },
      { kind: 'invalid', code: 'UNENCODABLE_VALUE' },
    ],
    [
      'modifies the main field itself, remembering the old one for look-ups',
      { syncedFields: synced, contact: contact({ mobile: '34699999999' }) },
      { kind: 'modify', previousMain: '34600000001', changed: { mobile: '34699999999' } },
    ],
  ])('%s', (_name, over, expected) => {
    expect(planMemberSync(group, member(over), limits)).toMatchObject(expected);
  });
});
