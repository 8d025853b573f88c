// The link emulator measured with the Linux kernel at both ends: ping RTT and kernel TCP goodput
// through the lab must be within 5% of what the path is configured to do (IPv4 and IPv6), a
// scripted blackhole and link-down must stop traffic (and take the carrier away) and restore it,
// and the MPTCP-stripping middlebox must make kernel MPTCP fall back to TCP. This measures the
// harness's accuracy, not our product's performance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../lab.js';
import { FLOW_PEER } from '../paths.js';
import { labSkipReason } from './skip.js';

const skip = labSkipReason('lab emulator accuracy', ['ip', 'ethtool', 'iptables', 'ping', 'mptcpize', 'nstat']);

interface Transfer {
  bytes: number;
  ttfbMs: number;
  doneMs: number;
  error: string | null;
  progress: [number, number][];
}

/**
 * Median RTT (ms) of `count` pings from the client to the aggregator over a path's source
 * address, after one ping that resolves the neighbour (ARP / ND cross the emulator too). The
 * median, so a moment of CPU contention on a shared CI machine does not decide the figure.
 */
async function pingRtt(lab: Lab, src: string, dst: string, count: number): Promise<number> {
  await lab.exec('client', ['ping', '-q', '-c', '1', '-I', src, dst]);
  const r = await lab.exec('client', ['ping', '-c', String(count), '-i', '0.05', '-I', src, dst]);
  const times = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  if (times.length < count / 2) throw new Error(`ping: ${r.stdout} ${r.stderr}`);
  return times[Math.floor(times.length / 2)];
}

/** Steady-state goodput (bit/s) of one kernel TCP download: progress after the first second. */
function steadyGoodput(t: Transfer): number {
  const p = t.progress;
  const start = p.find(([at]) => at >= p[0][0] + 1000) ?? p[0];
  const end = p[p.length - 1];
  return ((end[1] - start[1]) * 8 * 1000) / (end[0] - start[0]);
}

