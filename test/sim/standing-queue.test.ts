/**
 * The inflight cap (mptcp/tcp/inflight-cap.ts, MptcpConfig.queueDelayBudgetMs) in the
 * simulator, with the cap off (Infinity, the congestion window alone as Linux) beside it:
 * - on a deep drop-tail buffer a subflow's standing queue stays near one minimum RTT plus the
 *   budget instead of filling the buffer, at the same goodput;
 * - failover (the lab's scenario: two 20 Mbit/s paths, 10 and 30 ms one way, 1000-frame
 *   queues; path 0 black-holed or down at 3 s): the data lost on path 0 is resent behind path
 *   1's queue, so the longest stall shrinks with that queue. Zero bytes lost or reordered.
 */
import { describe, expect, it } from 'vitest';
import type { MptcpConfig } from '../../mptcp/connection/mptcp-types.js';
import { DEFAULT_MPTCP_CONFIG } from '../../mptcp/connection/mptcp-types.js';
import type { LinkConfig } from '../../mptcp/sim/index.js';
import { longestGap, makePair, pattern, setPathConfig, sha256, startDownload } from './mptcp-harness.js';

const OFF: Partial<MptcpConfig> = { queueDelayBudgetMs: Infinity };
const FRAME = 1514;

describe('the inflight cap keeps a deep buffer from filling (simulator)', () => {
  /** One path, 20 Mbit/s, 30 ms one way, 1000 frames of buffer (605 ms at 20 Mbit/s). */
  function bulk(mptcp: Partial<MptcpConfig>): { mbit: number; srtt: number; minRtt: number; retransmitted: number } {
    const path: Partial<LinkConfig> = { delayMs: 30, rateBitsPerSec: 20e6, queueLimitBytes: 1000 * FRAME };
    const p = makePair({ seed: 41, paths: [path], clientMptcp: mptcp, serverMptcp: mptcp });
    const { app, server } = startDownload(p, 100_000_000, 41);
    let at2 = 0;
    p.sim.at(2000, () => (at2 = app.receivedBytes));
    const srtts: number[] = [];
    for (let t = 2000; t <= 8000; t += 100) p.sim.at(t, () => srtts.push(server()?.subflows[0]?.tcp.smoothedRtt ?? 0));
    p.sim.runWhile(() => p.sim.now < 8000 && app.error === null, 8000);
    expect(app.error).toBeNull();
    const tcp = server()?.subflows[0]?.tcp;
    return {
      mbit: ((app.receivedBytes - at2) * 8) / 6 / 1e6,
      srtt: srtts.reduce((a, b) => a + b, 0) / srtts.length,
      minRtt: tcp?.minimumRtt ?? 0,
      retransmitted: tcp?.retransmittedBytes ?? 0,
    };
  }

  it(`standing queue within one minimum RTT + ${DEFAULT_MPTCP_CONFIG.queueDelayBudgetMs} ms, goodput kept`, () => {
    const capped = bulk({});
    const off = bulk(OFF);
    const f = (r: typeof capped) => `${r.mbit.toFixed(2)} Mbit/s, mean srtt ${r.srtt.toFixed(0)} ms (min ${r.minRtt.toFixed(0)}), ${(r.retransmitted / 1e6).toFixed(2)} MB retransmitted`;
    console.log(`deep buffer, 2-8 s: capped ${f(capped)}; cap off ${f(off)}`);
    // Queueing delay = srtt - minimum RTT (serialization of one frame aside).
    expect(capped.srtt - capped.minRtt).toBeLessThanOrEqual(capped.minRtt + DEFAULT_MPTCP_CONFIG.queueDelayBudgetMs + 10);
    expect(off.srtt - off.minRtt).toBeGreaterThan(200); // the loss-based window fills the buffer
    expect(capped.mbit).toBeGreaterThanOrEqual(0.97 * off.mbit);
    expect(capped.retransmitted).toBeLessThanOrEqual(off.retransmitted);
  });
});

describe('failover behind the surviving path\'s queue (simulator, the lab\'s failover scenario)', () => {
  const BYTES = 24_000_000;
  /** Longest gap (ms) in the client's received bytes after path 0 fails at 3 s; every byte checked. */
  function stall(how: 'blackhole' | 'down', mptcp: Partial<MptcpConfig>): number {
    const paths: Partial<LinkConfig>[] = [
      { delayMs: 10, rateBitsPerSec: 20e6, queueLimitBytes: 1000 * FRAME },
      { delayMs: 30, rateBitsPerSec: 20e6, queueLimitBytes: 1000 * FRAME },
    ];
    const p = makePair({ seed: 55, paths, clientMptcp: mptcp, serverMptcp: mptcp });
    const { app } = startDownload(p, BYTES, 55);
    p.sim.at(3000, () => setPathConfig(p.links[0], how === 'down' ? { up: false } : { lossProbability: 1 }));
    const longest = longestGap(p.sim, () => app.receivedBytes, 2000, 30_000);
    p.sim.runWhile(() => !app.ended && app.error === null, 30_000);
    expect(app.error).toBeNull();
    expect(sha256(app.data())).toBe(sha256(pattern(BYTES, 55)));
    return longest();
  }

  for (const how of ['blackhole', 'down'] as const) {
    it(`${how}: the longest stall is at most half of the uncapped one`, () => {
      const capped = stall(how, {});
      const off = stall(how, OFF);
      console.log(`failover (${how}) longest stall: ${capped} ms with the inflight cap, ${off} ms without (path 1's full 1000-frame queue is ${((1000 * FRAME * 8) / 20e6 * 1000).toFixed(0)} ms)`);
      expect(capped).toBeLessThanOrEqual(0.5 * off);
    });
  }
});
