/**
 * Round-robin and weighted schedulers. Both compare the payload bytes each eligible subflow
 * has put on the wire (new data, copies and its own retransmissions) since it became eligible,
 * scaled by its weight (a deficit counter, as deficit round
 * robin does with quanta). A subflow that joins, or returns after its path was down, starts
 * level with the least-served one instead of claiming everything it "missed"; one back from
 * a brief absence keeps a bounded debt (ShareTracker.refresh).
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
/**
 * A subflow back within RETURN_GRACE_MS of leaving keeps what it was owed, up to
 * RETURN_DEBT_BYTES per unit of weight; later, it starts level.
 */
const RETURN_GRACE_MS = 1000;
const RETURN_DEBT_BYTES = 1024 * 1024;

interface ShareEntry {
  /** wireBytes at which this subflow's share counts from. */
  base: number;
  wasEligible: boolean;
  /** When it last stopped being eligible (-Infinity: never eligible yet). */
  leftAt: number;
}

/** Bytes per unit of weight each eligible subflow has had since it became eligible. */
class ShareTracker {
  private readonly entries = new Map<number, ShareEntry>();

  constructor(private readonly weighted: boolean) {}

  private weightOf(s: SchedulerSubflow): number {
    return this.weighted ? Math.max(1, s.weight) : 1;
  }

  /**
   * Brings every subflow's entry up to date. One that becomes eligible starts level with the
   * least-served, except one back from a brief absence (a silent spell whose data another
   * subflow resent): it keeps its debt, bounded, or every such spell would shift the split
   * for good.
   */
  refresh(subflows: readonly SchedulerSubflow[], now: number): void {
    let least = Infinity;
    for (const s of subflows) {
      const e = this.entries.get(s.id);
      if (s.eligible && e?.wasEligible) least = Math.min(least, (s.wireBytes - e.base) / this.weightOf(s));
    }
    if (!Number.isFinite(least)) least = 0;
    for (const s of subflows) {
      let e = this.entries.get(s.id);
      if (!e) {
        e = { base: 0, wasEligible: false, leftAt: -Infinity };
        this.entries.set(s.id, e);
      }
      if (s.eligible && !e.wasEligible) {
        const brief = now - e.leftAt <= RETURN_GRACE_MS;
        const share = brief ? Math.max((s.wireBytes - e.base) / this.weightOf(s), least - RETURN_DEBT_BYTES) : least;
        e.base = s.wireBytes - share * this.weightOf(s);
      } else if (!s.eligible && e.wasEligible) {
        e.leftAt = now;
      }
      e.wasEligible = s.eligible;
    }
    if (this.entries.size > 4 * subflows.length + 8) this.prune(subflows);
  }

  share(s: SchedulerSubflow): number {
    const e = this.entries.get(s.id);
    return e ? (s.wireBytes - e.base) / this.weightOf(s) : 0;
  }

  private prune(subflows: readonly SchedulerSubflow[]): void {
    for (const id of [...this.entries.keys()]) if (!subflows.some((s) => s.id === id)) this.entries.delete(id);
  }
}

export class RoundRobinScheduler implements Scheduler {
  readonly name = 'round-robin';
  readonly redundant = false;
  private readonly shares = new ShareTracker(false);

  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], ctx: SchedulerContext): boolean {
    if (!candidate.eligible) return false;
    this.shares.refresh(subflows, ctx.now);
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

  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], ctx: SchedulerContext): boolean {
    if (!candidate.eligible) return false;
    this.shares.refresh(subflows, ctx.now);
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

  /**
   * Opportunistic copies count in the share like new data: a subflow well under its share
   * (the slower path's queue blocks the window) would otherwise copy that path's data without
   * bound, and the bytes on the wire would no longer follow the weights.
   */
  allowCopy(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], ctx: SchedulerContext): boolean {
    if (!candidate.eligible) return false;
    this.shares.refresh(subflows, ctx.now);
    const mine = this.shares.share(candidate);
    for (const s of subflows) {
      if (s !== candidate && s.eligible && this.shares.share(s) + SLACK_BYTES < mine) return false;
    }
    return true;
  }
}
