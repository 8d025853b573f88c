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
import type { LinkConfig } from '../../mptcp/sim/index.js';
import { makePair, startDownload } from './mptcp-harness.js';

interface GridCase {
  name: string;
  paths: Partial<LinkConfig>[];
}

const mbit = 1e6;
/** Queue of `ms` milliseconds at `rate` (a bufferbloated LTE modem has hundreds). */
const queue = (rate: number, ms: number) => Math.round((rate / 8) * (ms / 1000));

const GRID: GridCase[] = [
  { name: '50M/20ms + 5M/120ms bloated', paths: [{ delayMs: 10, rateBitsPerSec: 50 * mbit, queueLimitBytes: queue(50 * mbit, 40) }, { delayMs: 60, rateBitsPerSec: 5 * mbit, queueLimitBytes: queue(5 * mbit, 400) }] },
  { name: '20M/10ms + 20M/10ms', paths: [{ delayMs: 5, rateBitsPerSec: 20 * mbit, queueLimitBytes: queue(20 * mbit, 30) }, { delayMs: 5, rateBitsPerSec: 20 * mbit, queueLimitBytes: queue(20 * mbit, 30) }] },
  { name: 'wifi 30M/20ms 0.2% + lte 10M/80ms bloated', paths: [{ delayMs: 10, rateBitsPerSec: 30 * mbit, queueLimitBytes: queue(30 * mbit, 40), lossProbability: 0.002 }, { delayMs: 40, rateBitsPerSec: 10 * mbit, queueLimitBytes: queue(10 * mbit, 300) }] },
  { name: 'lab 30M/0ms + 10M/0ms, 1000-frame queues', paths: [{ delayMs: 0.1, rateBitsPerSec: 30 * mbit, queueLimitBytes: 1000 * 1514 }, { delayMs: 0.1, rateBitsPerSec: 10 * mbit, queueLimitBytes: 1000 * 1514 }] },
  { name: 'lab 30M/2ms + 10M/100ms, 1000-frame queues', paths: [{ delayMs: 1, rateBitsPerSec: 30 * mbit, queueLimitBytes: 1000 * 1514 }, { delayMs: 50, rateBitsPerSec: 10 * mbit, queueLimitBytes: 1000 * 1514 }] },
  { name: 'dsl 16M/30ms + dsl 8M/40ms', paths: [{ delayMs: 15, rateBitsPerSec: 16 * mbit, queueLimitBytes: queue(16 * mbit, 60) }, { delayMs: 20, rateBitsPerSec: 8 * mbit, queueLimitBytes: queue(8 * mbit, 60) }] },
];

/** Download goodput (bit/s) between 1 s and 6 s of a bulk transfer over `paths`. */
function goodput(seed: number, paths: Partial<LinkConfig>[], mptcp: Partial<MptcpConfig>): number {
  const p = makePair({ seed, paths, clientMptcp: mptcp, serverMptcp: mptcp });
  const { app } = startDownload(p, 60_000_000, seed);
  let at1 = 0;
  p.sim.at(1000, () => (at1 = app.receivedBytes));
  p.sim.runWhile(() => p.sim.now < 6000 && app.error === null, 6000);
  expect(app.error).toBeNull();
  return ((app.receivedBytes - at1) * 8) / 5;
}

const row = (name: string, values: number[]) => `${name.padEnd(44)} ${values.map((v) => (v / 1e6).toFixed(1).padStart(7)).join(' ')}`;

describe('aggregation across a grid of heterogeneous paths (simulator)', () => {
  for (const [i, c] of GRID.entries()) {
    it(`${c.name}: the default is never below the best single path`, () => {
      const seed = 100 + i;
      const singles = c.paths.map((p) => goodput(seed, [p], {}));
      const sum = c.paths.reduce((n, p) => n + (p.rateBitsPerSec ?? 0), 0);
      const best = Math.max(...singles);
      const ours = goodput(seed, c.paths, {});
      console.log(`${row(c.name, [...singles, ours])} Mbit/s (singles, default ${DEFAULT_MPTCP_CONFIG.scheduler}/${DEFAULT_MPTCP_CONFIG.congestion}); ${((ours / sum) * 100).toFixed(1)}% of the sum, ${((ours / best) * 100).toFixed(1)}% of the best path`);
      expect(ours).toBeGreaterThanOrEqual(0.97 * best);
      if (process.env.SIM_GRID_ALL) {
        for (const congestion of ['cubic', 'olia', 'lia', 'balia'] as const) {
          const figures = SCHEDULERS.filter((s) => s !== 'redundant' && s !== 'weighted').map((scheduler) => goodput(seed, c.paths, { scheduler, congestion }));
          console.log(row(`  ${congestion}: ${SCHEDULERS.filter((s) => s !== 'redundant' && s !== 'weighted').join('/')}`, figures));
        }
      }
    });
  }
});
