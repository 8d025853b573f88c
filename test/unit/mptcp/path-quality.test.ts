/**
 * PathQuality (mptcp/pm/path-quality.ts) on synthetic statistics: a link model sends at a
 * rate, retransmits a share of it and gets ACKs one RTT later; the estimator is updated every
 * `step` ms. Checked: loss and capacity estimates, RTT, the verdict with its hysteresis (loss
 * sustained, no ACK progress with data outstanding, recovery only after clean time), idle
 * paths, counter restarts, and the windowed min/max filter.
 */
import { describe, expect, it } from 'vitest';
import { PathQuality, type PathQualitySample, type PathVerdict } from '../../../mptcp/pm/path-quality.js';
import { WindowedExtreme } from '../../../mptcp/tcp/windowed-extreme.js';

/** A sending subflow: cumulative counters as TcpStats would show them. */
class Link {
  readonly stats: PathQualitySample & { bytesSent: number; bytesAcked: number; retransmittedBytes: number; srttMs: number } = { srttMs: 50, bytesSent: 0, bytesAcked: 0, retransmittedBytes: 0 };
  now = 0;

  /** `ms` of sending new data at `bytesPerSecond`, `loss` of it sent again; ACKs keep up unless stalled. */
  run(q: PathQuality, ms: number, opts: { bytesPerSecond?: number; loss?: number; stalled?: boolean; step?: number } = {}): PathVerdict[] {
    const step = opts.step ?? 100;
    const rate = opts.bytesPerSecond ?? 1_000_000;
    const verdicts: PathVerdict[] = [];
    for (let t = 0; t < ms; t += step) {
      this.now += step;
      const sent = (rate * step) / 1000;
      if (opts.stalled !== true) {
        this.stats.bytesSent += sent;
        this.stats.retransmittedBytes += sent * (opts.loss ?? 0);
        this.stats.bytesAcked = this.stats.bytesSent;
      }
      // Stalled: nothing moves (a black hole before the retransmission timer fires).
      verdicts.push(q.update(this.now, this.stats));
    }
    return verdicts;
  }

  /** Sends data that is never acknowledged (leaves it outstanding). */
  sendUnacked(bytes: number): void {
    this.stats.bytesSent += bytes;
  }

  idle(q: PathQuality, ms: number, step = 100): PathVerdict[] {
    const out: PathVerdict[] = [];
    for (let t = 0; t < ms; t += step) {
      this.now += step;
      out.push(q.update(this.now, this.stats));
    }
    return out;
  }
}

/** Index of the first verdict equal to `v` (-1 if none). */
const first = (vs: PathVerdict[], v: PathVerdict) => vs.indexOf(v);

