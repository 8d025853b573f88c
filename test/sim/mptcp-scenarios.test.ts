/**
 * Our MPTCP (client and server both ours) across seeded multipath scenarios in the
 * deterministic simulator: two or three paths, each with its own RTT (1-300 ms), rate
 * (1-300 Mbit/s), queue, random or bursty loss up to 5%, reordering, duplication and jitter,
 * and in most scenarios a path failure: a path (often the initial one) goes down mid-transfer
 * and comes back, or stays down (another path always survives); a fifth are server-speaks-
 * first (the client writes only after the server's first bytes). Every scenario must deliver
 * byte-exact in both directions, close cleanly on both sides (both DATA_FINs), and not get
 * stuck. A failing seed is printed with its scenario so it can be replayed:
 * MPTCP_SCENARIO_SEED=<seed> npx vitest run test/sim/mptcp-scenarios.test.ts
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../mptcp/core/sans-io.js';
import { logUniform } from '../support/seeded-data.js';
import type { LinkConfig } from '../../mptcp/sim/index.js';
import { makePair, MptcpApp, pattern, sha256 } from './mptcp-harness.js';

const SCENARIOS = Number(process.env.MPTCP_SCENARIOS ?? 1000);
const ONLY = process.env.MPTCP_SCENARIO_SEED;

interface Scenario {
  seed: number;
  paths: Partial<LinkConfig>[];
  failure: { path: number; at: number; forMs: number | null } | null;
  up: number;
  down: number;
  /** The client writes only after the server's first bytes (SMTP, SSH...). */
  serverFirst: boolean;
}

function scenario(seed: number): Scenario {
  const r = new SeededRandom(seed ^ 0x2c1b3c6d);
  const n = r.nextFloat() < 0.7 ? 2 : 3;
  const paths: Partial<LinkConfig>[] = [];
  let slowest = 0;
  for (let i = 0; i < n; i++) {
    const rttMs = logUniform(r, 1, 300);
    const rateMbit = logUniform(r, 1, 300);
    const bdp = (rateMbit * 1e6 * rttMs) / 8000;
    const bursty = r.nextFloat() < 0.2;
    const loss = r.nextFloat() < 0.4 ? 0 : r.nextFloat() * 0.05;
    slowest = Math.max(slowest, rttMs);
    paths.push({
      delayMs: rttMs / 2,
      jitterMs: r.nextFloat() < 0.6 ? 0 : (r.nextFloat() * rttMs) / 20,
      rateBitsPerSec: rateMbit * 1e6,
      queueLimitBytes: Math.max(16_000, bdp * (r.nextFloat() < 0.3 ? 8 : 1)),
      lossProbability: bursty ? 0 : loss,
      burstLoss: bursty ? { pGoodToBad: loss / 4 + 0.001, pBadToGood: 0.25, lossInBad: 0.5, lossInGood: 0 } : undefined,
      reorderProbability: r.nextFloat() < 0.3 ? r.nextFloat() * 0.05 : 0,
      reorderExtraDelayMs: (r.nextFloat() * rttMs) / 2,
      duplicateProbability: r.nextFloat() < 0.2 ? r.nextFloat() * 0.02 : 0,
    });
  }
  // Most scenarios lose a path for a while (half of those the initial path), some for good.
  let failure: Scenario['failure'] = null;
  if (r.nextFloat() < 0.7) {
    const path = r.nextFloat() < 0.5 ? 0 : 1 + Math.floor(r.nextFloat() * (n - 1));
    const forever = r.nextFloat() < 0.25;
    failure = { path, at: 50 + r.nextFloat() * 4 * slowest, forMs: forever ? null : 100 + r.nextFloat() * 4000 };
  }
  const cap = 512 * 1024;
  const serverFirst = r.nextFloat() < 0.2;
  return { seed, paths, failure, up: Math.floor(r.nextFloat() * cap), down: Math.floor(r.nextFloat() * cap) + (serverFirst ? 1 : 0), serverFirst };
}

function describeScenario(sc: Scenario): string {
  const p = sc.paths.map((c) => `${((c.delayMs ?? 0) * 2).toFixed(0)}ms/${((c.rateBitsPerSec ?? 0) / 1e6).toFixed(1)}M/${(((c.lossProbability ?? 0) + (c.burstLoss ? 0.0001 : 0)) * 100).toFixed(1)}%${c.burstLoss ? 'b' : ''}${c.reorderProbability ? '/r' : ''}`).join(' + ');
  const f = sc.failure ? `path ${sc.failure.path} down at ${sc.failure.at.toFixed(0)} ms ${sc.failure.forMs === null ? 'for good' : `for ${sc.failure.forMs.toFixed(0)} ms`}` : 'no failure';
  return `${p}; ${f}; ${sc.up}/${sc.down} bytes${sc.serverFirst ? '; server speaks first' : ''}`;
}

