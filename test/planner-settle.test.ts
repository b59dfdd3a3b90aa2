import { describe, expect, it } from 'vitest';
import type { FieldValues } from '../src/planner/project-fields.ts';
import {
  settleMember,
  type LookupMatches,
  type LookupNeed,
  type RemoteRow,
  type Settlement,
} from '../src/planner/settle-member.ts';

const row = (idcontact: string, fields: FieldValues): RemoteRow => ({ idcontact, fields });
const found = (over: Partial<LookupMatches> = {}): LookupMatches => ({
  byId: null,
  byMain: [],
  byPrevious: [],
  heldByMember: null,
  ...over,
});

/** What the database says the member's remote copy should hold. */
const wanted = { mobile: '600', name: 'Ana' };
const present = (previousMain: string | null = null): LookupNeed => ({
  kind: 'present',
  fields: wanted,
  main: '600',
  previousMain,
});
const absent = (main: string | null): LookupNeed => ({ kind: 'absent', main });

/** Remote copies: the wanted values, an outdated name, and the copy still carrying the old number. */
const same = (id: string) => row(id, { ...wanted });
const stale = (id: string) => row(id, { mobile: '600', name: 'Old' });
const oldNumber = (id: string) => row(id, { mobile: '500', name: 'Ana' });

describe('settleMember: a member that left (absent)', () => {
  it.each<[string, LookupNeed, LookupMatches, Settlement]>([
    [
      'deletes the remote copy found by its id',
      absent('600'),
      found({ byId: same('5') }),
      { kind: 'delete', remoteId: '5' },
    ],
    [
      'deletes the remote copy found by its main value when no id was known',
      absent('600'),
      found({ byMain: [same('7')] }),
      { kind: 'delete', remoteId: '7' },
    ],
    [
      'prefers the copy with its id over one holding its main value',
      absent('600'),
      found({ byId: same('5'), byMain: [same('7')] }),
      { kind: 'delete', remoteId: '5' },
    ],
    [
      'deletes the first of several copies holding its main value (a provider that took duplicates)',
      absent('600'),
      found({ byMain: [same('7'), same('8')] }),
      { kind: 'delete', remoteId: '7' },
    ],
    ['forgets the member when nothing remote is found', absent('600'), found(), { kind: 'forget' }],
    [
      'forgets a member whose main value was never known and which has no copy found',
      absent(null),
      found(),
      { kind: 'forget' },
    ],
    [
      'forgets rather than waits when only another member owns the value (never deletes its copy)',
      absent('600'),
      found({ heldByMember: 'b' }),
      { kind: 'forget' },
    ],
    [
      'deletes its own copy by id even while another member owns a contact with that value',
      absent('600'),
      found({ byId: oldNumber('5'), heldByMember: 'b' }),
      { kind: 'delete', remoteId: '5' },
    ],
  ])('%s', (_name, need, matches, expected) => {
    expect(settleMember(need, matches)).toEqual(expected);
  });
});

