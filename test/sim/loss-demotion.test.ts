/**
 * Loss demotion in the simulator (issue 7: "a path that turns bad (loss, stall) is demoted
 * quickly and promoted back when it recovers"; connection/loss-demotion.ts). Wi-Fi 50 Mbit/s
 * 10 ms with random loss beside a clean LTE 20 Mbit/s 25 ms, both ends ours and defaults but
 * for demoteLossRatio: bursts of 200 KB every 400 ms (a page's objects) must arrive sooner
 * with demotion than without; paths whose only losses are congestion (full queues) must never
 * be demoted; and a path whose loss stops is promoted and carries its share again.
 */
import { describe, expect, it } from 'vitest';
import type { MptcpConnection } from '../../mptcp/connection/connection.js';
import type { MptcpConfig } from '../../mptcp/connection/mptcp-types.js';
import type { LinkConfig } from '../../mptcp/sim/index.js';
import { makePair, MptcpApp, pattern, setPathConfig, startDownload } from './mptcp-harness.js';

const mbit = 1e6;
const queue = (rate: number, ms: number) => Math.round((rate / 8) * (ms / 1000));
const OFF: Partial<MptcpConfig> = { demoteLossRatio: 0 };

function wifiLte(loss: number): Partial<LinkConfig>[] {
  return [
    { delayMs: 10, rateBitsPerSec: 50 * mbit, queueLimitBytes: queue(50 * mbit, 40), lossProbability: loss },
    { delayMs: 25, rateBitsPerSec: 20 * mbit, queueLimitBytes: queue(20 * mbit, 60) },
  ];
}

/** Delivery time (ms) of each of `count` bursts of `chunk` bytes written every `everyMs` from 2 s on. */
function burstTimes(seed: number, paths: Partial<LinkConfig>[], mptcp: Partial<MptcpConfig>, chunk = 200_000, everyMs = 400, count = 40): { times: number[]; server: MptcpConnection | null } {
  const p = makePair({ seed, paths, clientMptcp: mptcp, serverMptcp: mptcp });
  let server: MptcpConnection | null = null;
  p.server.stack.listen(80, (c) => {
    server = c;
    p.server.apps.push(new MptcpApp(c, new Uint8Array(0), false));
  });
  const conn = p.client.stack.connect(0, { locals: p.clientAddresses.map((address) => ({ address })), remotes: p.serverAddresses, port: 80 });
  const app = new MptcpApp(conn, new Uint8Array(0), false);
  p.client.apps.push(app);
  const data = pattern(chunk, seed);
  const times: number[] = [];
  for (let k = 0; k < count; k++) {
    p.sim.at(2000 + k * everyMs, (writtenAt) => {
      server?.write(data);
      const goal = (k + 1) * chunk;
      const check = (now: number) => {
        if (app.receivedBytes >= goal) times.push(now - writtenAt);
        else p.sim.at(now + 1, check);
      };
      p.sim.at(writtenAt + 1, check);
    });
  }
  p.sim.runWhile(() => times.length < count && app.error === null, 2000 + count * everyMs + 20_000);
  expect(app.error).toBeNull();
  expect(times).toHaveLength(count);
  return { times, server };
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const quantile = (v: number[], q: number) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(q * v.length))];

/** Per-second download goodput (Mbit/s) of a bulk transfer until `untilMs`, after `script`. */
function bulkPerSecond(seed: number, paths: Partial<LinkConfig>[], mptcp: Partial<MptcpConfig>, untilMs: number, script?: (p: ReturnType<typeof makePair>) => void): { rates: number[]; server: MptcpConnection | null } {
  const p = makePair({ seed, paths, clientMptcp: mptcp, serverMptcp: mptcp });
  const { app, server } = startDownload(p, 1_000_000_000, seed);
  script?.(p);
  const marks: number[] = [];
  for (let t = 0; t <= untilMs; t += 1000) p.sim.at(t, () => marks.push(app.receivedBytes));
  p.sim.runWhile(() => p.sim.now < untilMs && app.error === null, untilMs);
  expect(app.error).toBeNull();
  return { rates: marks.slice(1).map((b, i) => ((b - marks[i]) * 8) / mbit), server: server() };
}

