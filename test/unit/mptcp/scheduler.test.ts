/** The default scheduler (mptcp/sched/scheduler.ts): lowest RTT with room, backups last. */
import { describe, expect, it } from 'vitest';
import { createScheduler, EcfScheduler, LowestRttScheduler, type SchedulerSubflow } from '../../../mptcp/sched/scheduler.js';

const sf = (id: number, srtt: number | undefined, room: number, o: Partial<SchedulerSubflow> = {}): SchedulerSubflow => ({ id, srtt, backup: false, usable: true, cwnd: 14_600, sendRoom: () => room, ...o });

describe('LowestRttScheduler', () => {
  const s = new LowestRttScheduler();
  it('prefers the lowest RTT among subflows with window space', () => {
    const a = sf(1, 10, 5000);
    const b = sf(2, 50, 5000);
    expect(s.allow(a, [a, b])).toBe(true);
    expect(s.allow(b, [a, b])).toBe(false);
  });
  it('uses a slower subflow when the faster one has no room', () => {
    const a = sf(1, 10, 0);
    const b = sf(2, 50, 5000);
    expect(s.allow(b, [a, b])).toBe(true);
  });
  it('uses backup subflows only when no regular one is usable', () => {
    const a = sf(1, 50, 0);
    const b = sf(2, 5, 5000, { backup: true });
    expect(s.allow(b, [a, b])).toBe(false);
    const down = sf(1, 50, 5000, { usable: false });
    expect(s.allow(b, [down, b])).toBe(true);
  });
  it('never schedules on an unusable subflow; ties go to the lower id', () => {
    const a = sf(1, 10, 5000, { usable: false });
    expect(s.allow(a, [a])).toBe(false);
    const x = sf(1, 10, 5000);
    const y = sf(2, 10, 5000);
    expect(s.allow(x, [x, y])).toBe(true);
    expect(s.allow(y, [x, y])).toBe(false);
  });
});

describe('EcfScheduler', () => {
  it('waits for a full fast subflow when it would finish sooner than a slow one', () => {
    const s = new EcfScheduler();
    const fast = sf(1, 10, 0, { cwnd: 100_000 });
    const slow = sf(2, 300, 50_000, { cwnd: 100_000 });
    // 50 kB pending: the fast path needs 1.5 of its 10 ms RTTs; the slow path 300 ms.
    expect(s.allow(slow, [fast, slow], 50_000)).toBe(false);
  });
  it('uses the slow subflow when there is more than the fast one can deliver within its RTT', () => {
    const s = new EcfScheduler();
    const fast = sf(1, 10, 0, { cwnd: 20_000 });
    const slow = sf(2, 30, 50_000, { cwnd: 200_000 });
    // 10 MB pending: the fast path needs 501 RTTs = 5 s, far more than the slow path's 30 ms.
    expect(s.allow(slow, [fast, slow], 10_000_000)).toBe(true);
  });
  it('is created by name; an unknown name is refused', () => {
    expect(createScheduler('ecf').name).toBe('ecf');
    expect(createScheduler('lowest-rtt').name).toBe('lowest-rtt');
    expect(() => createScheduler('nope')).toThrow(/unknown scheduler/);
  });
});
