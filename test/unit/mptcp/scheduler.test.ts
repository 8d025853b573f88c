/** The default scheduler (mptcp/sched/scheduler.ts): lowest RTT with room, backups last. */
import { describe, expect, it } from 'vitest';
import { LowestRttScheduler, type SchedulerSubflow } from '../../../mptcp/sched/scheduler.js';

const sf = (id: number, srtt: number | undefined, room: number, o: Partial<SchedulerSubflow> = {}): SchedulerSubflow => ({ id, srtt, backup: false, usable: true, sendRoom: () => room, ...o });

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
