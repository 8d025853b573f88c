/**
 * The client's policy (issue 6 §2): the YAML of the issue read into PathConfig and PolicyRule
 * exactly; rates, sizes and durations with their units; and policy-match: the first matching
 * rule by host glob, CIDR (IP literals only) and port, its scheduler, and the enabled paths
 * it allows; and the userspace transport's local addresses from the paths.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { transportPaths } from '../../../proxy/cli/commands/client.js';
import { parseClientConfig } from '../../../proxy/config/client-config.js';
import { globMatches, matchRule } from '../../../proxy/config/policy-match.js';
import type { PathConfig, PolicyConfig } from '../../../proxy/config/policy-types.js';
import { parseCidr } from '../../../proxy/protocol/ip.js';
import { editDistance, nearest, parseDuration, parseRate, parseSize } from '../../../proxy/config/units.js';

const HEAD = `aggregator: { host: 203.0.113.1, fingerprint: ${'ab'.repeat(32)}, clientId: me, secret: 0123456789abcdef }\n`;

const ISSUE_POLICY = `scheduler: lowest-rtt
paths:
  - name: fiber
    address: 192.168.1.20
    role: primary
    weight: 3
    upload: 20mbit
    download: 100mbit
    keepalive: 25s
  - name: lte
    interface: wwan0
    role: backup
    dataCap: { limit: 30GB, period: month, resetDay: 1 }
    enabled: true
rules:
  - name: ssh
    match: { ports: [22] }
    scheduler: redundant
  - name: video
    match: { hosts: ["*.googlevideo.com", "*.nflxvideo.net"] }
    scheduler: weighted
  - name: updates
    match: { hosts: ["*.debian.org", "*.windowsupdate.com"], cidrs: ["151.101.0.0/16"] }
    excludePaths: [lte]
`;

describe('policy in client.yaml', () => {
  it("reads the issue's example into the policy types", () => {
    const c = parseClientConfig(HEAD + ISSUE_POLICY);
    const fiber: PathConfig = { name: 'fiber', addresses: ['192.168.1.20'], interface: undefined, enabled: true, tier: 0, weight: 3, uploadRateBps: 20e6, downloadRateBps: 100e6, dataCap: undefined, keepaliveSeconds: 25 };
    const lte: PathConfig = { name: 'lte', addresses: [], interface: 'wwan0', enabled: true, tier: 1, weight: 1, uploadRateBps: undefined, downloadRateBps: undefined, dataCap: { bytes: 30e9, period: 'month', resetDay: 1 }, keepaliveSeconds: undefined };
    expect(c.paths).toEqual([fiber, lte]);
    expect(c.policy.scheduler).toBe('lowest-rtt');
    expect(c.policy.paths).toBe(c.paths);
    expect(c.policy.rules).toEqual([
      { name: 'ssh', match: { hosts: [], cidrs: [], ports: [{ from: 22, to: 22 }] }, scheduler: 'redundant', paths: undefined, excludePaths: [] },
      { name: 'video', match: { hosts: ['*.googlevideo.com', '*.nflxvideo.net'], cidrs: [], ports: [] }, scheduler: 'weighted', paths: undefined, excludePaths: [] },
      { name: 'updates', match: { hosts: ['*.debian.org', '*.windowsupdate.com'], cidrs: [parseCidr('151.101.0.0/16')], ports: [] }, scheduler: undefined, paths: undefined, excludePaths: ['lte'] },
    ]);
  });

  it('tiers, addresses lists, port ranges, weekly and daily caps, default rule names', () => {
    const c = parseClientConfig(`${HEAD}paths:
  - { name: a, addresses: [10.0.0.1, "fd00::1"], interface: eth0, tier: 3, enabled: false }
  - { name: b, address: 10.0.1.1, dataCap: { limit: 1.5GiB, period: week }, upload: 2.5MB/s, keepalive: 2m }
  - { name: c, address: 10.0.2.1, dataCap: { limit: 500MB, period: day } }
rules:
  - { match: { ports: [443, "8000-8100"] }, paths: [a, b] }
`);
    expect(c.paths[0]).toMatchObject({ addresses: ['10.0.0.1', 'fd00::1'], interface: 'eth0', tier: 3, enabled: false });
    expect(c.paths[1]).toMatchObject({ dataCap: { bytes: 1.5 * 2 ** 30, period: 'week', resetDay: 1 }, uploadRateBps: 20e6, keepaliveSeconds: 120 });
    expect(c.paths[2].dataCap).toEqual({ bytes: 500e6, period: 'day', resetDay: 0 });
    expect(c.policy.rules[0]).toMatchObject({ name: 'rule-0', match: { ports: [{ from: 443, to: 443 }, { from: 8000, to: 8100 }] }, paths: ['a', 'b'] });
  });
});

describe('units', () => {
  it('rates in bit/s: bit units any case, byte rates with B/s, plain numbers', () => {
    expect(parseRate('20mbit')).toBe(20e6);
    expect(parseRate('500kbit')).toBe(500e3);
    expect(parseRate('1gbit')).toBe(1e9);
    expect(parseRate('20Mbps')).toBe(20e6);
    expect(parseRate('100mbit/s')).toBe(100e6);
    expect(parseRate('2.5MB/s')).toBe(20e6);
    expect(parseRate('1MiB/s')).toBe(8 * 2 ** 20);
    expect(parseRate(64000)).toBe(64000);
    expect(parseRate('20mb')).toMatch(/^unknown rate unit 'mb'/);
    expect(parseRate('fast')).toMatch(/^expected a rate/);
  });

  it('sizes in bytes (GB = 10^9, GiB = 2^30) and durations in seconds', () => {
    expect(parseSize('30GB')).toBe(30e9);
    expect(parseSize('30GiB')).toBe(30 * 2 ** 30);
    expect(parseSize('1tb')).toBe(1e12);
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize('3 MB')).toBe(3e6);
    expect(parseDuration('25s')).toBe(25);
    expect(parseDuration('2m')).toBe(120);
    expect(parseDuration('500ms')).toBe(0.5);
    expect(parseDuration(30)).toBe(30);
    expect(parseDuration('1y')).toMatch(/^unknown duration unit/);
  });

  it('suggests the nearest word only when it is close', () => {
    expect(editDistance('listn', 'listen')).toBe(1);
    expect(editDistance('mxa', 'max')).toBe(1);
    expect(nearest('listn', ['listen', 'socksListen'])).toBe('listen');
    expect(nearest('Listen', ['listen'])).toBe('listen');
    expect(nearest('colour', ['listen', 'pool'])).toBeUndefined();
  });
});

describe('policy-match', () => {
  const path = (name: string, over: Partial<PathConfig> = {}): PathConfig => ({ name, addresses: [], interface: name, enabled: true, tier: 0, weight: 1, uploadRateBps: undefined, downloadRateBps: undefined, dataCap: undefined, keepaliveSeconds: undefined, ...over });
  const policy: PolicyConfig = parseClientConfig(HEAD + ISSUE_POLICY).policy;
  const names = (ps: PathConfig[]) => ps.map((p) => p.name);

  it('host globs: * spans labels, case-insensitive, a trailing dot ignored, the bare domain not matched', () => {
    expect(globMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(globMatches('*.example.com', 'a.b.EXAMPLE.com.')).toBe(true);
    expect(globMatches('*.example.com', 'example.com')).toBe(false);
    expect(globMatches('*.example.com', 'badexample.com')).toBe(false);
    expect(globMatches('www.*.org', 'www.debian.org')).toBe(true);
    expect(globMatches('a-b.org', 'axb.org')).toBe(false);
  });

  it('picks the first matching rule, its scheduler and its paths; no match: default scheduler, every enabled path', () => {
    expect(matchRule(policy, { host: 'server.example', port: 22 })).toMatchObject({ rule: { name: 'ssh' }, scheduler: 'redundant' });
    expect(names(matchRule(policy, { host: 'server.example', port: 22 }).paths)).toEqual(['fiber', 'lte']);
    const video = matchRule(policy, { host: 'rr3---sn-abc.googlevideo.com', port: 443 });
    expect([video.rule?.name, video.scheduler]).toEqual(['video', 'weighted']);
    const updates = matchRule(policy, { host: 'deb.debian.org', port: 80 });
    expect([updates.rule?.name, updates.scheduler, names(updates.paths)]).toEqual(['updates', 'lowest-rtt', ['fiber']]);
    const none = matchRule(policy, { host: 'example.org', port: 443 });
    expect([none.rule, none.scheduler, names(none.paths)]).toEqual([undefined, 'lowest-rtt', ['fiber', 'lte']]);
  });

  it('hosts or cidrs name the destination (cidrs for IP literals only), and ports must match too', () => {
    // "updates" has hosts and cidrs: a matching name or an address in the prefix.
    expect(matchRule(policy, { host: '151.101.2.3', port: 443 }).rule?.name).toBe('updates');
    expect(matchRule(policy, { host: 'download.windowsupdate.com', port: 443 }).rule?.name).toBe('updates');
    const p: PolicyConfig = { ...policy, rules: [{ name: 'cdn', match: { hosts: [], cidrs: [parseCidr('151.101.0.0/16'), parseCidr('2001:db8::/32')].filter((c) => c !== undefined), ports: [{ from: 443, to: 443 }] }, scheduler: 'ecf', paths: undefined, excludePaths: [] }] };
    expect(matchRule(p, { host: '151.101.1.1', port: 443 }).rule?.name).toBe('cdn');
    expect(matchRule(p, { host: '[2001:db8::5]', port: 443 }).rule?.name).toBe('cdn');
    expect(matchRule(p, { host: '::ffff:151.101.9.9', port: 443 }).rule?.name).toBe('cdn');
    expect(matchRule(p, { host: '151.101.1.1', port: 80 }).rule).toBeUndefined();
    expect(matchRule(p, { host: 'cdn.fastly.example', port: 443 }).rule).toBeUndefined();
    expect(matchRule(policy, { host: '151.102.1.1', port: 80 }).rule).toBeUndefined();
  });

  it('paths: the rule allows only its paths minus excludePaths, disabled paths never', () => {
    const p: PolicyConfig = {
      scheduler: 'ecf',
      paths: [path('a'), path('b', { enabled: false }), path('c'), path('d')],
      rules: [
        { name: 'only', match: { hosts: ['only.example'], cidrs: [], ports: [] }, scheduler: undefined, paths: ['d', 'b', 'a'], excludePaths: ['a'] },
        { name: 'all', match: { hosts: ['*'], cidrs: [], ports: [] }, scheduler: 'round-robin', paths: undefined, excludePaths: ['c'] },
      ],
    };
    expect(names(matchRule(p, { host: 'only.example', port: 1 }).paths)).toEqual(['d']);
    expect(matchRule(p, { host: 'only.example', port: 1 }).scheduler).toBe('ecf');
    expect(names(matchRule(p, { host: 'x.example', port: 1 }).paths)).toEqual(['a', 'd']);
  });
});

describe('paths for the userspace transport (mptcp-proxy client)', () => {
  it('enabled paths only; tier > 0 is backup; interface is the device; an interface-only path takes its global addresses', () => {
    const c = parseClientConfig(`${HEAD}paths:
  - { name: fiber, address: 10.0.0.1, interface: eth0 }
  - { name: lte, interface: wwan0, role: backup }
  - { name: off, address: 10.0.0.3, enabled: false }
  - { name: deep, addresses: [10.0.0.4], tier: 2 }
`);
    const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({ address, family: 'IPv4', internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null });
    const v6 = (address: string): NetworkInterfaceInfo => ({ address, family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: '00:00:00:00:00:00', cidr: null, scopeid: 0 });
    const interfaces = { wwan0: [v4('100.64.1.2'), v6('fe80::1'), v6('2001:db8::2')], lo: [v4('127.0.0.1', true)] };
    expect(transportPaths(c.paths, interfaces)).toEqual([
      { address: '10.0.0.1', backup: false, device: 'eth0' },
      { address: '100.64.1.2', backup: true, device: 'wwan0' },
      { address: '2001:db8::2', backup: true, device: 'wwan0' },
      { address: '10.0.0.4', backup: true },
    ]);
  });
});
