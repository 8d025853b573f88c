/**
 * The seam between the TCP engine and an upper layer that turns a TCP connection into an
 * MPTCP subflow (as Linux's subflow ULP sits on a TCP socket). The engine stays the owner of
 * sequence numbers, retransmission and congestion control; the hooks own the MPTCP options on
 * each segment, where new data comes from (the connection-level scheduler), how payloads are
 * cut at DSS mapping boundaries, and the connection-level receive window (RFC 8684 §3.3.5).
 *
 * Every method is called synchronously from the engine's handleSegment/pollSegment; a hook
 * must not re-enter the engine except through the methods documented as safe (enqueue,
 * requestAck, abort).
 */
import type { SegmentView } from '../wire/segment-view.js';
import type { CongestionControl } from './congestion.js';

export interface SubflowHooks {
  /** Writes MPTCP options into our SYN (`synAck` false) or SYN/ACK at out[p..]; returns the new end. */
  writeSynOptions(out: Uint8Array, p: number, synAck: boolean): number;
  /** The peer's SYN/ACK arrived (our active open). The hooks may abort the engine. */
  onSynAck(now: number, v: SegmentView, buf: Uint8Array): void;
  /**
   * An acceptable non-SYN segment arrived and its ACK was processed; its payload (relative
   * sequence `seq`) is delivered to the engine's receive queue right after this call, unless
   * this returns false (the payload is then dropped unacknowledged, as if lost).
   */
  onSegment(now: number, v: SegmentView, buf: Uint8Array, seq: number): boolean;
  /** An acceptable RST arrived (its options may say why, or close the whole connection). */
  onReset(v: SegmentView, buf: Uint8Array): void;
  /**
   * Writes MPTCP options for a non-SYN segment carrying payload [seq, seq + len) (len 0: a pure
   * ACK, or a RST when `flags` has RST) in at most `room` bytes; returns the new end.
   */
  writeOptions(out: Uint8Array, p: number, seq: number, len: number, flags: number, room: number): number;
  /** Option bytes (4-aligned) a data segment carries besides timestamps: cut from the MSS. */
  readonly dataOptionBytes: number;
  /** The largest payload that may start at relative `seq`: a segment never spans two mappings. */
  segmentLimit(seq: number, len: number): number;
  /**
   * The engine may send `room` new bytes and has none queued: the hooks may hand it data with
   * engine.enqueue() (the scheduler's decision).
   */
  pull(now: number, room: number): void;
  /** Whether data may be sent yet (an MP_JOIN subflow waits for the fourth ACK). */
  canSendData(): boolean;
  /** Free space of the connection-level receive buffer: the window every subflow announces. */
  receiveSpace(): number;
  /**
   * The engine's congestion controller for windows counted in `mss` (called again when the SYN
   * options fix the MSS; the hooks release the one it replaces). Without it the engine creates
   * TcpConfig.congestion. MPTCP couples its subflows' controllers here (mptcp/cc).
   */
  createCongestionControl?(mss: number): CongestionControl;
  /**
   * Queueing delay (ms) the subflow may add at its bottleneck beyond one minimum RTT: the
   * engine caps bytes in flight at the measured rate x (2 x minimum RTT + this) (inflight-cap.ts).
   * Absent or Infinity: no cap, the congestion window alone. Read at every rate sample, so
   * it may change during the connection.
   */
  readonly queueDelayBudgetMs?: number;
}
