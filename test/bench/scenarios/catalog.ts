/**
 * The benchmark scenarios: each a lab topology and what to measure in it with one contender.
 *  - aggregation: the five cases of the Linux selftest simult_flows.sh (two paths, rates and
 *    one-way delays per path, 16 MiB) and "Wi-Fi + LTE" (50 Mbit/s 10 ms, and LTE following a
 *    cyclic trace of 5-20 Mbit/s and 60-200 ms with a 2000-frame queue). Goodput over the sum
 *    of the path rates and over the best path.
 *  - failover: the primary path dies 3 s into a download, as link down (carrier lost) and as a
 *    silent black hole. Completion, longest stall, bytes lost (corrupted or skipped in what
 *    arrived), MiB delivered.
 *  - latency: time to first byte of 1 KB requests, one at a time; new connections per second.
 *  - capacity: one download on unshaped paths; 1,000 and 10,000 concurrent small downloads
 *    (errors, memory of the contender's processes per connection).
 *  - fairness (fairness.ts): shared-bottleneck: both paths' downloads cross one 20 Mbit/s
 *    bottleneck beside a single-path kernel TCP download; each one's goodput over the same
 *    time, their ratio (one TCP's share = 1), the bottleneck's utilisation.
 * Figures only; nothing here asserts a timing.
 */
import { readFileSync } from 'node:fs';
import type { Lab } from '../../lab/lab.js';
import type { TopologySpec } from '../../lab/topology.js';
import { parseRate } from '../../lab/units.js';
import type { Contender, Transfer } from './contender.js';
import { sharedBottleneck } from './fairness.js';

export type Group = 'aggregation' | 'failover' | 'latency' | 'capacity' | 'fairness';

export interface RunOptions {
  /** Smaller transfers and counts (the CI smoke run, `--quick`). */
  quick: boolean;
}

export type Metrics = Record<string, number | string | null>;

export interface Measurement {
  metrics: Metrics;
  /** Transfers worth plotting (their progress), and the wall-clock window of the download. */
  window?: { start: number; end: number };
}

export interface Scenario {
  name: string;
  group: Group;
  description: string;
  topology: TopologySpec;
  /** Plot per-path throughput over time for this scenario. */
  plot: boolean;
  run(lab: Lab, contender: Contender, opts: RunOptions): Promise<Measurement>;
}

const MiB = 1024 * 1024;
const mbit = (bytes: number, ms: number) => (bytes * 8) / (ms * 1000);

/** Sum of the downlink rates and the best one, in Mbit/s (a trace counts at its mean rate). */
function capacityOf(topology: TopologySpec, lteMean?: number): { sum: number; best: number } {
  const rates = topology.paths.map((p) => (p.name === 'lte' && lteMean !== undefined ? lteMean : parseRate(p.name, p.rate ?? 'unlimited') / 1e6));
  return { sum: rates.reduce((a, b) => a + b, 0), best: Math.max(...rates) };
}

function single(t: Transfer | undefined): Transfer {
  if (t === undefined) throw new Error('downloader returned no transfer');
  return t;
}

function aggregation(name: string, r1: number, r2: number, d1: number, d2: number): Scenario {
  const topology: TopologySpec = {
    name,
    paths: [
      { name: 'a', rate: `${r1}mbit`, delay: `${d1}ms`, queue: 1000 },
      { name: 'b', rate: `${r2}mbit`, delay: `${d2}ms`, queue: 1000 },
    ],
  };
  return {
    name,
    group: 'aggregation',
    description: `simult_flows.sh: ${r1} + ${r2} Mbit/s, one-way delay ${d1} / ${d2} ms`,
    topology,
    plot: false,
    async run(lab, contender, opts) {
      const bytes = opts.quick ? 2 * MiB : 16 * MiB;
      const rep = await contender.download(lab, { bytes, timeoutMs: 120_000, progressMs: 100 });
      return aggregationMetrics(single(rep.results?.[0]), capacityOf(topology));
    },
  };
}

