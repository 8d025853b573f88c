/**
 * The schedulers (mptcp/sched/): which eligible subflow takes new data. Tiers, backups and
 * disabled paths are the connection's part (eligibility), covered in test/sim/mptcp-policy.
 */
import { describe, expect, it } from 'vitest';
import { BlestScheduler } from '../../../mptcp/sched/blest.js';
import { EcfScheduler } from '../../../mptcp/sched/ecf.js';
import { LowestRttScheduler } from '../../../mptcp/sched/lowest-rtt.js';
import { createScheduler, SCHEDULERS, type SchedulerContext, type SchedulerSubflow } from '../../../mptcp/sched/scheduler.js';
import { TokenBucket } from '../../../mptcp/sched/token-bucket.js';
import { RoundRobinScheduler, WeightedScheduler } from '../../../mptcp/sched/weighted.js';

interface TestSubflow extends SchedulerSubflow {
  eligible: boolean;
  wireBytes: number;
  room: number;
}

const sf = (id: number, srtt: number | undefined, room: number, o: Partial<TestSubflow> = {}): TestSubflow => {
  const s: TestSubflow = { id, srtt, eligible: true, cwnd: 14_600, mss: 1400, weight: 1, scheduledBytes: 0, wireBytes: 0, rateBlocked: false, room, sendRoom: () => s.room, ...o };
  return s;
};
const ctx = (pendingBytes: number, windowFree = 1 << 30, now = 0): SchedulerContext => ({ now, pendingBytes, windowFree });

describe('LowestRttScheduler', () => {
  const s = new LowestRttScheduler();
  it('prefers the lowest RTT among subflows with window space', () => {
    const a = sf(1, 10, 5000);
    const b = sf(2, 50, 5000);
    expect(s.allow(a, [a, b], ctx(1))).toBe(true);
    expect(s.allow(b, [a, b], ctx(1))).toBe(false);
  });
  it('uses a slower subflow when the faster one has no room', () => {
    const a = sf(1, 10, 0);
    const b = sf(2, 50, 5000);
    expect(s.allow(b, [a, b], ctx(1))).toBe(true);
  });
  it('ignores subflows that are not eligible, and never schedules on one', () => {
    const a = sf(1, 5, 5000, { eligible: false });
    const b = sf(2, 50, 5000);
    expect(s.allow(b, [a, b], ctx(1))).toBe(true);
    expect(s.allow(a, [a, b], ctx(1))).toBe(false);
  });
  it('ties go to the lower id', () => {
    const x = sf(1, 10, 5000);
    const y = sf(2, 10, 5000);
    expect(s.allow(x, [x, y], ctx(1))).toBe(true);
    expect(s.allow(y, [x, y], ctx(1))).toBe(false);
  });
});

describe('EcfScheduler', () => {
  it('waits for a full fast subflow when it would finish sooner than a slow one', () => {
    const s = new EcfScheduler();
    const fast = sf(1, 10, 0, { cwnd: 100_000 });
    const slow = sf(2, 300, 50_000, { cwnd: 100_000 });
    // 50 kB pending: the fast path needs 1.5 of its 10 ms RTTs; the slow path 300 ms.
    expect(s.allow(slow, [fast, slow], ctx(50_000))).toBe(false);
  });
  it('judges an idle subflow by its expected RTT (its queue drained), not by a stale srtt', () => {
    const s = new EcfScheduler();
    const fast = sf(1, 20, 0, { cwnd: 250_000 });
    // An LTE subflow whose srtt was inflated to 450 ms by its modem's queue; idle since.
    const stale = sf(2, 450, 100_000, { cwnd: 100_000 });
    expect(s.allow(stale, [fast, stale], ctx(4_000_000))).toBe(false);
    const drained = sf(2, 450, 100_000, { cwnd: 100_000, expectedRtt: 120 });
    expect(s.allow(drained, [fast, drained], ctx(4_000_000))).toBe(true);
  });
  it('uses the slow subflow when there is more than the fast one can deliver within its RTT', () => {
    const s = new EcfScheduler();
    const fast = sf(1, 10, 0, { cwnd: 20_000 });
    const slow = sf(2, 30, 50_000, { cwnd: 200_000 });
    // 10 MB pending: the fast path needs 501 RTTs = 5 s, far more than the slow path's 30 ms.
    expect(s.allow(slow, [fast, slow], ctx(10_000_000))).toBe(true);
  });
});

