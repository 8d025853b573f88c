/**
 * Coupled congestion control (mptcp/cc): LIA's alpha and increase against RFC 6356 §3 computed
 * here independently, RFC 6356 §2 goal 2 (the connection's rate grows no faster than one TCP's
 * on the best path; no subflow more aggressive than TCP on its own path), each algorithm with
 * one subflow step for step equal to NewReno, OLIA's epsilon and increase and BALIA's increase
 * and decrease against the papers' formulas by hand, the lazy group bookkeeping, and the factory.
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../mptcp/core/sans-io.js';
import { BaliaGroup, createCoupledGroup, isCongestionName, LiaGroup, OliaGroup, type CoupledMember, type CouplingGroup } from '../../../mptcp/cc/index.js';
import { NewReno } from '../../../mptcp/tcp/congestion.js';

const MSS = 1000;

/** Puts members of `group` at the given windows (in MSS) and RTTs (ms), in congestion avoidance. */
function setUp<M extends CoupledMember>(group: CouplingGroup<M>, windows: number[], rtts: number[]): M[] {
  const ms = windows.map(() => group.create(MSS));
  ms.forEach((m, i) => {
    m.cwnd = windows[i] * MSS;
    m.ssthresh = m.cwnd / 2;
    m.srtt = rtts[i];
  });
  group.markChanged();
  return ms;
}

/** RFC 6356 §3, written out from the RFC's text. */
function rfc6356Alpha(cwnd: number[], rtt: number[]): number {
  const total = cwnd.reduce((a, b) => a + b, 0);
  const best = Math.max(...cwnd.map((c, i) => c / (rtt[i] * rtt[i])));
  const denom = cwnd.reduce((a, c, i) => a + c / rtt[i], 0) ** 2;
  return (total * best) / denom;
}

describe('LIA (RFC 6356)', () => {
  it('alpha and the per-ACK increase equal RFC 6356 §3 computed independently', () => {
    const cases: [number[], number[]][] = [
      [[10, 10], [50, 50]],
      [[20, 10], [10, 40]],
      [[8, 30, 64], [5, 80, 200]],
      [[100, 3, 7, 12], [30, 30, 9, 300]],
    ];
    for (const [w, r] of cases) {
      const g = new LiaGroup();
      const ms = setUp(g, w, r);
      const cwnd = w.map((x) => x * MSS);
      const alpha = rfc6356Alpha(cwnd, r);
      expect(g.alpha).toBeCloseTo(alpha, 12);
      const total = cwnd.reduce((a, b) => a + b, 0);
      ms.forEach((m, i) => {
        // Increase per acknowledged byte: min(alpha * MSS / cwnd_total, MSS / cwnd_i).
        const inc = Math.min((alpha * MSS) / total, MSS / cwnd[i]);
        expect(MSS / m.ackedPerStep()).toBeCloseTo(inc, 12);
      });
    }
    // Equal paths: alpha = 1/n (RFC 6356 §3's example of n identical subflows).
    const g = new LiaGroup();
    setUp(g, [10, 10, 10, 10], [20, 20, 20, 20]);
    expect(g.alpha).toBeCloseTo(0.25, 12);
  });

  it('goal 2: the rate grows no faster than one TCP on the best path, no subflow faster than TCP on its own', () => {
    const r = new SeededRandom(6356);
    for (let trial = 0; trial < 2000; trial++) {
      const n = 2 + Math.floor(r.nextFloat() * 7);
      const w = Array.from({ length: n }, () => 2 + Math.floor(r.nextFloat() * 500));
      const rtt = Array.from({ length: n }, () => 1 + r.nextFloat() * 400);
      const g = new LiaGroup();
      const ms = setUp(g, w, rtt);
      // A subflow acknowledges cwnd_i / rtt_i bytes per ms; each byte grows cwnd_i by
      // MSS / ackedPerStep and so the rate cwnd_i / rtt_i by that over rtt_i.
      let growth = 0;
      ms.forEach((m, i) => {
        const perStep = m.ackedPerStep();
        expect(perStep).toBeGreaterThanOrEqual(m.cwnd); // never more than TCP on this path
        growth += (m.cwnd / rtt[i]) * (MSS / perStep) / rtt[i];
      });
      // Single-path TCP: one MSS per RTT, a rate growth of MSS / rtt^2; best on the shortest RTT.
      const tcpBest = MSS / Math.min(...rtt) ** 2;
      expect(growth).toBeLessThanOrEqual(tcpBest * (1 + 1e-9));
    }
  });
});