function aggregationMetrics(t: Transfer, cap: { sum: number; best: number }): Measurement {
  const ok = t.error === null && t.doneMs !== null;
  const g = ok && t.doneMs !== null ? mbit(t.bytes, t.doneMs) : null;
  return {
    metrics: {
      'goodput Mbit/s': g,
      'of sum %': g === null ? null : (100 * g) / cap.sum,
      'of best %': g === null ? null : (100 * g) / cap.best,
      error: t.error,
    },
    window: { start: t.start, end: t.start + (t.doneMs ?? 0) },
  };
}

const LTE_TRACE = [
  { at: '0s', rate: '20mbit', delay: '60ms' },
  { at: '2s', rate: '10mbit', delay: '120ms' },
  { at: '4s', rate: '5mbit', delay: '200ms' },
  { at: '6s', rate: '15mbit', delay: '90ms' },
];
const LTE_MEAN = 12.5;

const wifiLte: Scenario = {
  name: 'wifi-lte',
  group: 'aggregation',
  description: 'Wi-Fi 50 Mbit/s 10 ms + LTE trace 5-20 Mbit/s 60-200 ms (8 s cycle), 2000-frame LTE queue',
  topology: {
    name: 'wifi-lte',
    paths: [
      { name: 'wifi', rate: '50mbit', delay: '10ms', queue: 1000 },
      { name: 'lte', rate: '20mbit', delay: '60ms', queue: 2000 },
    ],
  },
  plot: true,
  async run(lab, contender, opts) {
    await lab.path('lte').script({ steps: LTE_TRACE, repeat: '8s' });
    const bytes = opts.quick ? 4 * MiB : 48 * MiB;
    const rep = await contender.download(lab, { bytes, timeoutMs: 120_000, progressMs: 100 });
    return aggregationMetrics(single(rep.results?.[0]), { sum: 50 + LTE_MEAN, best: 50 });
  },
};

function failover(name: string, how: 'down' | 'blackhole'): Scenario {
  return {
    name,
    group: 'failover',
    description: `primary path (20 Mbit/s 10 ms) ${how === 'down' ? 'link down (carrier lost)' : 'silently black-holed'} 3 s (quick: 1 s) into a 32 MiB download (quick: 8); second path 20 Mbit/s 30 ms`,
    topology: {
      name,
      paths: [
        { name: 'primary', rate: '20mbit', delay: '10ms', queue: 1000 },
        { name: 'second', rate: '20mbit', delay: '30ms', queue: 1000 },
      ],
    },
    plot: true,
    async run(lab, contender, opts) {
      const bytes = opts.quick ? 8 * MiB : 32 * MiB;
      await lab.path('primary').script({ steps: [{ at: opts.quick ? '1s' : '3s', state: how }] });
      const rep = await contender.download(lab, { bytes, timeoutMs: opts.quick ? 20_000 : 40_000, progressMs: 50 });
      const t = single(rep.results?.[0]);
      const done = t.error === null;
      const corrupt = t.error !== null && t.error.startsWith('corrupt');
      return {
        metrics: {
          completed: done ? 'yes' : 'no',
          'longest stall ms': done ? t.maxGapMs : null,
          // Wrong or skipped bytes in what arrived (flow.mjs checks every byte); a transfer that
          // stopped early has lost none of what it delivered.
          'bytes lost': corrupt ? 'corrupt' : 0,
          'delivered MiB': t.bytes / MiB,
          'time s': (t.doneMs ?? 0) / 1000,
          error: t.error,
        },
        window: { start: t.start, end: t.start + (t.doneMs ?? 0) },
      };
    },
  };
}

const latencyTopology: TopologySpec = {
  name: 'latency',
  paths: [
    { name: 'wifi', rate: '50mbit', delay: '10ms', queue: 1000 },
    { name: 'lte', rate: '20mbit', delay: '30ms', queue: 1000 },
  ],
};