describe.skipIf(skip !== undefined)('lab emulator accuracy', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.up({
      name: 'accuracy',
      paths: [
        { name: 'fast', delay: '10ms' },
        { name: 'slow', delay: '50ms' },
      ],
    });
    lab.spawn('aggregator', ['node', FLOW_PEER, 'server', '--port', '5201']);
    await new Promise((r) => setTimeout(r, 500));
  }, 60_000);
  afterAll(async () => {
    await lab?.down();
  });

  it('RTT within 5% of twice the one-way delay (IPv4 and IPv6)', async () => {
    const [fast, slow] = lab.paths.map((p) => p.plan);
    const rows = [
      { what: 'fast v4', configured: 20, measured: await pingRtt(lab, fast.client.v4, lab.plan.aggregator.v4, 20) },
      { what: 'slow v4', configured: 100, measured: await pingRtt(lab, slow.client.v4, lab.plan.aggregator.v4, 10) },
      { what: 'fast v6', configured: 20, measured: await pingRtt(lab, fast.client.v6, lab.plan.aggregator.v6, 20) },
    ];
    console.table(rows);
    for (const r of rows) expect(Math.abs(r.measured - r.configured) / r.configured, r.what).toBeLessThan(0.05);
  });

  // Goodput of one kernel TCP connection, compared with the configured rate times the share of
  // each frame that is payload: 1448 of 1514 bytes (Ethernet 14 + IPv4 20 + TCP with timestamps
  // 32). Measured after the first second (slow start excluded) over 2 s or more. The queue holds
  // 1000 frames, so cubic keeps the bottleneck busy; the 5% tolerance is the accuracy goal.
  for (const mbit of [10, 100]) {
    it(`kernel TCP goodput within 5% of ${mbit} Mbit/s`, async () => {
      await lab.path('fast').set({ rate: `${mbit}mbit`, delay: '5ms' });
      const bytes = Math.round((mbit * 1e6 * 3.5) / 8);
      const before = await lab.path('fast').stats();
      const r = await lab.exec('client', ['node', FLOW_PEER, 'get', '--connect', `${lab.plan.aggregator.v4}:5201`, '--local', lab.plan.paths[0].client.v4, '--bytes', String(bytes), '--progress', '100', '--timeout', '20000'], 30_000);
      const after = await lab.path('fast').stats();
      const t = (JSON.parse(r.stdout) as { results: Transfer[] }).results[0];
      expect(t.error).toBeNull();
      const goodput = steadyGoodput(t);
      const expected = mbit * 1e6 * (1448 / 1514);
      const frames = after.downlink.deliveredBytes - before.downlink.deliveredBytes;
      console.log(`${mbit} Mbit/s: goodput ${(goodput / 1e6).toFixed(2)} Mbit/s (expected ${(expected / 1e6).toFixed(2)}); ${frames} frame bytes delivered; drops ${after.downlink.droppedQueue - before.downlink.droppedQueue} queue, ${after.sendErrors} send errors, ${after.droppedPool} pool`);
      expect(Math.abs(goodput - expected) / expected).toBeLessThan(0.05);
      await lab.path('fast').set({ rate: 'unlimited', delay: '10ms' });
    }, 40_000);
  }

  it('loses the frames the emulator counts as lost, and jitters within bounds', async () => {
    const fast = lab.plan.paths[0];
    await lab.exec('client', ['ping', '-q', '-c', '1', '-I', fast.client.v4, lab.plan.aggregator.v4]); // neighbour resolved before loss starts
    await lab.path('fast').set({ downlink: { loss: '10%' } });
    const before = (await lab.path('fast').stats()).downlink.droppedLoss;
    const r = await lab.exec('client', ['ping', '-q', '-c', '300', '-i', '0.005', '-W', '1', '-I', fast.client.v4, lab.plan.aggregator.v4]);
    const lost = (await lab.path('fast').stats()).downlink.droppedLoss - before;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    // Every lost reply was dropped by the emulator's loss; at most a neighbour probe (ARP) more,
    // which the aggregator may send when its entry for the client goes stale.
    const pingLost = Number(m?.[1]) - Number(m?.[2]);
    expect(lost - pingLost).toBeGreaterThanOrEqual(0);
    expect(lost - pingLost).toBeLessThanOrEqual(2);
    expect(lost).toBeGreaterThan(10); // 10% of 300: about 30 (seeded)
    expect(lost).toBeLessThan(60);
    await lab.path('fast').set({ downlink: { loss: 0 }, delay: '10ms', jitter: '4ms' });
    const j = await lab.exec('client', ['ping', '-c', '100', '-i', '0.05', '-I', fast.client.v4, lab.plan.aggregator.v4]);
    const times = [...j.stdout.matchAll(/time=([\d.]+) ms/g)].map((x) => Number(x[1]));
    expect(times.length).toBe(100);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(12 - 0.5); // 2 x (10 - 4), with the emulator's early firing
    expect(Math.max(...times)).toBeLessThan(28 + 2);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(4); // it does jitter
    await lab.path('fast').set({ jitter: 0 });
  }, 30_000);

  // A 10 Mbit/s downlink with a 50-frame queue saturated by 4 kernel TCP downloads: the queue
  // fills (cubic probes until drop-tail), so pings wait behind up to 50 x 1514 bytes = 61 ms of
  // frames.
  it('a bounded queue shows as bufferbloat under load, and drops at its limit', async () => {
    const fast = lab.plan.paths[0];
    await lab.path('fast').set({ rate: '10mbit', delay: '5ms', queue: 50 });
    const before = (await lab.path('fast').stats()).downlink.droppedQueue;
    // 4 x 4 MiB: about 13 s at 10 Mbit/s, so the pings fall inside the load even when a busy
    // machine (CI runs test files in parallel) is slow to start the downloader.
    const load = lab.exec('client', ['node', FLOW_PEER, 'get', '--connect', `${lab.plan.aggregator.v4}:5201`, '--local', fast.client.v4, '--bytes', String(4 * 1024 * 1024), '--count', '4', '--parallel', '4', '--timeout', '40000'], 60_000);
    // Wait until the queue has started dropping (the load is really running), at most 8 s.
    for (let i = 0; i < 40 && (await lab.path('fast').stats()).downlink.droppedQueue === before; i++) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 500));
    const loaded = await pingRtt(lab, fast.client.v4, lab.plan.aggregator.v4, 20);
    await load;
    const drops = (await lab.path('fast').stats()).downlink.droppedQueue - before;
    const queueMs = ((50 * 1514 * 8) / 10e6) * 1000;
    console.log(`loaded RTT ${loaded.toFixed(1)} ms (base 10, full queue adds ${queueMs.toFixed(0)}); ${drops} queue drops`);
    expect(loaded).toBeGreaterThan(10 + queueMs / 3);
    expect(loaded).toBeLessThan(10 + queueMs * 1.1 + 5);
    expect(drops).toBeGreaterThan(0);
    await lab.path('fast').set({ rate: 'unlimited', delay: '10ms', queue: 1000 });
  }, 80_000);

  it('a scripted blackhole drops everything silently, link down also takes the carrier', async () => {
    const fast = lab.plan.paths[0];
    const ping = async () => (await lab.exec('client', ['ping', '-q', '-c', '1', '-W', '0.5', '-I', fast.client.v4, lab.plan.aggregator.v4])).code === 0;
    expect(await ping()).toBe(true);
    await lab.path('fast').set({ state: 'blackhole' });
    expect(await ping()).toBe(false);
    expect(lab.execSync('client', ['ip', 'link', 'show', fast.hostIf])).not.toMatch(/NO-CARRIER/);
    await lab.path('fast').set({ state: 'up' });
    expect(await ping()).toBe(true);
    await lab.path('fast').script({ steps: [{ at: '0ms', state: 'down' }, { at: '1500ms', state: 'up' }] });
    await new Promise((r) => setTimeout(r, 300));
    expect(lab.execSync('client', ['ip', 'link', 'show', fast.hostIf])).toMatch(/NO-CARRIER/);
    expect(await ping()).toBe(false);
    await new Promise((r) => setTimeout(r, 2000));
    expect(lab.execSync('client', ['ip', 'link', 'show', fast.hostIf])).not.toMatch(/NO-CARRIER/);
    expect(await ping()).toBe(true);
    expect(lab.path('fast').emulator.states.map((s) => s.state)).toEqual(['blackhole', 'up', 'down', 'up']);
  }, 20_000);

  it('the middlebox strips MPTCP options: kernel MPTCP falls back to TCP on that path', async () => {
    const mpCapable = () => Number(/MPTcpExtMPCapableSYNRX\s+(\d+)/.exec(lab.execSync('aggregator', ['nstat', '-az', 'MPTcpExtMPCapableSYNRX']))?.[1] ?? 0);
    const download = async () => {
      const r = await lab.exec('client', ['mptcpize', 'run', 'node', FLOW_PEER, 'get', '--connect', `${lab.plan.aggregator.v4}:5202`, '--bytes', '100000', '--timeout', '10000']);
      return (JSON.parse(r.stdout) as { summary: { ok: number } }).summary.ok;
    };
    const server = lab.spawn('aggregator', ['mptcpize', 'run', 'node', FLOW_PEER, 'server', '--port', '5202']);
    await new Promise((r) => setTimeout(r, 500));
    const before = mpCapable();
    expect(await download()).toBe(1);
    expect(mpCapable()).toBe(before + 1);
    lab.path('fast').setMiddlebox('strip-mptcp');
    expect(await download()).toBe(1);
    expect(mpCapable()).toBe(before + 1); // the SYN arrived without MP_CAPABLE
    lab.path('fast').setMiddlebox('none');
    server.kill();
  }, 30_000);
});
