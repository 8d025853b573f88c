/**
 * Per-path policy in the simulator (issue 6 §2, issue 7 schedulers): tiers and backups,
 * weights, rate caps, disabled paths, redundant scheduling, and every scheduler delivering
 * byte-exact over heterogeneous paths. Both ends are our stack; each end gets the policy for
 * what it sends (the client keys paths by its local address, the server by the client's
 * address), as the proxy does with the policy the client sends with its request.
 */
import { describe, expect, it } from 'vitest';
import type { MptcpConnection } from '../../mptcp/connection/connection.js';
import { DEFAULT_PATH_USE, type ConnectionPolicy, type PathUse } from '../../mptcp/sched/path-use.js';
import { SCHEDULERS } from '../../mptcp/sched/scheduler.js';
import { ByteBudget } from '../../mptcp/sched/byte-budget.js';
import { TokenBucket } from '../../mptcp/sched/token-bucket.js';
import type { LinkConfig } from '../../mptcp/sim/index.js';
import { makePair, MptcpApp, pattern, sha256, type Pair } from './mptcp-harness.js';

/** Path index of a client address 10.0.(i+1).1. */
const pathIndex = (a: Uint8Array): number => a[2] - 1;

function policy(scheduler: string, uses: Partial<PathUse>[], side: 'client' | 'server'): ConnectionPolicy {
  const full = uses.map((u) => ({ ...DEFAULT_PATH_USE, ...u }));
  return {
    scheduler,
    announceBackup: side === 'client',
    pathUse: (p) => full[pathIndex(side === 'client' ? p.local : p.remote)] ?? DEFAULT_PATH_USE,
  };
}

interface Run {
  p: Pair;
  client: MptcpApp;
  server: MptcpApp;
  conn: MptcpConnection;
  /** The server's connection (it sends the downloads). */
  serverConn: MptcpConnection;
  /** Wire bytes (TCP payload, both directions) per path, counted from the links. */
  pathBytes(): number[];
  /** Data bytes sent by each end on each path (first transmissions), [client, server]. */
  dataSent(): [number[], number[]];
  elapsedMs: number;
}

/** Data bytes sent per path by [client, server] so far. */
type DataProbe = () => [number[], number[]];

function transfer(o: { seed: number; paths: Partial<LinkConfig>[]; up: number; down: number; scheduler?: string; uses?: Partial<PathUse>[]; events?: (p: Pair, probe: DataProbe) => void; limitMs?: number }): Run {
  const p = makePair({ seed: o.seed, paths: o.paths });
  const upData = pattern(o.up, o.seed * 2 + 1);
  const downData = pattern(o.down, o.seed * 2 + 2);
  const uses: Partial<PathUse>[] = o.uses ?? o.paths.map(() => ({}));
  const scheduler = o.scheduler ?? 'lowest-rtt';
  let serverConn: MptcpConnection | null = null;
  p.server.stack.listen(80, (c) => {
    serverConn = c;
    c.setPolicy(policy(scheduler, uses, 'server'));
    p.server.apps.push(new MptcpApp(c, downData));
  });
  const conn = p.client.stack.connect(0, { locals: p.clientAddresses.map((address, i) => ({ address, backup: (uses[i]?.tier ?? 0) > 0 })), remotes: p.serverAddresses, port: 80 });
  conn.setPolicy(policy(scheduler, uses, 'client'));
  const client = new MptcpApp(conn, upData);
  p.client.apps.push(client);
  const perPath = (c: MptcpConnection | null, key: 'local' | 'remote') => {
    const out = o.paths.map(() => 0);
    for (const s of c?.subflowStats(true) ?? []) out[Number(s[key].split('.')[2]) - 1] += s.dataBytesSent;
    return out;
  };
  const probe: DataProbe = () => [perPath(conn, 'local'), perPath(serverConn, 'remote')];
  o.events?.(p, probe);
  p.sim.poll();
  const done = () => client.closed && p.server.apps.length === 1 && p.server.apps[0].closed;
  p.sim.runWhile(() => !done() && client.error === null, o.limitMs ?? 120_000);
  const server = p.server.apps[0];
  expect(client.error).toBeNull();
  expect(server?.error ?? null).toBeNull();
  expect(done()).toBe(true);
  expect(sha256(client.data())).toBe(sha256(downData));
  expect(sha256(server.data())).toBe(sha256(upData));
  return {
    p,
    client,
    server,
    conn,
    serverConn: serverConn as unknown as MptcpConnection,
    elapsedMs: p.sim.now,
    pathBytes: () => p.links.map((l) => l.forward.counters.deliveredBytes + l.reverse.counters.deliveredBytes),
    dataSent: probe,
  };
}

