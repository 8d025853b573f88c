/**
 * The aggregator's side of the per-path policy (issue 6 §2): the policy a client sends with
 * each REQUEST (protocol/policy-wire.ts) becomes the stack policy of that client's MPTCP
 * connection, so downloads follow the client's scheduler, tiers, weights and allowed paths.
 * Subflows are matched by the client's MPTCP address id (their MP_JOIN's; 0 for the initial
 * subflow), which NAT leaves alone. Download rate caps are per client and per path, shared by
 * all of that client's connections: one token bucket per (client, path index). Ids the client
 * did not describe (an address that appeared later) are used as primary paths. Data caps need
 * nothing here: the client counts both directions and, once a path's budget is spent, marks
 * it backup with MP_PRIO, which the stack honours.
 */
import { DEFAULT_PATH_USE, type ConnectionPolicy, type PathUse } from '../../mptcp/sched/path-use.js';
import { TokenBucket } from '../../mptcp/sched/token-bucket.js';
import type { WirePolicy } from '../protocol/policy-wire.js';

/** Buckets of clients not heard from for this long are dropped. */
const IDLE_BUCKET_MS = 10 * 60_000;

export class PolicyEnforcer {
  private readonly buckets = new Map<string, { bucket: TokenBucket; usedAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The stack policy for one of `clientId`'s connections. */
  forRequest(clientId: string, wire: WirePolicy): ConnectionPolicy {
    const t = this.now();
    this.sweep(t);
    const byId = new Map<number, PathUse>();
    for (const e of wire.paths) {
      let limiter: TokenBucket | null = null;
      if (e.downloadBytesPerSecond > 0) {
        const key = `${clientId}\u0000${e.pathIndex}`;
        const slot = this.buckets.get(key);
        if (slot) {
          if (slot.bucket.bytesPerSecond !== e.downloadBytesPerSecond) slot.bucket.setRate(e.downloadBytesPerSecond);
          slot.usedAt = t;
          limiter = slot.bucket;
        } else {
          limiter = new TokenBucket(e.downloadBytesPerSecond);
          this.buckets.set(key, { bucket: limiter, usedAt: t });
        }
      }
      byId.set(e.addressId, { tier: e.tier, weight: e.weight, enabled: e.enabled, limiter, budget: null });
    }
    return {
      scheduler: wire.scheduler,
      announceBackup: false,
      pathUse: (s) => byId.get(s.remoteAddressId) ?? DEFAULT_PATH_USE,
    };
  }

  /** Token buckets alive now (for tests and status). */
  get bucketCount(): number {
    return this.buckets.size;
  }

  private sweep(t: number): void {
    for (const [k, v] of this.buckets) if (t - v.usedAt > IDLE_BUCKET_MS) this.buckets.delete(k);
  }
}
