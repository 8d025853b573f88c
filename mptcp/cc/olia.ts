/**
 * OLIA, the Opportunistic Linked Increases Algorithm (R. Khalili, N. Gast, M. Popovic,
 * J.-Y. Le Boudec, "MPTCP is not Pareto-optimal: performance issues and a possible solution",
 * CoNEXT 2012, §5; draft-khalili-mptcp-congestion-control-05 §3). With w in packets, for each
 * ACK on path r:
 *
 *   w_r += (w_r / rtt_r^2) / (sum_p w_p / rtt_p)^2 + epsilon_r / w_r
 *
 * and w_r / 2 on a loss (TCP's decrease). epsilon moves window from the paths with the largest
 * windows (M) to the presumably best paths that do not have them yet (B \ M), where the best
 * paths maximise l_p / rtt_p^2, l_p being the bytes acknowledged between the last two losses on
 * p, or since the last one if that is more (l_p ~ 1 / loss rate, so l_p / rtt_p^2 ranks paths by
 * what a TCP would get on them):
 *
 *   epsilon_r =  1 / (|P| |B \ M|)   if r in B \ M
 *             = -1 / (|P| |M|)       if r in M and B \ M is not empty
 *             =  0                   otherwise
 *
 * In bytes with ABC (coupling.ts): one MSS of change per 1 / g acknowledged bytes, where
 * g = (W_r / rtt_r^2) / (sum_p W_p / rtt_p)^2 + epsilon_r / W_r with W in bytes (the packet
 * formula with w = W / MSS, per acknowledged MSS). A negative g shrinks the window, never below
 * ssthresh (below it the subflow would slow-start straight back, as in Linux's mptcp_olia.c).
 * Sets B, M and epsilon are recomputed lazily when a window changes; with one path epsilon = 0
 * and the increase is Reno's.
 */
import { CoupledMember, CouplingGroup } from './coupling.js';

export class OliaMember extends CoupledMember {
  readonly name = 'olia';
  /** epsilon_r, set by the group's recompute. */
  eps = 0;
  /** Bytes acknowledged in all (the inter-loss distance counts them); public for tests. */
  ackedTotal = 0;
  /** ackedTotal at the second-to-last and the last loss. */
  private lossMark1 = 0;
  private lossMark2 = 0;

  constructor(
    mss: number,
    private readonly group: OliaGroup,
  ) {
    super(mss, group);
  }

  /** epsilon_r as of now (refreshing the group). */
  get epsilon(): number {
    this.group.refresh();
    return this.eps;
  }

  /** l_r: bytes between the last two losses, or since the last loss if more. */
  get interLossBytes(): number {
    return Math.max(this.lossMark2 - this.lossMark1, this.ackedTotal - this.lossMark2);
  }

  ackedPerStep(): number {
    const g = this.group;
    if (g.counted <= 1 || !this.counted) return this.cwnd;
    const sum = g.sumRate;
    const inc = this.cwnd / (this.srtt * this.srtt) / (sum * sum) + this.eps / this.cwnd;
    return inc === 0 ? Infinity : 1 / inc;
  }

  protected override onAcked(acked: number): void {
    this.ackedTotal += acked;
  }

  protected override onLoss(): void {
    // A new inter-loss interval only if something was acknowledged since the last loss (a
    // repeated timeout without progress is the same loss; Linux: mptcp_olia_set_state).
    if (this.ackedTotal === this.lossMark2) return;
    this.lossMark1 = this.lossMark2;
    this.lossMark2 = this.ackedTotal;
  }
}

export class OliaGroup extends CouplingGroup<OliaMember> {
  readonly algorithm = 'olia';
  private sumRateValue = 0;

  /** sum_p W_p / rtt_p over the counted members, bytes per ms. */
  get sumRate(): number {
    this.refresh();
    return this.sumRateValue;
  }

  protected newMember(mss: number): OliaMember {
    return new OliaMember(mss, this);
  }

  protected recompute(): void {
    const ms = this.members;
    let sum = 0;
    let maxW = 0;
    let best = -1;
    for (let i = 0; i < ms.length; i++) {
      const m = ms[i];
      if (!m.counted) continue;
      sum += m.cwnd / m.srtt;
      if (m.cwnd > maxW) maxW = m.cwnd;
      const q = quality(m);
      if (q > best) best = q;
    }
    this.sumRateValue = sum;
    let inM = 0;
    let bestNotM = 0;
    for (let i = 0; i < ms.length; i++) {
      const m = ms[i];
      if (!m.counted) continue;
      if (m.cwnd === maxW) inM++;
      else if (quality(m) === best) bestNotM++;
    }
    const n = this.countedMembers;
    for (let i = 0; i < ms.length; i++) {
      const m = ms[i];
      if (!m.counted || bestNotM === 0) m.eps = 0;
      else if (m.cwnd === maxW) m.eps = -1 / (n * inM);
      else if (quality(m) === best) m.eps = 1 / (n * bestNotM);
      else m.eps = 0;
    }
  }
}

/** l_p / rtt_p^2: the ranking of presumably best paths (computed alike wherever compared). */
function quality(m: OliaMember): number {
  return m.interLossBytes / (m.srtt * m.srtt);
}
