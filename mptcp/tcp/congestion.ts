/**
 * Congestion control behind one interface, so that a multipath coupled controller (RFC 6356
 * LIA and successors, which need to see sibling subflows) can implement it later. Windows are
 * in bytes. Implementations: NewReno (RFC 5681 with Appropriate Byte Counting, RFC 3465) and
 * CUBIC (RFC 9438). Initial window 10 segments (RFC 6928). The initial slow start of every
 * controller ends early by HyStart++ (RFC 9406, hystart.ts) when the RTT starts to grow.
 */
import { HyStart } from './hystart.js';

export interface CongestionControl {
  readonly name: string;
  readonly cwnd: number;
  readonly ssthresh: number;
  /** New data acknowledged outside recovery. `rttMs` when a sample came with the ACK. */
  onAck(now: number, ackedBytes: number, rttMs: number | undefined): void;
  /** Loss detected by duplicate ACKs / SACK: enter fast recovery (once per window). */
  onCongestionEvent(now: number, bytesInFlight: number): void;
  /** Retransmission timeout: back to one segment (RFC 5681 §3.1 loss window). */
  onRetransmissionTimeout(now: number, bytesInFlight: number): void;
  /**
   * Starts over as a new flow: the initial window (or the current one, if larger) and an
   * initial slow start with HyStart++, for a window state known to be stale (as RFC 5681 §4.1
   * restarts after idle): a subflow promoted after its path recovered from heavy loss.
   */
  restart(): void;
}

/** The window state restart() sets: back to slow start from at least the initial window. */
export function restartWindow(w: SlowStartWindow, hy: HyStart, mss: number): void {
  w.cwnd = Math.max(w.cwnd, initialWindow(mss));
  w.ssthresh = Infinity;
  hy.reset();
}

export type CongestionAlgorithm = 'newreno' | 'cubic';

export function createCongestionControl(algorithm: CongestionAlgorithm, mss: number): CongestionControl {
  return algorithm === 'cubic' ? new Cubic(mss) : new NewReno(mss);
}

export const INITIAL_WINDOW_SEGMENTS = 10;

/** RFC 6928 §2: IW = min(10 MSS, max(2 MSS, 14600 bytes)). */
export function initialWindow(mss: number): number {
  return Math.min(INITIAL_WINDOW_SEGMENTS * mss, Math.max(2 * mss, 14600));
}

/**
 * Slow start grows by the bytes acknowledged (RFC 3465 byte counting). RFC 3465 §2.2 caps
 * one ACK's credit at L = 2 SMSS; we allow L = 16 SMSS, as receivers that ACK a batch of
 * segments at once (GRO, batched receive) would otherwise halve slow start (Linux applies
 * no such cap). The coupled controllers (mptcp/cc) slow-start the same way.
 */
export function slowStartIncrease(acked: number, mss: number): number {
  return Math.min(acked, 16 * mss);
}

/** The window state a slow-start acknowledgement changes (every controller has both). */
export interface SlowStartWindow {
  cwnd: number;
  ssthresh: number;
}

/**
 * One acknowledgement in slow start: grows `w.cwnd` by byte counting, with HyStart++ in the
 * initial slow start (ssthresh still infinite); when HyStart++ ends slow start, that window
 * becomes `w.ssthresh`.
 */
export function slowStartAck(hy: HyStart, w: SlowStartWindow, acked: number, mss: number, rttMs: number | undefined): void {
  const inc = slowStartIncrease(acked, mss);
  if (w.ssthresh !== Infinity) {
    w.cwnd += inc;
    return;
  }
  w.cwnd += hy.onSlowStartAck(w.cwnd, acked, inc, rttMs);
  if (hy.takeExit()) w.ssthresh = w.cwnd;
}

export class NewReno implements CongestionControl {
  readonly name = 'newreno';
  cwnd: number;
  ssthresh = Infinity;
  private ackedInCa = 0;
  private readonly hy = new HyStart();

  constructor(private readonly mss: number) {
    this.cwnd = initialWindow(mss);
  }

