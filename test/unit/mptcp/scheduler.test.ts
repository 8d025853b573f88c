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
  scheduledBytes: number;
  room: number;
}

const sf = (id: number, srtt: number | undefined, room: number, o: Partial<TestSubflow> = {}): TestSubflow => {
  const s: TestSubflow = { id, srtt, eligible: true, cwnd: 14_600, mss: 1400, weight: 1, scheduledBytes: 0, rateBlocked: false, room, sendRoom: () => s.room, ...o };
  return s;
};
const ctx = (pendingBytes: number, windowFree = 1 << 30): SchedulerContext => ({ pendingBytes, windowFree });

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
          x.scheduledBytes += 1400;
          given[x.id - 1]++;
          break;
        }
      }
    }
    expect(Math.abs(given[0] - given[1])).toBeLessThanOrEqual(1);
  });
  it('is work-conserving: a subflow with room does not wait for a full one', () => {
    const s = new RoundRobinScheduler();
    const a = sf(1, 10, 0, { scheduledBytes: 0 });
    const b = sf(2, 80, 5000, { scheduledBytes: 1_000_000 });
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
      if (s.allow(first, [a, b], ctx(1))) first.scheduledBytes += 1400;
      else if (s.allow(second, [a, b], ctx(1))) second.scheduledBytes += 1400;
    }
    const ratio = a.scheduledBytes / b.scheduledBytes;
    expect(ratio).toBeGreaterThan(2.9);
    expect(ratio).toBeLessThan(3.1);
    // b has no room: a may run ahead only by the slack, then waits.
    b.room = 0;
    let extra = 0;
    while (s.allow(a, [a, b], ctx(1)) && extra < 10_000) {
      a.scheduledBytes += 1400;
      extra++;
    }
    expect(extra).toBeLessThan(10_000);
    expect(extra * 1400).toBeLessThanOrEqual(3 * 64 * 1024 + 3 * 1400 * 2);
  });
  it('a subflow that becomes eligible later starts level instead of taking everything', () => {
    const s = new WeightedScheduler();
    const a = sf(1, 10, 5000, { weight: 1, scheduledBytes: 10_000_000 });
    const b = sf(2, 10, 5000, { weight: 1, eligible: false });
    expect(s.allow(a, [a, b], ctx(1))).toBe(true);
    b.eligible = true;
    // Level start: b is not 10 MB behind, so a is still allowed (within the slack).
    expect(s.allow(a, [a, b], ctx(1))).toBe(true);
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
