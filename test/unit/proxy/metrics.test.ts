/**
 * Metrics and status: per-path accounting (totals survive closed connections, gauges from
 * live subflows), the prom-client collectors fed by a client and an aggregator on loopback
 * while curl goes through them (connections by outcome, relayed bytes, latency histograms,
 * bad input), scraped over HTTP from the fastify server with its /healthz, /api/status and
 * status page, bad requests to it answered without a crash, and the `metrics:` config.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAggregatorConfig } from '../../../proxy/config/aggregator-config.js';
import { parseClientConfig } from '../../../proxy/config/client-config.js';
import { AGGREGATOR_COUNTER_MAP, CLIENT_COUNTER_MAP, ProxyMetrics, type ProxyStatus } from '../../../proxy/metrics/proxy-metrics.js';
import { startMetricsServer, type MetricsServer } from '../../../proxy/metrics/server.js';
import { PathAccounting } from '../../../proxy/transport/path-stats.js';
import type { StackSnapshot, TransportStats } from '../../../proxy/transport/transport.js';
import { parsePromText, promValue } from '../../support/prom-text.js';
import { which } from '../../support/privileges.js';
import { subflowStats } from '../../support/subflow-stats.js';
import { body, curl, sha256, SECRET, startPair, startWeb, type Pair } from './helpers.js';
import { configProblems } from '../../support/config-problems.js';

const subflow = subflowStats;

describe('PathAccounting', () => {
  it('keeps totals of closed connections and adds the live ones', () => {
    const acc = new PathAccounting();
    const a1 = subflow('10.0.1.1', { dataBytesSent: 700, tcp: { bytesSent: 1000, retransmittedSegments: 2, segmentsSent: 10 } });
    const b1 = subflow('10.0.2.1', { tcp: { bytesSent: 500, bytesReceived: 40 } });
    let views = acc.snapshot(['10.0.1.1', '10.0.2.1', '10.0.3.1'], [{ side: 'local', subflows: [a1, b1] }]);
    expect(views.map((v) => v.path)).toEqual(['10.0.1.1', '10.0.2.1', '10.0.3.1']);
    expect(views[0].totals).toMatchObject({ sentBytes: 1000, dataSentBytes: 700, retransmittedSegments: 2, sentSegments: 10 });
    expect(views[1].totals).toMatchObject({ sentBytes: 500, receivedBytes: 40 });
    expect(views[2]).toMatchObject({ up: false, srttSeconds: undefined, totals: { sentBytes: 0 } });
    // The connection closes: its bytes stay, and a new connection adds to them.
    acc.retire([a1, b1]);
    const a2 = subflow('10.0.1.1', { tcp: { bytesSent: 300, srttMs: 40 } });
    views = acc.snapshot(['10.0.1.1', '10.0.2.1'], [{ side: 'local', subflows: [a2] }]);
    expect(views[0].totals.sentBytes).toBe(1300);
    expect(views[1].totals.sentBytes).toBe(500);
    expect(views[1].up).toBe(false); // no live subflow on it any more
    expect(views[0]).toMatchObject({ up: true, srttSeconds: 0.04, cwndBytes: 14_600 });
  });

  it('counts live subflows by phase; only established active ones make a path up and give RTT', () => {
    const acc = new PathAccounting();
    const views = acc.snapshot(
      [],
      [
        { side: 'local', subflows: [subflow('10.0.1.1', { phase: 'handshake', tcp: { state: 'SYN_SENT', srttMs: 0 } }), subflow('10.0.1.1', { phase: 'closed', tcp: { state: 'CLOSED', bytesSent: 9 } })] },
        { side: 'local', subflows: [subflow('10.0.2.1', { backup: true, tcp: { srttMs: 10, cwnd: 1000 } }), subflow('10.0.2.1', { localBackup: true, tcp: { srttMs: 30, cwnd: 3000 } })] },
      ],
    );
    expect(views[0]).toMatchObject({ path: '10.0.1.1', up: false, srttSeconds: undefined, subflows: { handshake: 1, active: 0, closed: 0 }, totals: { sentBytes: 9 } });
    expect(views[1]).toMatchObject({ path: '10.0.2.1', up: true, backup: true, subflows: { active: 2 }, cwndBytes: 2000 });
    expect(views[1].srttSeconds).toBeCloseTo(0.02, 9);
  });

  it('names paths by the remote address on the accepting side, and caps the label set', () => {
    const acc = new PathAccounting(2);
    const conn = (remote: string) => ({ side: 'remote' as const, subflows: [subflow('10.0.0.2', { remote, tcp: { bytesReceived: 100 } })] });
    const views = acc.snapshot([], [conn('192.0.2.1'), conn('192.0.2.2'), conn('192.0.2.3'), conn('192.0.2.4')]);
    expect(views.map((v) => [v.path, v.totals.receivedBytes])).toEqual([
      ['192.0.2.1', 100],
      ['192.0.2.2', 100],
      ['other', 200],
    ]);
  });
});

/** A transport stand-in whose stack snapshot the test sets (the collectors' formatting). */
function fakeTransport(snap: () => StackSnapshot) {
  const stats: TransportStats = { kind: 'userspace', opened: 3, openFailed: 1, accepted: 0, active: 2 };
  return { kind: 'userspace' as const, stats: () => stats, stackSnapshot: snap };
}

