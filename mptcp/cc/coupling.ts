/**
 * The machinery shared by coupled (multipath) congestion control: a group per MPTCP connection
 * that knows its members' windows and smoothed RTTs, and the member base class that every
 * coupled algorithm (lia.ts, olia.ts, balia.ts) extends. As RFC 6356 §3 prescribes, slow start,
 * fast retransmit / fast recovery and the retransmission timeout behave as single-path TCP
 * (RFC 5681, with the byte counting of congestion.ts); only the congestion-avoidance increase
 * (and, for BALIA, the decrease) is coupled.
 *
 * Windows are in bytes. A member grows its window by one MSS each time `ackedPerStep()` bytes
 * have been acknowledged in congestion avoidance: that is the algorithms' per-ACK increase
 * (in MSS per acknowledged byte) inverted, so that NewReno is the special case "cwnd bytes per
 * step" (RFC 5681 §3.1 eq. 3 with RFC 3465 byte counting). A negative value (OLIA's epsilon
 * term) shrinks the window by one MSS per that many bytes instead.
 *
 * Aggregates over the group (sums of cwnd/rtt and the like) are computed lazily, as Linux does:
 * any change of a member's window or of the membership marks the group stale, and the next
 * congestion-avoidance ACK or loss that needs them recomputes them once (O(members), no
 * allocation). RTT changes alone do not: a window in congestion avoidance changes at least once
 * per RTT anyway. A member counts in the aggregates once it has an RTT estimate (Linux: an
 * established subflow with srtt != 0); with at most one counted member every algorithm is Reno.
 */
import { initialWindow, restartWindow, slowStartAck, type CongestionControl } from '../tcp/congestion.js';
import { HyStart } from '../tcp/hystart.js';

export type CoupledAlgorithm = 'lia' | 'olia' | 'balia';
/** Every congestion control an MPTCP connection may use for its subflows. */
export type CongestionName = 'cubic' | 'newreno' | CoupledAlgorithm;
export const CONGESTION_NAMES: readonly CongestionName[] = ['cubic', 'newreno', 'lia', 'olia', 'balia'];

/** A subflow's congestion controller, a member of its connection's group. */
export interface GroupMember extends CongestionControl {
  /** The subflow is gone (or its controller replaced): its window no longer counts. Idempotent. */
  leave(): void;
}

/** One MPTCP connection's congestion control: creates one member per subflow. */
export interface CongestionGroup {
  readonly algorithm: CongestionName;
  /** Whether members see each other (false: uncoupled CUBIC or NewReno per subflow). */
  readonly coupled: boolean;
  /** Members registered now. */
  readonly size: number;
  create(mss: number): GroupMember;
}

/** What a member needs of its group (kept narrow so members and groups can be typed per algorithm). */
export interface Coupling {
  markChanged(): void;
  remove(m: CoupledMember): void;
}

/** RFC 6298 §2.3 gain for the smoothed RTT a member keeps from the samples onAck brings. */
const RTT_GAIN = 1 / 8;

export abstract class CoupledMember implements GroupMember {
  abstract readonly name: string;
  /** Congestion window and slow-start threshold, bytes (public for the group and for tests). */
  cwnd: number;
  ssthresh = Infinity;
  /** Smoothed RTT in ms from the samples onAck brings; 0 before the first (not counted then). */
  srtt = 0;
  /** Acknowledged bytes in congestion avoidance not yet turned into a window step. */
  protected ackedInCa = 0;
  private left = false;
  private readonly hy = new HyStart();

  constructor(
    readonly mss: number,
    private readonly coupling: Coupling,
  ) {
    this.cwnd = initialWindow(mss);
  }

  /** Counted in the group's aggregates: it has an RTT estimate and has not left. */
  get counted(): boolean {
    return this.srtt > 0 && !this.left;
  }

