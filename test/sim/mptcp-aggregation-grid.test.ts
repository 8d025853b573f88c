/**
 * Issue 7's aggregation targets across a seeded grid of heterogeneous path pairs in the
 * simulator: for each case, the download goodput of one MPTCP connection (server to client,
 * both ends ours) under the default scheduler and congestion control, against each path
 * alone (a one-path connection, same stack) and the sum of the path rates. Targets: never
 * below the best single path, and the share of the sum is reported (93% is the goal; where
 * the default falls short the table says so). SIM_GRID_ALL=1 also runs every scheduler and
 * congestion control, for choosing the defaults.
 */
import { describe, expect, it } from 'vitest';
import type { MptcpConfig } from '../../mptcp/connection/mptcp-types.js';
import { DEFAULT_MPTCP_CONFIG } from '../../mptcp/connection/mptcp-types.js';
import { SCHEDULERS } from '../../mptcp/sched/scheduler.js';
import type { LinkConfig, LinkPair } from '../../mptcp/sim/index.js';
import { makePair, setPathConfig, startDownload, type Pair } from './mptcp-harness.js';

interface GridCase {
  name: string;
  paths: Partial<LinkConfig>[];
  /** Changes the links over time (the lab's LTE trace); `link(i)` is path i's links when present. */
  script?: (p: Pair, link: (i: number) => LinkPair | undefined) => void;
  /** Measure from 1 s to this (ms; default 6000). */
  untilMs?: number;
  /** Path rates for the "of the sum" figure when they change over time (Mbit/s). */
  meanRates?: number[];
}

const mbit = 1e6;
/** Queue of `ms` milliseconds at `rate` (a bufferbloated LTE modem has hundreds). */
const queue = (rate: number, ms: number) => Math.round((rate / 8) * (ms / 1000));

/** The lab's LTE trace (test/bench/scenarios/catalog.ts): Mbit/s and one-way ms, 2 s each. */
const LTE_TRACE: [number, number][] = [
  [20, 60],
  [10, 120],
  [5, 200],
  [15, 90],
];

const GRID: GridCase[] = [
  { name: '50M/20ms + 5M/120ms bloated', paths: [{ delayMs: 10, rateBitsPerSec: 50 * mbit, queueLimitBytes: queue(50 * mbit, 40) }, { delayMs: 60, rateBitsPerSec: 5 * mbit, queueLimitBytes: queue(5 * mbit, 400) }] },
  { name: '20M/10ms + 20M/10ms', paths: [{ delayMs: 5, rateBitsPerSec: 20 * mbit, queueLimitBytes: queue(20 * mbit, 30) }, { delayMs: 5, rateBitsPerSec: 20 * mbit, queueLimitBytes: queue(20 * mbit, 30) }] },
  { name: 'wifi 30M/20ms 0.2% + lte 10M/80ms bloated', paths: [{ delayMs: 10, rateBitsPerSec: 30 * mbit, queueLimitBytes: queue(30 * mbit, 40), lossProbability: 0.002 }, { delayMs: 40, rateBitsPerSec: 10 * mbit, queueLimitBytes: queue(10 * mbit, 300) }] },
  { name: 'lab 30M/0ms + 10M/0ms, 1000-frame queues', paths: [{ delayMs: 0.1, rateBitsPerSec: 30 * mbit, queueLimitBytes: 1000 * 1514 }, { delayMs: 0.1, rateBitsPerSec: 10 * mbit, queueLimitBytes: 1000 * 1514 }] },
  { name: 'lab 30M/2ms + 10M/100ms, 1000-frame queues', paths: [{ delayMs: 1, rateBitsPerSec: 30 * mbit, queueLimitBytes: 1000 * 1514 }, { delayMs: 50, rateBitsPerSec: 10 * mbit, queueLimitBytes: 1000 * 1514 }] },
  { name: 'dsl 16M/30ms + dsl 8M/40ms', paths: [{ delayMs: 15, rateBitsPerSec: 16 * mbit, queueLimitBytes: queue(16 * mbit, 60) }, { delayMs: 20, rateBitsPerSec: 8 * mbit, queueLimitBytes: queue(8 * mbit, 60) }] },
  {
    // The lab's wifi-lte scenario: LTE's rate and delay step through 20/60, 10/120, 5/200 and
    // 15/90 (Mbit/s / ms one way) every 2 s behind a 2000-frame queue; Wi-Fi 50 Mbit/s 10 ms.
    name: 'wifi 50M/20ms + lte trace, 2000-frame queue',
    paths: [{ delayMs: 10, rateBitsPerSec: 50 * mbit, queueLimitBytes: 1000 * 1514 }, { delayMs: 60, rateBitsPerSec: 20 * mbit, queueLimitBytes: 2000 * 1514 }],
    script: (p, link) => {
      const lte = link(1);
      if (!lte) return;
      for (let t = 0; t < 20_000; t += 2000) {
        const [rate, delayMs] = LTE_TRACE[(t / 2000) % LTE_TRACE.length];
        p.sim.at(t, () => setPathConfig(lte, { rateBitsPerSec: rate * mbit, delayMs }));
      }
    },
    untilMs: 17_000,
    meanRates: [50, 12.5],
  },
];

