/**
 * Metrics end to end over our userspace MPTCP, in namespaces (proxy/demo/topology.ts: a
 * client host with two 40 Mbit/s paths, the aggregator, a web host): client and aggregator
 * run from the CLI with their metrics servers (the client's on its default loopback port,
 * the aggregator's on its path-1 address by `metrics: listen:`); curl downloads and uploads
 * through the proxy, and /metrics shows each path's bytes growing by a real share of the
 * transfer on both sides, capacity and loss estimates, the bytes the scheduler handed to each
 * path, and the connection counters. Then a real Prometheus (Debian's
 * package) in the client namespace scrapes both, its HTTP API returns the series, and every
 * query of every shipped Grafana dashboard panel is valid PromQL that returns series (but the
 * data-cap panel's: this client has no capped path). Last,
 * the client's status page in headless Chromium (during a download) shows both paths up with
 * live numbers; the screenshot is saved and its path logged.
 *
 * Root only (namespaces, raw sockets); always runs in CI, elsewhere skips saying why.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTopology } from '../../proxy/demo/topology.js';
import { loadDashboards, metricNames, runnable } from '../support/dashboards.js';
import { parsePromText, promValue, type Sample } from '../support/prom-text.js';
import { privilegedSkipReason } from '../support/privileges.js';
import { body, sha256 } from '../unit/proxy/helpers.js';
import { startProgram, type Program } from './support/topology.js';
import { run } from './support/run.js';

const skip = privilegedSkipReason('metrics end to end over userspace MPTCP (test/e2e)', ['ip', 'tc', 'ethtool', 'nft', 'curl', 'prometheus', 'chromium']) !== undefined;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Its own build (other e2e files build into their folders at the same time).
const DIST = join(ROOT, 'node_modules/.cache/mptcp-proxy-e2e-metrics');
const CLI = join(DIST, 'proxy/cli/main.js');
const WEB = join(ROOT, 'test/e2e/peers/web-server.mjs');
const env = { MPTCP_RAW_ADDON: join(ROOT, 'mptcp/native/build/Release/mptcp_raw.node') };
const SECRET = 'metrics e2e secret, long enough';
const MiB = 1024 * 1024;
const PORT = 8443;
const PROM_PORT = 19090;
const topo = defineTopology({ tag: 'mtr', net: 77, rateMbit: [40, 40], rawSockets: true });
const { ns: NS, addr: ADDR } = topo;
const CLIENT_METRICS = 'http://127.0.0.1:9464';
const AGG_METRICS = `http://${ADDR.agg1}:9475`;
/**
 * Series that exist only with configuration this test does not set up: data-cap usage needs a
 * path with a data cap in the client's policy (and the data-cap tracker handed to the
 * metrics). Their panel queries must still be valid; they may return nothing.
 */
const NEEDS_CONFIG = new Set(['mptcp_proxy_path_data_cap_used_bytes', 'mptcp_proxy_path_data_cap_limit_bytes']);


const curlIn = (args: string[]) => run('ip', ['netns', 'exec', NS.client, 'curl', '-sS', '--max-time', '60', ...args]);

async function scrape(base: string): Promise<Sample[]> {
  const r = await curlIn([`${base}/metrics`]);
  if (r.code !== 0) throw new Error(`scrape ${base}: ${r.stderr}`);
  return parsePromText(r.stdout.toString());
}

