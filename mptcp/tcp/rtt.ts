/**
 * Retransmission timeout per RFC 6298: SRTT/RTTVAR smoothing (alpha 1/8, beta 1/4), RTO =
 * SRTT + max(G, 4 RTTVAR) clamped to [min, max], exponential backoff on expiry (§5.5), and
 * the first-sample rule (§2.2). Karn's rule (§3: no samples from retransmitted segments) is
 * the caller's job: with timestamps every ACK gives an unambiguous sample (RFC 7323 §4).
 */
export interface RttConfig {
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  /** Clock granularity G. */
  granularityMs: number;
}

export class RttEstimator {
  srtt = 0;
  rttvar = 0;
  latest = 0;
  minRtt = Infinity;
  private hasSample = false;
  private backoffShift = 0;
  private base: number;
  /**
   * An upper bound on the RTO set by the layer above (Infinity: none). MPTCP sets it on a
   * subflow whose path it has given up on for now, so that backoff does not keep a recovered
   * path unprobed for seconds.
   */
  probeCapMs = Infinity;

  constructor(private readonly cfg: RttConfig) {
    this.base = cfg.initialRtoMs;
  }

  get hasMeasurement(): boolean {
    return this.hasSample;
  }

  sample(rttMs: number): void {
    const r = Math.max(rttMs, 0);
    this.latest = r;
    if (r < this.minRtt) this.minRtt = r;
    if (!this.hasSample) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasSample = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.base = this.srtt + Math.max(this.cfg.granularityMs, 4 * this.rttvar);
    // A new sample after backoff resets it (RFC 6298 §5.7 in effect).
    this.backoffShift = 0;
  }

  /** The current RTO, including backoff. */
  get rto(): number {
    const r = Math.max(this.cfg.minRtoMs, this.base) * 2 ** this.backoffShift;
    return Math.min(this.cfg.maxRtoMs, this.probeCapMs, r);
  }

  /**
   * RFC 6298 §5.7: when the SYN (or SYN/ACK) timed out and the handshake gave no sample, an
   * RTO below `ms` (3 s) is re-initialized to it, without backoff, once data transmission begins.
   */
  fallbackAfterSynTimeout(ms: number): void {
    if (this.hasSample || this.backoffShift === 0) return;
    this.base = Math.max(this.cfg.initialRtoMs, ms);
    this.backoffShift = 0;
  }

  backoff(): void {
    if (this.rto < this.cfg.maxRtoMs) this.backoffShift++;
  }

  get backoffCount(): number {
    return this.backoffShift;
  }
}
