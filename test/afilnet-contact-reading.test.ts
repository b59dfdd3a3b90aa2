import { describe, expect, it } from 'vitest';
import { fieldText, readContactEntry } from '../src/afilnet/result-shapes.ts';

// How one element of a getcontacts answer is read, or why it cannot be: the stream skips and
// reports the unreadable ones (F10), so the reasons must be right.

describe('fieldText', () => {
  it.each([
    ['a string, as it is', ' 346 ', ' 346 '],
    ['an integer', 34600000000, '34600000000'],
    ['a fraction', 41.5, '41.5'],
    ['a negative zero', -0, '0'],
    ['true', true, 'true'],
    ['false', false, 'false'],
    ['null, as an empty field', null, ''],
  ])('reads %s', (_, value, text) => {
    expect(fieldText(value)).toBe(text);
  });

  it.each([
    ['an object', { a: 1 }],
    ['an array', ['a']],
    ['a number JSON parsed to Infinity', Infinity],
    ['undefined', undefined],
  ])('has no text for %s', (_, value) => {
    expect(fieldText(value)).toBeUndefined();
  });
});

describe('readContactEntry', () => {
  it('reads a nested contact with mixed scalar types', () => {
    expect(
      readContactEntry({ idcontact: 7, fields: { mobile: 346, vip: false, note: null } }),
    ).toEqual({ contact: { idcontact: '7', fields: { mobile: '346', vip: 'false', note: '' } } });
  });

  it('keeps a field named __proto__ as a field', () => {
    const reading = readContactEntry(JSON.parse('{"idcontact":1,"fields":{"__proto__":"x"}}'));
    expect(reading).toHaveProperty('contact');
    if (!('contact' in reading)) return;
    expect(Object.keys(reading.contact.fields)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(reading.contact.fields)).toBe(Object.prototype);
  });

  it.each([
    ['not an object', [1], { reason: 'not_an_object', idcontact: null }],
    ['null', null, { reason: 'not_an_object', idcontact: null }],
    ['without an id', { fields: { mobile: '1' } }, { reason: 'no_id', idcontact: null }],
    ['with an unsafe id', { idcontact: 2 ** 53 + 2, fields: {} }, { reason: 'no_id' }],
    [
      'with text as fields',
      { idcontact: 3, fields: 'mobile:1' },
      { reason: 'fields_not_an_object', idcontact: '3' },
    ],
  ])('reports a contact %s', (_, value, expected) => {
    expect(readContactEntry(value)).toEqual({
      unreadable: { idcontact: null, badFields: [], fields: {}, ...expected },
    });
  });

  it('reports nested values by field name, with the readable fields, flat or nested', () => {
    const unreadable = {
      idcontact: '4',
      reason: 'unreadable_value',
      badFields: ['tags', 'address'],
      fields: { mobile: '346' },
    };
    const nested = { idcontact: 4, fields: { mobile: '346', tags: ['a'], address: { c: 'X' } } };
    expect(readContactEntry(nested)).toEqual({ unreadable });
    const flat = { id: '4', idgroup: 9, mobile: 346, tags: ['a'], address: { c: 'X' } };
    expect(readContactEntry(flat)).toEqual({ unreadable });
  });
});
