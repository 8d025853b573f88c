// The shared-bottleneck scenario's arithmetic: the competing flow's bytes at a moment come from
// its progress samples by linear interpolation, and both goodputs are over the contender's window.
import { describe, expect, it } from 'vitest';
import type { Transfer } from './contender.js';
import { bytesAt, fairShare } from './fairness.js';

const transfer = (start: number, doneMs: number, bytes: number, progress: [number, number][]): Transfer => ({ start, connectMs: 1, ttfbMs: 2, doneMs, bytes, maxGapMs: 0, progress, error: null });

describe('shared-bottleneck arithmetic', () => {
  it('interpolates progress samples and refuses moments outside them', () => {
    const p: [number, number][] = [
      [1000, 0],
      [2000, 1000],
      [2000, 1500],
      [4000, 3500],
    ];
    expect(bytesAt(p, 1000)).toBe(0);
    expect(bytesAt(p, 1500)).toBe(500);
    expect(bytesAt(p, 3000)).toBe(2500);
    expect(bytesAt(p, 4000)).toBe(3500);
    expect(bytesAt(p, 999)).toBeNull();
    expect(bytesAt(p, 4001)).toBeNull();
    expect(bytesAt([], 1)).toBeNull();
  });

  it('takes both goodputs over the contender download', () => {
    // Contender: 1.25 MB in 1 s from t = 2000 (10 Mbit/s). TCP: 2.5 MB/s throughout (20 Mbit/s).
    const tcp = transfer(0, 10_000, 25e6, [
      [0, 0],
      [10_000, 25e6],
    ]);
    expect(fairShare(transfer(2000, 1000, 1.25e6, []), tcp)).toEqual({ contender: 10, tcp: 20 });
    // The TCP flow ended before the contender did: no figure for it.
    expect(fairShare(transfer(9500, 1000, 1.25e6, []), tcp).tcp).toBeNull();
  });
});