describe('one subflow: every coupled algorithm is Reno', () => {
  for (const name of ['lia', 'olia', 'balia'] as const) {
    it(`${name} follows NewReno step for step through slow start, avoidance, losses and timeouts`, () => {
      const group = createCoupledGroup(name);
      const cc = group.create(1448);
      const reno = new NewReno(1448);
      const r = new SeededRandom(name.length * 7919);
      let now = 0;
      for (let i = 0; i < 20_000; i++) {
        now += r.nextFloat() * 5;
        const x = r.nextFloat();
        const inFlight = Math.floor(reno.cwnd * r.nextFloat());
        if (x < 0.002) {
          cc.onRetransmissionTimeout(now, inFlight);
          reno.onRetransmissionTimeout(now, inFlight);
        } else if (x < 0.01) {
          cc.onCongestionEvent(now, inFlight);
          reno.onCongestionEvent(now, inFlight);
        } else {
          const acked = 1 + Math.floor(r.nextFloat() * 3 * 1448);
          const rtt = 20 + r.nextFloat() * 80;
          cc.onAck(now, acked, rtt);
          reno.onAck(now, acked, rtt);
        }
        expect(cc.cwnd).toBe(reno.cwnd);
        expect(cc.ssthresh).toBe(reno.ssthresh);
      }
      expect(group.size).toBe(1);
    });
  }

  it('a member that left no longer counts: the survivor is Reno again', () => {
    const g = new LiaGroup();
    const [a, b] = setUp(g, [20, 20], [10, 10]);
    expect(a.ackedPerStep()).toBeGreaterThan(a.cwnd);
    b.leave();
    b.leave(); // idempotent
    expect(g.size).toBe(1);
    expect(g.alpha).toBe(1);
    expect(a.ackedPerStep()).toBe(a.cwnd);
  });
});

describe('OLIA (Khalili et al. 2012)', () => {
  it('epsilon moves window from the largest paths to the best one; the increase equals the paper by hand', () => {
    const g = new OliaGroup();
    // Path 0: 20 MSS, 10 ms; path 1: 10 MSS, 40 ms, and far fewer losses: l/rtt^2 favours it.
    const [p0, p1] = setUp(g, [20, 10], [10, 40]);
    p0.ackedTotal = 10_000; // l_0 = 10 kB: 10000 / 100 = 100 per ms^2
    p1.ackedTotal = 1_000_000; // l_1 = 1 MB: 1e6 / 1600 = 625 per ms^2 (best)
    g.markChanged();
    // M = {0} (largest window), B = {1}, B \ M = {1}, |P| = 2.
    expect(p1.epsilon).toBeCloseTo(1 / (2 * 1), 12);
    expect(p0.epsilon).toBeCloseTo(-1 / (2 * 1), 12);
    // Per acknowledged packet, in packets: (w_r / rtt_r^2) / (sum w_p / rtt_p)^2 + eps_r / w_r.
    const sum = 20 / 10 + 10 / 40; // 2.25 packets per ms
    const inc0 = 20 / 100 / sum ** 2 - 0.5 / 20; // 0.0395062 - 0.025
    const inc1 = 10 / 1600 / sum ** 2 + 0.5 / 10; // 0.0012346 + 0.05
    expect(inc0).toBeCloseTo(0.014506, 5);
    expect(inc1).toBeCloseTo(0.051235, 5);
    expect(p0.ackedPerStep()).toBeCloseTo(MSS / inc0, 6);
    expect(p1.ackedPerStep()).toBeCloseTo(MSS / inc1, 6);
  });

  it('without a better path outside M, epsilon is 0: the LIA-like first term alone', () => {
    const g = new OliaGroup();
    const [p0, p1] = setUp(g, [20, 10], [10, 40]);
    p0.ackedTotal = 1_000_000; // the largest window is also the best path
    p1.ackedTotal = 1_000;
    g.markChanged();
    expect(p0.epsilon).toBe(0);
    expect(p1.epsilon).toBe(0);
    const sum = 2.25;
    expect(p1.ackedPerStep()).toBeCloseTo(MSS / (10 / 1600 / sum ** 2), 6);
  });

  it('a negative increase shrinks the largest window by one MSS per step, never below ssthresh', () => {
    const g = new OliaGroup();
    // 2 (w_0 / rtt_0)^2 < (sum w_p / rtt_p)^2: the first term is smaller than eps_0 / w_0.
    const [p0, p1] = setUp(g, [40, 30], [10, 10]);
    p1.ackedTotal = 10_000_000;
    g.markChanged();
    expect(p0.ackedPerStep()).toBeLessThan(0);
    const before = p0.cwnd;
    p0.onAck(0, -p0.ackedPerStep() + 1, 10);
    expect(p0.cwnd).toBe(before - MSS);
    p0.ssthresh = p0.cwnd;
    expect(p0.ackedPerStep()).toBeLessThan(0);
    p0.onAck(0, -p0.ackedPerStep() + 1, 10);
    expect(p0.cwnd).toBe(before - MSS);
  });

  it('the inter-loss distance is the larger of the last interval and the bytes since the last loss', () => {
    const g = new OliaGroup();
    const [m] = setUp(g, [10], [10]);
    m.onAck(0, 5000, 10);
    m.onCongestionEvent(0, 10_000);
    expect(m.interLossBytes).toBe(5000);
    m.onAck(0, 2000, 10);
    m.onCongestionEvent(0, 10_000);
    expect(m.interLossBytes).toBe(2000);
    m.onRetransmissionTimeout(0, 10_000); // no progress since: the same loss
    m.onAck(0, 9000, 10);
    expect(m.interLossBytes).toBe(9000);
  });
});