function run(sc: Scenario): { ok: boolean; why: string; virtualMs: number } {
  const p = makePair({ seed: sc.seed, paths: sc.paths, tcp: { timeWaitMs: 1000 } });
  if (sc.failure) {
    const { path, at, forMs } = sc.failure;
    const l = p.links[path];
    p.sim.at(at, () => {
      l.forward.setConfig({ up: false });
      l.reverse.setConfig({ up: false });
    });
    if (forMs !== null) {
      p.sim.at(at + forMs, () => {
        l.forward.setConfig({ up: true });
        l.reverse.setConfig({ up: true });
      });
    }
  }
  const up = pattern(sc.up, sc.seed * 2 + 1);
  const down = pattern(sc.down, sc.seed * 2 + 2);
  p.server.stack.listen(80, (c) => p.server.apps.push(new MptcpApp(c, down)));
  const conn = p.client.stack.connect(0, { locals: p.clientAddresses.map((address) => ({ address })), remotes: p.serverAddresses, port: 80 });
  const client = new MptcpApp(conn, up, true, sc.serverFirst);
  p.client.apps.push(client);
  p.sim.poll();
  const done = () => client.closed && p.server.apps.length === 1 && p.server.apps[0].closed;
  const failed = () => client.error !== null || (p.server.apps[0]?.error ?? null) !== null;
  p.sim.runWhile(() => !done() && !failed(), 600_000);
  const server = p.server.apps[0];
  if (ONLY) console.log(JSON.stringify({ client: client.log, server: server?.log, cs: conn.subflowStats(true).map((s) => [s.id, s.local, s.remote, s.phase, s.tcp.state, s.closeReason]), ss: server?.conn.subflowStats(true).map((s) => [s.id, s.local, s.remote, s.phase, s.tcp.state, s.closeReason]) }));
  if (failed()) return { ok: false, why: `reset: client ${client.error}, server ${server?.error}`, virtualMs: p.sim.now };
  if (!done()) {
    const st = (c: typeof conn | undefined) => (c ? `${c.state} [${c.subflowStats(true).map((s) => `${s.id}:${s.phase}/${s.tcp.state}${s.closeReason ? `(${s.closeReason})` : ''}`).join(' ')}]` : 'none');
    return { ok: false, why: `stuck at t=${p.sim.now.toFixed(0)} ms: client ${st(conn)} got ${client.receivedBytes}/${sc.down}, server ${st(server?.conn)} got ${server?.receivedBytes}/${sc.up}`, virtualMs: p.sim.now };
  }
  if (server.receivedBytes !== up.length || sha256(server.data()) !== sha256(up)) return { ok: false, why: `upload corrupted: ${server.receivedBytes}/${up.length} bytes`, virtualMs: p.sim.now };
  if (client.receivedBytes !== down.length || sha256(client.data()) !== sha256(down)) return { ok: false, why: `download corrupted: ${client.receivedBytes}/${down.length} bytes`, virtualMs: p.sim.now };
  return { ok: true, why: '', virtualMs: p.sim.now };
}

describe('MPTCP: seeded multipath scenarios in the simulator', () => {
  it(`${ONLY ? `seed ${ONLY}` : `${SCENARIOS} scenarios`}: byte-exact both ways, clean close, none stuck`, () => {
    const seeds = ONLY ? [Number(ONLY)] : Array.from({ length: SCENARIOS }, (_, i) => i + 1);
    const failures: string[] = [];
    let virtual = 0;
    let threePath = 0;
    let withFailure = 0;
    const t0 = Date.now();
    for (const seed of seeds) {
      const sc = scenario(seed);
      if (sc.paths.length === 3) threePath++;
      if (sc.failure) withFailure++;
      const r = run(sc);
      virtual += r.virtualMs;
      if (!r.ok) failures.push(`seed ${seed}: ${r.why} | ${describeScenario(sc)}`);
    }
    console.log(`mptcp scenarios: ${seeds.length} run (${threePath} with three paths, ${withFailure} with a path failure), ${(virtual / 1000).toFixed(0)} s virtual in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${failures.length} failed`);
    expect(failures.slice(0, 20)).toEqual([]);
  }, 900_000);
});
