/**
 * The redundant scheduler: every eligible subflow sends every byte, for latency-critical
 * traffic (interactive sessions, calls) that must not wait for a loss or a slow path. The
 * first copy to arrive is delivered and acknowledged at the connection level; a lagging
 * subflow skips what is already acknowledged. The connection keeps each subflow's cursor
 * (connection.ts pullRedundant), so `allow` is never consulted for new data.
 */
import type { Scheduler, SchedulerContext, SchedulerSubflow } from './scheduler.js';

export class RedundantScheduler implements Scheduler {
  readonly name = 'redundant';
  readonly redundant = true;

  allow(candidate: SchedulerSubflow, _subflows?: readonly SchedulerSubflow[], _ctx?: SchedulerContext): boolean {
    return candidate.eligible;
  }
}
