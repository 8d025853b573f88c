/**
 * A path's loss estimate from its sender's counters: an EWMA of the share of data
 * transmissions that were retransmissions, retransmittedBytes / (bytesSent +
 * retransmittedBytes). Bytes, not segments: TcpStats.segmentsSent also counts pure ACKs.
 * Retransmissions are what a sender sees of loss (RFC 6675 marks a segment lost before it
 * resends it), so this is the loss its data actually suffers, spurious retransmissions
 * included. A sample spans at least `minSampleBytes` (or `maxSampleMs`, with a weight scaled
 * down by its size, so sparse traffic counts less); the EWMA's weight grows with the time the
 * sample spans (time constant `tauMs`), so the estimate follows time, not packet counts;
 * while nothing is sent it decays with `idleDecayMs`, so a quiet path is tried again.
 * Used by the path quality estimator (pm) and by the connection's loss demotion; pure, no
 * clock (the caller passes `now` in ms), and update() allocates nothing.
 */

export interface LossEstimatorOptions {
  /** Time constant of the EWMA (ms). */
  tauMs: number;
  /** A sample spans at least this many transmitted bytes (or `maxSampleMs`). */
  minSampleBytes: number;
  maxSampleMs: number;
  /** While nothing is sent the estimate decays with this time constant (ms). */
  idleDecayMs: number;
}

export class LossEstimator {
  private ewma = 0;
  private started = false;
  private prevTx = 0;
  private prevRetx = 0;
  private lastAt = 0;
  private pendingTx = 0;
  private pendingRetx = 0;
  private pendingSince = 0;
  private lastSampleAt = 0;
  /** Samples taken since the start (or the last reset). */
  samples = 0;

  constructor(private readonly o: LossEstimatorOptions) {}

  /** Share of data transmissions that were retransmissions (0..1). */
  get value(): number {
    return this.ewma;
  }

  reset(): void {
    this.started = false;
    this.ewma = 0;
    this.samples = 0;
  }

  /**
   * Takes the cumulative first-transmission and retransmission byte counts at `now`. Counters
   * that went back (a new subflow, a restart) start a new baseline; the estimate is kept.
   */
  update(now: number, sentBytes: number, retransmittedBytes: number): void {
    if (!this.started || sentBytes < this.prevTx || retransmittedBytes < this.prevRetx || now < this.lastAt) {
      this.started = true;
      this.prevTx = sentBytes;
      this.prevRetx = retransmittedBytes;
      this.lastAt = this.pendingSince = this.lastSampleAt = now;
      this.pendingTx = this.pendingRetx = 0;
      return;
    }
    const retx = retransmittedBytes - this.prevRetx;
    const tx = sentBytes - this.prevTx + retx;
    const dt = now - this.lastAt;
    this.prevTx = sentBytes;
    this.prevRetx = retransmittedBytes;
    this.lastAt = now;
    if (tx === 0 && this.pendingTx === 0) {
      // Idle: no evidence either way; the estimate fades.
      if (dt > 0 && this.ewma > 0) this.ewma *= Math.exp(-dt / this.o.idleDecayMs);
      this.pendingSince = this.lastSampleAt = now;
      return;
    }
    this.pendingTx += tx;
    this.pendingRetx += retx;
    if (this.pendingTx < this.o.minSampleBytes && now - this.pendingSince < this.o.maxSampleMs) return;
    const sample = Math.min(1, this.pendingRetx / this.pendingTx);
    const weight = (1 - Math.exp(-Math.max(0, now - this.lastSampleAt) / this.o.tauMs)) * Math.min(1, this.pendingTx / this.o.minSampleBytes);
    this.ewma += weight * (sample - this.ewma);
    this.samples++;
    this.pendingTx = this.pendingRetx = 0;
    this.pendingSince = this.lastSampleAt = now;
  }
}
