/**
 * The lowest-RTT scheduler (Linux's default): new data goes to the eligible subflow with the
 * lowest smoothed RTT that has congestion-window space; a slower one takes data only while
 * every faster one is full. Simple and work-conserving; on paths of very different RTT it
 * can fill a slow path's queue with data the fast path would have delivered sooner (ECF and
 * BLEST avoid that).
 */
import { fasterWithRoom, type Scheduler, type SchedulerContext, type SchedulerSubflow } from './scheduler.js';

export class LowestRttScheduler implements Scheduler {
  readonly name = 'lowest-rtt';
  readonly redundant = false;

  allow(candidate: SchedulerSubflow, subflows: readonly SchedulerSubflow[], _ctx?: SchedulerContext): boolean {
    return candidate.eligible && !fasterWithRoom(candidate, subflows);
  }
}
