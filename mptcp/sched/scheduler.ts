/**
 * The packet scheduler interface (RFC 8684 §3.3.8 leaves the policy to the implementation)
 * and the default: lowest RTT among subflows with congestion-window space, backup subflows
 * only when no other is usable (as Linux's default scheduler). Schedulers decide per
 * segment, when a subflow asks for new data (subflow-hooks.ts pull), so data is never
 * committed early to a path that cannot send it now.
 */

/** What a scheduler may know about a subflow. */
export interface SchedulerSubflow {
  readonly id: number;
  /** We send on it only when no non-backup subflow is usable (MP_JOIN B flag, MP_PRIO). */
  readonly backup: boolean;
  /** Established, allowed to carry data, and not stale (no unanswered retransmission timeout). */
  readonly usable: boolean;
  /** Smoothed RTT in ms (undefined before the first sample). */
  readonly srtt: number | undefined;
  /** Bytes its congestion and send windows allow in flight now. */
  sendRoom(): number;
}

export interface Scheduler {
  readonly name: string;
  /** May `candidate` take new data now? `subflows` are all of the connection's, candidate included. */
  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[]): boolean;
}

/** Lowest smoothed RTT first; backups only when no regular subflow is usable. */
export class LowestRttScheduler implements Scheduler {
  readonly name = 'lowest-rtt';

  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[]): boolean {
    if (!candidate.usable) return false;
    let regularUsable = false;
    for (const s of subflows) if (s.usable && !s.backup) regularUsable = true;
    if (candidate.backup && regularUsable) return false;
    const candidateRtt = candidate.srtt ?? Infinity;
    for (const s of subflows) {
      if (s === candidate || !s.usable || (s.backup && regularUsable)) continue;
      const rtt = s.srtt ?? Infinity;
      if ((rtt < candidateRtt || (rtt === candidateRtt && s.id < candidate.id)) && s.sendRoom() > 0) return false;
    }
    return true;
  }
}
