/**
 * Round-robin and weighted schedulers. Both compare the bytes each eligible subflow has been
 * given since it became eligible, scaled by its weight (a deficit counter, as deficit round
 * robin does with quanta). A subflow that joins, or returns after its path was down, starts
 * level with the least-served one instead of claiming everything it "missed".
 * - round-robin: equal shares, work-conserving: the least-served subflow that has window
 *   space goes first, and a subflow with space never waits for a full one.
 * - weighted: the policy's weights are a contract (a user who says "fiber 3, LTE 1" wants 3:1
 *   on the wire, not whatever the paths' capacities give), so a subflow ahead of its share by
 *   more than SLACK_BYTES per unit of weight waits even when the others are full. Throughput
 *   is then bounded by the slowest path's rate over its weight: that is what a strict ratio
 *   costs.
 */
import type { Scheduler, SchedulerContext, SchedulerSubflow } from './scheduler.js';

/** How far ahead of its share (bytes per unit of weight) a weighted subflow may run. */
const SLACK_BYTES = 64 * 1024;

interface ShareEntry {
  /** scheduledBytes at which this subflow's share counts from. */
  base: number;
  wasEligible: boolean;
}

/** Bytes per unit of weight each eligible subflow has had since it became eligible. */
class ShareTracker {
  private readonly entries = new Map<number, ShareEntry>();

  constructor(private readonly weighted: boolean) {}

  private weightOf(s: SchedulerSubflow): number {
    return this.weighted ? Math.max(1, s.weight) : 1;
  }

  /** Brings every subflow's entry up to date; newly eligible ones start at the least share. */
  refresh(subflows: readonly SchedulerSubflow[]): void {
    let least = Infinity;
    for (const s of subflows) {
      const e = this.entries.get(s.id);
      if (s.eligible && e?.wasEligible) least = Math.min(least, (s.scheduledBytes - e.base) / this.weightOf(s));
    }
    if (!Number.isFinite(least)) least = 0;
    for (const s of subflows) {
      let e = this.entries.get(s.id);
      if (!e) {
        e = { base: 0, wasEligible: false };
        this.entries.set(s.id, e);
      }
      if (s.eligible && !e.wasEligible) e.base = s.scheduledBytes - least * this.weightOf(s);
      e.wasEligible = s.eligible;
    }
    if (this.entries.size > 4 * subflows.length + 8) this.prune(subflows);
  }

  share(s: SchedulerSubflow): number {
    const e = this.entries.get(s.id);
    return e ? (s.scheduledBytes - e.base) / this.weightOf(s) : 0;
  }

  private prune(subflows: readonly SchedulerSubflow[]): void {
    for (const id of [...this.entries.keys()]) if (!subflows.some((s) => s.id === id)) this.entries.delete(id);
  }
}

export class RoundRobinScheduler implements Scheduler {
  readonly name = 'round-robin';
  readonly redundant = false;
  private readonly shares = new ShareTracker(false);

  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], _ctx?: SchedulerContext): boolean {
    if (!candidate.eligible) return false;
    this.shares.refresh(subflows);
    const mine = this.shares.share(candidate);
    for (const s of subflows) {
      if (s === candidate || !s.eligible || s.sendRoom() <= 0) continue;
      const share = this.shares.share(s);
      if (share < mine || (share === mine && s.id < candidate.id)) return false;
    }
    return true;
  }
}

export class WeightedScheduler implements Scheduler {
  readonly name = 'weighted';
  readonly redundant = false;
  private readonly shares = new ShareTracker(true);

  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], _ctx?: SchedulerContext): boolean {
    if (!candidate.eligible) return false;
    this.shares.refresh(subflows);
    const mine = this.shares.share(candidate);
    let least = Infinity;
    for (const s of subflows) {
      if (s === candidate || !s.eligible) continue;
      const share = this.shares.share(s);
      if (share < least) least = share;
      // Someone further behind its share with room to send goes first.
      if (share < mine && s.sendRoom() > 0) return false;
    }
    return !Number.isFinite(least) || mine <= least + SLACK_BYTES;
  }
}
