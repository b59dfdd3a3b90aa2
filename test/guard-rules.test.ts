import { describe, expect, it } from 'vitest';
import {
  columnDeleteHeld,
  groupDeleteHeld,
  memberDeletesHeld,
  type DeleteGuardSettings,
} from '../src/sync/delete-guard-rules.ts';

const settings: DeleteGuardSettings = {
  percent: 20,
  groupMin: 100,
  floor: 10,
  windowMs: 3_600_000,
  dayPercent: 50,
};

describe('member deletes', () => {
  it.each([
    ['a few deletes under the floor', { count: 10, synced: 20, inWindow: 0, inDay: 0 }, null],
    ['20 % of the group in the window', { count: 40, synced: 200, inWindow: 0, inDay: 0 }, null],
    ['21 % in the window', { count: 42, synced: 200, inWindow: 0, inDay: 0 }, /42 of 200 .*window/],
    [
      '15 % after 15 % earlier in the window',
      { count: 15, synced: 85, inWindow: 15, inDay: 15 },
      /30 of 100/,
    ],
    [
      'the fifth hour of 15 %',
      { count: 15, synced: 106, inWindow: 0, inDay: 94 },
      /109 of 200 .*24 hours/,
    ],
    ['the fourth hour of 15 %', { count: 18, synced: 124, inWindow: 0, inDay: 76 }, null],
  ])('%s', (_, counts, expected) => {
    const reason = memberDeletesHeld(settings, counts);
    if (expected === null) expect(reason).toBeNull();
    else expect(reason).toMatch(expected);
  });

  it('has no daily limit when none is set', () => {
    const { dayPercent: _, ...noDay } = settings;
    expect(memberDeletesHeld(noDay, { count: 15, synced: 106, inWindow: 0, inDay: 94 })).toBeNull();
  });
});

describe('column deletes', () => {
  it.each([
    ['an empty remote-only column', { values: 0, synced: 0, remoteOnly: true }, null],
    [
      'one value in a remote-only column',
      { values: 1, synced: 0, remoteOnly: true },
      /holds 1 values the database never had/,
    ],
    ['a field with 3 values', { values: 3, synced: 50, remoteOnly: false }, null],
    ['a field with 10 of 40 values', { values: 10, synced: 40, remoteOnly: false }, null],
    [
      'a field with 50 of 50 values',
      { values: 50, synced: 50, remoteOnly: false },
      /holds 50 values \(of 50/,
    ],
  ])('%s', (_, c, expected) => {
    const reason = columnDeleteHeld(settings, { field: 'f', ...c });
    if (expected === null) expect(reason).toBeNull();
    else expect(reason).toMatch(expected);
  });
});

describe('group deletes', () => {
  it('holds a group with more contacts than DELETE_GUARD_MIN, counted remotely or locally', () => {
    expect(groupDeleteHeld(settings, 100)).toBeNull();
    expect(groupDeleteHeld(settings, 600)).toBe('the group holds 600 contacts (more than 100)');
  });
});
