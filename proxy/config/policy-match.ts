/**
 * Which rule of the client's policy a destination falls under: the first rule whose match
 * holds (the destination: a host glob, or a CIDR for IP literals; and a port range), the
 * scheduler it names (else the policy's default), and the enabled paths it allows (its
 * `paths`, else every path, minus its `excludePaths`, in the configured order). Pure.
 */
import { cidrContains, parseIp, unmapIpv4 } from '../protocol/ip.js';
import type { PathConfig, PolicyConfig, PolicyRule, RuleMatch, SchedulerName } from './policy-types.js';

export interface RuleChoice {
  /** The first matching rule; undefined when none matches. */
  rule: PolicyRule | undefined;
  scheduler: SchedulerName;
  /** Enabled paths the destination may use. */
  paths: PathConfig[];
}

const globCache = new Map<string, RegExp>();

/** `*` is any run of characters (across labels too); case-insensitive; a trailing dot on the host is ignored. */
export function globMatches(glob: string, host: string): boolean {
  let re = globCache.get(glob);
  if (re === undefined) {
    re = new RegExp(`^${glob.split('*').map((part) => part.replace(/\./g, '\\.')).join('.*')}$`, 'i');
    globCache.set(glob, re);
  }
  return re.test(host.endsWith('.') ? host.slice(0, -1) : host);
}

/**
 * hosts and cidrs both say which destination: when either is given, the host must match a
 * glob or (an IP literal) lie in a prefix. ports, when given, must match as well. A match
 * with nothing given matches nothing.
 */
function ruleMatches(match: RuleMatch, host: string, ip: Uint8Array | undefined, port: number): boolean {
  if (match.hosts.length + match.cidrs.length > 0) {
    const byName = match.hosts.some((g) => globMatches(g, host));
    const byAddress = ip !== undefined && match.cidrs.some((c) => cidrContains(c, ip) || cidrContains(c, unmapIpv4(ip)));
    if (!byName && !byAddress) return false;
  }
  if (match.ports.length > 0 && !match.ports.some((r) => port >= r.from && port <= r.to)) return false;
  return match.hosts.length + match.cidrs.length + match.ports.length > 0;
}

/** `host`: a name or an IP literal (IPv6 with or without brackets). */
export function matchRule(policy: PolicyConfig, target: { host: string; port: number }): RuleChoice {
  const ip = parseIp(target.host);
  const rule = policy.rules.find((r) => ruleMatches(r.match, target.host, ip, target.port));
  const allowed = rule?.paths;
  const excluded = rule?.excludePaths ?? [];
  return {
    rule,
    scheduler: rule?.scheduler ?? policy.scheduler,
    paths: policy.paths.filter((p) => p.enabled && (allowed === undefined || allowed.includes(p.name)) && !excluded.includes(p.name)),
  };
}