const twoPaths: Partial<LinkConfig>[] = [
  { delayMs: 10, rateBitsPerSec: 40e6, queueLimitBytes: 200_000 },
  { delayMs: 20, rateBitsPerSec: 40e6, queueLimitBytes: 200_000 },
];

describe('policy in the simulator: tiers', () => {
  it('a tier-1 path carries no data while the primary is up, takes over when it fails, and the primary carries data again when it returns', () => {
    let beforeDown: number[] = [];
    let beforeUp: number[] = [];
    let primaryAtUp: number[] = [];
    const r = transfer({
      seed: 11,
      paths: twoPaths,
      up: 8_000_000,
      down: 24_000_000,
      uses: [{ tier: 0 }, { tier: 1 }],
      events: (p, probe) => {
        const carried = (): number => {
          const [c, s] = probe();
          return c[1] + s[1];
        };
        p.sim.at(1500, () => {
          beforeDown = [carried()];
          for (const d of [p.links[0].forward, p.links[0].reverse]) d.setConfig({ up: false });
        });
        p.sim.at(4000, () => {
          beforeUp = [carried()];
          const [c, s] = probe();
          primaryAtUp = [c[0] + s[0]];
          for (const d of [p.links[0].forward, p.links[0].reverse]) d.setConfig({ up: true });
        });
      },
    });
    const [c, s] = r.dataSent();
    console.log('tiers: data on backup before failure', beforeDown[0], 'during', beforeUp[0] - beforeDown[0], 'total', c[1] + s[1], 'primary', c[0] + s[0]);
    expect(beforeDown[0], 'backup path carried data while the primary was up').toBe(0);
    expect(beforeUp[0] - beforeDown[0], 'backup path carried the transfer while the primary was down').toBeGreaterThan(2_000_000);
    // Once the primary is back (and no longer stale), it carries the rest.
    expect(c[0] + s[0] - primaryAtUp[0], 'primary path carried data after it returned').toBeGreaterThan(2_000_000);
    // The subflows ended up marked backup towards the peer (MP_PRIO / MP_JOIN B).
    expect(r.conn.subflowStats().some((x) => x.local === '10.0.2.1' && x.localBackup)).toBe(true);
  });
});

