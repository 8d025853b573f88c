/**
 * The Prometheus metrics of a client or an aggregator (prom-client), and the same facts as a
 * JSON status for the status page. Proxy-level series (`mptcp_proxy_*`) come from the event
 * Counters of the client or aggregator through a complete, typed mapping (every counter name
 * lands in a metric and label), plus live gauges and latency histograms; stack-level series
 * (`mptcp_*`, `mptcp_path_*`) come from the userspace transport's stackSnapshot(): per local
 * address (path) bytes, segments, retransmissions, smoothed RTT, cwnd, subflows by phase, up,
 * and the stack's protocol counters (fallbacks, reinjected bytes, joins...); per path also
 * (`mptcp_proxy_path_*`) the loss and capacity estimates of a PathQuality per path (fed with
 * every fresh snapshot: the 1 s status sampling and scrapes), stale subflows, bytes handed out
 * by the scheduler, and data-cap usage from the optional `dataCaps` source. Values are read
 * at scrape time; label sets are bounded (outcomes, reasons, paths by name or address; never
 * a connection). Names follow Prometheus conventions: base units, _total, _seconds, _bytes.
 */
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AggregatorCounter } from '../aggregator/aggregator.js';
import type { ClientCounter } from '../client/counters.js';
import { PathQualityTracker, type PathQualityView, type PathView } from '../transport/path-stats.js';
import type { StackSnapshot, StreamTransport, TransportStats } from '../transport/transport.js';
import type { LatencyKind, LatencySink } from '../util/latency.js';

export type ProxyRole = 'client' | 'aggregator';

/** Where one event counter is exported: a metric family and its label value. */
type Target = readonly ['connections' | 'auth_failures' | 'bad_input' | 'bytes' | 'events' | 'config_reloads', string];

/**
 * Client counters -> metrics. connections_total{outcome} counts application connections by
 * how they ended up; bad input and authentication failures also have their own families.
 */
export const CLIENT_COUNTER_MAP: Readonly<Record<ClientCounter, readonly Target[]>> = {
  connections: [['events', 'connections_accepted']],
  unknownProtocol: [['bad_input', 'unknown_protocol'], ['connections', 'bad_input']],
  handshakeTimeout: [['connections', 'handshake_timeout']],
  socksRequests: [['events', 'socks_requests']],
  socksBadGreeting: [['bad_input', 'socks_greeting'], ['connections', 'bad_input']],
  socksBadAuth: [['bad_input', 'socks_auth'], ['connections', 'bad_input']],
  socksAuthFailed: [['auth_failures', 'socks'], ['connections', 'auth_failed']],
  socksBadRequest: [['bad_input', 'socks_request'], ['connections', 'bad_input']],
  socksUnsupportedCommand: [['bad_input', 'socks_command'], ['connections', 'bad_input']],
  httpRequests: [['events', 'http_requests']],
  httpConnect: [['events', 'http_connect']],
  httpBadRequest: [['bad_input', 'http_request'], ['connections', 'bad_input']],
  httpAuthFailed: [['auth_failures', 'http'], ['connections', 'auth_failed']],
  pacServed: [['events', 'pac_served']],
  tunnelsOk: [['connections', 'ok']],
  tunnelsFailed: [['connections', 'failed']],
  relayErrors: [['events', 'relay_errors']],
  bytesUp: [['bytes', 'up']],
  bytesDown: [['bytes', 'down']],
  configReloadsOk: [['config_reloads', 'ok']],
  configReloadsInvalid: [['config_reloads', 'invalid']],
};

/** Aggregator counters -> metrics (connections: streams from clients, by outcome). */
export const AGGREGATOR_COUNTER_MAP: Readonly<Record<AggregatorCounter, readonly Target[]>> = {
  streamsAccepted: [['events', 'streams_accepted']],
  refusedOverload: [['connections', 'overload']],
  tlsFailed: [['auth_failures', 'tls']],
  helloTimeout: [['auth_failures', 'hello_timeout']],
  helloInvalid: [['auth_failures', 'hello_invalid'], ['bad_input', 'hello']],
  authUnknownClient: [['auth_failures', 'unknown_client']],
  authBadProof: [['auth_failures', 'bad_proof']],
  refusedUnauthenticated: [['connections', 'auth_failed']],
  authenticated: [['events', 'authenticated']],
  poolExpired: [['connections', 'pool_expired']],
  requestInvalid: [['bad_input', 'request'], ['connections', 'bad_input']],
  requests: [['events', 'requests']],
  requestsOk: [['connections', 'ok']],
  requestsNotAllowed: [['connections', 'not_allowed']],
  requestsFailed: [['connections', 'failed']],
  requestsLimited: [['connections', 'limited']],
  relayIdleTimeout: [['events', 'relay_idle_timeout']],
  relayErrors: [['events', 'relay_errors']],
  bytesUp: [['bytes', 'up']],
  bytesDown: [['bytes', 'down']],
  configReloadsOk: [['config_reloads', 'ok']],
  configReloadsInvalid: [['config_reloads', 'invalid']],
};

