/**
 * The per-path policy as the client's configuration states it (issue 6 §2): named paths
 * (links) with their tier, weight, rate caps, data cap and keepalive, the default scheduler,
 * and ordered rules per destination. Types only: client-config.ts parses them, policy-match.ts
 * picks a rule, and the client turns the result into each connection's wire policy.
 */
import type { Cidr } from '../protocol/ip.js';

/** Schedulers by the name the YAML uses (mptcp/sched/scheduler.ts createScheduler). */
export const SCHEDULER_NAMES = ['lowest-rtt', 'ecf', 'blest', 'round-robin', 'weighted', 'redundant'] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** Tiers 0 (primary) .. MAX_TIER; a tier is used only when every path of the tiers above is down. */
export const MAX_TIER = 7;

export type DataCapPeriod = 'day' | 'week' | 'month';

export interface DataCap {
  /** Bytes (both directions together) the path may carry per period, except as a backup. */
  bytes: number;
  period: DataCapPeriod;
  /** month: day of the month the period starts (1..28); week: 0 = Sunday .. 6; day: unused. */
  resetDay: number;
}

/** One link of the client. */
export interface PathConfig {
  /** Unique, 1..32 of A-Z a-z 0-9 . _ - ; used in rules, metrics and status. */
  name: string;
  /** Local IP addresses of this link (may be empty when `interface` is given). */
  addresses: string[];
  /** The device whose global addresses are this path's (followed at runtime). */
  interface: string | undefined;
  /** false: the path is configured but never used. */
  enabled: boolean;
  /** 0 = primary (role: primary); role: backup = 1; or an explicit tier 0..MAX_TIER. */
  tier: number;
  /** Share of traffic under the weighted scheduler (1..1000). */
  weight: number;
  /** Caps in bits per second (uploads enforced by the client, downloads by the aggregator). */
  uploadRateBps: number | undefined;
  downloadRateBps: number | undefined;
  dataCap: DataCap | undefined;
  /** Subflow keepalive idle time on this path (NAT bindings); undefined = the stack default. */
  keepaliveSeconds: number | undefined;
}

export interface PortRange {
  from: number;
  to: number;
}

/**
 * A rule's match. hosts and cidrs both name the destination: when either is given, the target
 * must match a host glob or (an IP literal) lie in a prefix. ports, when given, must match too
 * (AND). Within a list any entry matches (OR). At least one field is given.
 */
export interface RuleMatch {
  /** Host globs, case-insensitive: `*` is any run of characters within and across labels ("*.example.com" also matches "a.b.example.com", not "example.com"). */
  hosts: string[];
  /** Destination address prefixes (literal IP targets, and names the rule engine cannot resolve never match). */
  cidrs: Cidr[];
  ports: PortRange[];
}

export interface PolicyRule {
  /** For logs and metrics; default `rule-<index>`. */
  name: string;
  match: RuleMatch;
  /** undefined: the policy's default scheduler. */
  scheduler: SchedulerName | undefined;
  /** Path names this destination may use; undefined: every enabled path. */
  paths: string[] | undefined;
  /** Path names this destination must never use (applied after `paths`). */
  excludePaths: string[];
}

export interface PolicyConfig {
  /** Scheduler for connections no rule names one for. */
  scheduler: SchedulerName;
  paths: PathConfig[];
  /** First match wins. */
  rules: PolicyRule[];
}