describe('ProxyMetrics collectors', () => {
  it('exports per-path series with the path label and stack counters, monotonic as the snapshot grows', async () => {
    const acc = new PathAccounting();
    let bytes = 1000;
    const counters = { fallbacks: 1, reinjectedBytes: 4096, joinsSent: 3, addAddrReceived: 1 };
    const m = new ProxyMetrics({ role: 'client', counters: () => ({ tunnelsOk: 2, bytesDown: 77 }), map: CLIENT_COUNTER_MAP, activeConnections: () => 5, transport: fakeTransport(() => ({ connections: 4, counters, paths: acc.snapshot(['10.0.1.1', '10.0.2.1'], [{ side: 'local', subflows: [subflow('10.0.1.1', { tcp: { bytesSent: bytes, srttMs: 25 } })] }]) })) });
    let s = parsePromText(await m.registry.metrics());
    expect(promValue(s, 'mptcp_path_sent_bytes_total', { path: '10.0.1.1' })).toBe(1000);
    expect(promValue(s, 'mptcp_path_sent_bytes_total', { path: '10.0.2.1' })).toBe(0);
    expect(promValue(s, 'mptcp_path_srtt_seconds', { path: '10.0.1.1' })).toBeCloseTo(0.025, 9);
    expect(promValue(s, 'mptcp_path_srtt_seconds', { path: '10.0.2.1' })).toBeUndefined();
    expect(promValue(s, 'mptcp_path_up', { path: '10.0.1.1' })).toBe(1);
    expect(promValue(s, 'mptcp_path_up', { path: '10.0.2.1' })).toBe(0);
    expect(promValue(s, 'mptcp_path_subflows', { path: '10.0.1.1', state: 'active' })).toBe(1);
    expect(promValue(s, 'mptcp_fallbacks_total')).toBe(1);
    expect(promValue(s, 'mptcp_reinjected_bytes_total')).toBe(4096);
    expect(promValue(s, 'mptcp_events_total', { event: 'joins_sent' })).toBe(3);
    expect(promValue(s, 'mptcp_events_total', { event: 'fallbacks' })).toBeUndefined();
    expect(promValue(s, 'mptcp_connections_active')).toBe(4);
    expect(promValue(s, 'mptcp_proxy_connections_total', { outcome: 'ok' })).toBe(2);
    expect(promValue(s, 'mptcp_proxy_connections_total', { outcome: 'failed' })).toBe(0);
    expect(promValue(s, 'mptcp_proxy_relayed_bytes_total', { direction: 'down' })).toBe(77);
    expect(promValue(s, 'mptcp_proxy_connections_active')).toBe(5);
    expect(promValue(s, 'mptcp_proxy_transport_streams_total', { event: 'open_failed' })).toBe(1);
    expect(promValue(s, 'mptcp_proxy_info', { role: 'client', transport: 'userspace' })).toBe(1);
    bytes = 5000;
    await new Promise((r) => setTimeout(r, 120)); // past the snapshot cache
    s = parsePromText(await m.registry.metrics());
    expect(promValue(s, 'mptcp_path_sent_bytes_total', { path: '10.0.1.1' })).toBe(5000);
  });

  it('has no stack series without a stack (kernel, tcp) and maps every counter of both roles', async () => {
    const m = new ProxyMetrics({ role: 'aggregator', counters: () => ({}), map: AGGREGATOR_COUNTER_MAP, activeConnections: () => 0, transport: { kind: 'tcp', stats: () => ({ kind: 'tcp', opened: 0, openFailed: 0, accepted: 0, active: 0 }) } });
    const s = parsePromText(await m.registry.metrics());
    expect(s.filter((x) => x.name.startsWith('mptcp_path_'))).toEqual([]);
    expect(promValue(s, 'mptcp_proxy_connections_total', { outcome: 'not_allowed' })).toBe(0);
    expect(m.status().mptcp).toBeNull();
    // Every counter lands somewhere (the maps are typed Record<Counter, ...>; none empty).
    for (const map of [CLIENT_COUNTER_MAP, AGGREGATOR_COUNTER_MAP]) for (const targets of Object.values(map)) expect(targets.length).toBeGreaterThan(0);
  });

  it('status rates: bit/s per path over the sampling interval', async () => {
    let sent = 0;
    const m = new ProxyMetrics({ role: 'client', counters: () => ({}), map: CLIENT_COUNTER_MAP, activeConnections: () => 0, transport: fakeTransport(() => ({ connections: 1, counters: {}, paths: new PathAccounting().snapshot([], [{ side: 'local', subflows: [subflow('10.0.1.1', { tcp: { bytesSent: sent } })] }]) })) });
    expect(m.status().rates).toEqual({});
    m.startSampling(200);
    sent = 50_000; // 400 kbit in the first interval of 0.2 s: 2 Mbit/s
    await new Promise((r) => setTimeout(r, 300));
    m.stopSampling();
    const rate = m.status().rates['10.0.1.1'];
    expect(rate.receivedBitsPerSecond).toBe(0);
    expect(rate.sentBitsPerSecond).toBeGreaterThan(1.5e6);
    expect(rate.sentBitsPerSecond).toBeLessThan(2.1e6);
  });

  it('ignores latencies that are not finite or negative', async () => {
    const m = new ProxyMetrics({ role: 'client', counters: () => ({}), map: CLIENT_COUNTER_MAP, activeConnections: () => 0, transport: { kind: 'tcp', stats: () => ({ kind: 'tcp', opened: 0, openFailed: 0, accepted: 0, active: 0 }) } });
    m.observe('request', Number.NaN, true);
    m.observe('request', -1, true);
    m.observe('request', 0.02, true);
    const s = parsePromText(await m.registry.metrics());
    expect(promValue(s, 'mptcp_proxy_request_duration_seconds_count', { result: 'ok' })).toBe(1);
    expect(promValue(s, 'mptcp_proxy_request_duration_seconds_bucket', { result: 'ok', le: '0.025' })).toBe(1);
    expect(promValue(s, 'mptcp_proxy_request_duration_seconds_bucket', { result: 'ok', le: '0.01' })).toBe(0);
  });
});

