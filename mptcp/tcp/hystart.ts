/**
 * HyStart++ (RFC 9406): leaves the initial slow start when the round-trip time starts to grow,
 * before the queue overflows. Plain slow start doubles the window each round until a loss; in
 * front of a deep (bufferbloated) queue that loss comes only when the window is several times
 * the path's capacity, and a whole window's worth of segments is lost at once. HyStart++
 * watches the minimum RTT of each round: once it rises by more than a threshold over the last
 * round's, growth slows to a quarter (Conservative Slow Start, CSS) and, after CSS_ROUNDS
 * rounds without the RTT coming back down, congestion avoidance begins at that window.
 *
 * The congestion controllers (congestion.ts, mptcp/cc) call it for every acknowledgement in
 * their initial slow start (ssthresh still infinite, RFC 9406 §4.2: standard slow start after
 * a loss or timeout). A round ends when as many bytes as the window held at its start have
 * been acknowledged (the controllers see bytes, not sequence numbers; in slow start the window
 * at a round's start is what was in flight then). No allocation per acknowledgement.
 */

/** RFC 9406 §4.3 constants. */
const MIN_RTT_THRESH_MS = 4;
const MAX_RTT_THRESH_MS = 16;
const MIN_RTT_DIVISOR = 8;
const N_RTT_SAMPLE = 8;
const CSS_GROWTH_DIVISOR = 4;
const CSS_ROUNDS = 5;

export class HyStart {
  private lastRoundMinRtt = Infinity;
  private currentRoundMinRtt = Infinity;
  private rttSamples = 0;
  /** Bytes acknowledged in this round, and the window at its start (0: no round yet). */
  private roundAcked = 0;
  private roundBytes = 0;
  /** The round's minimum RTT when CSS began; Infinity while not in CSS. */
  private cssBaselineMinRtt = Infinity;
  private cssRounds = 0;
  /** Slow start should end now (the controller sets ssthresh to its window). */
  private exit = false;

  /** Forgets every round: a new initial slow start (a controller's restart). */
  reset(): void {
    this.lastRoundMinRtt = this.currentRoundMinRtt = this.cssBaselineMinRtt = Infinity;
    this.rttSamples = this.roundAcked = this.roundBytes = this.cssRounds = 0;
    this.exit = false;
  }

  /** In Conservative Slow Start. */
  get conservative(): boolean {
    return this.cssBaselineMinRtt !== Infinity;
  }

  /**
   * The window growth for `increase` bytes (what standard slow start would add for this
   * acknowledgement) of `acked` acknowledged bytes at window `cwnd`, with this ACK's RTT
   * sample (ms) if any. Afterwards `takeExit()` says whether slow start is over
   * (congestion.ts slowStartAck does both).
   */
  onSlowStartAck(cwnd: number, acked: number, increase: number, rttMs: number | undefined): number {
    if (this.roundBytes === 0) this.roundBytes = cwnd;
    this.roundAcked += acked;
    if (this.roundAcked >= this.roundBytes) this.startRound(cwnd);
    if (rttMs !== undefined && rttMs > 0) {
      if (rttMs < this.currentRoundMinRtt) this.currentRoundMinRtt = rttMs;
      this.rttSamples++;
    }
    const enough = this.rttSamples >= N_RTT_SAMPLE && this.currentRoundMinRtt !== Infinity;
    if (this.conservative) {
      // §4.3: the RTT came back down: the rise was not queueing; resume slow start.
      if (enough && this.currentRoundMinRtt < this.cssBaselineMinRtt) {
        this.cssBaselineMinRtt = Infinity;
        this.cssRounds = 0;
        return increase;
      }
      return increase / CSS_GROWTH_DIVISOR;
    }
    if (enough && this.lastRoundMinRtt !== Infinity) {
      const thresh = Math.max(MIN_RTT_THRESH_MS, Math.min(this.lastRoundMinRtt / MIN_RTT_DIVISOR, MAX_RTT_THRESH_MS));
      if (this.currentRoundMinRtt >= this.lastRoundMinRtt + thresh) {
        this.cssBaselineMinRtt = this.currentRoundMinRtt;
        this.cssRounds = 0;
        return increase / CSS_GROWTH_DIVISOR;
      }
    }
    return increase;
  }

  /** Whether slow start ended at this acknowledgement (reported once). */
  takeExit(): boolean {
    if (!this.exit) return false;
    this.exit = false;
    return true;
  }

  private startRound(cwnd: number): void {
    if (this.conservative && ++this.cssRounds >= CSS_ROUNDS) {
      // §4.3: CSS_ROUNDS rounds of rising RTT: congestion avoidance from here.
      this.exit = true;
      this.cssBaselineMinRtt = Infinity;
      this.cssRounds = 0;
    }
    this.lastRoundMinRtt = this.currentRoundMinRtt;
    this.currentRoundMinRtt = Infinity;
    this.rttSamples = 0;
    this.roundAcked = 0;
    this.roundBytes = cwnd;
  }
}
