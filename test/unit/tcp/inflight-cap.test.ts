/**
 * The inflight cap (mptcp/tcp/inflight-cap.ts): rate x (2 x minimum RTT + budget) from a
 * windowed-maximum delivery rate, off while unmeasured or application-limited, and never able
 * to hold a path below its capacity.
 */
import { describe, expect, it } from 'vitest';
import { InflightCap, MIN_CAP_SEGMENTS, MIN_RATE_INTERVAL_MS, rateWindowMs } from '../../../mptcp/tcp/inflight-cap.js';

const MSS = 1448;

/** An InflightCap fed as TcpConnection feeds it: MSS 1448 and a fixed budget (ms). */
class Cap extends InflightCap {
  constructor(readonly budgetMs: number) {
    super();
  }
  sample(now: number, delivered: number, minRtt: number): void {
    this.onDelivered(now, delivered, minRtt, MSS, this.budgetMs);
  }
}

/** Feeds `cap` a steady delivery of `bytesPerMs` for `ms`, one ACK per ms (busy sender). */
function deliver(cap: Cap, from: number, ms: number, bytesPerMs: number, delivered: number, minRtt: number): number {
  for (let t = from + 1; t <= from + ms; t++) {
    delivered += bytesPerMs;
    if (cap.due(t, minRtt)) cap.sample(t, delivered, minRtt);
  }
  return delivered;
}

describe('InflightCap', () => {
  it('is off with an infinite budget and unmeasured before the first whole interval', () => {
    const off = new Cap(Infinity);
    deliver(off, 0, 500, 1000, 0, 10);
    expect(off.limitBytes).toBe(Infinity);
    expect(off.rateBytesPerMs).toBeUndefined();
    const cap = new Cap(40);
    expect(cap.limitBytes).toBe(Infinity);
    deliver(cap, 0, 500, 1000, 0, Infinity);
    expect(cap.limitBytes).toBe(Infinity);
  });

  it('caps at the highest delivery rate x (2 x minimum RTT + budget)', () => {
    const cap = new Cap(40);
    // 1250 bytes/ms is 10 Mbit/s; a 30 ms minimum RTT means intervals of 30 ms.
    deliver(cap, 0, 1000, 1250, 0, 30);
    expect(cap.rateBytesPerMs).toBeCloseTo(1250, 6);
    expect(cap.limitBytes).toBeCloseTo(1250 * (2 * 30 + 40), 3);
  });

  it('keeps the maximum for the filter window (10 round trips, at least 1 s), then forgets it', () => {
    expect(rateWindowMs(30)).toBe(1000);
    expect(rateWindowMs(0.2)).toBe(1000);
    expect(rateWindowMs(300)).toBe(3000);
    const cap = new Cap(40);
    let d = deliver(cap, 0, 1000, 2500, 0, 30);
    d = deliver(cap, 1000, 500, 500, d, 30);
    expect(cap.rateBytesPerMs).toBeCloseTo(2500, 6); // a slower spell does not lower it at once
    deliver(cap, 1500, rateWindowMs(30) + 100, 500, d, 30);
    expect(cap.rateBytesPerMs).toBeCloseTo(500, 6);
  });

  it('turned off by an infinite budget at a later sample (a connection fallen back to plain TCP), it no longer caps', () => {
    const cap = new Cap(40);
    const d = deliver(cap, 0, 1000, 1250, 0, 30);
    expect(cap.limitBytes).toBeLessThan(Infinity);
    cap.onDelivered(1030, d + 1250 * 30, 30, MSS, Infinity);
    expect(cap.limitBytes).toBe(Infinity);
  });

  it('never goes below MIN_CAP_SEGMENTS segments', () => {
    const cap = new Cap(0);
    deliver(cap, 0, 1000, 10, 0, 1);
    expect(cap.limitBytes).toBe(MIN_CAP_SEGMENTS * MSS);
  });

  it('samples over at least MIN_RATE_INTERVAL_MS on a sub-millisecond path', () => {
    const cap = new Cap(40);
    cap.sample(0, 0, 0.2);
    expect(cap.due(MIN_RATE_INTERVAL_MS - 1, 0.2)).toBe(false);
    expect(cap.due(MIN_RATE_INTERVAL_MS, 0.2)).toBe(true);
  });

  it('is off while the sender is application-limited, back after one whole busy interval', () => {
    const cap = new Cap(40);
    let d = deliver(cap, 0, 1000, 1250, 0, 30);
    expect(cap.limitBytes).toBeLessThan(Infinity);
    cap.noteAppLimited();
    expect(cap.limitBytes).toBe(Infinity);
    // The interval in which it was app-limited ends: still off.
    d += 1250 * 30;
    cap.sample(1030, d, 30);
    expect(cap.limitBytes).toBe(Infinity);
    // A whole interval with data waiting throughout: on again.
    d += 1250 * 30;
    cap.sample(1060, d, 30);
    expect(cap.limitBytes).toBeCloseTo(1250 * 100, 3);
  });

  it('an idle gap before a flight is not counted as slow delivery', () => {
    const cap = new Cap(40);
    let d = deliver(cap, 0, 100, 1250, 0, 30);
    cap.onFlightStart(5000, d); // nothing in flight from 100 ms to 5 s
    d += 1250 * 30;
    cap.sample(5030, d, 30);
    expect(cap.rateBytesPerMs).toBeCloseTo(1250, 6);
  });

  it('cannot hold a path below its capacity: from a low estimate it reaches the pipe within a few intervals', () => {
    // A pipe of `capacity` bytes/ms and minimum RTT m: with W bytes in flight it delivers
    // min(W / m, capacity) per ms. The sender keeps exactly the cap in flight.
    const capacity = 6250; // 50 Mbit/s
    const m = 20;
    const cap = new Cap(0); // the strictest budget
    let d = 0;
    let t = 0;
    cap.sample(t, d, m);
    // A first interval at a tiny rate (as if only the initial window had been sent).
    t += m;
    d += 14_480;
    cap.sample(t, d, m);
    let intervals = 0;
    while (intervals < 20) {
      const w = cap.limitBytes;
      const rate = Math.min(w / m, capacity);
      t += m;
      d += rate * m;
      cap.sample(t, d, m);
      intervals++;
      if (rate >= capacity) break;
    }
    // Doubling per interval from 14.5 KB per 20 ms to 125 KB per 20 ms takes 4 intervals.
    expect(intervals).toBeLessThanOrEqual(5);
    expect(cap.limitBytes).toBeGreaterThanOrEqual(2 * capacity * m);
  });
});