describe('BALIA (Peng et al. 2016)', () => {
  it('the increase and the decrease equal the paper by hand', () => {
    const g = new BaliaGroup();
    // x_0 = 20 / 10 = 2, x_1 = 10 / 40 = 0.25 packets per ms; sum 2.25, max 2.
    const [p0, p1] = setUp(g, [20, 10], [10, 40]);
    const a0 = 1;
    const a1 = 2 / 0.25; // 8
    expect(p0.alpha).toBeCloseTo(a0, 12);
    expect(p1.alpha).toBeCloseTo(a1, 12);
    // Per acknowledged packet: x_r / (tau_r (sum x)^2) * (1 + a) / 2 * (4 + a) / 5.
    const inc0 = (2 / (10 * 2.25 ** 2)) * ((1 + a0) / 2) * ((4 + a0) / 5);
    const inc1 = (0.25 / (40 * 2.25 ** 2)) * ((1 + a1) / 2) * ((4 + a1) / 5);
    expect(inc0).toBeCloseTo(0.0395062, 6);
    expect(inc1).toBeCloseTo(0.0133333, 6);
    expect(p0.ackedPerStep()).toBeCloseTo(MSS / inc0, 6);
    expect(p1.ackedPerStep()).toBeCloseTo(MSS / inc1, 6);
    // Loss: w_r -= w_r / 2 * min(alpha_r, 1.5) (of FlightSize = cwnd here).
    p0.onCongestionEvent(0, 20 * MSS);
    expect(p0.ssthresh).toBeCloseTo(10 * MSS, 6);
    p1.onCongestionEvent(0, 10 * MSS);
    expect(p1.ssthresh).toBeCloseTo(10 * MSS - 5 * MSS * 1.5, 6);
    expect(p1.cwnd).toBe(p1.ssthresh);
  });

  it('equal paths: each grows at (1+1)/2 (4+1)/5 x / (tau (n x)^2), a 1/n^2 of Reno', () => {
    const g = new BaliaGroup();
    const ms = setUp(g, [16, 16, 16], [25, 25, 25]);
    for (const m of ms) expect(m.ackedPerStep()).toBeCloseTo(9 * m.cwnd, 6);
  });
});

describe('groups', () => {
  it('aggregates are recomputed lazily: only after a window or the membership changed', () => {
    const g = new LiaGroup();
    const [a, b] = setUp(g, [10, 30], [20, 20]);
    const alpha = g.alpha;
    b.cwnd = 10 * MSS; // changed behind the group's back: not seen until markChanged
    expect(g.alpha).toBe(alpha);
    g.markChanged();
    expect(g.alpha).toBeCloseTo(0.5, 12);
    a.onAck(0, 1, 20); // congestion avoidance, no step: nothing changed
    expect(g.alpha).toBeCloseTo(0.5, 12);
  });

  it('a member without an RTT sample is not counted', () => {
    const g = new LiaGroup();
    const [a] = setUp(g, [10], [20]);
    const fresh = g.create(MSS);
    expect(fresh.counted).toBe(false);
    expect(g.counted).toBe(1);
    expect(a.ackedPerStep()).toBe(a.cwnd);
    fresh.onAck(0, 100, 20);
    expect(g.counted).toBe(2);
  });

  it('the factory: uncoupled CUBIC and NewReno, the coupled three, unknown names refused', () => {
    const cubic = createCoupledGroup('cubic');
    expect(cubic.coupled).toBe(false);
    const m = cubic.create(1448);
    expect(m.name).toBe('cubic');
    expect(cubic.size).toBe(1);
    m.leave();
    m.leave();
    expect(cubic.size).toBe(0);
    expect(createCoupledGroup('newreno').create(1448).name).toBe('newreno');
    for (const n of ['lia', 'olia', 'balia'] as const) {
      const g = createCoupledGroup(n);
      expect(g.coupled).toBe(true);
      expect(g.create(1448).name).toBe(n);
    }
    expect(isCongestionName('olia')).toBe(true);
    expect(isCongestionName('bbr')).toBe(false);
    expect(() => createCoupledGroup('bbr' as 'lia')).toThrow(RangeError);
  });
});
