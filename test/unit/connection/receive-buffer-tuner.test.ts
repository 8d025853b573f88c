/**
 * The receive-buffer tuner (mptcp/connection/receive-buffer-tuner.ts): dynamic right-sizing of
 * the connection-level window from what the application consumes per RTT.
 */
import { describe, expect, it } from 'vitest';
import { RECEIVE_BUFFER_GROWTH, ReceiveBufferTuner, largestReceiveRtt, type ReceiveRttSource } from '../../../mptcp/connection/receive-buffer-tuner.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Feeds the tuner a steady flow: every `stepMs` `bytes` become readable and the application
 * reads them `lagMs` later (all of it), for `durationMs`; the RTT is `rttMs`.
 */
function flow(t: ReceiveBufferTuner, o: { from?: number; durationMs: number; stepMs: number; bytes: number; rttMs: number; lagMs?: number }): number {
  const from = o.from ?? 0;
  let now = from;
  for (; now < from + o.durationMs; now += o.stepMs) {
    t.readable(now);
    const readAt = now + (o.lagMs ?? 0);
    if (t.consumed(readAt, o.bytes, 0)) t.adjust(readAt, o.rttMs);
  }
  return now;
}

describe('ReceiveBufferTuner', () => {
  it('grows to GROWTH x the bytes consumed per RTT', () => {
    const t = new ReceiveBufferTuner(1 * MiB, 32 * MiB);
    // 25 MB/s (200 Mbit/s) with a 200 ms RTT: 5 MB per RTT.
    flow(t, { durationMs: 2000, stepMs: 1, bytes: 25_000, rttMs: 200 });
    expect(t.size).toBeGreaterThan(RECEIVE_BUFFER_GROWTH * 4.5e6);
    expect(t.size).toBeLessThan(RECEIVE_BUFFER_GROWTH * 5.5e6);
    expect(t.grows).toBeGreaterThan(0);
  });

  it('stays at its initial size when the flow needs less', () => {
    const t = new ReceiveBufferTuner(1 * MiB, 32 * MiB);
    // 2.5 MB/s (20 Mbit/s) with a 40 ms RTT: 100 KB per RTT, 300 KB wanted.
    flow(t, { durationMs: 5000, stepMs: 1, bytes: 2500, rttMs: 40 });
    expect(t.size).toBe(1 * MiB);
    expect(t.grows).toBe(0);
  });

  it('never exceeds its maximum, and initial == max is fixed', () => {
    const capped = new ReceiveBufferTuner(1 * MiB, 4 * MiB);
    flow(capped, { durationMs: 3000, stepMs: 1, bytes: 100_000, rttMs: 100 });
    expect(capped.size).toBe(4 * MiB);
    const fixed = new ReceiveBufferTuner(8 * MiB, 8 * MiB);
    flow(fixed, { durationMs: 3000, stepMs: 1, bytes: 100_000, rttMs: 100 });
    expect(fixed.size).toBe(8 * MiB);
    expect(fixed.grows).toBe(0);
    // A maximum below the initial size: the initial size, fixed.
    expect(new ReceiveBufferTuner(2 * MiB, 1 * MiB).max).toBe(2 * MiB);
  });

  it('never shrinks when the flow slows down', () => {
    const t = new ReceiveBufferTuner(1 * MiB, 32 * MiB);
    const end = flow(t, { durationMs: 2000, stepMs: 1, bytes: 25_000, rttMs: 200 });
    const grown = t.size;
    flow(t, { from: end, durationMs: 5000, stepMs: 1, bytes: 100, rttMs: 200 });
    expect(t.size).toBe(grown);
  });

  it('does not grow while the application reads slower than data arrives', () => {
    const t = new ReceiveBufferTuner(1 * MiB, 32 * MiB);
    // A full buffer read every 2 s: the data waited far longer than an RTT for the application.
    flow(t, { durationMs: 20_000, stepMs: 2000, bytes: 1 * MiB, rttMs: 50, lagMs: 1900 });
    expect(t.size).toBe(1 * MiB);
    // The same bytes read as soon as they are readable do grow it: the limit was the reading.
    const prompt = new ReceiveBufferTuner(1 * MiB, 32 * MiB);
    flow(prompt, { durationMs: 20_000, stepMs: 100, bytes: 1 * MiB, rttMs: 50 });
    expect(prompt.size).toBeGreaterThan(1 * MiB);
  });

  it('does not grow from data that is not consumed (arrival alone)', () => {
    const t = new ReceiveBufferTuner(1 * MiB, 32 * MiB);
    for (let now = 0; now < 2000; now++) t.readable(now);
    expect(t.adjust(2000, 10)).toBe(false);
    expect(t.size).toBe(1 * MiB);
  });

  it('waits for an RTT before measuring, and for the first interval to last one', () => {
    const t = new ReceiveBufferTuner(64 * KiB, 32 * MiB);
    t.readable(0);
    expect(t.consumed(0, 10_000, 0)).toBe(false); // opens the interval; these bytes do not count
    t.readable(1);
    expect(t.consumed(1, 100_000, 0)).toBe(true); // the RTT is not known yet
    expect(t.adjust(1, undefined)).toBe(false);
    expect(t.adjust(1, 50)).toBe(false); // 1 ms of a 50 ms RTT
    t.readable(60);
    expect(t.consumed(60, 100_000, 0)).toBe(true);
    expect(t.adjust(60, 50)).toBe(true);
    expect(t.size).toBe(Math.ceil(RECEIVE_BUFFER_GROWTH * 200_000));
  });
});

describe('largestReceiveRtt', () => {
  const sf = (usable: boolean, receiverRtt: number | undefined, smoothedRtt: number | undefined): ReceiveRttSource => ({ usable, tcp: { receiverRtt, smoothedRtt } });

  it('takes the largest of the usable subflows, each the larger of its two estimates', () => {
    expect(largestReceiveRtt([sf(true, 30, 20), sf(true, undefined, 120), sf(false, 900, 900)])).toBe(120);
    expect(largestReceiveRtt([sf(true, 300, 20), sf(true, undefined, 120)])).toBe(300);
  });

  it('is undefined without a measurement', () => {
    expect(largestReceiveRtt([])).toBeUndefined();
    expect(largestReceiveRtt([sf(true, undefined, undefined), sf(false, 50, 50)])).toBeUndefined();
  });
});
