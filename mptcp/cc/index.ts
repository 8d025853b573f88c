/**
 * Congestion control per MPTCP connection: `createCoupledGroup(name)` gives the connection one
 * group, and each subflow's TCP engine gets its controller from `group.create(mss)` (through
 * SubflowHooks.createCongestionControl). Coupled: LIA (RFC 6356), OLIA (Khalili et al. 2012),
 * BALIA (Peng et al. 2016). Uncoupled: CUBIC and NewReno per subflow, as single-path TCP
 * (mptcp/tcp/congestion.ts), which take more than a TCP's share at a shared bottleneck.
 */
import { createCongestionControl, type CongestionAlgorithm } from '../tcp/congestion.js';
import { BaliaGroup } from './balia.js';
import { CONGESTION_NAMES, type CongestionGroup, type CongestionName, type GroupMember } from './coupling.js';
import { LiaGroup } from './lia.js';
import { OliaGroup } from './olia.js';

export { BaliaGroup, BaliaMember } from './balia.js';
export { CONGESTION_NAMES, CoupledMember, CouplingGroup, type CongestionGroup, type CongestionName, type CoupledAlgorithm, type GroupMember } from './coupling.js';
export { LiaGroup, LiaMember } from './lia.js';
export { OliaGroup, OliaMember } from './olia.js';

/** Single-path controllers that only count their members. */
class UncoupledGroup implements CongestionGroup {
  readonly coupled = false;
  private members = 0;

  constructor(readonly algorithm: CongestionAlgorithm) {}

  get size(): number {
    return this.members;
  }

  create(mss: number): GroupMember {
    const cc = createCongestionControl(this.algorithm, mss);
    this.members++;
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      this.members--;
    };
    return Object.assign(cc, { leave });
  }
}

export function isCongestionName(name: string): name is CongestionName {
  return (CONGESTION_NAMES as readonly string[]).includes(name);
}

/** The congestion control of one MPTCP connection; throws RangeError on an unknown name. */
export function createCoupledGroup(algorithm: CongestionName): CongestionGroup {
  switch (algorithm) {
    case 'cubic':
    case 'newreno':
      return new UncoupledGroup(algorithm);
    case 'lia':
      return new LiaGroup();
    case 'olia':
      return new OliaGroup();
    case 'balia':
      return new BaliaGroup();
    default:
      throw new RangeError(`unknown congestion control ${String(algorithm)} (one of ${CONGESTION_NAMES.join(', ')})`);
  }
}
