/**
 * How a connection may use each of its paths (issue 6 §2), as the stack sees it: a tier
 * (0 primary; a tier carries data only while no path of a better tier can), a weight for the
 * weighted scheduler, whether the path may carry this connection's data at all, and the
 * path's shared rate cap. The proxy builds a ConnectionPolicy from its configuration (client)
 * or from what the client sent with its request (aggregator); the stack knows no names.
 */
import type { TokenBucket } from './token-bucket.js';

export interface PathUse {
  tier: number;
  weight: number;
  enabled: boolean;
  /** The path's rate cap for what we send, shared with every connection on the path. */
  limiter: TokenBucket | null;
}

export const DEFAULT_PATH_USE: PathUse = Object.freeze({ tier: 0, weight: 1, enabled: true, limiter: null });

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
   * Ask the peer with MP_PRIO to treat subflows of tier > 0 as backup (RFC 8684 §3.3.8), so a
   * peer that knows nothing of our tiers (kernel MPTCP) still sends there last. The client
   * sets this; the aggregator does not.
   */
  announceBackup: boolean;
}