describe('settleMember: a member that should be remote (present)', () => {
  it.each<[string, LookupNeed, LookupMatches, Settlement]>([
    [
      'adopts its copy found by id when every field already matches (no call)',
      present(),
      found({ byId: same('5') }),
      { kind: 'adopt', remoteId: '5' },
    ],
    [
      'adopts the copy an add of unknown outcome made (found by main value)',
      present(),
      found({ byMain: [same('7')] }),
      { kind: 'adopt', remoteId: '7' },
    ],
    [
      'adopts its copy when the id and the main value find the same contact',
      present(),
      found({ byId: same('5'), byMain: [same('5')] }),
      { kind: 'adopt', remoteId: '5' },
    ],
    [
      'adopts the copy found by the previous main value when it also holds the current one',
      present('600'),
      found({ byPrevious: [same('7')], byMain: [same('7')] }),
      { kind: 'adopt', remoteId: '7' },
    ],
    [
      'modifies only the fields that differ',
      present(),
      found({ byId: stale('5') }),
      { kind: 'modify', remoteId: '5', changed: { name: 'Ana' } },
    ],
    [
      'fills in a field the remote copy lacks',
      present(),
      found({ byId: row('5', { mobile: '600' }) }),
      { kind: 'modify', remoteId: '5', changed: { name: 'Ana' } },
    ],
    [
      "clears a field only the remote copy has, with ''",
      present(),
      found({ byId: row('5', { ...wanted, city: 'Paris' }) }),
      { kind: 'modify', remoteId: '5', changed: { city: '' } },
    ],
    [
      'modifies the copy still carrying the previous main value to the new one (no stray left)',
      present('500'),
      found({ byPrevious: [oldNumber('5')] }),
      { kind: 'modify', remoteId: '5', changed: { mobile: '600' } },
    ],
    [
      'modifies its copy found by id to the new main value, changing several fields at once',
      present('500'),
      found({ byId: row('5', { mobile: '500', name: 'Old', city: 'Paris' }) }),
      { kind: 'modify', remoteId: '5', changed: { mobile: '600', name: 'Ana', city: '' } },
    ],
    ['adds the member when nothing remote is found', present('500'), found(), { kind: 'add' }],
    [
      'replaces its own copy (by id) with the contact that already holds its main value',
      present('500'),
      found({ byId: oldNumber('5'), byMain: [stale('7')] }),
      { kind: 'replace', remoteId: '7', changed: { name: 'Ana' }, drop: '5' },
    ],
    [
      'replaces its own copy (by previous main value) with the contact holding the new one',
      present('500'),
      found({ byPrevious: [oldNumber('5')], byMain: [same('7')] }),
      { kind: 'replace', remoteId: '7', changed: {}, drop: '5' },
    ],
    [
      'adopts the first of several contacts holding its main value as the one kept',
      present('500'),
      found({ byId: oldNumber('5'), byMain: [stale('7'), same('8')] }),
      { kind: 'replace', remoteId: '7', changed: { name: 'Ana' }, drop: '5' },
    ],
    [
      'keeps its own copy when it is a later duplicate of the same value (no calls)',
      present(),
      found({ byId: same('8'), byMain: [stale('7'), same('8')] }),
      { kind: 'adopt', remoteId: '8' },
    ],
    [
      'waits while another member owns a contact holding its main value',
      present('500'),
      found({ heldByMember: 'b' }),
      { kind: 'wait', holder: 'b' },
    ],
    [
      'waits for the other member even when its own copy is found',
      present('500'),
      found({ byId: oldNumber('5'), byPrevious: [oldNumber('5')], heldByMember: 'b' }),
      { kind: 'wait', holder: 'b' },
    ],
    [
      'prefers the copy with its id over one with the previous main value',
      present('500'),
      found({ byId: stale('5'), byPrevious: [oldNumber('6')] }),
      { kind: 'modify', remoteId: '5', changed: { name: 'Ana' } },
    ],
    [
      'does not replace its copy with itself when the main-value holder has its id',
      present('500'),
      found({ byId: stale('5'), byPrevious: [oldNumber('6')], byMain: [stale('5')] }),
      { kind: 'modify', remoteId: '5', changed: { name: 'Ana' } },
    ],
    [
      'prefers the copy with the previous main value over a contact holding the main value',
      present('500'),
      found({ byPrevious: [oldNumber('6')], byMain: [same('7')] }),
      { kind: 'replace', remoteId: '7', changed: {}, drop: '6' },
    ],
    [
      'takes the first of several copies holding the previous main value',
      present('500'),
      found({ byPrevious: [oldNumber('6'), oldNumber('9')] }),
      { kind: 'modify', remoteId: '6', changed: { mobile: '600' } },
    ],
  ])('%s', (_name, need, matches, expected) => {
    expect(settleMember(need, matches)).toEqual(expected);
  });
});
