/**
 * The client's side of the per-path policy (issue 6 §2). For each proxied connection it picks
 * the rule for the destination (policy-match.ts) and builds
 * - the stack policy for what the client sends: scheduler, each subflow's tier, weight and
 *   whether the rule allows its path, the path's upload rate cap (one token bucket per path,
 *   shared by all connections) and its data budget (data-caps.ts); tiers above 0 and spent
 *   budgets are announced to the aggregator with MP_PRIO;
 * - the wire policy for the aggregator's side (downloads): the same per MPTCP address id,
 *   with the download rate cap, sent in the REQUEST (protocol/policy-wire.ts).
 * A local address belongs to the path that lists it, or whose interface has it now.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { DEFAULT_PATH_USE, type ConnectionPolicy, type PathUse } from '../../mptcp/sched/path-use.js';
import { TokenBucket } from '../../mptcp/sched/token-bucket.js';
import { formatIp } from '../../mptcp/wire/ip-address.js';
import { matchRule } from '../config/policy-match.js';
import type { PathConfig, PolicyConfig } from '../config/policy-types.js';
import type { WirePathEntry, WirePolicy } from '../protocol/policy-wire.js';
import { MAX_POLICY_ENTRIES } from '../protocol/policy-wire.js';
import type { DataCaps } from './data-caps.js';

export interface ConnectionPlan {
  /** The rule that matched (for logs), if any. */
  rule: string | undefined;
  local: ConnectionPolicy;
  wire: WirePolicy;
}

type InterfaceList = NodeJS.Dict<NetworkInterfaceInfo[]>;

export class ClientPathPolicy {
  private readonly uploadBuckets = new Map<string, TokenBucket>();
  private interfaceCache: { at: number; list: InterfaceList } = { at: -Infinity, list: {} };

  constructor(
    private readonly caps: DataCaps,
    private readonly interfaces: () => InterfaceList = networkInterfaces,
    private readonly now: () => number = Date.now,
  ) {}

  /** The configured path a local address belongs to (index into policy.paths), or -1. */
  pathIndexOf(policy: PolicyConfig, address: string): number {
    const i = policy.paths.findIndex((p) => p.addresses.includes(address));
    if (i >= 0) return i;
    const list = this.currentInterfaces();
    return policy.paths.findIndex((p) => p.interface !== undefined && (list[p.interface] ?? []).some((a) => a.address === address));
  }

  /**
   * The plan for a connection to `target` whose local addresses have `ids` (MPTCP address ids
   * on that connection).
   */
  plan(policy: PolicyConfig, target: { host: string; port: number }, ids: readonly { address: string; id: number }[]): ConnectionPlan {
    const choice = matchRule(policy, target);
    const allowed = new Set(choice.paths.map((p) => p.name));
    const uses = policy.paths.map((p) => this.useOf(p, allowed.has(p.name)));
    // Addresses outside every configured path (auto-discovered) are used as primary paths
    // unless the rule names paths (then only those).
    const unlisted: PathUse = { ...DEFAULT_PATH_USE, enabled: choice.rule?.paths === undefined };
    const pathOf = (address: string) => this.pathIndexOf(policy, address);
    const local: ConnectionPolicy = {
      scheduler: choice.scheduler,
      announceBackup: true,
      pathUse: (s) => {
        const i = pathOf(formatIp(s.local));
        return i < 0 ? unlisted : uses[i];
      },
    };
    const entries: WirePathEntry[] = [];
    for (const { address, id } of ids) {
      if (entries.length >= MAX_POLICY_ENTRIES || entries.some((e) => e.addressId === id)) continue;
      const i = pathOf(address);
      const p: PathConfig | undefined = policy.paths[i];
      const use = i < 0 ? unlisted : uses[i];
      entries.push({
        addressId: id,
        pathIndex: i < 0 ? 255 : i,
        tier: Math.min(255, use.tier),
        enabled: use.enabled,
        weight: Math.min(0xffff, Math.max(1, use.weight)),
        downloadBytesPerSecond: p?.downloadRateBps ? Math.min(0xffffffff, Math.round(p.downloadRateBps / 8)) : 0,
      });
    }
    return { rule: choice.rule?.name, local, wire: { scheduler: choice.scheduler, paths: entries } };
  }

  private useOf(p: PathConfig, allowed: boolean): PathUse {
    let limiter: TokenBucket | null = null;
    if (p.uploadRateBps) {
      const rate = p.uploadRateBps / 8;
      limiter = this.uploadBuckets.get(p.name) ?? new TokenBucket(rate);
      if (limiter.bytesPerSecond !== rate) limiter.setRate(rate);
      this.uploadBuckets.set(p.name, limiter);
    }
    return { tier: p.tier, weight: p.weight, enabled: allowed, limiter, budget: this.caps.budget(p.name) ?? null, ...(p.keepaliveSeconds !== undefined ? { keepaliveIdleMs: p.keepaliveSeconds * 1000 } : {}) };
  }

  private currentInterfaces(): InterfaceList {
    const t = this.now();
    if (t - this.interfaceCache.at > 1000) this.interfaceCache = { at: t, list: this.interfaces() };
    return this.interfaceCache.list;
  }
}
