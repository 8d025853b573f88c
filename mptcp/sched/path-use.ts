/**
 * How a connection may use each of its paths (issue 6 §2), as the stack sees it: a tier
 * (0 primary; a tier carries data only while no path of a better tier can), a weight for the
 * weighted scheduler, whether the path may carry this connection's data at all, and the
 * path's shared rate cap. The proxy builds a ConnectionPolicy from its configuration (client)
 * or from what the client sent with its request (aggregator); the stack knows no names.
 */
import type { ByteBudget } from './byte-budget.js';
import type { TokenBucket } from './token-bucket.js';

/** The rank of a path whose data budget is spent: below every tier (used only as a last resort). */
export const SPENT_BUDGET_RANK = 1000;

export interface PathUse {
  tier: number;
  weight: number;
  enabled: boolean;
  /** The path's rate cap for what we send, shared with every connection on the path. */
  limiter: TokenBucket | null;
  /** The path's data cap for this period, shared with every connection on the path. */
  budget: ByteBudget | null;
  /** Subflow keepalive idle time on this path (ms; NAT bindings); undefined: the stack's. */
  keepaliveIdleMs?: number;
}

export const DEFAULT_PATH_USE: PathUse = Object.freeze({ tier: 0, weight: 1, enabled: true, limiter: null, budget: null });

/** What identifies a subflow's path to a policy. */
export interface SubflowPath {
  readonly local: Uint8Array;
  readonly remote: Uint8Array;
  readonly localAddressId: number;
  readonly remoteAddressId: number;
}

export interface ConnectionPolicy {
  /** A scheduler name (scheduler.ts createScheduler). */
  scheduler: string;
  /** The use of a subflow's path (called for each subflow, also for those that join later). */
  pathUse(path: SubflowPath): PathUse;
  /**
   * Ask the peer with MP_PRIO to treat subflows of tier > 0, or of a path whose data budget is
   * spent, as backup (RFC 8684 §3.3.8), so a peer that knows nothing of our tiers (kernel
   * MPTCP) still sends there last. The client sets this; the aggregator does not.
   */
  announceBackup: boolean;
}
