/**
 * BLEST, BLocking ESTimation (Ferlin, Alay, Mehani, Boreli: "BLEST: Blocking Estimation-based
 * MPTCP Scheduler for Heterogeneous Networks", IFIP Networking 2016, §III). When the fastest
 * subflow is full, a slower subflow s may take a segment only if that does not risk blocking
 * the connection-level send window: during one RTT of s the fast subflow f could send about
 *   X = MSS_f * (cwnd_f + (rtt_s / rtt_f - 1) / 2) * rtt_s / rtt_f
 * bytes (its window, growing by one segment per RTT in congestion avoidance). If
 * lambda * X exceeds the window space left once s's segment is in flight, sending on s now
 * would leave the fast path waiting for the window: skip s. lambda (1.0 here) is the paper's
 * correction factor, adapted there at runtime; a fixed value is what Linux's port of BLEST
 * started with.
 */
import { fasterWithRoom, fastestEligible, rttOf, type Scheduler, type SchedulerContext, type SchedulerSubflow } from './scheduler.js';

const LAMBDA = 1.0;

export class BlestScheduler implements Scheduler {
  readonly name = 'blest';
  readonly redundant = false;

  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], ctx: SchedulerContext): boolean {
    if (!candidate.eligible) return false;
    const fastest = fastestEligible(subflows);
    if (!fastest || fastest === candidate) return true;
    if (fasterWithRoom(candidate, subflows)) return false;
    const rttF = rttOf(fastest);
    const rttS = rttOf(candidate);
    if (!Number.isFinite(rttF) || !Number.isFinite(rttS) || rttF <= 0) return true;
    const ratio = rttS / rttF;
    const cwndSegments = fastest.cwnd / Math.max(fastest.mss, 1);
    const x = fastest.mss * (cwndSegments + (ratio - 1) / 2) * ratio;
    const spaceAfter = ctx.windowFree - candidate.mss;
    return LAMBDA * x <= spaceAfter;
  }
}