describe('PathQuality estimates', () => {
  it('a clean bulk transfer: no loss, capacity and delivery rate at the sending rate, RTT kept, good', () => {
    const q = new PathQuality();
    const l = new Link();
    const vs = l.run(q, 5000, { bytesPerSecond: 2_000_000 });
    expect(new Set(vs)).toEqual(new Set(['good']));
    expect(q.lossRate).toBe(0);
    expect(q.capacityBytesPerSecond).toBeCloseTo(2_000_000, -3);
    expect(q.deliveryRateBytesPerSecond).toBeGreaterThan(1_950_000);
    expect(q.srttMs).toBe(50);
    expect(q.minRttMs).toBe(50);
    expect(q.inFlightBytes).toBe(0);
  });

  it('the loss estimate converges to the retransmitted share, whatever the update interval', () => {
    for (const step of [20, 100, 1000]) {
      const q = new PathQuality();
      new Link().run(q, 10_000, { loss: 0.05, step });
      expect(q.lossRate, `step ${step}`).toBeGreaterThan(0.045);
      expect(q.lossRate, `step ${step}`).toBeLessThan(0.05);
    }
  });

  it('sparse traffic weighs less: one retransmission among a few segments is not a 20% loss', () => {
    const q = new PathQuality();
    const l = new Link();
    l.run(q, 1000, { bytesPerSecond: 1_000_000 });
    // 4 segments in 2 s, one of them retransmitted.
    l.stats.bytesSent += 4 * 1460;
    l.stats.retransmittedBytes += 1460;
    l.stats.bytesAcked = l.stats.bytesSent;
    l.idle(q, 2000);
    expect(q.lossRate).toBeLessThan(0.05);
    expect(q.verdict).not.toBe('bad');
  });

  it('capacity is the maximum over the window: a slower phase does not lower it until the window passes; idle keeps it', () => {
    const q = new PathQuality();
    const l = new Link();
    l.run(q, 2000, { bytesPerSecond: 4_000_000 });
    l.run(q, 5000, { bytesPerSecond: 1_000_000 });
    expect(q.capacityBytesPerSecond).toBeCloseTo(4_000_000, -4);
    expect(q.deliveryRateBytesPerSecond).toBeLessThan(1_100_000);
    l.idle(q, 30_000);
    expect(q.capacityBytesPerSecond).toBeCloseTo(4_000_000, -4);
    l.run(q, 12_000, { bytesPerSecond: 1_000_000 });
    expect(q.capacityBytesPerSecond).toBeCloseTo(1_000_000, -4);
  });

  it('delivery-rate samples span at least one smoothed RTT', () => {
    const q = new PathQuality();
    const l = new Link();
    l.stats.srttMs = 400;
    // ACKs every 400 ms in bursts; 100 ms updates would see 4x bursts without the RTT span.
    for (let i = 0; i < 40; i++) {
      l.now += 100;
      l.stats.bytesSent += 100_000;
      if (i % 4 === 3) l.stats.bytesAcked = l.stats.bytesSent;
      q.update(l.now, l.stats);
    }
    expect(q.capacityBytesPerSecond).toBeLessThan(1_300_000);
    expect(q.capacityBytesPerSecond).toBeGreaterThan(700_000);
  });

  it('minimum RTT over its window; an RTT of 0 (no sample yet) is ignored', () => {
    const q = new PathQuality();
    const l = new Link();
    l.stats.srttMs = 0;
    l.run(q, 500);
    expect(q.srttMs).toBe(0);
    l.stats.srttMs = 30;
    l.run(q, 1000);
    l.stats.srttMs = 90;
    l.run(q, 5000);
    expect(q.srttMs).toBe(90);
    expect(q.minRttMs).toBe(30);
    l.run(q, 10_000);
    expect(q.minRttMs).toBe(90);
  });

  it('counters that go backwards (another subflow, a restart) rebase instead of giving negative samples', () => {
    const q = new PathQuality();
    const l = new Link();
    l.run(q, 2000);
    l.stats.bytesSent = l.stats.bytesAcked = 1000;
    l.stats.retransmittedBytes = 0;
    l.run(q, 2000);
    expect(q.lossRate).toBe(0);
    expect(q.capacityBytesPerSecond).toBeGreaterThan(0);
    expect(q.verdict).toBe('good');
  });
});