describe('ECF and BLEST with a rate-capped path', () => {
  it('never wait for a fast path that its rate cap holds back', () => {
    for (const s of [new EcfScheduler(), new BlestScheduler()]) {
      const capped = sf(1, 5, 0, { cwnd: 1_000_000, rateBlocked: true });
      const other = sf(2, 40, 50_000, { cwnd: 100_000 });
      expect(s.allow(other, [capped, other], ctx(200_000, 300_000)), s.name).toBe(true);
    }
  });
});

describe('BlestScheduler', () => {
  it('skips a slow subflow when the fast one would need the window space during its RTT', () => {
    const s = new BlestScheduler();
    const fast = sf(1, 10, 0, { cwnd: 140_000 }); // 100 segments
    const slow = sf(2, 100, 50_000);
    // During 100 ms the fast path sends about 1400 * (100 + 4.5) * 10 = 1.46 MB.
    expect(s.allow(slow, [fast, slow], ctx(10_000_000, 1_000_000))).toBe(false);
    expect(s.allow(slow, [fast, slow], ctx(10_000_000, 2_000_000))).toBe(true);
  });
  it('always lets the fastest subflow send', () => {
    const s = new BlestScheduler();
    const fast = sf(1, 10, 5000);
    const slow = sf(2, 100, 50_000);
    expect(s.allow(fast, [fast, slow], ctx(1, 0))).toBe(true);
  });
});

describe('RoundRobinScheduler', () => {
  it('alternates: the least-served subflow with room goes first', () => {
    const s = new RoundRobinScheduler();
    const a = sf(1, 10, 5000);
    const b = sf(2, 80, 5000);
    const given = [0, 0];
    for (let i = 0; i < 100; i++) {
      for (const x of [a, b]) {
        if (s.allow(x, [a, b], ctx(1))) {
          x.wireBytes += 1400;
          given[x.id - 1]++;
          break;
        }
      }
    }
    expect(Math.abs(given[0] - given[1])).toBeLessThanOrEqual(1);
  });
  it('is work-conserving: a subflow with room does not wait for a full one', () => {
    const s = new RoundRobinScheduler();
    const a = sf(1, 10, 0, { wireBytes: 0 });
    const b = sf(2, 80, 5000, { wireBytes: 1_000_000 });
    expect(s.allow(b, [a, b], ctx(1))).toBe(true);
  });
});

