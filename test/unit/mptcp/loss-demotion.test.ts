/**
 * Unit tests of the loss estimate (tcp/loss-estimator.ts), a subflow's loss demotion
 * (connection/loss-demotion.ts) and the congestion controllers' restart on promotion.
 */
import { describe, expect, it } from 'vitest';
import { createCoupledGroup } from '../../../mptcp/cc/index.js';
import { DEMOTE_AFTER_MS, LossDemotion, PROMOTE_AFTER_MS } from '../../../mptcp/connection/loss-demotion.js';
import { Cubic, initialWindow, NewReno } from '../../../mptcp/tcp/congestion.js';
import { LossEstimator } from '../../../mptcp/tcp/loss-estimator.js';

const OPTIONS = { tauMs: 500, minSampleBytes: 16 * 1024, maxSampleMs: 1000, idleDecayMs: 5000 };

/** Feeds `e` for `ms` with `rate` bytes per 10 ms, a `loss` share of them retransmissions. */
function feed(e: { sent: number; retx: number; now: number }, ms: number, rate: number, loss: number, take: (now: number, sent: number, retx: number) => void): void {
  for (let t = 0; t < ms; t += 10) {
    e.now += 10;
    e.sent += rate * (1 - loss);
    e.retx += rate * loss;
    take(e.now, e.sent, e.retx);
  }
}

describe('LossEstimator', () => {
  it('follows the retransmitted share of transmissions, and fades while idle', () => {
    const est = new LossEstimator(OPTIONS);
    const s = { sent: 0, retx: 0, now: 0 };
    feed(s, 3000, 20_000, 0.1, (now, sent, retx) => est.update(now, sent, retx));
    expect(est.value).toBeGreaterThan(0.09);
    expect(est.value).toBeLessThan(0.11);
    feed(s, 3000, 20_000, 0, (now, sent, retx) => est.update(now, sent, retx));
    expect(est.value).toBeLessThan(0.01);
    const e2 = new LossEstimator(OPTIONS);
    const s2 = { sent: 0, retx: 0, now: 0 };
    feed(s2, 3000, 20_000, 0.2, (now, sent, retx) => e2.update(now, sent, retx));
    const before = e2.value;
    e2.update(s2.now + 5000, s2.sent, s2.retx); // idle 5 s: one time constant of decay
    expect(e2.value).toBeCloseTo(before * Math.exp(-1), 3);
  });

  it('takes counters that went back for a new baseline, not for a sample', () => {
    const est = new LossEstimator(OPTIONS);
    est.update(0, 1_000_000, 100_000);
    est.update(100, 0, 0);
    est.update(200, 100_000, 0);
    expect(est.value).toBe(0);
  });
});

describe('LossDemotion', () => {
  const run = (d: LossDemotion, s: { sent: number; retx: number; now: number }, ms: number, loss: number, srtt: number, clean = true) => {
    const changes: string[] = [];
    feed(s, ms, 20_000, loss, (now, sent, retx) => {
      const c = d.update(now, sent, retx, srtt, 20, 0.05, 0.02, clean);
      if (c) changes.push(`${c}@${now}`);
    });
    return changes;
  };

  it('demotes a path with random loss (at its minimum RTT) when a clean alternative exists, and promotes it when the loss stops', () => {
    const d = new LossDemotion();
    const s = { sent: 0, retx: 0, now: 0 };
    const down = run(d, s, 2000, 0.15, 21);
    expect(down).toHaveLength(1);
    expect(down[0]).toMatch(/^demoted@/);
    const at = Number(down[0].split('@')[1]);
    expect(at).toBeGreaterThanOrEqual(DEMOTE_AFTER_MS);
    expect(at).toBeLessThan(1500);
    expect(d.demoted).toBe(true);
    expect(run(d, s, 1000, 0.15, 21)).toEqual([]); // still lossy: stays demoted
    const up = run(d, s, 4000, 0, 21);
    expect(up).toHaveLength(1);
    expect(up[0]).toMatch(/^promoted@/);
    expect(Number(up[0].split('@')[1]) - s.now + 4000).toBeGreaterThanOrEqual(PROMOTE_AFTER_MS);
    expect(d.demoted).toBe(false);
  });

  it('does not demote for loss behind a standing queue (congestion), nor without a clean alternative', () => {
    const congested = new LossDemotion();
    expect(run(congested, { sent: 0, retx: 0, now: 0 }, 3000, 0.15, 60)).toEqual([]);
    const alone = new LossDemotion();
    expect(run(alone, { sent: 0, retx: 0, now: 0 }, 3000, 0.15, 21, false)).toEqual([]);
    expect(alone.lossRatio).toBeGreaterThan(0.1);
  });

  it('stays demoted while any loss remains above the promotion ratio, congestion or not', () => {
    const d = new LossDemotion();
    const s = { sent: 0, retx: 0, now: 0 };
    run(d, s, 2000, 0.15, 21);
    expect(d.demoted).toBe(true);
    // Timeouts inflate srtt: the losses would pass for congestion, but promotion counts them all.
    expect(run(d, s, 3000, 0.1, 200)).toEqual([]);
    expect(d.demoted).toBe(true);
  });
});

describe('congestion control restart (a promoted subflow)', () => {
  it('NewReno, CUBIC and a coupled member go back to slow start from at least the initial window', () => {
    const mss = 1448;
    const group = createCoupledGroup('olia');
    for (const cc of [new NewReno(mss), new Cubic(mss), group.create(mss)]) {
      cc.onRetransmissionTimeout(0, 100 * mss);
      expect(cc.cwnd).toBe(mss);
      cc.restart();
      expect(cc.cwnd).toBe(initialWindow(mss));
      expect(cc.ssthresh).toBe(Infinity);
      const w = cc.cwnd;
      cc.onAck(10, 4 * mss, 20);
      expect(cc.cwnd).toBe(w + 4 * mss); // slow start: byte counting
    }
  });
});