  onAck(_now: number, acked: number, rttMs: number | undefined): void {
    if (rttMs !== undefined && rttMs > 0) this.srtt = this.srtt === 0 ? rttMs : this.srtt + (rttMs - this.srtt) * RTT_GAIN;
    this.onAcked(acked);
    if (this.cwnd < this.ssthresh) {
      // RFC 6356 §3: slow start is single-path TCP's (byte counting and HyStart++ as congestion.ts).
      slowStartAck(this.hy, this, acked, this.mss, rttMs);
      this.coupling.markChanged();
      return;
    }
    this.ackedInCa += acked;
    const per = this.ackedPerStep();
    const need = per < 0 ? -per : per;
    if (this.ackedInCa < need) return;
    this.ackedInCa -= need;
    if (per > 0) this.cwnd += this.mss;
    else this.cwnd = Math.max(this.cwnd - this.mss, this.ssthresh, 2 * this.mss);
    this.coupling.markChanged();
  }

  /** Fast retransmit / fast recovery (RFC 6356 §3: the decrease is TCP's unless overridden). */
  onCongestionEvent(_now: number, inFlight: number): void {
    this.onLoss();
    this.ssthresh = this.lossThreshold(inFlight);
    this.cwnd = this.ssthresh;
    this.ackedInCa = 0;
    this.coupling.markChanged();
  }

  /** RFC 5681 §3.1: ssthresh as after a loss, cwnd back to the loss window of one segment. */
  onRetransmissionTimeout(_now: number, inFlight: number): void {
    this.onLoss();
    this.ssthresh = this.lossThreshold(inFlight);
    this.cwnd = this.mss;
    this.ackedInCa = 0;
    this.coupling.markChanged();
  }

  restart(): void {
    restartWindow(this, this.hy, this.mss);
    this.ackedInCa = 0;
    this.coupling.markChanged();
  }

  leave(): void {
    if (this.left) return;
    this.left = true;
    this.coupling.remove(this);
  }

  /**
   * Bytes to acknowledge in congestion avoidance per MSS of window change: positive to grow,
   * negative to shrink, Infinity for no change. `cwnd` is single-path Reno.
   */
  abstract ackedPerStep(): number;

  /** ssthresh after a loss with `inFlight` bytes outstanding: RFC 5681 eq. 4 by default. */
  protected lossThreshold(inFlight: number): number {
    return Math.max(inFlight / 2, 2 * this.mss);
  }

  /** Every acknowledgement that reaches onAck (OLIA counts its inter-loss distance). */
  protected onAcked(_acked: number): void {}

  /** A loss was detected (before the window is reduced). */
  protected onLoss(): void {}
}

/** Membership and staleness; subclasses hold the algorithm's aggregates and recompute them. */
export abstract class CouplingGroup<M extends CoupledMember> implements CongestionGroup, Coupling {
  abstract readonly algorithm: CoupledAlgorithm;
  readonly coupled = true;
  protected readonly members: M[] = [];
  /** Members counted by the last recompute (with an RTT estimate). */
  protected countedMembers = 0;
  private stale = true;

  get size(): number {
    return this.members.length;
  }

  create(mss: number): M {
    const m = this.newMember(mss);
    this.members.push(m);
    this.stale = true;
    return m;
  }

  remove(m: CoupledMember): void {
    const i = this.members.indexOf(m as M);
    if (i >= 0) this.members.splice(i, 1);
    this.stale = true;
  }

  markChanged(): void {
    this.stale = true;
  }

  /** Recomputes the aggregates if a window or the membership changed since the last time. */
  refresh(): void {
    if (!this.stale) return;
    this.stale = false;
    let n = 0;
    for (let i = 0; i < this.members.length; i++) if (this.members[i].counted) n++;
    this.countedMembers = n;
    this.recompute();
  }

  /** Members with an RTT estimate as of the last refresh (refreshing first). */
  get counted(): number {
    this.refresh();
    return this.countedMembers;
  }

  protected abstract newMember(mss: number): M;
  /** Recomputes the aggregates over the counted members (countedMembers is current). */
  protected abstract recompute(): void;
}
