/**
 * Path quality, scheduler and data-cap metrics (issue 6 §3, issue 7): PathAccounting's new
 * totals and gauges (acknowledged and scheduled bytes, stale subflows, tier, bytes in flight
 * on live subflows only), path labels by configured name, the PathQualityTracker fed with
 * snapshots, the `mptcp_proxy_path_*` series and /api/status with quality and data caps, and
 * the status page rendering them in headless Chromium (skipped without it, except in CI).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SubflowStats } from '../../../mptcp/connection/mptcp-types.js';
import { CLIENT_COUNTER_MAP, ProxyMetrics, type DataCapUsage, type ProxyStatus } from '../../../proxy/metrics/proxy-metrics.js';
import { startMetricsServer } from '../../../proxy/metrics/server.js';
import { PathAccounting, PathQualityTracker, type LiveConnection } from '../../../proxy/transport/path-stats.js';
import type { StackSnapshot } from '../../../proxy/transport/transport.js';
import { which } from '../../support/privileges.js';
import { subflowStats } from '../../support/subflow-stats.js';
import { parsePromText, promValue } from '../../support/prom-text.js';

const subflow = subflowStats;

const live = (...subflows: SubflowStats[]): LiveConnection[] => [{ side: 'local', subflows }];

describe('PathAccounting: quality inputs, stale, tier, names', () => {
  it('sums acknowledged and scheduled bytes (retired + live); stale, tier and bytes in flight from live subflows', () => {
    const acc = new PathAccounting();
    acc.retire([subflow('10.0.1.1', { scheduledBytes: 5000, tcp: { bytesSent: 5000, bytesAcked: 4000 } })]);
    const views = acc.snapshot(
      ['10.0.1.1', '10.0.2.1'],
      live(
        subflow('10.0.1.1', { scheduledBytes: 3000, stale: true, lossDemoted: true, tier: 1, tcp: { bytesSent: 3000, bytesAcked: 1000 } }),
        subflow('10.0.1.1', { scheduledBytes: 100, tier: 2, tcp: { bytesSent: 100, bytesAcked: 100 } }),
        subflow('10.0.1.1', { phase: 'closed', stale: true, tcp: { state: 'CLOSED', bytesSent: 50, bytesAcked: 0 } }),
      ),
    );
    expect(views[0]).toMatchObject({ path: '10.0.1.1', stale: 1, lossDemoted: 1, tier: 1, inFlightBytes: 2000, totals: { ackedBytes: 5100, scheduledBytes: 8100, sentBytes: 8150 } });
    expect(views[1]).toMatchObject({ path: '10.0.2.1', stale: 0, lossDemoted: 0, tier: undefined, inFlightBytes: 0, totals: { ackedBytes: 0, scheduledBytes: 0 } });
  });

  it('reads scheduledBytes, stale and tier only when the stack reports them', () => {
    const full = subflow('10.0.1.1', { tcp: { bytesSent: 10 } });
    const s = Object.fromEntries(Object.entries(full).filter(([k]) => !['scheduledBytes', 'stale', 'tier'].includes(k))) as unknown as SubflowStats;
    const [v] = new PathAccounting().snapshot([], live(s));
    expect(v).toMatchObject({ stale: 0, tier: undefined, totals: { scheduledBytes: 0, sentBytes: 10 } });
  });

  it('labels paths by configured name where there is one (addresses of one link together), else by address', () => {
    const names: Record<string, string> = { '10.0.1.1': 'fiber', '10.0.1.2': 'fiber', '10.0.2.1': 'lte' };
    const acc = new PathAccounting({ pathName: (a) => names[a] });
    acc.retire([subflow('10.0.1.1', { tcp: { bytesSent: 100 } })]);
    const views = acc.snapshot(['10.0.1.1', '10.0.1.2', '10.0.2.1', '10.0.3.1'], live(subflow('10.0.1.2', { tcp: { bytesSent: 50 } }), subflow('10.0.2.1', { tcp: { bytesSent: 7 } })));
    expect(views.map((v) => [v.path, v.totals.sentBytes, v.subflows.active])).toEqual([
      ['10.0.3.1', 0, 0],
      ['fiber', 150, 1],
      ['lte', 7, 1],
    ]);
    // Names plugged in later (a reload): new traffic goes under the name.
    const later = new PathAccounting(8);
    expect(later.snapshot(['10.0.2.1'], [])[0].path).toBe('10.0.2.1');
    later.setPathName((a) => names[a]);
    expect(later.snapshot(['10.0.2.1'], []).map((v) => v.path)).toEqual(['lte']);
  });

  it('names count against the label cap', () => {
    const acc = new PathAccounting({ maxPaths: 1, pathName: (a) => (a.startsWith('10.0.1.') ? 'fiber' : undefined) });
    const views = acc.snapshot(['10.0.1.1', '10.0.1.2', '10.0.2.1'], []);
    expect(views.map((v) => v.path)).toEqual(['fiber', 'other']);
  });
});

describe('PathQualityTracker', () => {
  it('estimates loss and capacity per path from successive snapshots; a lossy path is degraded, a stalled one bad', () => {
    const acc = new PathAccounting();
    const tracker = new PathQualityTracker();
    for (let i = 0; i <= 50; i++) {
      const good = subflow('10.0.1.1', { tcp: { bytesSent: i * 100_000, bytesAcked: i * 100_000, srttMs: 20 } });
      // 10% of the transmissions on the second path are retransmissions.
      const lossy = subflow('10.0.2.1', { tcp: { bytesSent: i * 45_000, bytesAcked: i * 45_000, retransmittedBytes: i * 5_000, srttMs: 40 } });
      // The third one's ACKs stop after 3 s with data outstanding.
      const stalled = subflow('10.0.3.1', { tcp: { bytesSent: Math.min(i, 31) * 10_000, bytesAcked: Math.min(i, 30) * 10_000, srttMs: 40 } });
      tracker.update(i * 100, acc.snapshot([], live(good, lossy, stalled)));
    }
    const a = tracker.view('10.0.1.1');
    const b = tracker.view('10.0.2.1');
    expect(a).toMatchObject({ lossRatio: 0, verdict: 'good', minRttSeconds: 0.02 });
    expect(a?.capacityBytesPerSecond).toBeCloseTo(1_000_000, -3);
    expect(b?.lossRatio).toBeGreaterThan(0.09);
    expect(b?.lossRatio).toBeLessThanOrEqual(0.1);
    expect(b?.capacityBytesPerSecond).toBeCloseTo(450_000, -3);
    expect(b?.verdict).toBe('degraded');
    expect(tracker.view('10.0.3.1')).toMatchObject({ lossRatio: 0, verdict: 'bad' });
    expect(tracker.estimator('10.0.3.1')?.stalledMs(5000)).toBeGreaterThan(1000);
    expect(tracker.view('10.0.9.9')).toBeUndefined();
  });
});

function fakeTransport(snap: () => StackSnapshot) {
  return { kind: 'userspace' as const, stats: () => ({ kind: 'userspace' as const, opened: 0, openFailed: 0, accepted: 0, active: 0 }), stackSnapshot: snap };
}

describe('ProxyMetrics: path quality, stale, scheduler and data-cap series', () => {
  const caps: DataCapUsage[] = [
    { path: '10.0.2.1', usedBytes: 3 * 2 ** 30, limitBytes: 10 * 2 ** 30, periodStart: Date.UTC(2026, 10, 1) },
    { path: 'satellite', usedBytes: 0, limitBytes: 2 ** 30, periodStart: Date.UTC(2026, 10, 1) },
  ];

  function metrics(dataCaps?: () => DataCapUsage[]) {
    const acc = new PathAccounting();
    let i = 0;
    const m = new ProxyMetrics({
      role: 'client',
      counters: () => ({}),
      map: CLIENT_COUNTER_MAP,
      activeConnections: () => 0,
      transport: fakeTransport(() => {
        i++;
        const a = subflow('10.0.1.1', { scheduledBytes: i * 1000, stale: true, tcp: { bytesSent: i * 200_000, bytesAcked: i * 200_000, retransmittedBytes: i * 20_000 } });
        const b = subflow('10.0.2.1', { scheduledBytes: 77, backup: true, tier: 1, tcp: { bytesSent: 77, bytesAcked: 77 } });
        return { connections: 1, counters: {}, paths: acc.snapshot(['10.0.1.1', '10.0.2.1'], live(a, b)) };
      }),
      ...(dataCaps ? { dataCaps } : {}),
    });
    return m;
  }

  it('exports loss, capacity, stale, scheduled bytes per path and data-cap usage vs limit', async () => {
    const m = metrics(() => caps);
    for (let k = 0; k < 4; k++) {
      await m.registry.metrics();
      await new Promise((r) => setTimeout(r, 110)); // past the snapshot cache: the estimator gets a new sample
    }
    const s = parsePromText(await m.registry.metrics());
    // 9% of the transmissions are retransmissions; the EWMA (1 s) has seen about half a second.
    expect(promValue(s, 'mptcp_proxy_path_loss_ratio', { path: '10.0.1.1' })).toBeGreaterThan(0.01);
    expect(promValue(s, 'mptcp_proxy_path_loss_ratio', { path: '10.0.1.1' })).toBeLessThan(0.091);
    expect(promValue(s, 'mptcp_proxy_path_loss_ratio', { path: '10.0.2.1' })).toBe(0);
    expect(promValue(s, 'mptcp_proxy_path_capacity_bytes_per_second', { path: '10.0.1.1' })).toBeGreaterThan(500_000);
    expect(promValue(s, 'mptcp_proxy_path_capacity_bytes_per_second', { path: '10.0.2.1' })).toBe(0);
    expect(promValue(s, 'mptcp_proxy_path_stale', { path: '10.0.1.1' })).toBe(1);
    expect(promValue(s, 'mptcp_proxy_path_stale', { path: '10.0.2.1' })).toBe(0);
    expect(promValue(s, 'mptcp_proxy_path_scheduled_bytes_total', { path: '10.0.1.1' })).toBe(5000);
    expect(promValue(s, 'mptcp_proxy_path_scheduled_bytes_total', { path: '10.0.2.1' })).toBe(77);
    expect(promValue(s, 'mptcp_proxy_path_data_cap_used_bytes', { path: '10.0.2.1' })).toBe(3 * 2 ** 30);
    expect(promValue(s, 'mptcp_proxy_path_data_cap_limit_bytes', { path: 'satellite' })).toBe(2 ** 30);
    expect(s.filter((x) => x.name === 'mptcp_proxy_path_data_cap_limit_bytes')).toHaveLength(2);

    const st: ProxyStatus = JSON.parse(JSON.stringify(m.status())) as ProxyStatus;
    expect(st.dataCaps).toEqual(caps);
    const [p1, p2] = st.mptcp?.paths ?? [];
    expect(p1).toMatchObject({ path: '10.0.1.1', stale: 1, tier: 0, dataCap: null, quality: { verdict: expect.any(String) as string } });
    expect(p1.quality?.lossRatio).toBeGreaterThan(0.01);
    expect(p2).toMatchObject({ path: '10.0.2.1', backup: true, tier: 1, dataCap: caps[0], quality: { lossRatio: 0, verdict: 'good' } });
  });

  it('without a data-cap source, or with a failing one, there are no data-cap series and the rest still works', async () => {
    for (const m of [
      metrics(),
      metrics(() => {
        throw new Error('tracker broken');
      }),
    ]) {
      const s = parsePromText(await m.registry.metrics());
      expect(s.filter((x) => x.name.startsWith('mptcp_proxy_path_data_cap_'))).toEqual([]);
      expect(promValue(s, 'mptcp_proxy_path_stale', { path: '10.0.1.1' })).toBe(1);
      expect(m.status().dataCaps).toEqual([]);
    }
  });
});

const noChromium = which('chromium') === undefined;
if (noChromium && process.env.CI === 'true') throw new Error('chromium missing in CI (bash test/system-deps.sh)');
describe.skipIf(noChromium)('status page (headless Chromium)', () => {
  it('shows loss, capacity, quality, stale, loss-demoted, tier and data-cap usage per path, and the data caps', async () => {
    const acc = new PathAccounting();
    const m = new ProxyMetrics({
      role: 'client',
      counters: () => ({}),
      map: CLIENT_COUNTER_MAP,
      activeConnections: () => 0,
      transport: fakeTransport(() => ({ connections: 1, counters: {}, paths: acc.snapshot([], live(subflow('10.0.1.1', { stale: true, lossDemoted: true, tier: 2, tcp: { bytesSent: 1000, bytesAcked: 1000 } }))) })),
      dataCaps: () => [{ path: '10.0.1.1', usedBytes: 512 * 2 ** 20, limitBytes: 2 ** 30, periodStart: Date.UTC(2026, 10, 1, 6) }],
    });
    const server = await startMetricsServer(m, { host: '127.0.0.1', port: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'mptcp-proxy-status-page-'));
    try {
      const dom = await new Promise<string>((resolve, reject) => {
        execFile(
          'chromium',
          ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', `--user-data-dir=${dir}`, '--virtual-time-budget=3000', '--dump-dom', `http://127.0.0.1:${server.address.port}/`],
          { timeout: 60_000, maxBuffer: 16 * 2 ** 20 },
          (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
        );
      });
      const table = dom.slice(dom.indexOf('<table id="paths">'), dom.indexOf('</table>', dom.indexOf('<table id="paths">')));
      // path, state, subflows, send, receive, RTT, cwnd, sent, received, retransmitted, loss, capacity, quality, stale, loss-demoted, tier, data cap
      expect(table).toMatch(/<tr><td>10\.0\.1\.1<\/td><td class="up">up<\/td><td>active 1[^<]*<\/td>(<td>[^<]*<\/td>){7}<td>0\.00<\/td><td>[0-9.]+<\/td><td class="good">good<\/td><td class="bad">1<\/td><td class="bad">1<\/td><td>2<\/td><td>512\.0 \/ 1024\.0 MiB \(50%\)<\/td><\/tr>/);
      expect(dom).toMatch(/<table id="caps">.*<td>10\.0\.1\.1<\/td><td>512\.0<\/td><td>1024\.0<\/td><td>50\.0<\/td><td>2026-11-01 06:00<\/td>/s);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
