/**
 * The shipped monitoring files: every Grafana dashboard panel queries only metrics that the
 * client or the aggregator export (names taken from a live registry), uses the provisioned
 * datasource, has a unique id and a place in the 24-column grid; `promtool check config`
 * accepts dashboards/prometheus.yml; the provisioning files point where docker-compose.yml
 * mounts them; docker-compose (Debian's) accepts the compose file. The e2e test
 * (test/e2e/metrics-userspace.test.ts) runs every panel query against a real Prometheus.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AGGREGATOR_COUNTER_MAP, CLIENT_COUNTER_MAP, ProxyMetrics } from '../../proxy/metrics/proxy-metrics.js';
import { PathAccounting } from '../../proxy/transport/path-stats.js';
import { loadDashboards, metricNames } from '../support/dashboards.js';
import { which } from '../support/privileges.js';
import { parsePromText } from '../support/prom-text.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dashboards = loadDashboards(ROOT);

/** Every sample name a client or an aggregator exports (a path, a data cap and both histograms filled). */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const role of ['client', 'aggregator'] as const) {
    const paths = new PathAccounting().snapshot(['10.0.1.1'], []);
    const m = new ProxyMetrics({
      role,
      counters: () => ({}),
      map: role === 'client' ? CLIENT_COUNTER_MAP : AGGREGATOR_COUNTER_MAP,
      activeConnections: () => 0,
      transport: { kind: 'userspace', stats: () => ({ kind: 'userspace', opened: 0, openFailed: 0, accepted: 0, active: 0 }), stackSnapshot: () => ({ connections: 0, counters: { fallbacks: 0, reinjectedBytes: 0, joinsSent: 0 }, paths: paths.map((p) => ({ ...p, srttSeconds: 0.01, cwndBytes: 1 })) }) },
      dataCaps: () => [{ path: '10.0.1.1', usedBytes: 1, limitBytes: 2, periodStart: 0 }],
    });
    m.observe('handshake', 0.1, true);
    m.observe('request', 0.1, true);
    for (const s of parsePromText(await m.registry.metrics())) names.add(s.name);
  }
  return names;
}

describe('Grafana dashboards', () => {
  it('there is one for the client and one for the aggregator, with overview, per-path and error rows', () => {
    expect(dashboards.map((d) => d.uid)).toEqual(['mptcp-proxy-aggregator', 'mptcp-proxy-client']);
    for (const d of dashboards) expect(d.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(['Overview', 'Per path', 'Errors']);
  });

  it('every panel expression refers only to metrics we export', async () => {
    const exported = await exportedNames();
    const unknown: string[] = [];
    let exprs = 0;
    for (const d of dashboards) {
      for (const p of d.panels) {
        for (const t of p.targets ?? []) {
          exprs++;
          const names = metricNames(t.expr);
          expect(names.length, `${d.file} ${p.title}`).toBeGreaterThan(0);
          for (const n of names) if (!exported.has(n)) unknown.push(`${d.file}: ${p.title}: ${n}`);
        }
      }
      for (const v of d.templating.list) for (const n of metricNames(v.query)) if (!exported.has(n)) unknown.push(`${d.file}: variable ${v.name}: ${n}`);
    }
    expect(unknown).toEqual([]);
    expect(exprs).toBeGreaterThan(30);
  });

  it('panels use the provisioned datasource, have unique ids and fit the grid', () => {
    const ds = parse(readFileSync(join(ROOT, 'dashboards/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: { uid: string }[] };
    const uid = ds.datasources[0].uid;
    for (const d of dashboards) {
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size, d.file).toBe(ids.length);
      for (const p of d.panels) {
        expect(p.gridPos.x + p.gridPos.w, `${d.file} ${p.title}`).toBeLessThanOrEqual(24);
        if (p.type === 'row') continue;
        expect(p.datasource?.uid, `${d.file} ${p.title}`).toBe(uid);
        for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe(uid);
      }
    }
  });

  it('the provisioning files point where docker-compose.yml mounts the dashboards and config', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { volumes?: string[]; cap_add?: string[]; network_mode?: string }> };
    const prov = parse(readFileSync(join(ROOT, 'dashboards/provisioning/dashboards/mptcp-proxy.yml'), 'utf8')) as { providers: { options: { path: string } }[] };
    expect(compose.services.grafana.volumes).toContain(`./dashboards/grafana:${prov.providers[0].options.path}:ro`);
    expect(compose.services.prometheus.volumes).toContain('./dashboards/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(compose.services.aggregator.network_mode).toBe('host');
    expect(compose.services.aggregator.cap_add).toEqual(['NET_RAW', 'NET_ADMIN']);
  });
});

const noPromtool = which('promtool') === undefined;
if (noPromtool && process.env.CI === 'true') throw new Error('promtool missing in CI (bash test/system-deps.sh installs prometheus)');
describe.skipIf(noPromtool)('promtool', () => {
  it('accepts dashboards/prometheus.yml', () => {
    const out = execFileSync('promtool', ['check', 'config', join(ROOT, 'dashboards/prometheus.yml')], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS/);
  });
});

const noCompose = which('docker-compose') === undefined;
if (noCompose && process.env.CI === 'true') throw new Error('docker-compose missing in CI (bash test/system-deps.sh)');
describe.skipIf(noCompose)('docker-compose', () => {
  it('accepts docker-compose.yml', () => {
    const out = execFileSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config', '--services'], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, GRAFANA_ADMIN_PASSWORD: 'x' } });
    expect(out.trim().split('\n').sort()).toEqual(['aggregator', 'grafana', 'prometheus']);
  });
});
