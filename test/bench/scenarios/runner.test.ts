// Repeated benchmark runs combine into one row: each number's median, distinct strings joined.
import { describe, expect, it } from 'vitest';
import { combineRuns } from './runner.js';

describe('combineRuns', () => {
  it('takes medians of numbers and joins distinct strings', () => {
    expect(combineRuns([{ g: 10, s: 'yes', e: null }, { g: 30, s: 'yes', e: null }, { g: 20, s: 'no', e: 'timeout' }])).toEqual({ g: 20, s: 'yes / no', e: 'timeout' });
    expect(combineRuns([{ g: 1 }, { g: 4 }])).toEqual({ g: 2.5 });
    expect(combineRuns([{ g: null }])).toEqual({ g: null });
    expect(combineRuns([{ e: 'timeout at 1' }, { e: 'timeout at 2' }, { e: 'timeout at 3' }])).toEqual({ e: 'timeout at 1 (+2 more)' });
  });
});
