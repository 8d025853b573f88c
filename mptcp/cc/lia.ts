/**
 * LIA, the Linked Increases Algorithm of RFC 6356 (MPTCP's coupled congestion control, Linux's
 * "coupled"). RFC 6356 §3, for each ACK on subflow i acknowledging bytes_acked:
 *
 *   cwnd_i += min(alpha * bytes_acked * MSS_i / cwnd_total, bytes_acked * MSS_i / cwnd_i)
 *
 *   alpha = cwnd_total * max_i(cwnd_i / rtt_i^2) / (sum_i cwnd_i / rtt_i)^2
 *
 * The first term couples the subflows so that the connection takes no more than a single TCP
 * would on its best path (§2 goal 2, "do no harm"); the second caps each subflow at what TCP
 * would get on that path (§3). The decrease is TCP's: cwnd_i / 2 on a loss (§3). alpha is
 * recomputed when a window changes, not per ACK (§4). As a step count (coupling.ts): one MSS
 * per max(cwnd_total / alpha, cwnd_i) acknowledged bytes, where cwnd_total / alpha =
 * (sum_i cwnd_i / rtt_i)^2 / max_i(cwnd_i / rtt_i^2) needs no division by alpha.
 */
import { CoupledMember, CouplingGroup } from './coupling.js';

export class LiaMember extends CoupledMember {
  readonly name = 'lia';

  constructor(
    mss: number,
    private readonly group: LiaGroup,
  ) {
    super(mss, group);
  }

  ackedPerStep(): number {
    const g = this.group;
    // One subflow (or no RTT yet): alpha = 1 and cwnd_total = cwnd_i, i.e. Reno.
    if (g.counted <= 1 || !this.counted) return this.cwnd;
    return Math.max(g.totalOverAlpha, this.cwnd);
  }
}

export class LiaGroup extends CouplingGroup<LiaMember> {
  readonly algorithm = 'lia';
  private alphaValue = 1;
  private totalOverAlphaValue = 0;

  /** RFC 6356 §3 alpha over the counted members (1 with one). */
  get alpha(): number {
    this.refresh();
    return this.alphaValue;
  }

  /** cwnd_total / alpha, bytes: the coupled term's acknowledged bytes per MSS of increase. */
  get totalOverAlpha(): number {
    this.refresh();
    return this.totalOverAlphaValue;
  }

  protected newMember(mss: number): LiaMember {
    return new LiaMember(mss, this);
  }

  protected recompute(): void {
    let total = 0;
    let sumRate = 0;
    let maxTerm = 0;
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[i];
      if (!m.counted) continue;
      total += m.cwnd;
      sumRate += m.cwnd / m.srtt;
      const t = m.cwnd / (m.srtt * m.srtt);
      if (t > maxTerm) maxTerm = t;
    }
    if (this.countedMembers === 0 || maxTerm === 0) {
      this.alphaValue = 1;
      this.totalOverAlphaValue = total;
      return;
    }
    this.alphaValue = (total * maxTerm) / (sumRate * sumRate);
    this.totalOverAlphaValue = (sumRate * sumRate) / maxTerm;
  }
}
