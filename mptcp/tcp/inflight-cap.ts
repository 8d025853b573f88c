/**
 * A bound on a subflow's bytes in flight from what its path measurably carries, so that a
 * loss-based controller does not keep the bottleneck's queue full (issue 7: bufferbloated
 * LTE, DSL and satellite second paths).
 *
 * Why: CUBIC, NewReno and the coupled controllers grow the window until the bottleneck's
 * queue overflows. On a modem with a deep buffer that is a standing queue of hundreds of
 * milliseconds to seconds. For one TCP flow that is only latency; for MPTCP it is the
 * head-of-line blocking that makes aggregation slower than the best path alone: data queued
 * on the slow path holds the connection-level window while the fast path waits, and data
 * reinjected after a path failure waits behind the surviving path's queue.
 *
 * What: the bottleneck rate is the highest delivery rate of the last 10 round trips (BBR's
 * bandwidth filter, Cardwell et al., ACM Queue 2016; delivery rate as in
 * draft-cheng-iccrg-delivery-rate-estimation: bytes newly acknowledged or SACKed over an
 * interval of at least one minimum RTT). The cap is rate x (2 x minimum RTT + budget): twice
 * the bandwidth-delay product, as BBR's cwnd_gain, which keeps the pipe full, plus a queueing
 * budget for ACK aggregation and scheduling jitter. So the standing queue stays under one
 * minimum RTT plus the budget. The cap can never pin a path below its capacity: while
 * inflight is below the pipe's capacity, the measured rate is inflight / RTT, and the cap
 * above it is at least twice that, so it grows by at least 2x per interval (slow start's pace).
 *
 * Only a subflow that keeps its window busy is capped: while the sender is application-limited
 * (nothing to send), its delivery rate says nothing about the path, and a bursty interactive
 * flow must not be held to its average rate. The cap turns on after a whole sample interval
 * with data always waiting, and off at the first moment there is none (as BBR marks
 * app-limited samples).
 *
 * Limits (said plainly): the minimum RTT is the lowest sample since the connection began, so a
 * path whose base RTT grows for good (a new route) is capped relative to the old one until the
 * rate filter's window forgets the old rate; at a bottleneck shared with loss-based flows
 * that keep its queue full, the cap takes less than a loss-based flow would.
 *
 * Pure state: the engine passes `now`, the cumulative delivered bytes, the minimum RTT and the
 * budget (read from its hooks at every sample, so a connection that falls back to plain TCP
 * turns the cap off through the budget alone). The limit is computed once per sample, not per
 * segment.
 */
import { WindowedExtreme } from './windowed-extreme.js';

/**
 * The rate filter's window: BBR's 10 round trips (of at least one sample interval each), and
 * at least RATE_WINDOW_MIN_MS, so a path whose rate falls (an LTE cell) is capped at its new
 * rate within a few RTTs rather than holding the old rate's worth of queue.
 */
export const RATE_WINDOW_ROUNDS = 10;
export const RATE_WINDOW_MIN_MS = 1000;

/** The rate filter's window (ms) on a path of minimum RTT `minRttMs`. */
export function rateWindowMs(minRttMs: number): number {
  return Math.max(RATE_WINDOW_ROUNDS * Math.max(minRttMs, MIN_RATE_INTERVAL_MS), RATE_WINDOW_MIN_MS);
}
/** A delivery-rate sample spans at least this long (ms) as well as one minimum RTT: shorter
 *  intervals on a sub-millisecond path measure ACK batching, not the bottleneck. */
export const MIN_RATE_INTERVAL_MS = 20;
/** The cap never goes below this many segments (a path must always be able to probe). */
export const MIN_CAP_SEGMENTS = 8;

export class InflightCap {
  private readonly rate = new WindowedExtreme('max');
  private sampleAt = -1;
  private sampleDelivered = 0;
  /** The current sample interval saw the sender without data (noteAppLimited). */
  private appLimitedInInterval = true;
  private limit = Infinity;

  /**
   * The most bytes the subflow should have in flight: rate x (2 x minimum RTT + budget) from
   * the last sample; Infinity while off, unmeasured, or application-limited in the last interval.
   */
  get limitBytes(): number {
    return this.limit;
  }

  /** Highest recent delivery rate (bytes per ms), undefined before the first sample. */
  get rateBytesPerMs(): number | undefined {
    return this.rate.value;
  }

  /** Data went in flight with nothing outstanding: an idle gap is not a slow delivery. */
  onFlightStart(now: number, delivered: number): void {
    this.sampleAt = now;
    this.sampleDelivered = delivered;
  }

  /** The sender had room but nothing to send: the cap stays off until a busy interval ends. */
  noteAppLimited(): void {
    this.appLimitedInInterval = true;
    this.limit = Infinity;
  }

  /** Whether an ACK at `now` closes a sample interval (cheap; the caller then computes delivered). */
  due(now: number, minRttMs: number): boolean {
    return this.sampleAt < 0 || now - this.sampleAt >= Math.max(minRttMs, MIN_RATE_INTERVAL_MS);
  }

  /**
   * An ACK or SACK with `delivered` cumulative bytes delivered to the peer; call when due().
   * `budgetMs` is the queueing delay the subflow may add beyond one minimum RTT; Infinity
   * turns the cap off (no rate is measured then).
   */
  onDelivered(now: number, delivered: number, minRttMs: number, mss: number, budgetMs: number): void {
    const busy = !this.appLimitedInInterval;
    if (budgetMs !== Infinity && this.sampleAt >= 0) {
      const dt = now - this.sampleAt;
      if (dt > 0) this.rate.update(now, (delivered - this.sampleDelivered) / dt, rateWindowMs(minRttMs));
    }
    this.sampleAt = now;
    this.sampleDelivered = delivered;
    this.appLimitedInInterval = false;
    const rate = this.rate.value;
    this.limit = busy && budgetMs !== Infinity && rate !== undefined && Number.isFinite(minRttMs) ? Math.max(rate * (2 * minRttMs + budgetMs), MIN_CAP_SEGMENTS * mss) : Infinity;
  }
}