const noCurl = which('curl') === undefined;
if (noCurl && process.env.CI === 'true') throw new Error('curl missing in CI (bash test/system-deps.sh)');

describe.skipIf(noCurl)('metrics of a client and an aggregator on loopback, scraped over HTTP', () => {
  let web: Awaited<ReturnType<typeof startWeb>>;
  let pair: Pair;
  const ref: { pair?: Pair } = {};
  let clientMetrics: ProxyMetrics;
  let aggMetrics: ProxyMetrics;
  const servers: MetricsServer[] = [];
  let clientUrl = '';
  let aggUrl = '';

  beforeAll(async () => {
    web = await startWeb();
    const stats = (side: 'client' | 'aggregator') => () => (side === 'client' ? ref.pair?.client.transportInUse.stats() : ref.pair?.aggregator.transportInUse.stats()) ?? { kind: 'tcp' as const, opened: 0, openFailed: 0, accepted: 0, active: 0 };
    clientMetrics = new ProxyMetrics({ role: 'client', counters: () => ref.pair?.client.counters.snapshot() ?? {}, map: CLIENT_COUNTER_MAP, activeConnections: () => ref.pair?.client.activeConnections() ?? 0, transport: { kind: 'tcp', stats: stats('client') } });
    aggMetrics = new ProxyMetrics({ role: 'aggregator', counters: () => ref.pair?.aggregator.counters.snapshot() ?? {}, map: AGGREGATOR_COUNTER_MAP, activeConnections: () => ref.pair?.aggregator.activeConnections() ?? 0, transport: { kind: 'tcp', stats: stats('aggregator') } });
    pair = await startPair({ transport: 'tcp', clientLatency: clientMetrics, aggDeps: { latency: aggMetrics, log: () => undefined } });
    ref.pair = pair;
    for (const m of [clientMetrics, aggMetrics]) servers.push(await startMetricsServer(m, { host: '127.0.0.1', port: 0 }));
    clientUrl = `http://127.0.0.1:${servers[0].address.port}`;
    aggUrl = `http://127.0.0.1:${servers[1].address.port}`;
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await pair.close();
    web.server.close();
  });

  const scrape = async (base: string) => {
    const r = await fetch(`${base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePromText(await r.text());
  };

  it('counts connections by outcome, relayed bytes and latencies as curl goes through', async () => {
    const before = { c: await scrape(clientUrl), a: await scrape(aggUrl) };
    const down = await curl(['--socks5-hostname', `127.0.0.1:${pair.proxyPort}`, `http://localhost:${web.port}/bytes/1000000`]);
    expect(down.stderr).toBe('');
    expect(sha256(down.stdout)).toBe(sha256(body(1_000_000)));
    const viaConnect = await curl(['-p', '-x', `http://127.0.0.1:${pair.proxyPort}`, `http://localhost:${web.port}/bytes/10`]);
    expect(viaConnect.stderr).toBe('');
    const refused = await curl(['--socks5-hostname', `127.0.0.1:${pair.proxyPort}`, 'http://10.255.255.1:9/']);
    expect(refused.code).not.toBe(0);
    const c = await scrape(clientUrl);
    const a = await scrape(aggUrl);
    const grew = (after: typeof c, was: typeof c, name: string, labels: Record<string, string> = {}) => (promValue(after, name, labels) ?? 0) - (promValue(was, name, labels) ?? 0);
    expect(grew(c, before.c, 'mptcp_proxy_connections_total', { outcome: 'ok' })).toBe(2);
    expect(grew(c, before.c, 'mptcp_proxy_connections_total', { outcome: 'failed' })).toBe(1);
    expect(grew(a, before.a, 'mptcp_proxy_connections_total', { outcome: 'ok' })).toBe(2);
    expect(grew(a, before.a, 'mptcp_proxy_connections_total', { outcome: 'not_allowed' })).toBe(1);
    expect(grew(c, before.c, 'mptcp_proxy_relayed_bytes_total', { direction: 'down' })).toBeGreaterThanOrEqual(1_000_000);
    expect(grew(a, before.a, 'mptcp_proxy_relayed_bytes_total', { direction: 'down' })).toBeGreaterThanOrEqual(1_000_000);
    expect(grew(a, before.a, 'mptcp_proxy_relayed_bytes_total', { direction: 'up' })).toBeGreaterThan(0);
    expect(grew(c, before.c, 'mptcp_proxy_request_duration_seconds_count', { result: 'ok' })).toBe(2);
    expect(grew(c, before.c, 'mptcp_proxy_request_duration_seconds_count', { result: 'error' })).toBe(1);
    expect(grew(a, before.a, 'mptcp_proxy_request_duration_seconds_count')).toBe(3);
    expect(promValue(c, 'mptcp_proxy_handshake_duration_seconds_count', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(promValue(a, 'mptcp_proxy_handshake_duration_seconds_count', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(promValue(c, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts bad input and failed authentication', async () => {
    const before = await scrape(clientUrl);
    await new Promise<void>((resolve) => {
      const s = connect(pair.proxyPort, '127.0.0.1', () => s.end(Buffer.from([0x16, 0x03, 0x01, 0, 0])));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    const c = await scrape(clientUrl);
    expect((promValue(c, 'mptcp_proxy_bad_input_total', { kind: 'unknown_protocol' }) ?? 0) - (promValue(before, 'mptcp_proxy_bad_input_total', { kind: 'unknown_protocol' }) ?? 0)).toBe(1);
    // An aggregator client with a wrong secret: refused and counted as an auth failure there.
    const bad = await startPair({ transport: 'tcp', secret: `${SECRET} but wrong` });
    try {
      const r = await curl(['--socks5-hostname', `127.0.0.1:${bad.proxyPort}`, `http://localhost:${web.port}/bytes/10`]);
      expect(r.code).not.toBe(0);
      const m = new ProxyMetrics({ role: 'aggregator', counters: () => bad.aggregator.counters.snapshot(), map: AGGREGATOR_COUNTER_MAP, activeConnections: () => 0, transport: { kind: 'tcp', stats: () => bad.aggregator.transportInUse.stats() } });
      const s = parsePromText(await m.registry.metrics());
      expect(promValue(s, 'mptcp_proxy_auth_failures_total', { reason: 'bad_proof' })).toBeGreaterThanOrEqual(1);
      expect(promValue(s, 'mptcp_proxy_connections_total', { outcome: 'auth_failed' })).toBeGreaterThanOrEqual(1);
    } finally {
      await bad.close();
    }
  });

  it('serves /healthz, /api/status and the status page; bad requests get 404, not a crash', async () => {
    expect(await (await fetch(`${clientUrl}/healthz`)).json()).toEqual({ ok: true });
    const st = (await (await fetch(`${aggUrl}/api/status`)).json()) as ProxyStatus;
    expect(st.role).toBe('aggregator');
    expect(st.transport).toBe('tcp');
    expect(st.connections.byOutcome.ok).toBeGreaterThanOrEqual(2);
    expect(st.bytes.down).toBeGreaterThanOrEqual(1_000_000);
    expect(st.mptcp).toBeNull();
    const page = await fetch(`${clientUrl}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('<canvas id="tput"');
    expect(html).toContain('api/status');
    expect((await fetch(`${clientUrl}/nope`)).status).toBe(404);
    expect((await fetch(`${clientUrl}/metrics`, { method: 'POST', body: 'x' })).status).toBe(404);
    expect((await fetch(`${clientUrl}/metrics`, { method: 'POST', body: 'x'.repeat(5000) })).status).toBe(413);
    // Garbage on the socket: the server answers 400 or closes; it still serves afterwards.
    await new Promise<void>((resolve) => {
      const s = connect(servers[0].address.port, '127.0.0.1', () => s.write('\x00\x01GARBAGE\r\n\r\n'));
      s.on('data', () => s.destroy());
      s.on('close', () => resolve());
      s.on('error', () => resolve());
      setTimeout(() => s.destroy(), 2000);
    });
    expect((await fetch(`${clientUrl}/healthz`)).status).toBe(200);
  });
});

describe('metrics: in client.yaml and aggregator.yaml', () => {
  const client = (extra: string) => parseClientConfig(`aggregator:\n  host: 127.0.0.1\n  fingerprint: ${'ab'.repeat(32)}\n  clientId: laptop\n  secret: ${JSON.stringify(SECRET)}\n${extra}`);
  const agg = (extra: string) => parseAggregatorConfig(`listen: 127.0.0.1:8443\nclients:\n  - { id: laptop, secret: ${JSON.stringify(SECRET)} }\n${extra}`);

  it('defaults to loopback (client 9464, aggregator 9465); listen and off are configurable', () => {
    expect(client('').metrics.listen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(agg('').metrics.listen).toEqual({ host: '127.0.0.1', port: 9465 });
    expect(client('metrics:\n  listen: "0.0.0.0:9100"\n').metrics.listen).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(agg('metrics:\n  listen: "[::1]:9200"\n').metrics.listen).toEqual({ host: '::1', port: 9200 });
    expect(client('metrics: false\n').metrics.listen).toBeUndefined();
    expect(agg('metrics: { enabled: false }\n').metrics.listen).toBeUndefined();
  });

  it('reports bad metrics settings with line and column', () => {
    const problems = configProblems;

    expect(problems(() => client('metrics:\n  listen: "nonsense"\n  port: 3\n'))).toEqual([`7:11 metrics.listen: 'nonsense' is not host:port (IPv6 in brackets)`, "8:3 metrics.port: unknown key 'port' (allowed here: enabled, listen)"]);
    expect(problems(() => agg('metrics: 12\n'))).toEqual(['4:10 metrics: expected false or a map with listen (host:port) and enabled, got 12']);
  });
});
