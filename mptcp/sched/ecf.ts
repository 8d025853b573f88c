/**
 * ECF, Earliest Completion First (Lim et al., CoNEXT 2017): like lowest RTT, but when the
 * fastest subflow has no window space, a slower one is used only if waiting for the fastest
 * would finish later than sending now on the slower one. With k bytes pending, the fastest
 * needs about (1 + k / cwnd_f) of its RTTs; the slower one delivers within its own RTT. So a
 * path with a long, bufferbloated RTT stops taking data that the fast path would have
 * delivered sooner (the head-of-line blocking that makes naive aggregation slower than the
 * best path alone). `waiting` adds the paper's hysteresis (beta = 0.25).
 */
import { fasterWithRoom, fastestEligible, rttOf, type Scheduler, type SchedulerContext, type SchedulerSubflow } from './scheduler.js';

export class EcfScheduler implements Scheduler {
  readonly name = 'ecf';
  readonly redundant = false;
  private waiting = false;

  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], ctx: SchedulerContext): boolean {
    if (!candidate.eligible) return false;
    const fastest = fastestEligible(subflows);
    if (!fastest || fastest === candidate) {
      this.waiting = false;
      return true;
    }
    if (fasterWithRoom(candidate, subflows)) return false;
    const rttF = rttOf(fastest);
    const rttC = rttOf(candidate);
    if (!Number.isFinite(rttF) || !Number.isFinite(rttC)) return true;
    const pending = ctx.pendingBytes;
    const cwndF = Math.max(fastest.cwnd, 1);
    const cwndC = Math.max(candidate.cwnd, 1);
    const rounds = 1 + pending / cwndF;
    const beta = this.waiting ? 1.25 : 1;
    if (rounds * rttF < beta * rttC) {
      // Waiting for the fastest finishes sooner; unless the candidate could carry everything
      // pending within about two of the fastest's RTTs, wait.
      if ((pending / cwndC) * rttC >= 2 * rttF) {
        this.waiting = true;
        return false;
      }
    }
    this.waiting = false;
    return true;
  }
}