/** One path's data cap in its current period (the data-cap tracker's view). */
export interface DataCapUsage {
  /** The path's label (its configured name). */
  path: string;
  usedBytes: number;
  limitBytes: number;
  /** When the current period began (ms since the epoch). */
  periodStart: number;
}

/** MptcpCounters fields with a family of their own; the rest go to mptcp_events_total{event}. */
const OWN_STACK_FAMILIES = new Set(['fallbacks', 'reinjectedBytes']);

export interface MetricsSources {
  role: ProxyRole;
  /** The event counters (Counters.snapshot()). */
  counters(): Record<string, number>;
  /** Which metric each counter goes to (CLIENT_COUNTER_MAP or AGGREGATOR_COUNTER_MAP). */
  map: Readonly<Record<string, readonly Target[]>>;
  /** Proxied connections open now. */
  activeConnections(): number;
  transport: Pick<StreamTransport, 'kind' | 'stats' | 'stackSnapshot'>;
  version?: string;
  /** Data-cap usage per capped path (client with a policy); none without. */
  dataCaps?: () => DataCapUsage[];
}

/** One path in the status: the snapshot's view, its quality estimate and its data cap. */
export type PathStatus = PathView & { quality: PathQualityView | null; dataCap: DataCapUsage | null };

/** What the status page and /api/status show. */
export interface ProxyStatus {
  role: ProxyRole;
  transport: string;
  uptimeSeconds: number;
  /** Milliseconds since the epoch, when this was taken. */
  time: number;
  connections: { active: number; byOutcome: Record<string, number> };
  bytes: { up: number; down: number };
  streams: TransportStats;
  /** Our MPTCP stack (userspace transport); null with the kernel or TCP transports. */
  mptcp: { connections: number; paths: PathStatus[]; counters: Record<string, number> } | null;
  /** Every capped path's usage (also paths without a live address). */
  dataCaps: DataCapUsage[];
  /** Per path, bit/s over the last sampling interval (see startSampling); empty before two samples. */
  rates: Record<string, { sentBitsPerSecond: number; receivedBitsPerSecond: number }>;
}