const latency: Scenario = {
  name: 'latency',
  group: 'latency',
  description: 'Wi-Fi 50 Mbit/s 10 ms + LTE 20 Mbit/s 30 ms: 1 KB requests one at a time (TTFB incl. connect and proxy handshake), then many at 20 in parallel',
  topology: latencyTopology,
  plot: false,
  async run(lab, contender, opts) {
    const seq = await contender.download(lab, { bytes: 1000, count: opts.quick ? 5 : 50, parallel: 1, timeoutMs: 10_000 });
    const n = opts.quick ? 40 : 500;
    const par = await contender.download(lab, { bytes: 1000, count: n, parallel: 20, timeoutMs: 10_000 });
    return {
      metrics: {
        'TTFB median ms': seq.summary.ttfbMedianMs,
        'TTFB p99 ms': seq.summary.ttfbP99Ms,
        'connections/s': (par.summary.ok * 1000) / par.totalMs,
        errors: seq.summary.count - seq.summary.ok + par.summary.count - par.summary.ok,
      },
    };
  },
};

/** Kernel bridges instead of emulators: the userspace emulator would cap these runs. */
const unshaped: TopologySpec = { name: 'capacity', paths: [{ name: 'a', emulate: false }, { name: 'b', emulate: false }] };

const capacitySingle: Scenario = {
  name: 'capacity-single',
  group: 'capacity',
  description: 'one download over two unshaped paths (kernel bridges, no emulator): CPU-bound',
  topology: unshaped,
  plot: false,
  async run(lab, contender, opts) {
    const bytes = opts.quick ? 16 * MiB : 512 * MiB;
    const rep = await contender.download(lab, { bytes, timeoutMs: 120_000 });
    const t = single(rep.results?.[0]);
    return { metrics: { 'goodput Mbit/s': t.error === null && t.doneMs !== null ? mbit(t.bytes, t.doneMs) : null, error: t.error } };
  },
};

/** Resident memory (bytes) of processes, 0 for those gone. */
function rss(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readStatus(pid));
      if (m !== null) sum += Number(m[1]) * 1024;
    } catch {
      // gone
    }
  }
  return sum;
}

function readStatus(pid: number): string {
  return readFileSync(`/proc/${pid}/status`, 'utf8');
}

function capacityMany(connections: number): Scenario {
  return {
    name: `capacity-${connections / 1000}k`,
    group: 'capacity',
    description: `${connections} concurrent 16 KB downloads (quick: ${connections / 100}), all at once, over two unshaped paths (kernel bridges)`,
    topology: unshaped,
    plot: false,
    async run(lab, contender, opts) {
      const n = opts.quick ? connections / 100 : connections;
      const pids = contender.pids();
      const base = rss(pids);
      let peak = base;
      const timer = setInterval(() => {
        peak = Math.max(peak, rss(pids));
      }, 100);
      const rep = await contender.download(lab, { bytes: 16 * 1024, count: n, parallel: n, timeoutMs: 60_000 });
      clearInterval(timer);
      const [topError, topCount] = Object.entries(rep.summary.errors).sort((a, b) => b[1] - a[1])[0] ?? [null, 0];
      return {
        metrics: {
          connections: n,
          ok: rep.summary.ok,
          errors: n - rep.summary.ok,
          'time s': rep.totalMs / 1000,
          'proxy KB/conn': pids.length === 0 ? null : (peak - base) / 1024 / n,
          error: topError === null ? null : `${topCount} x ${topError}`,
        },
      };
    },
  };
}

export const SCENARIOS: readonly Scenario[] = [
  aggregation('balanced-bw', 10, 10, 0, 0),
  aggregation('balanced-bw-unbalanced-delay', 10, 10, 1, 50),
  aggregation('unbalanced-bw', 30, 10, 0, 0),
  aggregation('unbalanced-bw-unbalanced-delay', 30, 10, 1, 50),
  aggregation('unbalanced-bw-opposed-delay', 30, 10, 50, 1),
  wifiLte,
  failover('failover-link-down', 'down'),
  failover('failover-blackhole', 'blackhole'),
  latency,
  capacitySingle,
  capacityMany(1000),
  capacityMany(10_000),
  sharedBottleneck,
];