describe('policy in the simulator: weights, caps, disabled paths, redundancy', () => {
  it('weights 3:1 split the bytes 3:1 (within 10%) in both directions', () => {
    const r = transfer({ seed: 12, paths: twoPaths, up: 16_000_000, down: 16_000_000, scheduler: 'weighted', uses: [{ weight: 3 }, { weight: 1 }] });
    const [c, s] = r.dataSent();
    const up = c[0] / c[1];
    const down = s[0] / s[1];
    console.log(`weighted 3:1: upload ${up.toFixed(3)} download ${down.toFixed(3)} in ${r.elapsedMs.toFixed(0)} ms`);
    for (const ratio of [up, down]) {
      expect(ratio).toBeGreaterThan(2.7);
      expect(ratio).toBeLessThan(3.3);
    }
  });

  it('weights 3:1 hold on the wire when the heavier path queues deeply (copies and retransmissions count in the share; B joins at once)', () => {
    // As in the lab: two equal fast links, A given 3/4 so it saturates and its queue (and RTT)
    // grows while B idles at a short RTT. B may copy A's blocking data (head-of-line repair),
    // but only within its share, or the bytes on the wire stop following the weights.
    const deep: Partial<LinkConfig>[] = [
      { delayMs: 1, rateBitsPerSec: 100e6, queueLimitBytes: 1_500_000 },
      { delayMs: 1, rateBitsPerSec: 100e6, queueLimitBytes: 1_500_000 },
    ];
    const r = transfer({ seed: 17, paths: deep, up: 1_000_000, down: 64_000_000, scheduler: 'weighted', uses: [{ weight: 3 }, { weight: 1 }] });
    const wire = r.pathBytes();
    const [, s] = r.dataSent();
    const ratio = wire[0] / wire[1];
    console.log(`weighted 3:1, deep queues: wire A:B ${ratio.toFixed(3)} (A ${wire[0]}, B ${wire[1]}), first transmissions ${(s[0] / s[1]).toFixed(3)}, server reinjected ${r.serverConn.counters.reinjectedBytes} B, joins refused ${r.serverConn.counters.joinsRefused}, in ${r.elapsedMs.toFixed(0)} ms`);
    expect(ratio).toBeGreaterThan(2.7);
    expect(ratio).toBeLessThan(3.3);
    // B joined at once: its join did not overtake the third ACK (which carries our key) and
    // get refused, leaving A alone through a rejoin delay.
    expect(r.serverConn.counters.joinsRefused).toBe(0);
  });

  it('a rate cap holds the path to the cap (within 10%) while the other path takes the rest', () => {
    const capBps = 10e6;
    const shared = new TokenBucket(capBps / 8);
    // The default scheduler (ECF): it must not wait for the capped path because it is the
    // faster one (a capped path's window says nothing of when it may send).
    const r = transfer({ seed: 13, paths: twoPaths, up: 1_000_000, down: 40_000_000, uses: [{ limiter: shared }, {}], scheduler: 'ecf' });
    const [, s] = r.dataSent();
    // Rate on path 0 over the transfer (the download dominates it).
    const rate = (s[0] * 8) / (r.elapsedMs / 1000);
    console.log(`rate cap 10 Mbit/s: path 0 ${(rate / 1e6).toFixed(2)} Mbit/s, path 1 ${((s[1] * 8) / (r.elapsedMs / 1000) / 1e6).toFixed(2)} Mbit/s over ${r.elapsedMs.toFixed(0)} ms`);
    expect(rate).toBeLessThan(capBps * 1.1);
    expect(rate).toBeGreaterThan(capBps * 0.9);
    // The other 40 Mbit/s path takes the rest.
    expect((s[1] * 8) / (r.elapsedMs / 1000)).toBeGreaterThan(25e6);
  });

  it('a data budget: the path stops carrying data (both directions) once it is spent; the peer follows MP_PRIO', () => {
    const budget = new ByteBudget(3_000_000);
    // Only the client knows the budget (it counts what it sends and receives on the path); the
    // server has no policy for it and learns of the spent budget by MP_PRIO alone.
    const p0 = makePair({ seed: 17, paths: twoPaths });
    const up = pattern(2_000_000, 41);
    const down = pattern(24_000_000, 42);
    let serverConn: MptcpConnection | null = null;
    p0.server.stack.listen(80, (c) => {
      serverConn = c;
      p0.server.apps.push(new MptcpApp(c, down));
    });
    const conn = p0.client.stack.connect(0, { locals: p0.clientAddresses.map((address) => ({ address })), remotes: p0.serverAddresses, port: 80 });
    conn.setPolicy(policy('lowest-rtt', [{}, { budget }], 'client'));
    const app = new MptcpApp(conn, up);
    p0.client.apps.push(app);
    p0.sim.runWhile(() => !(app.closed && p0.server.apps[0]?.closed), 120_000);
    expect(app.error).toBeNull();
    expect(sha256(app.data())).toBe(sha256(down));
    expect(sha256(p0.server.apps[0].data())).toBe(sha256(up));
    let onPath1 = 0;
    for (const st of conn.subflowStats(true)) if (st.local === '10.0.2.1') onPath1 += st.dataBytesSent + st.dataBytesReceived;
    const sc = serverConn as MptcpConnection | null;
    const prio = sc?.subflowStats().find((st) => st.remote === '10.0.2.1')?.backup;
    console.log(`data budget 3 MB: path 1 carried ${onPath1} data bytes of ${up.length + down.length}; budget used ${budget.used}; server sees backup: ${String(prio)}`);
    expect(budget.exhausted).toBe(true);
    // At most the budget plus what was in flight towards us when it ran out (one RTT's worth).
    expect(onPath1).toBeLessThan(3_000_000 + 600_000);
    expect(onPath1).toBeGreaterThanOrEqual(3_000_000);
    expect(prio).toBe(true);
  });

  it('a disabled path carries no data, even when it is the faster one', () => {
    const r = transfer({ seed: 14, paths: [{ delayMs: 2, rateBitsPerSec: 80e6 }, { delayMs: 20, rateBitsPerSec: 20e6 }], up: 4_000_000, down: 8_000_000, uses: [{ enabled: false }, {}] });
    const [c, s] = r.dataSent();
    expect(c[0] + s[0]).toBe(0);
    expect(c[1]).toBe(4_000_000);
    expect(s[1]).toBe(8_000_000);
  });

  it('redundant: every byte of latency-critical (application-limited) traffic goes on both paths', () => {
    // Interactive traffic as redundant mode is meant for: 16 KB bursts every 50 ms both ways
    // over unlike paths. (A bulk transfer outruns the slower path, which then skips copies the
    // peer has already acknowledged: redundancy never slows a connection to its worst path.)
    const paths: Partial<LinkConfig>[] = [
      { delayMs: 10, rateBitsPerSec: 20e6, queueLimitBytes: 200_000 },
      { delayMs: 30, rateBitsPerSec: 10e6, queueLimitBytes: 200_000 },
    ];
    const p = makePair({ seed: 15, paths });
    const burst = 16_000;
    const bursts = 60;
    const up = pattern(burst * bursts, 31);
    const down = pattern(burst * bursts, 32);
    const redundant = policy('redundant', [{}, {}], 'client');
    const srv: MptcpApp[] = [];
    let serverConn: MptcpConnection | null = null;
    p.server.stack.listen(80, (c) => {
      serverConn = c;
      c.setPolicy({ ...redundant, announceBackup: false, pathUse: () => DEFAULT_PATH_USE });
      const app = new MptcpApp(c, new Uint8Array(0), false);
      srv.push(app);
      p.server.apps.push(app);
    });
    const conn = p.client.stack.connect(0, { locals: p.clientAddresses.map((address) => ({ address })), remotes: p.serverAddresses, port: 80 });
    conn.setPolicy(redundant);
    const client = new MptcpApp(conn, new Uint8Array(0), false);
    p.client.apps.push(client);
    for (let i = 0; i < bursts; i++) {
      p.sim.at(1000 + i * 50, () => {
        const sc = serverConn;
        expect(conn.write(up.subarray(i * burst, (i + 1) * burst))).toBe(burst);
        expect(sc?.write(down.subarray(i * burst, (i + 1) * burst))).toBe(burst);
        p.sim.poll();
      });
    }
    p.sim.runWhile(() => client.receivedBytes < down.length || (srv[0]?.receivedBytes ?? 0) < up.length, 20_000);
    expect(sha256(client.data())).toBe(sha256(down));
    expect(sha256(srv[0].data())).toBe(sha256(up));
    // Per path: data bytes sent there (first transmissions and copies) by each end.
    const carried = (c: MptcpConnection, key: 'local' | 'remote') => {
      const out = [0, 0];
      for (const st of c.subflowStats(true)) out[Number(st[key].split('.')[2]) - 1] += st.scheduledBytes;
      return out;
    };
    const upPaths = carried(conn, 'local');
    const downPaths = carried(serverConn as unknown as MptcpConnection, 'remote');
    console.log('redundant: data bytes per path, upload', upPaths, 'download', downPaths, 'of', up.length, 'each way');
    // Every byte on both paths, less what a path's congestion window held back until the
    // other path's copy was acknowledged (a burst larger than the slower path's window).
    for (const b of [...upPaths, ...downPaths]) expect(b).toBeGreaterThanOrEqual(0.99 * up.length);
  });
});

describe('every scheduler over heterogeneous, lossy paths', () => {
  const hetero: Partial<LinkConfig>[] = [
    { delayMs: 5, rateBitsPerSec: 50e6, queueLimitBytes: 150_000, lossProbability: 0.002 },
    { delayMs: 40, rateBitsPerSec: 5e6, queueLimitBytes: 400_000, lossProbability: 0.01 },
  ];
  for (const name of SCHEDULERS) {
    it(`${name}: byte-exact both ways`, () => {
      const r = transfer({ seed: 16, paths: hetero, up: 3_000_000, down: 12_000_000, scheduler: name, uses: [{ weight: 3 }, { weight: 1 }] });
      const [c, s] = r.dataSent();
      console.log(`${name}: ${((12_000_000 * 8) / r.elapsedMs / 1e3).toFixed(1)} Mbit/s down-equivalent, data per path up ${c.join(",")} down ${s.join(",")}`);
    });
  }
});
