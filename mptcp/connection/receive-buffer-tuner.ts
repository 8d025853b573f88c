/**
 * Dynamic right-sizing of an MPTCP connection's receive buffer: the connection-level window
 * every subflow announces (RFC 8684 §3.3.5), sized from what the application consumes per
 * round trip instead of a fixed figure (issue 7: "send and receive buffers sized from path
 * bandwidth and RTT").
 *
 * The buffer must cover 2 x the sum of the paths' rates x the largest RTT, so that the fast
 * paths keep sending while the slowest one holds the oldest bytes, and for a retransmission on
 * it (Raiciu et al., "How Hard Can It Be? Designing and Implementing a Deployable Multipath
 * TCP", NSDI 2012, §4). A receiver does not know the sender's rates, but it sees their sum: the
 * bytes the application consumes. As Linux's dynamic right-sizing (tcp_rcv_space_adjust, and
 * mptcp_rcv_space_adjust at the data level, which takes the largest subflow RTT), the bytes
 * consumed in an interval of at least the largest receive-side RTT are counted, and the buffer
 * becomes max(current, GROWTH x those bytes), up to a maximum. It starts at a modest initial
 * size and only grows (what is buffered always fits). A sender held back by the window gets
 * about one buffer per RTT through, so the buffer can grow 3x per RTT, ahead of slow start;
 * one limited by its congestion window settles at GROWTH x its rate x the RTT.
 *
 * Growing from consumption, not arrival, keeps a peer filling holes with out-of-order data
 * from growing it. An application slower than the network does not grow it either: an interval
 * in which in-order data waited for the application longer than an RTT is not counted (the
 * application sets the pace there; a larger window would only hold more unread data). Sans-IO:
 * time is the `now` its caller passes; no allocation per call.
 */

/**
 * The buffer after an interval: GROWTH x (bytes consumed per RTT). 2 is the NSDI 2012 bound;
 * the extra 1.5 is headroom for what one interval's average misses: RTT variation across the
 * paths (a queue building on the slow one), the sender's rate still growing, and a loss on a
 * slow path whose fast retransmission takes more than one RTT (reordering across paths).
 */
export const RECEIVE_BUFFER_GROWTH = 2 * 1.5;

/** A subflow as the tuner sees it (mptcp/connection/subflow.ts). */
export interface ReceiveRttSource {
  readonly usable: boolean;
  readonly tcp: {
    /** RTT measured at the receiver from the timestamps the peer's data echoes (ms). */
    readonly receiverRtt: number | undefined;
    /** RTT measured from ACKs of data we sent (ms; at a pure receiver, the handshake's). */
    readonly smoothedRtt: number | undefined;
  };
}

/**
 * The largest RTT (ms) among the usable subflows, each the larger of its receive-side and
 * send-side estimates; undefined when none has one. The slowest path decides how long data
 * waits for reordering.
 */
export function largestReceiveRtt(subflows: readonly ReceiveRttSource[]): number | undefined {
  let rtt = 0;
  for (const s of subflows) {
    if (!s.usable) continue;
    const r = Math.max(s.tcp.receiverRtt ?? 0, s.tcp.smoothedRtt ?? 0);
    if (r > rtt) rtt = r;
  }
  return rtt > 0 ? rtt : undefined;
}

export class ReceiveBufferTuner {
  private bytes: number;
  private readonly maxBytes: number;
  /** Bytes consumed since `since` (ms; -1: no interval open, the next consumption opens one). */
  private copied = 0;
  private since = -1;
  /** The RTT the current interval waits for (ms; 0 before one is known). */
  private rttMs = 0;
  /** Since when in-order data has been waiting for the application (ms; -1: none waits). */
  private readableAt = -1;
  /** The longest any data waited for the application in this interval (ms). */
  private longestWait = 0;
  /** Times the buffer grew (for statistics and tests). */
  grows = 0;

  /** `initialBytes` == `maxBytes` (or a smaller max): a fixed buffer. */
  constructor(initialBytes: number, maxBytes: number) {
    this.bytes = Math.max(0, initialBytes);
    this.maxBytes = Math.max(this.bytes, maxBytes);
  }

  /** The current buffer size (bytes): buffered data plus the free space announced. */
  get size(): number {
    return this.bytes;
  }

  get max(): number {
    return this.maxBytes;
  }

  /** New in-order data became readable at `now` (the application may read it). */
  readable(now: number): void {
    if (this.readableAt < 0) this.readableAt = now;
  }

  /**
   * The application consumed `n` bytes at `now`, leaving `remaining` readable. Returns true
   * when an interval may be complete: the caller then passes the current RTT to adjust().
   */
  consumed(now: number, n: number, remaining: number): boolean {
    if (this.bytes >= this.maxBytes) return false;
    if (this.readableAt >= 0 && now - this.readableAt > this.longestWait) this.longestWait = now - this.readableAt;
    this.readableAt = remaining > 0 ? now : -1;
    if (this.since < 0) {
      // The first read opens an interval; its bytes arrived before it, so they do not count.
      this.openInterval(now);
      return false;
    }
    this.copied += n;
    return now - this.since >= this.rttMs;
  }

  /**
   * Closes the interval if it lasted `rttMs` (the largest subflow RTT; undefined: unknown yet,
   * keep measuring) and, unless the application set its pace, grows the buffer to GROWTH x the
   * bytes consumed in it, up to the maximum. Returns true when the buffer grew.
   */
  adjust(now: number, rttMs: number | undefined): boolean {
    if (rttMs === undefined || !(rttMs > 0)) return false;
    this.rttMs = rttMs;
    if (this.since < 0 || now - this.since < rttMs) return false;
    // The application, not the network, set the pace when data waited for it longer than an
    // RTT: such an interval does not grow the buffer (more room would only hold unread data).
    const target = this.longestWait > rttMs ? 0 : Math.ceil(RECEIVE_BUFFER_GROWTH * this.copied);
    this.openInterval(now);
    if (target <= this.bytes) return false;
    this.bytes = Math.min(this.maxBytes, target);
    this.grows++;
    return true;
  }

  private openInterval(now: number): void {
    this.since = now;
    this.copied = 0;
    this.longestWait = 0;
  }
}