describe('loss demotion (simulator)', () => {
  it('a path losing 10% or 20% of its packets is demoted: bursts arrive sooner than without demotion', () => {
    for (const loss of [0.1, 0.2]) {
      const off = burstTimes(11, wifiLte(loss), OFF);
      const on = burstTimes(11, wifiLte(loss), {});
      const c = on.server?.counters;
      console.log(
        `Wi-Fi ${loss * 100}% loss + clean LTE, 200 KB bursts: mean/p50/p90/max ${mean(off.times).toFixed(0)}/${quantile(off.times, 0.5)}/${quantile(off.times, 0.9)}/${Math.max(...off.times)} ms without demotion, ` +
          `${mean(on.times).toFixed(0)}/${quantile(on.times, 0.5)}/${quantile(on.times, 0.9)}/${Math.max(...on.times)} ms with (demotions ${c?.lossDemotions}, probe copies ${c?.lossProbeBytes} B)`,
      );
      expect(c?.lossDemotions).toBeGreaterThanOrEqual(1);
      const stats = on.server?.subflowStats() ?? [];
      // The lossy Wi-Fi subflow (the client's 10.0.1.1) is the demoted one; clean LTE is not.
      expect(stats.filter((s) => s.lossDemoted).map((s) => s.remote)).toEqual(['10.0.1.1']);
      // The first bursts come before any loss was measured (the connection was idle), so the
      // mean and the 90th percentile, not the maximum, show the demoted state.
      expect(mean(on.times)).toBeLessThan(mean(off.times));
      expect(quantile(on.times, 0.9)).toBeLessThan(quantile(off.times, 0.9));
    }
  });

  it('paths whose only losses are congestion (full queues, slow-start overshoot) are never demoted', () => {
    const cases: Partial<LinkConfig>[][] = [
      wifiLte(0),
      [
        { delayMs: 10, rateBitsPerSec: 50 * mbit, queueLimitBytes: queue(50 * mbit, 40) },
        { delayMs: 60, rateBitsPerSec: 5 * mbit, queueLimitBytes: queue(5 * mbit, 400) },
      ],
      [
        { delayMs: 0.1, rateBitsPerSec: 30 * mbit, queueLimitBytes: 20 * 1514 },
        { delayMs: 0.1, rateBitsPerSec: 10 * mbit, queueLimitBytes: 20 * 1514 },
      ],
    ];
    for (const [i, paths] of cases.entries()) {
      const on = bulkPerSecond(20 + i, paths, {}, 4000);
      const off = bulkPerSecond(20 + i, paths, OFF, 4000);
      const retx = (on.server?.subflowStats() ?? []).map((s) => s.tcp.retransmittedBytes);
      console.log(`congestion-only case ${i}: retransmitted ${retx.join(' + ')} B, demotions ${on.server?.counters.lossDemotions}`);
      expect(retx.some((b) => b > 0)).toBe(true); // there were losses to judge
      expect(on.server?.counters.lossDemotions).toBe(0);
      expect(on.rates).toEqual(off.rates);
    }
  });

  it('a demoted path whose loss stops is promoted and carries its share again', () => {
    const stop = (p: ReturnType<typeof makePair>) => p.sim.at(4000, () => setPathConfig(p.links[0], { lossProbability: 0 }));
    const on = bulkPerSecond(12, wifiLte(0.2), {}, 11_000, stop);
    const off = bulkPerSecond(12, wifiLte(0.2), OFF, 11_000, stop);
    const clean = bulkPerSecond(12, wifiLte(0), {}, 11_000);
    const c = on.server?.counters;
    console.log(`Wi-Fi 20% loss until 4 s: Mbit/s per second ${on.rates.map((r) => r.toFixed(1)).join(' ')} (without demotion ${off.rates.map((r) => r.toFixed(1)).join(' ')}); demotions ${c?.lossDemotions}, promotions ${c?.lossPromotions}`);
    expect(c?.lossDemotions).toBeGreaterThanOrEqual(1);
    expect(c?.lossPromotions).toBeGreaterThanOrEqual(1);
    expect(on.server?.subflowStats().every((s) => !s.lossDemoted)).toBe(true);
    // From 8 s on, within 5% of the same paths never lossy.
    const tail = (r: number[]) => r.slice(8).reduce((a, b) => a + b, 0);
    expect(tail(on.rates)).toBeGreaterThan(0.95 * tail(clean.rates));
  });
});
