/**
 * The client's and the aggregator's sides of the per-path policy: rule -> stack policy and
 * wire policy (proxy/client/path-policy.ts), data caps with their periods and saved usage
 * (proxy/client/data-caps.ts), and the aggregator's enforcer with per-client download caps
 * (proxy/aggregator/policy-enforcer.ts).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyEnforcer } from '../../../proxy/aggregator/policy-enforcer.js';
import { DataCaps, periodBounds } from '../../../proxy/client/data-caps.js';
import { ClientPathPolicy } from '../../../proxy/client/path-policy.js';
import type { PathConfig, PolicyConfig } from '../../../proxy/config/policy-types.js';
import { decodePolicy, encodePolicy } from '../../../proxy/protocol/policy-wire.js';
import { parseIp } from '../../../mptcp/wire/ip-address.js';

const path = (name: string, o: Partial<PathConfig>): PathConfig => ({ name, addresses: [], interface: undefined, enabled: true, tier: 0, weight: 1, uploadRateBps: undefined, downloadRateBps: undefined, dataCap: undefined, keepaliveSeconds: undefined, ...o });

const policy: PolicyConfig = {
  scheduler: 'ecf',
  paths: [path('fiber', { addresses: ['192.168.1.20'], weight: 3, uploadRateBps: 8e6 }), path('lte', { interface: 'wwan0', tier: 1, downloadRateBps: 16e6, dataCap: { bytes: 1000, period: 'month', resetDay: 1 }, keepaliveSeconds: 20 })],
  rules: [
    { name: 'ssh', match: { hosts: [], cidrs: [], ports: [{ from: 22, to: 22 }] }, scheduler: 'redundant', paths: undefined, excludePaths: [] },
    { name: 'updates', match: { hosts: ['*.debian.org'], cidrs: [], ports: [] }, scheduler: undefined, paths: undefined, excludePaths: ['lte'] },
  ],
};
const interfaces = () => ({ wwan0: [{ address: '10.64.3.7', family: 'IPv4' as const, netmask: '255.0.0.0', mac: '00:00:00:00:00:00', internal: false, cidr: null }] });
const ids = [
  { address: '10.64.3.7', id: 0 },
  { address: '192.168.1.20', id: 1 },
  { address: '172.16.0.9', id: 2 },
];
const sub = (local: string, remoteAddressId = 0) => ({ local: parseIp(local) ?? new Uint8Array(4), remote: new Uint8Array(4), localAddressId: 0, remoteAddressId });

describe('ClientPathPolicy', () => {
  it('maps local addresses to paths by address and by interface; a rule picks the scheduler', () => {
    const caps = new DataCaps(undefined);
    caps.configure(policy.paths);
    const pp = new ClientPathPolicy(caps, interfaces);
    expect(pp.pathIndexOf(policy, '192.168.1.20')).toBe(0);
    expect(pp.pathIndexOf(policy, '10.64.3.7')).toBe(1);
    expect(pp.pathIndexOf(policy, '172.16.0.9')).toBe(-1);
    const ssh = pp.plan(policy, { host: 'host.example', port: 22 }, ids);
    expect(ssh.rule).toBe('ssh');
    expect(ssh.local.scheduler).toBe('redundant');
    expect(ssh.wire.scheduler).toBe('redundant');
    const web = pp.plan(policy, { host: 'example.org', port: 443 }, ids);
    expect(web.rule).toBeUndefined();
    expect(web.local.scheduler).toBe('ecf');
    expect(web.local.announceBackup).toBe(true);
    const fiber = web.local.pathUse(sub('192.168.1.20'));
    expect([fiber.tier, fiber.weight, fiber.enabled, fiber.limiter?.bytesPerSecond, fiber.budget]).toEqual([0, 3, true, 1e6, null]);
    const lte = web.local.pathUse(sub('10.64.3.7'));
    expect([lte.tier, lte.enabled, lte.limiter, lte.budget?.limit, lte.keepaliveIdleMs]).toEqual([1, true, null, 1000, 20_000]);
    expect(fiber.keepaliveIdleMs).toBeUndefined();
    // The same token bucket for every connection on the path.
    expect(pp.plan(policy, { host: 'b.example', port: 443 }, ids).local.pathUse(sub('192.168.1.20')).limiter).toBe(fiber.limiter);
    expect(web.wire.paths).toEqual([
      { addressId: 0, pathIndex: 1, tier: 1, enabled: true, weight: 1, downloadBytesPerSecond: 2_000_000 },
      { addressId: 1, pathIndex: 0, tier: 0, enabled: true, weight: 3, downloadBytesPerSecond: 0 },
      { addressId: 2, pathIndex: 255, tier: 0, enabled: true, weight: 1, downloadBytesPerSecond: 0 },
    ]);
    expect(decodePolicy(encodePolicy(web.wire))).toEqual(web.wire);
  });

  it('excludePaths keeps a path out both ways', () => {
    const caps = new DataCaps(undefined);
    caps.configure(policy.paths);
    const plan = new ClientPathPolicy(caps, interfaces).plan(policy, { host: 'deb.debian.org', port: 80 }, ids);
    expect(plan.rule).toBe('updates');
    expect(plan.local.pathUse(sub('10.64.3.7')).enabled).toBe(false);
    expect(plan.local.pathUse(sub('192.168.1.20')).enabled).toBe(true);
    expect(plan.wire.paths.find((e) => e.addressId === 0)?.enabled).toBe(false);
  });
});

describe('DataCaps', () => {
  it('periods: day, week from a weekday, month from a day of the month (local time)', () => {
    const at = new Date(2026, 10, 21, 15, 30).getTime(); // Saturday 21 November 2026
    expect(periodBounds({ bytes: 1, period: 'day', resetDay: 1 }, at)).toEqual({ start: new Date(2026, 10, 21).getTime(), next: new Date(2026, 10, 22).getTime() });
    expect(periodBounds({ bytes: 1, period: 'week', resetDay: 1 }, at)).toEqual({ start: new Date(2026, 10, 16).getTime(), next: new Date(2026, 10, 23).getTime() });
    expect(periodBounds({ bytes: 1, period: 'month', resetDay: 25 }, at)).toEqual({ start: new Date(2026, 9, 25).getTime(), next: new Date(2026, 10, 25).getTime() });
    expect(periodBounds({ bytes: 1, period: 'month', resetDay: 1 }, at).start).toBe(new Date(2026, 10, 1).getTime());
  });

  it('keeps usage across restarts, within the period only, and refills when a period begins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'caps-'));
    const file = join(dir, 'usage.json');
    let now = new Date(2026, 10, 21, 12).getTime();
    const a = new DataCaps(file, () => undefined, () => now, 60_000);
    a.configure(policy.paths);
    a.budget('lte')?.take(700);
    expect(a.budget('fiber')).toBeUndefined();
    a.close();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1, paths: { lte: { usedBytes: 700 } } });
    const b = new DataCaps(file, () => undefined, () => now, 60_000);
    b.configure(policy.paths);
    expect(b.usage()).toEqual([{ path: 'lte', usedBytes: 700, limitBytes: 1000, periodStart: new Date(2026, 10, 1).getTime() }]);
    b.budget('lte')?.take(400);
    expect(b.budget('lte')?.exhausted).toBe(true);
    now = new Date(2026, 11, 1, 0, 0, 1).getTime();
    expect(b.budget('lte')?.exhausted).toBe(false);
    expect(b.usage()[0].usedBytes).toBe(0);
    b.close();
  });

  it('an unreadable state file is reported and counting starts from zero', () => {
    const dir = mkdtempSync(join(tmpdir(), 'caps-'));
    const file = join(dir, 'usage.json');
    writeFileSync(file, '{not json');
    const lines: string[] = [];
    const c = new DataCaps(file, (l) => lines.push(l));
    c.configure(policy.paths);
    expect(c.usage()[0].usedBytes).toBe(0);
    expect(lines.join('\n')).toMatch(/cannot read/);
    c.close();
  });
});

describe('PolicyEnforcer (aggregator)', () => {
  it('applies the client policy by the client address id; download caps are shared per client and path', () => {
    let now = 0;
    const e = new PolicyEnforcer(() => now);
    const wire = { scheduler: 'weighted' as const, paths: [{ addressId: 0, pathIndex: 1, tier: 1, enabled: true, weight: 1, downloadBytesPerSecond: 2_000_000 }, { addressId: 3, pathIndex: 0, tier: 0, enabled: false, weight: 5, downloadBytesPerSecond: 0 }] };
    const p1 = e.forRequest('laptop', wire);
    expect(p1.scheduler).toBe('weighted');
    expect(p1.announceBackup).toBe(false);
    const initial = p1.pathUse(sub('10.0.0.1', 0));
    expect([initial.tier, initial.limiter?.bytesPerSecond]).toEqual([1, 2_000_000]);
    expect(p1.pathUse(sub('10.0.0.1', 3)).enabled).toBe(false);
    expect(p1.pathUse(sub('10.0.0.1', 9))).toMatchObject({ tier: 0, enabled: true, limiter: null });
    // Another connection of the same client shares the bucket; another client has its own.
    expect(e.forRequest('laptop', wire).pathUse(sub('10.0.0.1', 0)).limiter).toBe(initial.limiter);
    expect(e.forRequest('phone', wire).pathUse(sub('10.0.0.1', 0)).limiter).not.toBe(initial.limiter);
    expect(e.bucketCount).toBe(2);
    now = 11 * 60_000;
    e.forRequest('phone', { scheduler: 'ecf', paths: [] });
    expect(e.bucketCount).toBe(0);
  });
});
