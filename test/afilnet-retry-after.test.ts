import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../src/afilnet/index.ts';

// Retry-After as the provider may write it: whatever the text, the delay is a finite number of
// milliseconds ≥ 0 or undefined (the caller's own back-off). Capping is the gateway's job.

const NOW = Date.parse('2026-12-01T10:00:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['7', 7_000],
    [' 120 ', 120_000],
    ['0086400', 86_400_000],
    // Beyond setTimeout's 2^31-1 ms: returned unchanged, the caller must cap it.
    ['3000000000', 3_000_000_000_000],
  ])('reads delay-seconds %j as %i ms', (header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });

  it('saturates a delay too large to be exact at Number.MAX_SAFE_INTEGER, never Infinity', () => {
    expect(parseRetryAfter('9'.repeat(400), NOW)).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseRetryAfter('9007199254740993', NOW)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['IMF-fixdate', 'Tue, 01 Dec 2026 10:01:30 GMT', 90_000],
    ['RFC 850', 'Tuesday, 01-Dec-26 10:01:30 GMT', 90_000],
    ['asctime', 'Tue Dec  1 10:01:30 2026', 90_000],
    ['a date in the past', 'Mon, 30 Nov 2026 10:00:00 GMT', 0],
  ])('reads the %s form as the time left', (_, header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });

  it.each(['', '   ', '-5', '1.5', '1e3', 'soon', '12abc', 'NaN', 'Infinity', '2026-12-01'])(
    'gives undefined for %j',
    (header) => {
      expect(parseRetryAfter(header, NOW)).toBeUndefined();
    },
  );

  it('takes the first of repeated headers, and undefined for none', () => {
    expect(parseRetryAfter(['5', '10'], NOW)).toBe(5_000);
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter([], NOW)).toBeUndefined();
  });
});
