/**
 * BALIA, the Balanced Linked Adaptation algorithm (Q. Peng, A. Walid, J. Hwang, S. H. Low,
 * "Multipath TCP: Analysis, Design, and Implementation", IEEE/ACM Transactions on Networking
 * 24(1), 2016, §VI; the behaviour of Linux's out-of-tree net/mptcp/mptcp_balia.c). With
 * x_k = w_k / tau_k (the rate of path k) and alpha_r = max_k x_k / x_r:
 *
 *   each ACK on path r:   w_r += x_r / (tau_r (sum_k x_k)^2) * (1 + alpha_r) / 2 * (4 + alpha_r) / 5
 *   each loss on path r:  w_r -= w_r / 2 * min(alpha_r, 1.5)
 *
 * Unlike LIA and OLIA the decrease is coupled too: a path slower than the fastest backs off by
 * up to 3/4. With one path alpha = 1 and both are Reno's. In bytes with ABC (coupling.ts): one
 * MSS of increase per 10 W_r (sum x)^2 / ((x_r + x_max)(4 x_r + x_max)) acknowledged bytes (the
 * same expression Linux counts ACKs against); the decrease applies to FlightSize as RFC 5681
 * eq. 4 does, and never goes below 2 MSS.
 */
import { CoupledMember, CouplingGroup } from './coupling.js';

export class BaliaMember extends CoupledMember {
  readonly name = 'balia';

  constructor(
    mss: number,
    private readonly group: BaliaGroup,
  ) {
    super(mss, group);
  }

  /** This path's rate x_r = cwnd / srtt, bytes per ms (0 before an RTT sample). */
  get rate(): number {
    return this.srtt > 0 ? this.cwnd / this.srtt : 0;
  }

  /** alpha_r = max_k x_k / x_r (1 with one path or before an RTT sample). */
  get alpha(): number {
    const g = this.group;
    if (g.counted <= 1 || !this.counted) return 1;
    const x = this.rate;
    return Math.max(g.maxRate, x) / x;
  }

  ackedPerStep(): number {
    const g = this.group;
    if (g.counted <= 1 || !this.counted) return this.cwnd;
    const x = this.rate;
    const xMax = Math.max(g.maxRate, x);
    const sum = g.sumRate;
    return (10 * this.cwnd * sum * sum) / ((x + xMax) * (4 * x + xMax));
  }

  protected override lossThreshold(inFlight: number): number {
    return Math.max(inFlight - (inFlight / 2) * Math.min(this.alpha, 1.5), 2 * this.mss);
  }
}

export class BaliaGroup extends CouplingGroup<BaliaMember> {
  readonly algorithm = 'balia';
  private sumRateValue = 0;
  private maxRateValue = 0;

  /** sum_k x_k over the counted members, bytes per ms. */
  get sumRate(): number {
    this.refresh();
    return this.sumRateValue;
  }

  /** max_k x_k over the counted members, bytes per ms. */
  get maxRate(): number {
    this.refresh();
    return this.maxRateValue;
  }

  protected newMember(mss: number): BaliaMember {
    return new BaliaMember(mss, this);
  }

  protected recompute(): void {
    let sum = 0;
    let max = 0;
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[i];
      if (!m.counted) continue;
      const x = m.rate;
      sum += x;
      if (x > max) max = x;
    }
    this.sumRateValue = sum;
    this.maxRateValue = max;
  }
}