describe.skipIf(skip)('metrics over userspace MPTCP in namespaces', () => {
  const dir = mkdtempSync('/tmp/mptcp-proxy-e2e-metrics-');
  const programs: Program[] = [];
  let prometheus: ChildProcess | undefined;

  beforeAll(async () => {
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', DIST], { cwd: ROOT, stdio: 'pipe' });
    } catch {
      /* type errors elsewhere in the tree: the emitted JS is still there */
    }
    if (!existsSync(CLI)) throw new Error(`${CLI} missing after build`);
    topo.create();
    const web = startProgram(NS.web, 'node', [WEB, '8080']);
    programs.push(web);
    await web.waitFor(/listening/);
    const aggConfig = join(dir, 'aggregator.yaml');
    writeFileSync(aggConfig, `listen: 0.0.0.0:${PORT}\nstateDir: ${join(dir, 'state')}\nclients:\n  - { id: laptop, secret: ${JSON.stringify(SECRET)} }\ndestinations:\n  allow: [10.77.3.0/24]\nmetrics:\n  listen: ${ADDR.agg1}:9475\n`);
    const agg = startProgram(NS.agg, 'node', [CLI, 'aggregator', '--config', aggConfig], env);
    programs.push(agg);
    await agg.waitFor(/metrics on http:\/\/10\.77\.1\.2:9475\/metrics/);
    const fingerprint = /fingerprint:\s*\n\s*([0-9a-f]{64})/.exec(agg.output())?.[1];
    if (fingerprint === undefined) throw new Error(`no fingerprint in:\n${agg.output()}`);
    const clientConfig = join(dir, 'client.yaml');
    // No metrics section: the default, 127.0.0.1:9464.
    writeFileSync(clientConfig, `aggregator:\n  host: ${ADDR.agg1}\n  port: ${PORT}\n  fingerprint: ${fingerprint}\n  clientId: laptop\n  secret: ${JSON.stringify(SECRET)}\nlisten: [127.0.0.1:1080]\n`);
    const client = startProgram(NS.client, 'node', [CLI, 'client', '--config', clientConfig], env);
    programs.push(client);
    await client.waitFor(/metrics on http:\/\/127\.0\.0\.1:9464\/metrics/);
  }, 120_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await Promise.all(programs.map((p) => p.stop()));
    topo.destroy();
    // The screenshot stays (its path is logged); the rest goes.
    for (const f of readdirSync(dir)) if (!f.endsWith('.png')) rmSync(join(dir, f), { recursive: true, force: true });
  });

  it('per-path bytes grow on both paths at both ends, with the connection counters', async () => {
    const paths = [ADDR.client1, ADDR.client2];
    const c0 = await scrape(CLIENT_METRICS);
    const a0 = await scrape(AGG_METRICS);
    const size = 24 * MiB;
    const upload = join(dir, 'up.bin');
    const upData = body(8 * MiB, 3);
    writeFileSync(upload, upData);
    const [down, up] = await Promise.all([
      curlIn(['--socks5-hostname', '127.0.0.1:1080', `http://web.mtr:8080/bytes/${size}`]),
      curlIn(['-p', '-x', 'http://127.0.0.1:1080', '--data-binary', `@${upload}`, 'http://web.mtr:8080/upload']),
    ]);
    expect(down.stderr).toBe('');
    expect(sha256(down.stdout)).toBe(sha256(body(size)));
    expect(up.stdout.toString()).toBe(sha256(upData));
    const c1 = await scrape(CLIENT_METRICS);
    const a1 = await scrape(AGG_METRICS);
    const grew = (after: Sample[], before: Sample[], name: string, labels: Record<string, string> = {}) => (promValue(after, name, labels) ?? 0) - (promValue(before, name, labels) ?? 0);
    const rx = paths.map((p) => grew(c1, c0, 'mptcp_path_received_bytes_total', { path: p }));
    const tx = paths.map((p) => grew(c1, c0, 'mptcp_path_sent_bytes_total', { path: p }));
    console.log(`e2e metrics: client paths received ${rx.map((b) => (b / MiB).toFixed(1)).join(' + ')} MiB, sent ${tx.map((b) => (b / MiB).toFixed(1)).join(' + ')} MiB`);
    for (const b of rx) expect(b).toBeGreaterThan(size * 0.15);
    // The upload shares the paths with the download; the scheduler still uses both.
    for (const b of tx) expect(b).toBeGreaterThan(upData.length * 0.05);
    expect(tx[0] + tx[1]).toBeGreaterThanOrEqual(upData.length);
    expect(rx[0] + rx[1]).toBeGreaterThanOrEqual(size);
    // The aggregator's view: its paths are named by the client's addresses (both subflows may
    // reach its path-1 address); the same bytes leave over both.
    const aggTx = paths.map((p) => grew(a1, a0, 'mptcp_path_sent_bytes_total', { path: p }));
    console.log(`e2e metrics: aggregator paths sent ${aggTx.map((b) => (b / MiB).toFixed(1)).join(' + ')} MiB`);
    expect(aggTx[0] + aggTx[1]).toBeGreaterThanOrEqual(size);
    for (const b of aggTx) expect(b).toBeGreaterThan(size * 0.15);
    for (const p of paths) {
      expect(promValue(c1, 'mptcp_path_up', { path: p })).toBe(1);
      expect(promValue(c1, 'mptcp_path_srtt_seconds', { path: p })).toBeGreaterThan(0);
      expect(promValue(c1, 'mptcp_path_cwnd_bytes', { path: p })).toBeGreaterThan(0);
    }
    // Path quality and the scheduler: the aggregator sent the download over both paths, so
    // each has a capacity estimate (sampled every second during the transfer) and a loss ratio;
    // the client's scheduler handed at least the upload to its paths.
    for (const p of paths) {
      expect(promValue(a1, 'mptcp_proxy_path_capacity_bytes_per_second', { path: p })).toBeGreaterThan(125_000);
      const loss = promValue(a1, 'mptcp_proxy_path_loss_ratio', { path: p });
      expect(loss).toBeGreaterThanOrEqual(0);
      expect(loss).toBeLessThan(0.5);
      expect(promValue(c1, 'mptcp_proxy_path_stale', { path: p })).toBeDefined();
    }
    const scheduled = paths.map((p) => grew(c1, c0, 'mptcp_proxy_path_scheduled_bytes_total', { path: p }));
    console.log(`e2e metrics: client scheduled ${scheduled.map((b) => (b / MiB).toFixed(1)).join(' + ')} MiB; aggregator capacity ${paths.map((p) => (((promValue(a1, 'mptcp_proxy_path_capacity_bytes_per_second', { path: p }) ?? 0) * 8) / 1e6).toFixed(1)).join(' + ')} Mbit/s`);
    expect(scheduled[0] + scheduled[1]).toBeGreaterThanOrEqual(upData.length);
    expect(grew(c1, c0, 'mptcp_proxy_connections_total', { outcome: 'ok' })).toBe(2);
    expect(grew(a1, a0, 'mptcp_proxy_connections_total', { outcome: 'ok' })).toBe(2);
    expect(grew(c1, c0, 'mptcp_proxy_relayed_bytes_total', { direction: 'down' })).toBeGreaterThanOrEqual(size);
    expect(grew(a1, a0, 'mptcp_proxy_relayed_bytes_total', { direction: 'up' })).toBeGreaterThanOrEqual(upData.length);
    expect(promValue(c1, 'mptcp_proxy_handshake_duration_seconds_count', { result: 'ok' })).toBeGreaterThanOrEqual(2);
    expect(promValue(c1, 'mptcp_fallbacks_total')).toBe(0);
    expect(promValue(c1, 'mptcp_events_total', { event: 'joins_sent' })).toBeGreaterThan(0);
    // The JSON status behind the page says the same.
    const st = JSON.parse((await curlIn([`${CLIENT_METRICS}/api/status`])).stdout.toString()) as { mptcp: { paths: { path: string; up: boolean }[] } };
    expect(st.mptcp.paths.filter((p) => paths.includes(p.path)).map((p) => p.up)).toEqual([true, true]);
  }, 120_000);

  it('a real Prometheus scrapes client and aggregator; its API returns the per-path series', async () => {
    const cfg = join(dir, 'prometheus.yml');
    writeFileSync(
      cfg,
      ['global: { scrape_interval: 1s }', 'scrape_configs:', '  - job_name: mptcp-proxy-client', `    static_configs: [{ targets: ["127.0.0.1:9464"] }]`, '  - job_name: mptcp-proxy-aggregator', `    static_configs: [{ targets: ["${ADDR.agg1}:9475"] }]`, ''].join('\n'),
    );
    prometheus = spawn('ip', ['netns', 'exec', NS.client, 'prometheus', `--config.file=${cfg}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${PROM_PORT}`], { stdio: 'ignore' });
    type Answer = { status?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    const api = async (q: string): Promise<Answer> => {
      const text = (await curlIn(['-G', `http://127.0.0.1:${PROM_PORT}/api/v1/query`, '--data-urlencode', `query=${q}`])).stdout.toString();
      try {
        return JSON.parse(text) as Answer;
      } catch {
        return {}; // not ready yet ("Service Unavailable") or not up
      }
    };
    let result: { metric: Record<string, string>; value: [number, string] }[] = [];
    const deadline = Date.now() + 30_000;
    let jobsUp = new Set<string>();
    while (Date.now() < deadline) {
      const r = await api('mptcp_path_received_bytes_total{job="mptcp-proxy-client"}');
      result = r.data?.result ?? [];
      jobsUp = new Set(((await api('up == 1')).data?.result ?? []).map((s) => s.metric.job));
      if (result.length >= 2 && jobsUp.size === 2) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    const byPath = new Map(result.map((s) => [s.metric.path, Number(s.value[1])]));
    expect(byPath.get(ADDR.client1)).toBeGreaterThan(0);
    expect(byPath.get(ADDR.client2)).toBeGreaterThan(0);
    if (jobsUp.size < 2) console.log((await curlIn([`http://127.0.0.1:${PROM_PORT}/api/v1/targets`])).stdout.toString());
    expect(jobsUp).toEqual(new Set(['mptcp-proxy-client', 'mptcp-proxy-aggregator']));
    const agg = await api('sum(mptcp_proxy_connections_total{job="mptcp-proxy-aggregator",outcome="ok"})');
    expect(Number(agg.data?.result[0]?.value[1])).toBeGreaterThanOrEqual(2);

    // Every panel query of the shipped dashboards: valid, and with series behind it (rates
    // need two scrapes in the window; traffic keeps the per-path rates alive meanwhile).
    const traffic = curlIn(['--socks5-hostname', '127.0.0.1:1080', `http://web.mtr:8080/bytes/${8 * MiB}`, '-o', '/dev/null']);
    await new Promise((res) => setTimeout(res, 3000));
    const empty: string[] = [];
    const unconfigured: string[] = [];
    let queries = 0;
    for (const d of loadDashboards(ROOT)) {
      for (const p of d.panels) {
        for (const t of p.targets ?? []) {
          queries++;
          const r = await api(runnable(t.expr, '10s'));
          expect(r.status, `${d.file}: ${p.title}: ${t.expr}`).toBe('success');
          if ((r.data?.result ?? []).length > 0) continue;
          if (metricNames(t.expr).every((n) => NEEDS_CONFIG.has(n))) unconfigured.push(`${d.file}: ${p.title} (${t.refId})`);
          else empty.push(`${d.file}: ${p.title} (${t.refId})`);
        }
      }
    }
    await traffic;
    console.log(`e2e metrics: ${queries} dashboard queries, ${queries - empty.length - unconfigured.length} with series; empty: ${empty.join('; ') || 'none'}; empty for want of configuration: ${unconfigured.join('; ') || 'none'}`);
    expect(empty).toEqual([]);
  }, 60_000);

  it('the status page in headless Chromium shows both paths up with live numbers', async () => {
    const shot = join(dir, 'status-page.png');
    const traffic = curlIn(['--socks5-hostname', '127.0.0.1:1080', `http://web.mtr:8080/bytes/${16 * MiB}`, '-o', '/dev/null']);
    await new Promise((res) => setTimeout(res, 500));
    const page = await run(
      'ip',
      ['netns', 'exec', NS.client, 'chromium', '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', `--user-data-dir=${join(dir, 'profile')}`, '--window-size=1100,1000', '--virtual-time-budget=3000', `--screenshot=${shot}`, '--dump-dom', `${CLIENT_METRICS}/`],
      60,
    );
    await traffic;
    const dom = page.stdout.toString();
    expect(dom, page.stderr).toContain('<table id="paths">');
    const rows = [...dom.matchAll(/<tr><td>([0-9.]+)<\/td><td class="up">up<\/td><td>active (\d+)[^<]*<\/td><td>([0-9.]+)<\/td><td>([0-9.]+)<\/td><td>([0-9.]+)<\/td>/g)];
    const byPath = new Map(rows.map((m) => [m[1], { active: Number(m[2]), send: Number(m[3]), receive: Number(m[4]), rttMs: Number(m[5]) }]));
    console.log(`e2e metrics: status page rows ${JSON.stringify([...byPath])}; screenshot ${shot} (${statSync(shot).size} bytes)`);
    for (const p of [ADDR.client1, ADDR.client2]) {
      const row = byPath.get(p);
      expect(row, `${p} in ${dom.slice(dom.indexOf('<table id="paths">'), dom.indexOf('</table>'))}`).toBeDefined();
      expect(row?.active).toBeGreaterThan(0);
      expect(row?.rttMs).toBeGreaterThan(0);
    }
    // Live: the page computed a throughput from two polls while the download ran.
    expect(Math.max(...[...byPath.values()].map((r) => r.receive))).toBeGreaterThan(0);
    expect(dom).toMatch(/over userspace; up \d+ s; \d+ connections open, \d+ MPTCP connections/);
  }, 60_000);
});