  onAck(_now: number, acked: number, rttMs?: number): void {
    if (this.cwnd < this.ssthresh) {
      slowStartAck(this.hy, this, acked, this.mss, rttMs);
      return;
    }
    // Congestion avoidance: one MSS per cwnd of acknowledged bytes (RFC 5681 §3.1, eq. 3).
    this.ackedInCa += acked;
    if (this.ackedInCa >= this.cwnd) {
      this.ackedInCa -= this.cwnd;
      this.cwnd += this.mss;
    }
  }

  onCongestionEvent(_now: number, inFlight: number): void {
    this.ssthresh = Math.max(inFlight / 2, 2 * this.mss); // RFC 5681 eq. 4
    this.cwnd = this.ssthresh;
    this.ackedInCa = 0;
  }

  onRetransmissionTimeout(_now: number, inFlight: number): void {
    this.ssthresh = Math.max(inFlight / 2, 2 * this.mss);
    this.cwnd = this.mss;
    this.ackedInCa = 0;
  }

  restart(): void {
    restartWindow(this, this.hy, this.mss);
    this.ackedInCa = 0;
  }
}

/** CUBIC (RFC 9438): C = 0.4, beta = 0.7, fast convergence, Reno-friendly region. */
export class Cubic implements CongestionControl {
  readonly name = 'cubic';
  cwnd: number;
  ssthresh = Infinity;
  private wMax = 0; // segments
  private k = 0; // seconds
  private epochStart = -1;
  private wEst = 0; // segments, Reno-friendly estimate
  private ackedSinceEst = 0;
  private static readonly C = 0.4;
  private static readonly BETA = 0.7;
  private readonly hy = new HyStart();

  constructor(private readonly mss: number) {
    this.cwnd = initialWindow(mss);
  }

  onAck(now: number, acked: number, rttMs: number | undefined): void {
    if (this.cwnd < this.ssthresh) {
      slowStartAck(this.hy, this, acked, this.mss, rttMs);
      return;
    }
    const seg = this.cwnd / this.mss;
    if (this.epochStart < 0) {
      // RFC 9438 §4.2: a new congestion avoidance epoch.
      this.epochStart = now;
      if (seg < this.wMax) {
        this.k = Math.cbrt((this.wMax * (1 - Cubic.BETA)) / Cubic.C);
      } else {
        this.k = 0;
        this.wMax = seg;
      }
      this.wEst = seg;
      this.ackedSinceEst = 0;
    }
    const rtt = (rttMs ?? 100) / 1000;
    const t = (now - this.epochStart) / 1000;
    const target = Cubic.C * (t + rtt - this.k) ** 3 + this.wMax; // §4.2, W_cubic(t + RTT)
    // Reno-friendly estimate (§4.3): alpha = 3 (1 - beta) / (1 + beta) per RTT.
    this.ackedSinceEst += acked / this.mss;
    const alpha = (3 * (1 - Cubic.BETA)) / (1 + Cubic.BETA);
    this.wEst += (alpha * this.ackedSinceEst) / Math.max(seg, 1);
    this.ackedSinceEst = 0;
    if (target < this.wEst) {
      this.cwnd = Math.max(this.cwnd, this.wEst * this.mss);
      return;
    }
    // §4.4: cwnd grows by (target - cwnd) / cwnd per ACKed segment, capped at 1.5x per RTT.
    const capped = Math.min(target, 1.5 * seg);
    if (capped > seg) this.cwnd += ((capped - seg) / seg) * acked;
  }

  onCongestionEvent(_now: number, inFlight: number): void {
    const seg = this.cwnd / this.mss;
    // Fast convergence (§4.7).
    this.wMax = seg < this.wMax ? (seg * (1 + Cubic.BETA)) / 2 : seg;
    this.ssthresh = Math.max(Math.min(this.cwnd, inFlight) * Cubic.BETA, 2 * this.mss);
    this.cwnd = this.ssthresh;
    this.epochStart = -1;
  }

  onRetransmissionTimeout(now: number, inFlight: number): void {
    this.onCongestionEvent(now, inFlight);
    this.cwnd = this.mss;
  }

  restart(): void {
    restartWindow(this, this.hy, this.mss);
    this.wMax = 0;
    this.epochStart = -1;
  }
}