/** Download goodput (bit/s) from 1 s to untilMs of a bulk transfer over the case's paths `which` (all by default). */
function goodput(seed: number, c: GridCase, mptcp: Partial<MptcpConfig>, which: number[] = c.paths.map((_, i) => i)): number {
  const until = c.untilMs ?? 6000;
  const p = makePair({ seed, paths: which.map((i) => c.paths[i]), clientMptcp: mptcp, serverMptcp: mptcp });
  c.script?.(p, (i) => (which.includes(i) ? p.links[which.indexOf(i)] : undefined));
  const { app } = startDownload(p, 200_000_000, seed);
  let at1 = 0;
  p.sim.at(1000, () => (at1 = app.receivedBytes));
  p.sim.runWhile(() => p.sim.now < until && app.error === null, until);
  expect(app.error).toBeNull();
  return ((app.receivedBytes - at1) * 8) / ((until - 1000) / 1000);
}

const row = (name: string, values: number[]) => `${name.padEnd(44)} ${values.map((v) => (v / 1e6).toFixed(1).padStart(7)).join(' ')}`;

describe('aggregation across a grid of heterogeneous paths (simulator)', () => {
  for (const [i, c] of GRID.entries()) {
    it(`${c.name}: the default is never below the best single path`, () => {
      const seed = 100 + i;
      const singles = c.paths.map((_, j) => goodput(seed, c, {}, [j]));
      const sum = c.meanRates ? c.meanRates.reduce((n, r) => n + r * mbit, 0) : c.paths.reduce((n, p) => n + (p.rateBitsPerSec ?? 0), 0);
      const best = Math.max(...singles);
      const ours = goodput(seed, c, {});
      const uncapped = goodput(seed, c, { queueDelayBudgetMs: Infinity });
      console.log(
        `${row(c.name, [...singles, ours, uncapped])} Mbit/s (singles, default ${DEFAULT_MPTCP_CONFIG.scheduler}/${DEFAULT_MPTCP_CONFIG.congestion}, the same without the inflight cap); ` +
          `${((ours / sum) * 100).toFixed(1)}% of the sum (${((uncapped / sum) * 100).toFixed(1)}% uncapped), ${((ours / best) * 100).toFixed(1)}% of the best path`,
      );
      expect(ours).toBeGreaterThanOrEqual(0.97 * best);
      if (process.env.SIM_GRID_ALL) {
        for (const congestion of ['cubic', 'olia', 'lia', 'balia'] as const) {
          const figures = SCHEDULERS.filter((s) => s !== 'redundant' && s !== 'weighted').map((scheduler) => goodput(seed, c, { scheduler, congestion }));
          console.log(row(`  ${congestion}: ${SCHEDULERS.filter((s) => s !== 'redundant' && s !== 'weighted').join('/')}`, figures));
        }
      }
    }, 240_000);
  }
});
