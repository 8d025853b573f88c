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
  /** Congestion window (bytes). */
  readonly cwnd: number;
}

export interface Scheduler {
  readonly name: string;
  /**
   * May `candidate` take new data now? `subflows` are all of the connection's, candidate
   * included; `pendingBytes` is the data waiting to be scheduled at the connection level.
   */
  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], pendingBytes: number): boolean;
}

/** Lowest smoothed RTT first; backups only when no regular subflow is usable. */
export class LowestRttScheduler implements Scheduler {
  readonly name = 'lowest-rtt';

  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], _pendingBytes = 0): boolean {
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

/**
 * ECF, Earliest Completion First (Lim et al., CoNEXT 2017): like lowest RTT, but when the
 * fastest subflow has no window space, a slower one is used only if waiting for the fastest
 * would finish later than sending now on the slower one. With k bytes pending, the fastest
 * needs about (1 + k / cwnd_f) of its RTTs; the slower one delivers within its own RTT. So a
 * path with a long, bufferbloated RTT stops taking data that the fast path would have
 * delivered sooner (the head-of-line blocking that makes naive aggregation slower than the
 * best path alone). `waiting` adds the paper's hysteresis (beta = 0.25).
 */
export class EcfScheduler implements Scheduler {
  readonly name = 'ecf';
  private waiting = false;

  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], pendingBytes: number): boolean {
    if (!candidate.usable) return false;
    let regularUsable = false;
    for (const s of subflows) if (s.usable && !s.backup) regularUsable = true;
    if (candidate.backup && regularUsable) return false;
    // The fastest usable subflow of the candidate's tier, with or without room.
    let fastest: SchedulerSubflow | null = null;
    for (const s of subflows) {
      if (!s.usable || (s.backup && regularUsable)) continue;
      if (!fastest || (s.srtt ?? Infinity) < (fastest.srtt ?? Infinity) || ((s.srtt ?? Infinity) === (fastest.srtt ?? Infinity) && s.id < fastest.id)) fastest = s;
    }
    if (!fastest || fastest === candidate) {
      this.waiting = false;
      return true;
    }
    // Some faster subflow with room takes it (lowest RTT first, as the default).
    const rttC = candidate.srtt ?? Infinity;
    for (const s of subflows) {
      if (s === candidate || !s.usable || (s.backup && regularUsable)) continue;
      const rtt = s.srtt ?? Infinity;
      if ((rtt < rttC || (rtt === rttC && s.id < candidate.id)) && s.sendRoom() > 0) return false;
    }
    const rttF = fastest.srtt ?? Infinity;
    if (!Number.isFinite(rttF) || !Number.isFinite(rttC)) return true;
    const cwndF = Math.max(fastest.cwnd, 1);
    const cwndC = Math.max(candidate.cwnd, 1);
    const rounds = 1 + pendingBytes / cwndF;
    const beta = this.waiting ? 1.25 : 1;
    if (rounds * rttF < beta * rttC) {
      // Waiting for the fastest finishes sooner; unless the candidate could carry everything
      // pending within about two of the fastest's RTTs, wait.
      if ((pendingBytes / cwndC) * rttC >= 2 * rttF) {
        this.waiting = true;
        return false;
      }
    }
    this.waiting = false;
    return true;
  }
}

/** Schedulers by the name policies use. */
export function createScheduler(name: string): Scheduler {
  switch (name) {
    case 'lowest-rtt':
      return new LowestRttScheduler();
    case 'ecf':
      return new EcfScheduler();
    default:
      throw new RangeError(`unknown scheduler '${name}' (known: lowest-rtt, ecf)`);
  }
}
