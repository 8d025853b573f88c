/**
 * The packet scheduler interface (RFC 8684 §3.3.8 leaves the policy to the implementation)
 * and the factory that makes schedulers by the name policies use. Schedulers decide per
 * segment, when a subflow asks for new data (subflow-hooks.ts pull), so data is never
 * committed early to a path that cannot send it now. Which subflows may carry data at all
 * (the policy's tiers, disabled paths, backup priority, stale paths) is settled by the
 * connection before a scheduler is asked: a scheduler chooses only among `eligible` ones.
 */
import { BlestScheduler } from './blest.js';
import { EcfScheduler } from './ecf.js';
import { LowestRttScheduler } from './lowest-rtt.js';
import { RedundantScheduler } from './redundant.js';
import { RoundRobinScheduler, WeightedScheduler } from './weighted.js';

/** What a scheduler may know about a subflow. */
export interface SchedulerSubflow {
  readonly id: number;
  /** Established, not stale, allowed by the policy, and of the best tier that has such subflows. */
  readonly eligible: boolean;
  /** Smoothed RTT in ms (undefined before the first sample). */
  readonly srtt: number | undefined;
  /**
   * The RTT new data would see now, if it differs from srtt: a subflow idle for an RTT has
   * drained the queue its last flight built, so it is about its minimum RTT again.
   */
  readonly expectedRtt?: number;
  /** Bytes its congestion and send windows allow in flight now. */
  sendRoom(): number;
  /** Congestion window (bytes). */
  readonly cwnd: number;
  /** Maximum segment size (bytes). */
  readonly mss: number;
  /** The policy's share for weighted scheduling (>= 1). */
  readonly weight: number;
  /** Bytes the scheduler has given it (new data and reinjections) since the connection began. */
  readonly scheduledBytes: number;
  /** Payload bytes it put on the wire: scheduledBytes plus its TCP retransmissions. */
  readonly wireBytes: number;
  /** Its path's rate cap holds it back now (no room, whatever its window says). */
  readonly rateBlocked: boolean;
}

/** Connection-level facts a decision may use; one object per connection, refreshed per call. */
export interface SchedulerContext {
  /** The connection's clock (ms). */
  now: number;
  /** Data waiting to be scheduled at the connection level (bytes). */
  pendingBytes: number;
  /** Bytes the peer's connection-level receive window still admits beyond what was sent. */
  windowFree: number;
}

export interface Scheduler {
  readonly name: string;
  /**
   * Redundant scheduling: every eligible subflow sends every byte (the connection keeps a
   * cursor per subflow instead of asking `allow`).
   */
  readonly redundant: boolean;
  /** May `candidate` (eligible) take new data now? `subflows` are all of the connection's. */
  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], ctx: SchedulerContext): boolean;
  /**
   * May `candidate` send an opportunistic copy of data a slower subflow holds (head-of-line
   * repair, not new data)? Absent: yes. A scheduler whose shares are a contract (weighted)
   * counts copies in the share and refuses one that would break it.
   */
  allowCopy?(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], ctx: SchedulerContext): boolean;
}

export const SCHEDULERS = ['lowest-rtt', 'ecf', 'blest', 'round-robin', 'weighted', 'redundant'] as const;
export type SchedulerKind = (typeof SCHEDULERS)[number];

export function isSchedulerKind(name: string): name is SchedulerKind {
  return (SCHEDULERS as readonly string[]).includes(name);
}

/** Schedulers by the name policies use. */
export function createScheduler(name: string): Scheduler {
  switch (name) {
    case 'lowest-rtt':
      return new LowestRttScheduler();
    case 'ecf':
      return new EcfScheduler();
    case 'blest':
      return new BlestScheduler();
    case 'round-robin':
      return new RoundRobinScheduler();
    case 'weighted':
      return new WeightedScheduler();
    case 'redundant':
      return new RedundantScheduler();
    default:
      throw new RangeError(`unknown scheduler '${name}' (known: ${SCHEDULERS.join(', ')})`);
  }
}

/**
 * The eligible subflow with the lowest smoothed RTT (ties: lower id) that is not held back by
 * its path's rate cap; null when none. A capped path is fast but not free: its window says
 * nothing of when it may send, so schedulers that wait for the fastest path (ECF, BLEST) must
 * not wait for it.
 */
export function fastestEligible(subflows: readonly SchedulerSubflow[]): SchedulerSubflow | null {
  let best: SchedulerSubflow | null = null;
  for (const s of subflows) {
    if (!s.eligible || s.rateBlocked) continue;
    if (!best || rttOf(s) < rttOf(best) || (rttOf(s) === rttOf(best) && s.id < best.id)) best = s;
  }
  return best;
}

/** Whether an eligible subflow other than `candidate`, faster than it, has window space now. */
export function fasterWithRoom(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[]): boolean {
  const mine = rttOf(candidate);
  for (const s of subflows) {
    if (s === candidate || !s.eligible) continue;
    const rtt = rttOf(s);
    if ((rtt < mine || (rtt === mine && s.id < candidate.id)) && s.sendRoom() > 0) return true;
  }
  return false;
}

/** The RTT a scheduler compares: expectedRtt when the subflow gives one, else srtt. */
export function rttOf(s: SchedulerSubflow): number {
  return s.expectedRtt ?? s.srtt ?? Infinity;
}