/** camelCase counter name -> snake_case label value. */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ProxyMetrics implements LatencySink {
  readonly registry = new Registry();
  private readonly started = Date.now();
  private readonly histograms: Record<LatencyKind, Histogram<'result'>>;
  /** One stack snapshot per scrape (several collectors read it). */
  private cached: { at: number; snap: StackSnapshot | undefined } | undefined;
  /** Loss, capacity and verdict per path, fed with each fresh snapshot. */
  private readonly quality = new PathQualityTracker();
  /** The last two per-path byte samples (time in ms), for the status rates. */
  private samples: { at: number; bytes: Map<string, { sent: number; received: number }> }[] = [];
  private sampler: NodeJS.Timeout | undefined;

  constructor(private readonly src: MetricsSources) {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'mptcp_proxy_info',
      help: 'Constant 1; labels say the role, transport and version',
      labelNames: ['role', 'transport', 'version'],
      registers: r,
      collect() {
        this.reset();
        this.set({ role: src.role, transport: src.transport.kind, version: src.version ?? 'unknown' }, 1);
      },
    });
    new Gauge({
      name: 'mptcp_proxy_connections_active',
      help: src.role === 'client' ? 'Application connections open now' : 'Proxied connections open now (answered or connecting)',
      registers: r,
      collect() {
        this.set(src.activeConnections());
      },
    });
    const families: Record<Target[0], { name: string; help: string; label: string }> = {
      connections: { name: 'mptcp_proxy_connections_total', help: 'Proxied connections by outcome', label: 'outcome' },
      auth_failures: { name: 'mptcp_proxy_auth_failures_total', help: 'Failed authentications by reason', label: 'reason' },
      bad_input: { name: 'mptcp_proxy_bad_input_total', help: 'Connections or streams dropped for malformed input, by kind', label: 'kind' },
      bytes: { name: 'mptcp_proxy_relayed_bytes_total', help: 'Payload bytes relayed; up: towards destinations, down: back', label: 'direction' },
      events: { name: 'mptcp_proxy_events_total', help: 'Other proxy events (requests, accepted connections, relay errors...)', label: 'event' },
      config_reloads: { name: 'mptcp_proxy_config_reloads_total', help: 'Configuration reloads (SIGHUP or file change) by outcome: ok (applied) or invalid (refused)', label: 'outcome' },
    };
    for (const [family, f] of Object.entries(families) as [Target[0], (typeof families)[Target[0]]][]) {
      const labels = new Set<string>();
      for (const targets of Object.values(src.map)) for (const [fam, label] of targets) if (fam === family) labels.add(label);
      new Counter({
        name: f.name,
        help: f.help,
        labelNames: [f.label],
        registers: r,
        collect() {
          const values = src.counters();
          const sums = new Map<string, number>([...labels].map((l) => [l, 0]));
          for (const [counter, targets] of Object.entries(src.map)) {
            for (const [fam, label] of targets) if (fam === family) sums.set(label, (sums.get(label) ?? 0) + (values[counter] ?? 0));
          }
          this.reset();
          for (const [label, v] of sums) this.inc({ [f.label]: label }, v);
        },
      });
    }
    this.histograms = {
      handshake: new Histogram({
        name: 'mptcp_proxy_handshake_duration_seconds',
        help: src.role === 'client' ? 'Opening an authenticated stream to the aggregator (transport, TLS, hello)' : 'From accepting a stream to its authentication (TLS, hello)',
        labelNames: ['result'],
        buckets: LATENCY_BUCKETS,
        registers: r,
      }),
      request: new Histogram({
        name: 'mptcp_proxy_request_duration_seconds',
        help: src.role === 'client' ? "From an application's request to the aggregator's reply" : 'From a request to its reply (the destination connect)',
        labelNames: ['result'],
        buckets: LATENCY_BUCKETS,
        registers: r,
      }),
    };
    const streams = (key: 'opened' | 'openFailed' | 'accepted') => () => src.transport.stats()[key];
    const streamKinds: [string, () => number][] = [
      ['opened', streams('opened')],
      ['open_failed', streams('openFailed')],
      ['accepted', streams('accepted')],
    ];
    new Counter({
      name: 'mptcp_proxy_transport_streams_total',
      help: 'Streams between client and aggregator: opened, open_failed (client), accepted (aggregator)',
      labelNames: ['event'],
      registers: r,
      collect() {
        this.reset();
        for (const [event, get] of streamKinds) this.inc({ event }, get());
      },
    });
    new Gauge({
      name: 'mptcp_proxy_transport_streams_active',
      help: 'Streams between client and aggregator open now (pooled ones included)',
      registers: r,
      collect() {
        this.set(src.transport.stats().active);
      },
    });
    this.stackMetrics(r);
  }

  observe(kind: LatencyKind, seconds: number, ok: boolean): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.histograms[kind].observe({ result: ok ? 'ok' : 'error' }, seconds);
  }

  /** Samples per-path bytes every `intervalMs` for the status rates (stopSampling ends it). */
  startSampling(intervalMs = 1000): void {
    if (this.sampler !== undefined) return;
    const take = () => {
      const snap = this.snapshot();
      if (snap === undefined) return;
      this.samples.push({ at: performance.now(), bytes: new Map(snap.paths.map((p) => [p.path, { sent: p.totals.sentBytes, received: p.totals.receivedBytes }])) });
      if (this.samples.length > 2) this.samples.shift();
    };
    take();
    this.sampler = setInterval(take, intervalMs);
    this.sampler.unref();
  }

  stopSampling(): void {
    clearInterval(this.sampler);
    this.sampler = undefined;
  }

  private rates(): ProxyStatus['rates'] {
    const out: ProxyStatus['rates'] = {};
    if (this.samples.length < 2) return out;
    const [a, b] = this.samples;
    const dt = (b.at - a.at) / 1000;
    if (dt <= 0) return out;
    for (const [path, now] of b.bytes) {
      const was = a.bytes.get(path) ?? { sent: 0, received: 0 };
      out[path] = { sentBitsPerSecond: (Math.max(0, now.sent - was.sent) * 8) / dt, receivedBitsPerSecond: (Math.max(0, now.received - was.received) * 8) / dt };
    }
    return out;
  }

  /** The stack's snapshot, taken at most once per 100 ms (one scrape reads it many times). */
  snapshot(): StackSnapshot | undefined {
    const now = Date.now();
    if (this.cached === undefined || now - this.cached.at > 100) {
      this.cached = { at: now, snap: this.src.transport.stackSnapshot?.() };
      if (this.cached.snap !== undefined) this.quality.update(performance.now(), this.cached.snap.paths);
    }
    return this.cached.snap;
  }

  status(): ProxyStatus {
    const values = this.src.counters();
    const byOutcome: Record<string, number> = {};
    const bytes = { up: 0, down: 0 };
    for (const [counter, targets] of Object.entries(this.src.map)) {
      for (const [fam, label] of targets) {
        const v = values[counter] ?? 0;
        if (fam === 'connections') byOutcome[label] = (byOutcome[label] ?? 0) + v;
        if (fam === 'bytes' && (label === 'up' || label === 'down')) bytes[label] += v;
      }
    }
    const snap = this.snapshot();
    const caps = this.dataCaps();
    const capOf = new Map(caps.map((c) => [c.path, c]));
    return {
      role: this.src.role,
      transport: this.src.transport.kind,
      uptimeSeconds: (Date.now() - this.started) / 1000,
      time: Date.now(),
      connections: { active: this.src.activeConnections(), byOutcome },
      bytes,
      streams: this.src.transport.stats(),
      mptcp: snap === undefined ? null : { connections: snap.connections, paths: snap.paths.map((p) => ({ ...p, quality: this.quality.view(p.path) ?? null, dataCap: capOf.get(p.path) ?? null })), counters: snap.counters },
      dataCaps: caps,
      rates: this.rates(),
    };
  }

  /** The data-cap source's entries; a failing source gives none (metrics never throw). */
  private dataCaps(): DataCapUsage[] {
    try {
      return this.src.dataCaps?.() ?? [];
    } catch {
      return [];
    }
  }

  private stackMetrics(r: Registry[]): void {
    const snap = () => this.snapshot();
    const perPath = (name: string, help: string, value: (p: PathView) => number | undefined, kind: 'counter' | 'gauge') => {
      const collect = function (this: Counter<'path'> | Gauge<'path'>) {
        this.reset();
        for (const p of snap()?.paths ?? []) {
          const v = value(p);
          if (v === undefined) continue;
          if (this instanceof Counter) this.inc({ path: p.path }, v);
          else this.set({ path: p.path }, v);
        }
      };
      if (kind === 'counter') new Counter({ name, help, labelNames: ['path'], registers: r, collect });
      else new Gauge({ name, help, labelNames: ['path'], registers: r, collect });
    };
    perPath('mptcp_path_sent_bytes_total', 'TCP payload bytes sent on the subflows of a path (local address), retransmissions included', (p) => p.totals.sentBytes, 'counter');
    perPath('mptcp_path_received_bytes_total', 'TCP payload bytes received on the subflows of a path', (p) => p.totals.receivedBytes, 'counter');
    perPath('mptcp_path_data_sent_bytes_total', 'MPTCP data bytes scheduled on a path (its share of the connections)', (p) => p.totals.dataSentBytes, 'counter');
    perPath('mptcp_path_data_received_bytes_total', 'MPTCP data bytes that arrived on a path', (p) => p.totals.dataReceivedBytes, 'counter');
    perPath('mptcp_path_sent_segments_total', 'TCP segments sent on a path', (p) => p.totals.sentSegments, 'counter');
    perPath('mptcp_path_received_segments_total', 'TCP segments received on a path', (p) => p.totals.receivedSegments, 'counter');
    perPath('mptcp_path_retransmitted_segments_total', 'TCP segments retransmitted on a path', (p) => p.totals.retransmittedSegments, 'counter');
    perPath('mptcp_path_retransmitted_bytes_total', 'TCP payload bytes retransmitted on a path', (p) => p.totals.retransmittedBytes, 'counter');
    perPath('mptcp_path_timeouts_total', 'Retransmission timeouts on a path', (p) => p.totals.timeouts, 'counter');
    perPath('mptcp_path_srtt_seconds', 'Mean smoothed RTT of the established subflows of a path', (p) => p.srttSeconds, 'gauge');
    perPath('mptcp_path_cwnd_bytes', 'Mean congestion window of the established subflows of a path', (p) => p.cwndBytes, 'gauge');
    perPath('mptcp_path_up', '1 when at least one subflow of the path is established and active', (p) => (p.up ? 1 : 0), 'gauge');
    perPath('mptcp_path_backup', '1 when the live subflows of the path are all backup ones', (p) => (p.backup ? 1 : 0), 'gauge');
    const quality = (p: PathView) => this.quality.view(p.path);
    perPath('mptcp_proxy_path_loss_ratio', 'Estimated loss of a path: share of its data transmissions that were retransmissions (EWMA, 0..1)', (p) => quality(p)?.lossRatio ?? 0, 'gauge');
    perPath('mptcp_proxy_path_capacity_bytes_per_second', 'Estimated sending capacity of a path: highest delivery rate (acknowledged bytes/s) of the last 10 s', (p) => quality(p)?.capacityBytesPerSecond ?? 0, 'gauge');
    perPath('mptcp_proxy_path_stale', 'Live subflows of a path that are stale (retransmission timeouts without progress; the scheduler avoids them)', (p) => p.stale, 'gauge');
    perPath('mptcp_proxy_path_loss_demoted', 'Live subflows of a path demoted for their loss (they carry only copies of data sent on cleaner paths of their tier)', (p) => p.lossDemoted, 'gauge');
    perPath('mptcp_proxy_path_scheduled_bytes_total', 'Bytes the scheduler handed to the subflows of a path (new data and reinjections)', (p) => p.totals.scheduledBytes, 'counter');
    const caps = () => this.dataCaps();
    for (const [name, help, key] of [
      ['mptcp_proxy_path_data_cap_used_bytes', 'Bytes a capped path carried in its current data-cap period', 'usedBytes'],
      ['mptcp_proxy_path_data_cap_limit_bytes', "A capped path's data cap per period", 'limitBytes'],
    ] as const) {
      new Gauge({
        name,
        help,
        labelNames: ['path'],
        registers: r,
        collect() {
          this.reset();
          for (const c of caps()) this.set({ path: c.path }, c[key]);
        },
      });
    }
    new Gauge({
      name: 'mptcp_path_subflows',
      help: 'Live subflows of a path by phase (handshake, pre-established, active)',
      labelNames: ['path', 'state'],
      registers: r,
      collect() {
        this.reset();
        for (const p of snap()?.paths ?? []) for (const [state, n] of Object.entries(p.subflows)) if (state !== 'closed') this.set({ path: p.path, state }, n);
      },
    });
    new Gauge({
      name: 'mptcp_connections_active',
      help: 'MPTCP connections open in our stack',
      registers: r,
      collect() {
        const s = snap();
        if (s !== undefined) this.set(s.connections);
      },
    });
    new Counter({
      name: 'mptcp_fallbacks_total',
      help: 'MPTCP connections that fell back to plain TCP',
      registers: r,
      collect() {
        const s = snap();
        this.reset();
        if (s !== undefined) this.inc(s.counters.fallbacks ?? 0);
      },
    });
    new Counter({
      name: 'mptcp_reinjected_bytes_total',
      help: 'Data bytes sent again on another subflow (reinjection)',
      registers: r,
      collect() {
        const s = snap();
        this.reset();
        if (s !== undefined) this.inc(s.counters.reinjectedBytes ?? 0);
      },
    });
    new Counter({
      name: 'mptcp_events_total',
      help: 'MPTCP protocol events of our stack (joins, ADD_ADDR, checksum errors, ...)',
      labelNames: ['event'],
      registers: r,
      collect() {
        const s = snap();
        this.reset();
        if (s === undefined) return;
        for (const [k, v] of Object.entries(s.counters)) if (!OWN_STACK_FAMILIES.has(k)) this.inc({ event: snake(k) }, v);
      },
    });
  }
}
