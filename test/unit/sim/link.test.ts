import { describe, expect, it } from 'vitest';
import type { Link } from '../../../mptcp/sim/index.js';
import { B, lateArrivals, twoHosts, withinThreeSigma } from './fixtures.js';

/** After a run went idle: offered = delivered (less duplicates) + dropped, nothing in flight. */
function expectConservation(link: Link): void {
  const c = link.counters;
  expect(link.inFlight).toBe(0);
  expect(c.offeredPackets).toBe(c.deliveredPackets - c.duplicated + c.droppedLoss + c.droppedQueue + c.droppedDown);
  expect(c.offeredBytes).toBe(c.deliveredBytes + c.droppedBytes - duplicatedBytes(link));
}

function duplicatedBytes(link: Link): number {
  // All packets of one test have one size, so duplicates are that size.
  const c = link.counters;
  return c.deliveredPackets === 0 ? 0 : (c.duplicated * c.deliveredBytes) / c.deliveredPackets;
}

describe('delay and jitter', () => {
  it('delivers after exactly delayMs without jitter', () => {
    const { sim, a, b, link } = twoHosts({ delayMs: 20 });
    a.sendFlow({ dst: B, count: 100, intervalMs: 1 });
    expect(sim.runUntilIdle(10_000)).toBe(true);
    expect(b.arrivals).toHaveLength(100);
    expect(new Set(b.arrivals.map((x) => x.time - x.sentAt))).toEqual(new Set([20]));
    expect(sim.now).toBe(99 + 20);
    expectConservation(link);
  });

  it('keeps one-way delay within delay +- jitter and never reorders with jitter alone', () => {
    const { sim, a, b } = twoHosts({ delayMs: 20, jitterMs: 5 });
    // Packets 0.5 ms apart: uniform +-5 ms jitter would reorder most of them if unconstrained.
    a.sendFlow({ dst: B, count: 20_000, intervalMs: 0.5 });
    sim.runUntilIdle(60_000);
    const delays = b.arrivals.map((x) => x.time - x.sentAt);
    expect(delays).toHaveLength(20_000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(15);
    expect(Math.max(...delays)).toBeLessThanOrEqual(25);
    // Holding packets back for FIFO order raises the delays of dense traffic (mean ~22.6 here).
    expect(Math.min(...delays)).toBeLessThan(18);
    expect(Math.max(...delays)).toBeGreaterThan(24.9);
    expect(lateArrivals(b.arrivals)).toBe(0);
    expect(b.arrivals.every((x, i) => x.seq === i)).toBe(true);
  });

  it('is centred on delayMs when packets are sparse, and never negative when jitter > delay', () => {
    const { sim, a, b } = twoHosts({ delayMs: 20, jitterMs: 5 });
    a.sendFlow({ dst: B, count: 5_000, intervalMs: 20 });
    sim.runUntilIdle(1e6);
    const delays = b.arrivals.map((x) => x.time - x.sentAt);
    const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
    // Uniform on [15, 25]: sd 2.89, standard error of the mean 0.04.
    expect(Math.abs(mean - 20)).toBeLessThan(0.15);

    const t = twoHosts({ delayMs: 1, jitterMs: 5 });
    t.a.sendFlow({ dst: B, count: 1000, intervalMs: 10 });
    t.sim.runUntilIdle(1e6);
    expect(t.b.arrivals.every((x) => x.time >= x.sentAt)).toBe(true);
    expect(t.b.arrivals).toHaveLength(1000);
  });
});

describe('rate', () => {
  it('spaces back-to-back packets exactly size*8/rate apart', () => {
    // 1250 B at 10 Mbit/s = 1 ms each.
    const { sim, a, b } = twoHosts({ delayMs: 5, rateBitsPerSec: 10e6 });
    a.sendFlow({ dst: B, count: 100, intervalMs: 0, size: 1250, startMs: 3 });
    sim.runUntilIdle(10_000);
    expect(b.arrivals.map((x) => x.time)).toEqual(Array.from({ length: 100 }, (_, i) => 3 + (i + 1) + 5));
  });

  it('uses fractional serialization times for odd rates and sizes', () => {
    const { sim, a, b } = twoHosts({ rateBitsPerSec: 7.3e6 });
    a.sendFlow({ dst: B, count: 50, intervalMs: 0, size: 1337 });
    sim.runUntilIdle(10_000);
    const tx = (1337 * 8 * 1000) / 7.3e6;
    b.arrivals.forEach((x, i) => expect(x.time).toBeCloseTo((i + 1) * tx, 9));
  });

  it('carries a saturating load at the configured rate within 1%', () => {
    for (const [rate, size] of [
      [10e6, 1000],
      [7.3e6, 1337],
      [100e6, 1500],
    ] as const) {
      const { sim, a, b, link } = twoHosts({ delayMs: 10, rateBitsPerSec: rate, queueLimitBytes: 50_000 });
      // Offer twice the rate for 20 s.
      const interval = (size * 8 * 1000) / (2 * rate);
      a.sendFlow({ dst: B, count: Math.floor(20_000 / interval), intervalMs: interval, size });
      sim.runUntil(20_000);
      const inWindow = b.arrivals.filter((x) => x.time > 2_000 && x.time <= 20_000);
      const bits = inWindow.reduce((s, x) => s + x.length * 8, 0);
      const measured = bits / 18; // bits per second
      expect(Math.abs(measured - rate) / rate).toBeLessThan(0.01);
      expect(link.counters.droppedQueue).toBeGreaterThan(0);
    }
  });
});

describe('queue limit (drop-tail)', () => {
  it('drops only what exceeds the limit of bytes waiting for serialization', () => {
    // 1 ms per 1250 B packet; room for 10 waiting packets plus the one being serialized.
    const { sim, a, b, link } = twoHosts({ rateBitsPerSec: 10e6, queueLimitBytes: 12_500 });
    a.sendFlow({ dst: B, count: 30, intervalMs: 0, size: 1250 });
    let backlogAt0 = -1;
    let backlogAt3 = -1;
    sim.at(0, (now) => (backlogAt0 = link.backlogBytes(now)));
    sim.at(3.5, (now) => (backlogAt3 = link.backlogBytes(now)));
    sim.runUntilIdle(10_000);
    expect(link.counters.droppedQueue).toBe(19);
    expect(b.arrivals.map((x) => x.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(backlogAt0).toBe(0); // the callback at t=0 runs before a's timer at t=0
    expect(backlogAt3).toBe(7 * 1250); // packets 4..10 have not started at 3.5 ms
    expectConservation(link);
  });

  it('drops nothing at or below the limit', () => {
    const { sim, a, b, link } = twoHosts({ rateBitsPerSec: 10e6, queueLimitBytes: 12_500 });
    a.sendFlow({ dst: B, count: 11, intervalMs: 0, size: 1250 });
    // And a long flow at 95% of the rate with small bursts never fills it.
    a.sendFlow({ dst: B, count: 10_000, intervalMs: 1 / 0.95, size: 1250, startMs: 100 });
    sim.runUntilIdle(1e6);
    expect(link.counters.droppedQueue).toBe(0);
    expect(b.arrivals).toHaveLength(10_011);
  });

  it('admits again as the queue drains', () => {
    const { sim, a, b, link } = twoHosts({ rateBitsPerSec: 10e6, queueLimitBytes: 2_500 });
    a.sendFlow({ dst: B, count: 5, intervalMs: 0, size: 1250 }); // 3 pass, 2 dropped
    a.sendFlow({ dst: B, count: 2, intervalMs: 0, size: 1250, startMs: 1.5 }); // 1 waiting: 1 passes
    sim.runUntilIdle(10_000);
    expect(link.counters.droppedQueue).toBe(3);
    expect(b.arrivals).toHaveLength(4);
  });
});

describe('random loss', () => {
  for (const p of [0.01, 0.1]) {
    it(`loses ${p * 100}% of 100k packets within 3 sigma`, () => {
      const n = 100_000;
      const { sim, a, b, link } = twoHosts({ delayMs: 1, lossProbability: p }, 7);
      a.sendFlow({ dst: B, count: n, intervalMs: 0.01 });
      sim.runUntilIdle(1e6);
      const lost = n - b.arrivals.length;
      expect(link.counters.droppedLoss).toBe(lost);
      expect(withinThreeSigma(lost, n, p)).toBe(true);
      expectConservation(link);
    });
  }

  it('Gilbert-Elliott loss comes in bursts of mean length 1/pBadToGood', () => {
    const n = 100_000;
    const ge = { pGoodToBad: 0.01, pBadToGood: 0.25 };
    const { sim, a, b, link } = twoHosts({ delayMs: 1, burstLoss: ge }, 11);
    a.sendFlow({ dst: B, count: n, intervalMs: 0.01 });
    sim.runUntilIdle(1e6);
    const bursts = burstLengths(b.arrivals.map((x) => x.seq), n);
    const mean = bursts.reduce((s, x) => s + x, 0) / bursts.length;
    // Geometric burst length: mean 4, sd 3.46; ~960 bursts, so the mean's sd is ~0.11.
    expect(Math.abs(mean - 4)).toBeLessThan(0.4);
    // Stationary loss rate pGB / (pGB + pBG) = 3.85%.
    expect(Math.abs(link.counters.droppedLoss / n - 0.01 / 0.26)).toBeLessThan(0.006);

    // Independent loss at the same rate gives bursts of mean length ~1/(1-p).
    const r = twoHosts({ delayMs: 1, lossProbability: 0.0385 }, 11);
    r.a.sendFlow({ dst: B, count: n, intervalMs: 0.01 });
    r.sim.runUntilIdle(1e6);
    const ind = burstLengths(r.b.arrivals.map((x) => x.seq), n);
    expect(ind.reduce((s, x) => s + x, 0) / ind.length).toBeLessThan(1.1);
  });

  it('Gilbert-Elliott honours lossInGood and lossInBad', () => {
    const n = 50_000;
    const { sim, a, b } = twoHosts({ burstLoss: { pGoodToBad: 0.5, pBadToGood: 0.5, lossInGood: 0.1, lossInBad: 0.3 } }, 3);
    a.sendFlow({ dst: B, count: n, intervalMs: 0.01 });
    sim.runUntilIdle(1e6);
    // Half the time in each state: 20% loss.
    expect(withinThreeSigma(n - b.arrivals.length, n, 0.2)).toBe(true);
  });
});

describe('reordering and duplication', () => {
  it('reorders about reorderProbability of packets, and only those', () => {
    const n = 20_000;
    const { sim, a, b, link } = twoHosts({ delayMs: 20, reorderProbability: 0.05, reorderExtraDelayMs: 10 }, 5);
    a.sendFlow({ dst: B, count: n, intervalMs: 1 });
    sim.runUntilIdle(1e6);
    expect(b.arrivals).toHaveLength(n);
    expect(withinThreeSigma(link.counters.reordered, n, 0.05)).toBe(true);
    // Every reordered packet is overtaken by the ~10 sent after it.
    expect(lateArrivals(b.arrivals)).toBe(link.counters.reordered);
    expect(new Set(b.arrivals.map((x) => x.time - x.sentAt))).toEqual(new Set([20, 30]));
  });

  it('duplicates about duplicateProbability of packets, delivering the copy right after', () => {
    const n = 20_000;
    const { sim, a, b, link } = twoHosts({ delayMs: 3, duplicateProbability: 0.02 }, 9);
    a.sendFlow({ dst: B, count: n, intervalMs: 1 });
    sim.runUntilIdle(1e6);
    expect(withinThreeSigma(link.counters.duplicated, n, 0.02)).toBe(true);
    expect(b.arrivals).toHaveLength(n + link.counters.duplicated);
    let dups = 0;
    for (let i = 1; i < b.arrivals.length; i++) {
      if (b.arrivals[i].seq === b.arrivals[i - 1].seq) {
        dups++;
        expect(b.arrivals[i].time).toBe(b.arrivals[i - 1].time);
      }
    }
    expect(dups).toBe(link.counters.duplicated);
    expect(lateArrivals(b.arrivals)).toBe(0);
  });
});

describe('blackouts and configuration over time', () => {
  it('drops packets offered while down, delivers those in flight, resumes when up', () => {
    const { sim, a, b, link } = twoHosts({ delayMs: 50 });
    a.sendFlow({ dst: B, count: 3000, intervalMs: 1 });
    sim.at(1000, () => link.setConfig({ up: false }));
    sim.at(2000, () => link.setConfig({ up: true }));
    sim.runUntilIdle(1e6);
    const seqs = b.arrivals.map((x) => x.seq);
    const expected = Array.from({ length: 3000 }, (_, i) => i).filter((s) => s < 1000 || s >= 2000);
    expect(seqs).toEqual(expected);
    expect(link.counters.droppedDown).toBe(1000);
    // Packets 950..999 were in flight when the link went down, and arrived during the blackout.
    const during = b.arrivals.filter((x) => x.time >= 1000 && x.time < 2000);
    expect(during.map((x) => x.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 950 + i));
    expectConservation(link);
  });

  it('applies delay changes to packets offered afterwards, without reordering', () => {
    const { sim, a, b } = twoHosts({ delayMs: 10 });
    a.sendFlow({ dst: B, count: 2000, intervalMs: 1 });
    sim.at(500, () => sim.link('a->b').setConfig({ delayMs: 100 }));
    sim.at(1000, () => sim.link('a->b').setConfig({ delayMs: 10 }));
    sim.runUntilIdle(1e6);
    const delay = (seq: number) => {
      const x = b.arrivals[seq];
      return x.time - x.sentAt;
    };
    expect(delay(499)).toBe(10);
    expect(delay(500)).toBe(100);
    expect(delay(999)).toBe(100);
    // Lowering the delay holds new packets behind the last slow one (FIFO)...
    expect(b.arrivals[1000].time).toBe(999 + 100);
    expect(lateArrivals(b.arrivals)).toBe(0);
    // ...until they catch up.
    expect(delay(1100)).toBe(10);
  });

  it('applies rate and loss changes over time', () => {
    const { sim, a, b, link } = twoHosts({ rateBitsPerSec: 10e6 });
    // 80% of the rate, so little is queued when the rate is lifted at t=1000.
    a.sendFlow({ dst: B, count: 1600, intervalMs: 1.25, size: 1250 });
    sim.at(1000, () => link.setConfig({ rateBitsPerSec: 0, lossProbability: 1 }));
    sim.at(1500, () => link.setConfig({ lossProbability: 0 }));
    sim.runUntilIdle(1e6);
    expect(link.counters.droppedLoss).toBe(400);
    expect(b.arrivals.filter((x) => x.sentAt >= 1500).every((x) => x.time === x.sentAt)).toBe(true);
  });

  it('rejects invalid configurations', () => {
    const { link } = twoHosts({});
    expect(() => link.setConfig({ lossProbability: 1.5 })).toThrow(/lossProbability/);
    expect(() => link.setConfig({ delayMs: -1 })).toThrow(/delayMs/);
    expect(() => link.setConfig({ delayMs: Number.NaN })).toThrow(/delayMs/);
    expect(() => link.setConfig({ burstLoss: { pGoodToBad: 2, pBadToGood: 0 } })).toThrow(/pGoodToBad/);
    expect(link.config.delayMs).toBe(0);
    link.setConfig({ rateBitsPerSec: Infinity, queueLimitBytes: Infinity });
  });
});

/** Lengths of runs of missing sequence numbers in 0..n-1. */
function burstLengths(received: readonly number[], n: number): number[] {
  const got = new Uint8Array(n);
  for (const s of received) got[s] = 1;
  const bursts: number[] = [];
  let run = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && got[i] === 0) run++;
    else if (run > 0) {
      bursts.push(run);
      run = 0;
    }
  }
  return bursts;
}