describe('WeightedScheduler', () => {
  it('splits bytes by weight, strictly: a subflow ahead of its share waits even if the other is full', () => {
    const s = new WeightedScheduler();
    const a = sf(1, 10, 5000, { weight: 3 });
    const b = sf(2, 10, 5000, { weight: 1 });
    for (let i = 0; i < 4000; i++) {
      // Either may ask first; whoever is allowed takes a segment.
      const first = i % 2 === 0 ? a : b;
      const second = first === a ? b : a;
      if (s.allow(first, [a, b], ctx(1))) first.wireBytes += 1400;
      else if (s.allow(second, [a, b], ctx(1))) second.wireBytes += 1400;
    }
    const ratio = a.wireBytes / b.wireBytes;
    expect(ratio).toBeGreaterThan(2.9);
    expect(ratio).toBeLessThan(3.1);
    // b has no room: a may run ahead only by the slack, then waits.
    b.room = 0;
    let extra = 0;
    while (s.allow(a, [a, b], ctx(1)) && extra < 10_000) {
      a.wireBytes += 1400;
      extra++;
    }
    expect(extra).toBeLessThan(10_000);
    expect(extra * 1400).toBeLessThanOrEqual(3 * 64 * 1024 + 3 * 1400 * 2);
  });
  it('counts opportunistic copies in the share: a subflow under its share may copy, one at its share may not', () => {
    const s = new WeightedScheduler();
    const a = sf(1, 100, 0, { weight: 3 });
    const b = sf(2, 2, 5000, { weight: 1 });
    expect(s.allowCopy(b, [a, b], ctx(1))).toBe(true);
    let copies = 0;
    while (s.allowCopy(b, [a, b], ctx(1)) && copies < 10_000) {
      b.wireBytes += 1400;
      copies++;
    }
    // b stops one slack (64 KiB per unit of weight) past a's share, whatever its room.
    expect(copies * 1400).toBeGreaterThanOrEqual(64 * 1024);
    expect(copies * 1400).toBeLessThanOrEqual(64 * 1024 + 1400);
    // Once a has sent its part, b may copy again.
    a.wireBytes += 3 * 200_000;
    expect(s.allowCopy(b, [a, b], ctx(1))).toBe(true);
  });
  it('a subflow that becomes eligible later starts level instead of taking everything', () => {
    const s = new WeightedScheduler();
    const a = sf(1, 10, 5000, { weight: 1, wireBytes: 10_000_000 });
    const b = sf(2, 10, 5000, { weight: 1, eligible: false });
    expect(s.allow(a, [a, b], ctx(1))).toBe(true);
    b.eligible = true;
    // Level start: b is not 10 MB behind, so a is still allowed (within the slack).
    expect(s.allow(a, [a, b], ctx(1))).toBe(true);
  });
  it('a subflow back from a brief absence keeps its debt (bounded); after a long one it starts level', () => {
    const run = (awayMs: number, owedBytes: number) => {
      const s = new WeightedScheduler();
      const a = sf(1, 10, 5000, { weight: 1 });
      const b = sf(2, 10, 5000, { weight: 1 });
      expect(s.allow(a, [a, b], ctx(1, 1 << 30, 0))).toBe(true);
      // a goes silent at 100 ms; b resends its data and more: b is ahead by owedBytes.
      a.eligible = false;
      s.allow(b, [a, b], ctx(1, 1 << 30, 100));
      b.wireBytes += owedBytes;
      a.eligible = true;
      const back = 100 + awayMs;
      // How much may a send before b, which has room, is allowed again?
      let sent = 0;
      while (!s.allow(b, [a, b], ctx(1, 1 << 30, back)) && sent < 100_000_000) {
        expect(s.allow(a, [a, b], ctx(1, 1 << 30, back))).toBe(true);
        a.wireBytes += 1400;
        sent += 1400;
      }
      return sent;
    };
    // Brief (300 ms): a is owed 500 kB and gets it back before b goes on.
    expect(run(300, 500_000)).toBeGreaterThanOrEqual(500_000 - 64 * 1024 - 1400);
    // Brief but owed 5 MB: at most 1 MiB per unit of weight is kept.
    const capped = run(300, 5_000_000);
    expect(capped).toBeGreaterThanOrEqual(1024 * 1024 - 64 * 1024 - 1400);
    expect(capped).toBeLessThanOrEqual(1024 * 1024 + 1400);
    // Long (5 s): level start, b goes on at once.
    expect(run(5000, 5_000_000)).toBe(0);
  });
});

describe('createScheduler', () => {
  it('makes every named scheduler; an unknown name is refused', () => {
    for (const name of SCHEDULERS) expect(createScheduler(name).name).toBe(name);
    expect(createScheduler('redundant').redundant).toBe(true);
    expect(() => createScheduler('nope')).toThrow(/unknown scheduler/);
  });
});

describe('TokenBucket', () => {
  it('holds the long-run rate to the cap, with segment-sized debt', () => {
    const b = new TokenBucket(1_000_000); // 1 MB/s
    let now = 0;
    let sent = 0;
    while (now < 10_000) {
      if (b.canSend(now)) {
        b.take(now, 1400);
        sent += 1400;
      } else now = b.readyAt(now);
    }
    // 10 s at 1 MB/s, plus at most the initial burst and one segment.
    expect(sent).toBeGreaterThanOrEqual(10_000_000);
    expect(sent).toBeLessThanOrEqual(10_000_000 + TokenBucket.defaultBurst(1_000_000) + 1400 + 1000);
  });
  it('says when a send may start again', () => {
    const b = new TokenBucket(1000, 1000);
    b.take(0, 3000); // 2000 bytes of debt
    expect(b.canSend(0)).toBe(false);
    expect(b.readyAt(0)).toBe(2001);
    expect(b.canSend(2001)).toBe(true);
  });
});
