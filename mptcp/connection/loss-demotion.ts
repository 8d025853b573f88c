/**
 * Loss demotion of one subflow (issue 7: "a path that turns bad (loss, stall) is demoted
 * quickly and promoted back when it recovers"; stalls are the connection's silence and stale
 * states). A subflow whose data keeps being lost holds the connection's data level back: every
 * lost segment waits at least an RTT for its retransmission (an RTO for a lost tail), and the
 * bytes behind it, sent on good paths, wait in the receiver's reorder buffer. Its loss-based
 * congestion control already leaves it little throughput (about 1.22 x MSS / (RTT x sqrt(p)),
 * Mathis et al. 1997), so above a loss ratio the path costs the connection more latency than
 * it brings capacity: the connection then ranks it half a tier below its own (a tier's other
 * paths carry the data; it still carries data when it is the best of what is left, and a
 * better-tier path never loses to a worse tier), and its unacknowledged data goes out again
 * on the others.
 * Only loss that is not congestion counts: a retransmission while the subflow's smoothed RTT
 * is near its minimum (no standing queue, so the loss was not a full bottleneck queue: the
 * "RTT at loss" idea of loss-differentiation schemes for wireless links, e.g. Biaz & Vaidya
 * 1999). A loss-based congestion control makes congestion losses on every path, and they
 * say nothing against the path; random loss on a weak radio link keeps its window too small
 * to build a queue, so its losses come at about the minimum RTT. And a subflow is demoted
 * only while another one of its tier is usable, not demoted and clean (below the promotion
 * ratio): demotion must move the data somewhere better. Nor is a shallow queue's overflow
 * (it adds too little delay for the RTT test), a slow start's overshoot above all: those
 * losses come in one or two round trips, random loss in round after round, so a demotion
 * also needs losses in LOSS_ROUNDS of the last 8 round trips.
 * A demoted subflow carries copies: data in flight on the others, as much as its own window
 * allows (connection.ts lossProbe). No byte waits for it, its loss keeps being measured at
 * its natural rate (a few segments in flight would lose their tails to timeouts and measure
 * little), a copy that arrives first repairs a loss on the good path, and its congestion
 * window keeps growing as the path recovers, so it is up to speed when promoted: when its
 * loss stays below the promotion ratio for PROMOTE_AFTER_MS.
 * The estimate is tcp/loss-estimator.ts on the subflow's own first transmissions and
 * retransmissions. Pure and sans-IO (`now` in ms), no allocation per update.
 */
import { LossEstimator } from '../tcp/loss-estimator.js';
import { Sustained } from '../tcp/sustained.js';

/** Loss must stay above the demotion ratio this long (ms) before the subflow is demoted. */
export const DEMOTE_AFTER_MS = 300;
/** Loss must stay below the promotion ratio this long (ms) before it is promoted. */
export const PROMOTE_AFTER_MS = 500;
/**
 * A retransmission is taken for random (non-congestion) loss while srtt is at most
 * minRtt x QUIET_RTT_FACTOR + QUIET_RTT_SLACK_MS.
 */
export const QUIET_RTT_FACTOR = 1.25;
export const QUIET_RTT_SLACK_MS = 5;
/** Round trips (of the last 8) with a retransmission a demotion needs. */
export const LOSS_ROUNDS = 3;
/** A round trip lasts srtt, at least this long (ms). */
const MIN_ROUND_MS = 10;

const ESTIMATOR = { tauMs: 500, minSampleBytes: 16 * 1024, maxSampleMs: 1000, idleDecayMs: 5000 };

export type LossDemotionChange = 'demoted' | 'promoted' | null;

export class LossDemotion {
  demoted = false;
  /** Demoted only after this many loss samples (a sample spans >= 16 KiB or 1 s). */
  private static readonly MIN_SAMPLES = 2;
  /** Loss taken for random (not congestion) while judging a demotion. */
  private readonly random = new LossEstimator(ESTIMATOR);
  /** All of its loss, while judging a promotion (see update()). */
  private readonly all = new LossEstimator(ESTIMATOR);
  /** Demotion candidate, and clean while demoted: each must last before the verdict changes. */
  private readonly high = new Sustained();
  private readonly low = new Sustained();
  /** Retransmitted bytes taken for random loss, and the retransmission count last seen. */
  private randomRetx = 0;
  private lastRetx = -1;
  /** The last 8 round trips, a bit each (1: it had a retransmission), newest lowest. */
  private lossRounds = 0;
  private roundStart = -1;
  private roundRetx = 0;
  private roundSent = 0;