describe('PathQuality verdict', () => {
  it('sustained 20% loss is bad within about 3 s, not at once', () => {
    const q = new PathQuality();
    const l = new Link();
    l.run(q, 3000);
    const vs = l.run(q, 5000, { loss: 0.2 });
    const bad = first(vs, 'bad');
    expect(bad).toBeGreaterThan(5); // > 0.5 s
    expect(bad).toBeLessThan(30); // < 3 s
    expect(first(vs, 'degraded')).toBeLessThan(bad);
    expect(vs.slice(bad).every((v) => v === 'bad')).toBe(true);
  });

  it('a short burst of loss degrades but is not bad', () => {
    const q = new PathQuality();
    const l = new Link();
    l.run(q, 2000);
    const vs = [...l.run(q, 300, { loss: 0.3 }), ...l.run(q, 5000)];
    expect(vs).not.toContain('bad');
    expect(vs).toContain('degraded');
    expect(vs.at(-1)).toBe('good');
  });

  it('moderate loss (3%) is degraded, not bad', () => {
    const q = new PathQuality();
    const vs = new Link().run(q, 10_000, { loss: 0.03 });
    expect(vs).not.toContain('bad');
    expect(vs.at(-1)).toBe('degraded');
  });

  it('from bad back to good only after 2 s clean (hysteresis), through degraded', () => {
    const q = new PathQuality();
    const l = new Link();
    l.run(q, 5000, { loss: 0.25 });
    expect(q.verdict).toBe('bad');
    const vs = l.run(q, 15_000);
    const t = (i: number) => (i + 1) * 100;
    const lossBelow = (x: number) => {
      // Replays the clean phase to find when the estimate fell below x.
      const r = new PathQuality();
      const k = new Link();
      k.run(r, 5000, { loss: 0.25 });
      for (let i = 0; ; i++) {
        k.run(r, 100);
        if (r.lossRate <= x) return t(i);
      }
    };
    const good = first(vs, 'good');
    const degraded = first(vs, 'degraded');
    expect(degraded).toBeGreaterThan(0);
    expect(good).toBeGreaterThan(degraded);
    expect(t(degraded)).toBeGreaterThanOrEqual(lossBelow(0.05) + 2000);
    expect(t(good)).toBeGreaterThanOrEqual(lossBelow(0.01) + 2000);
    expect(vs.slice(good).every((v) => v === 'good')).toBe(true);
    expect(q.verdictSince).toBe(l.now - (vs.length - 1 - good) * 100);
  });

  it('no ACK progress with data outstanding: bad after max(1 s, 4 x srtt), not before', () => {
    for (const srtt of [50, 600]) {
      const q = new PathQuality();
      const l = new Link();
      l.stats.srttMs = srtt;
      l.run(q, 3000);
      l.sendUnacked(20_000);
      const vs = l.run(q, 6000, { stalled: true });
      const limit = Math.max(1000, 4 * srtt);
      const bad = (first(vs, 'bad') + 1) * 100;
      expect(bad, `srtt ${srtt}`).toBeGreaterThan(limit);
      expect(bad, `srtt ${srtt}`).toBeLessThanOrEqual(limit + 200);
      expect(q.stalledMs(l.now)).toBeGreaterThan(limit);
      // ACKs come back: bad stays for 2 s of calm conditions.
      l.stats.bytesAcked = l.stats.bytesSent;
      const after = l.run(q, 1500);
      expect(after.every((v) => v === 'bad')).toBe(true);
    }
  });

  it('an idle path (nothing outstanding) is never stalled, and stays good', () => {
    const q = new PathQuality();
    const l = new Link();
    l.run(q, 1000);
    const vs = l.idle(q, 60_000, 1000);
    expect(new Set(vs)).toEqual(new Set(['good']));
    expect(q.stalledMs(l.now)).toBe(0);
  });

  it('inFlightBytes overrides bytesSent - bytesAcked (path totals include closed subflows)', () => {
    const q = new PathQuality();
    const s = { srttMs: 20, bytesSent: 50_000, bytesAcked: 10_000, retransmittedBytes: 0, inFlightBytes: 0 };
    for (let now = 0; now <= 10_000; now += 500) q.update(now, s);
    expect(q.verdict).toBe('good');
    expect(q.inFlightBytes).toBe(0);
    const stalled = new PathQuality();
    const plain = { srttMs: s.srttMs, bytesSent: s.bytesSent, bytesAcked: s.bytesAcked, retransmittedBytes: s.retransmittedBytes };
    for (let now = 0; now <= 10_000; now += 500) stalled.update(now, plain);
    expect(stalled.verdict).toBe('bad');
  });

  it('a path left bad by loss and then idle fades back to good (so it is tried again)', () => {
    const q = new PathQuality();
    const l = new Link();
    l.run(q, 5000, { loss: 0.3 });
    expect(q.verdict).toBe('bad');
    const vs = l.idle(q, 60_000, 1000);
    expect(vs.at(-1)).toBe('good');
    expect(first(vs, 'good')).toBeGreaterThan(10); // not soon
  });

  it('reset() forgets the estimates', () => {
    const q = new PathQuality();
    new Link().run(q, 5000, { loss: 0.3 });
    q.reset();
    expect([q.verdict, q.lossRate, q.capacityBytesPerSecond, q.srttMs]).toEqual(['good', 0, 0, 0]);
  });
});

describe('WindowedExtreme', () => {
  it('keeps the maximum of the window and falls back to later choices as it expires', () => {
    const w = new WindowedExtreme('max');
    expect(w.value).toBeUndefined();
    w.update(0, 10, 1000);
    w.update(100, 5, 1000);
    w.update(600, 7, 1000);
    expect(w.value).toBe(10);
    expect(w.update(1050, 3, 1000)).toBe(7);
    expect(w.update(2100, 2, 1000)).toBe(2);
  });

  it('as a minimum filter', () => {
    const w = new WindowedExtreme('min');
    w.update(0, 10, 1000);
    w.update(300, 20, 1000);
    expect(w.value).toBe(10);
    expect(w.update(1200, 30, 1000)).toBe(20);
    expect(w.update(1250, 5, 1000)).toBe(5);
  });
});