  /** The loss estimate it is judged by now (0..1): random loss, or all loss while demoted. */
  get lossRatio(): number {
    return this.demoted ? this.all.value : this.random.value;
  }

  /**
   * observe() then judge(), with `cleanAlternative`: another subflow of its tier is usable,
   * not demoted and clean. Returns the change, if any. (The connection calls the two itself,
   * so that it looks for a clean sibling only for a demotion candidate.)
   */
  update(now: number, sentBytes: number, retransmittedBytes: number, srtt: number | undefined, minRtt: number | undefined, demoteAbove: number, promoteBelow: number, cleanAlternative: boolean): LossDemotionChange {
    this.observe(now, sentBytes, retransmittedBytes, srtt, minRtt);
    return this.judge(now, this.lossy(demoteAbove) && cleanAlternative, promoteBelow);
  }

  /**
   * Takes the subflow's cumulative first-transmission and retransmission bytes and its RTTs
   * (ms; undefined before a sample) at `now`: the loss estimates and the lossy round trips.
   */
  observe(now: number, sentBytes: number, retransmittedBytes: number, srtt: number | undefined, minRtt: number | undefined): void {
    if (this.lastRetx < 0 || retransmittedBytes < this.lastRetx) this.lastRetx = retransmittedBytes;
    const retx = retransmittedBytes - this.lastRetx;
    this.lastRetx = retransmittedBytes;
    if (retx > 0 && srtt !== undefined && minRtt !== undefined && srtt <= minRtt * QUIET_RTT_FACTOR + QUIET_RTT_SLACK_MS) this.randomRetx += retx;
    if (this.roundStart < 0 || retransmittedBytes < this.roundRetx || sentBytes < this.roundSent) {
      this.roundStart = now;
      this.roundRetx = retransmittedBytes;
      this.roundSent = sentBytes;
    } else if (now - this.roundStart >= Math.max(srtt ?? 0, MIN_ROUND_MS)) {
      // Idle round trips (nothing sent) say nothing: only busy ones are counted.
      const lossy = retransmittedBytes > this.roundRetx;
      if (lossy || sentBytes > this.roundSent) this.lossRounds = ((this.lossRounds << 1) | (lossy ? 1 : 0)) & 0xff;
      this.roundStart = now;
      this.roundRetx = retransmittedBytes;
      this.roundSent = sentBytes;
    }
    this.random.update(now, sentBytes, this.randomRetx);
    this.all.update(now, sentBytes, retransmittedBytes);
  }

  /**
   * Not demoted, and its random loss is above `demoteAbove` over enough samples and in enough
   * round trips: demoted once this lasts DEMOTE_AFTER_MS while a clean sibling exists.
   */
  lossy(demoteAbove: number): boolean {
    return !this.demoted && this.random.value > demoteAbove && this.random.samples >= LossDemotion.MIN_SAMPLES && bitCount8(this.lossRounds) >= LOSS_ROUNDS;
  }

  /**
   * The verdict at `now`: `candidate` is lossy() with a clean sibling; a demoted subflow is
   * promoted once all its loss stays below `promoteBelow`. Returns the change, if any.
   */
  judge(now: number, candidate: boolean, promoteBelow: number): LossDemotionChange {
    if (!this.demoted) {
      if (!this.high.check(now, candidate, DEMOTE_AFTER_MS)) return null;
      this.demoted = true;
      this.low.reset();
      return 'demoted';
    }
    // Promotion counts every retransmission: a path in timeout trouble has an inflated srtt,
    // so its random losses would pass for congestion, and a recovered path loses little.
    if (!this.low.check(now, this.all.value < promoteBelow, PROMOTE_AFTER_MS)) return null;
    this.demoted = false;
    this.high.reset();
    return 'promoted';
  }
}

function bitCount8(v: number): number {
  let n = 0;
  for (let x = v; x !== 0; x &= x - 1) n++;
  return n;
}
